// The importers (src/trace/fio.ts, src/trace/pmemcheck.ts): fio iologs written by fio
// (test/fixtures/fio, and fio itself when it is installed) replay with the write bytes fio
// reported; pmemcheck store logs map onto a device mapping. A malformed line is refused
// with EINVAL, its line number and what was expected, and nothing is converted.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze, fileLines, fioIologStream, importFioIolog, importPmemcheck, pmemcheckStream, replay } from '../src/trace/index.js';

const FIXTURES = new URL('./fixtures/fio/', import.meta.url);
const reports = JSON.parse(readFileSync(new URL('reports.json', FIXTURES), 'utf8')) as Record<string, { writeBytes: number; readBytes: number }>;
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

function fioInstalled(): boolean {
  try {
    execFileSync('fio', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('fio iologs', () => {
  for (const [name, log] of [['mmap-randrw', 'mmap-randrw.v3.log'], ['mmap-randrw', 'mmap-randrw.v2.log'], ['mmap-seqwrite', 'mmap-seqwrite.v3.log']] as const) {
    it(`${log}: replays with fio's own write and read bytes`, async () => {
      const imported = importFioIolog(fixture(log));
      expect(imported.format).toBe(`fio iolog version ${log.includes('v2') ? 2 : 3}`);
      const r = await replay(imported.trace);
      const s = r.emulator.stats();
      expect(s.storeBytes).toBe(reports[name]!.writeBytes);
      expect(s.loadBytes).toBeGreaterThanOrEqual(reports[name]!.readBytes);
      // Each fsync or fdatasync of the job is one msync of the mapping.
      expect(s.dax.writebackCalls).toBe(fixture(log).split('\n').filter((l) => / (sync|datasync) /.test(`${l} `)).length);
    });
  }

  it('the v2 and v3 logs of one job replay to the same run', async () => {
    const [a, b] = [await replay(importFioIolog(fixture('mmap-randrw.v2.log')).trace), await replay(importFioIolog(fixture('mmap-randrw.v3.log')).trace)];
    expect(a.emulator.stats()).toEqual(b.emulator.stats());
  });

  it('the libpmem engine replays writes as non-temporal stores on a MAP_SYNC mapping, syncs as fences', async () => {
    const r = await replay(importFioIolog(fixture('mmap-seqwrite.v3.log'), { engine: 'libpmem' }).trace);
    const s = r.emulator.stats();
    // Less the non-temporal zeroing of the file's blocks when it was laid out.
    expect(s.ntBytes - s.dax.zeroingLines * 64).toBe(reports['mmap-seqwrite']!.writeBytes);
    expect(s.storeBytes).toBe(0);
    expect(s.dax.writebackCalls).toBe(0);
  });

  it.runIf(fioInstalled())('a job fio runs now replays with the write bytes fio reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daxemu-fio-'));
    try {
      const log = join(dir, 'job.log');
      const out = execFileSync('fio', ['--name=live', `--filename=${join(dir, 'data')}`, '--size=96k', '--bs=4k', '--rw=randrw', '--ioengine=mmap', '--fsync=3', '--randseed=11', `--write_iolog=${log}`, '--output-format=json'], { encoding: 'utf8' });
      const job = (JSON.parse(out) as { jobs: { write: { io_bytes: number } }[] }).jobs[0]!;
      const r = await replay(importFioIolog(readFileSync(log, 'utf8')).trace);
      expect(job.write.io_bytes).toBeGreaterThan(0);
      expect(r.emulator.stats().storeBytes).toBe(job.write.io_bytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const bad: [string, string, RegExp][] = [
    ['a missing header', '/f add\n', /fio iolog line 1: expected "fio version 2 iolog" or "fio version 3 iolog", got "\/f add"/],
    ['a truncated line', 'fio version 2 iolog\n/f add\n/f open\n/f write 4096\n', /fio iolog line 4: expected "FILE write OFFSET LENGTH", got "\/f write 4096"/],
    ['an unknown action', 'fio version 2 iolog\n/f add\n/f open\n/f scribble 0 4096\n', /fio iolog line 4: expected "FILE ACTION \[OFFSET LENGTH\] with ACTION one of add, open/],
    ['a negative size', 'fio version 3 iolog\n1 /f add\n2 /f open\n3 /f read 0 -4096\n', /fio iolog line 4: expected "TIME FILE ACTION \[OFFSET LENGTH\]", got "3 \/f read 0 -4096"/],
    ['an I/O on a closed file', 'fio version 2 iolog\n/f add\n/f write 0 4096\n', /fio iolog line 3: \/f is not open/],
    ['a binary file', 'fio version 2 iolog\n\u0000\u0007\n', /fio iolog line 2: not a text iolog \(byte 0x00/],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => importFioIolog(text)).toThrow(message);
      expect(() => importFioIolog(text)).toThrow(/^EINVAL: /);
    });
  }
});

describe('pmemcheck store logs', () => {
  const log = [
    '==4242== pmemcheck-1.0, a simple persistent store checker',
    '|START|REGISTER_FILE;/mnt/pmem/pool;0x5000000;0x200000;0x0',
    '|STORE;0x5000010;0x0102030405060708;0x8;main;writer',
    '|FLUSH;0x5000000;0x40|FENCE',
    '|TX.BEGIN|STORE;0x5000080;0xff;0x1|TX.END',
    '|STOP|',
  ].join('\n');

  it('maps the run onto a device mapping at the registered address, little-endian values, markers kept', async () => {
    const imported = importPmemcheck(log);
    expect(imported.trace.split('\n').slice(2, 9)).toEqual([
      'dev d0 0 2097152', 'store d0 16 8 x0807060504030201', 'clwb d0 0 64', 'sfence', 'mark TX.BEGIN', 'store d0 128 1 xff', 'mark TX.END',
    ]);
    expect(imported.sourceLines.slice(3, 9)).toEqual([3, 4, 4, 5, 5, 5]);
    const r = await replay(imported.trace);
    expect([...r.emulator.mmapDevice().load(16, 8)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(r.emulator.stats().clwb.dirty).toBe(1);
  });

  it('with no registered file the mapping starts at the lowest address, rounded down to 4 KiB', () => {
    const t = importPmemcheck('|START|STORE;0x7f0000001010;0x1;0x1|FLUSH;0x7f0000001000;0x40|FENCE|STOP').trace;
    expect(t).toContain('store d0 16 1 x01');
    expect(t).toContain('clwb d0 0 64');
  });

  const bad: [string, string, RegExp][] = [
    ['a truncated STORE', '|START|STORE;0x1000;0x1\n|STOP', /pmemcheck log line 1: expected STORE;0xADDRESS;0xVALUE;0xSIZE, got "STORE;0x1000;0x1"/],
    ['a log cut before STOP', '|START|STORE;0x1000;0x1;0x1\n|FENCE', /pmemcheck log line 2: expected STOP after the START of line 1/],
    ['an unknown entry', '|START|FLUSH;0x1000;0x40\n|WRITE 0x1000|STOP', /pmemcheck log line 2: expected STORE;0xADDRESS;0xVALUE;0xSIZE, FLUSH;0xADDRESS;0xSIZE, FENCE/],
    ['an address below the registered mapping', '|START|REGISTER_FILE;/p;0x2000;0x1000;0x0|STORE;0x1000;0x1;0x1|STOP', /pmemcheck log line 1: address 0x1000 is below the registered mapping at 0x2000/],
    ['a size that is not hex', '|START|FLUSH;0x1000;64|STOP', /pmemcheck log line 1: expected FLUSH;0xADDRESS;0xSIZE, got "FLUSH;0x1000;64"/],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => importPmemcheck(text)).toThrow(message);
    });
  }
});

describe('imports streamed from a file (fioIologStream, pmemcheckStream over fileLines)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxemu-import-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('give the trace, the lines and the findings of the import held in memory', async () => {
    const fio = fixture('mmap-randrw.v3.log');
    const stream = fioIologStream(fileLines(write('randrw.log', fio)));
    const whole = importFioIolog(fio);
    expect(stream.format).toBe(whole.format);
    const [a, b] = [await replay(stream.trace), await replay(whole.trace)];
    expect(a.emulator.stats()).toEqual(b.emulator.stats());
    const [fa, fb] = [await analyze(stream), await analyze(whole)];
    expect(fa.findings.length).toBeGreaterThan(0);
    expect(fa).toEqual(fb);
    // A pmemcheck log with several entries a line: findings name the log's own lines.
    const log = '|START|STORE;0x1000;0x1;0x1|FLUSH;0x1000;0x40|FLUSH;0x1000;0x40\n|FENCE|STORE;0x1040;0x2;0x1\n|FENCE|STOP\n';
    const pa = await analyze(pmemcheckStream(fileLines(write('store.log', log))));
    expect(pa).toEqual(await analyze(importPmemcheck(log)));
    expect(pa.findings.map((f) => [f.kind, f.line])).toEqual([['double-flush', 1], ['not-durable', 2], ['empty-fence', 3]]);
  });

  it('an iolog of 5 x 10^5 lines imports and replays with bounded memory, its bad last line refused before anything runs', async () => {
    const path = join(dir, 'long.log');
    const fh = openSync(path, 'w');
    writeSync(fh, 'fio version 2 iolog\n/f add\n/f open\n');
    const block = Array.from({ length: 1000 }, (_, i) => (i % 10 === 9 ? '/f sync 0 0' : `/f write ${(i % 256) * 4096 + (i % 64) * 64} 64`)).join('\n');
    for (let i = 0; i < 500; i++) writeSync(fh, `${block}\n`);
    writeSync(fh, '/f close\n');
    closeSync(fh);
    const heap = process.memoryUsage().heapUsed;
    let peak = 0;
    const file = fileLines(path);
    let read = 0;
    const sampled = { name: file.name, *lines() { for (const l of file.lines()) { if (++read % 100_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed); yield l; } } };
    const r = await replay(fioIologStream(sampled).trace);
    const s = r.emulator.stats();
    expect(s.stores).toBe(450_000);
    expect(s.storeBytes).toBe(450_000 * 64);
    expect(s.dax.writebackCalls).toBe(50_000);
    // The iolog is 9 MiB; the import holds a file's size, each pass one 1 MiB chunk (and its
    // garbage, until V8 collects it). Imported whole, the same replay peaks near 180 MiB.
    expect(peak - heap).toBeLessThan(64 << 20);
    // The plan, the check pass and the run pass (the header lines are the import's own).
    expect(read).toBe(3 * 500_004);
    writeFileSync(path, '/f write 0 1\n', { flag: 'a' });
    expect(() => fioIologStream(fileLines(path))).toThrow(/EINVAL: fio iolog line 500005: \/f is not open/);
  }, 120_000);
});
