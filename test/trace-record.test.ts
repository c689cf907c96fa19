// Recording and replay (src/trace/recorder.ts, src/trace/replay.ts): seeded random
// workloads over device mappings, files, command buffers, CPUs and crashes are recorded,
// replayed on a fresh emulator, and must give the same counters, clocks, file contents and
// crash images. Bad traces are refused with EINVAL naming the line, before anything runs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/base/index.js';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import { analyze, encodeBinaryTrace, fileChunks, fileLines, replay, replayBinary, replayOn, startRecording, writeBinaryTrace, type ByteSource, type LineSource, type RecordingEmulator } from '../src/trace/index.js';
import { writeLongTrace } from '../bench/traces-stream.js';

const MiB = 1 << 20;
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A seeded mix of every recorded call; returns the final (maybe rebooted) recording emulator. */
async function randomWorkload(rec: RecordingEmulator, seed: number, ops: number): Promise<RecordingEmulator> {
  const rng = new Rng(seed);
  let d = rec.mmapDevice({ offset: 0, length: 4 * MiB });
  rec.createFile('/a', { size: 2 * MiB });
  rec.createFile('/b b', { size: MiB, allocate: 'unwritten' });
  let ma = rec.mmap(rec.open('/a'), { length: 2 * MiB, shared: true, sync: true });
  let mb = rec.mmap(rec.open('/b b'), { length: MiB, shared: true });
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rng.below(256));
  for (let i = 0; i < ops; i++) {
    const len = 1 + rng.below(rng.chance(0.1) ? 5000 : 200);
    const off = rng.below(MiB - len);
    switch (rng.below(24)) {
      case 0: case 1: case 2: d.store(off, bytes(len)); break;
      case 3: d.ntstore(off, bytes(len)); break;
      case 4: d.clwb(off, len); break;
      case 5: d.clflushopt(off, len); break;
      case 6: d.clflush(off, len); break;
      case 7: rec.sfence(); break;
      case 8: rec.mfence(); break;
      case 9: case 10: ma.store(off, bytes(len)); break;
      case 11: ma.clwb(off, len); break;
      case 12: mb.store(off, bytes(len)); break;
      case 13: mb.msync(0, MiB); break;
      case 14: rec.open('/b b').fsync(); break;
      case 15: rec.open('/a').pwrite(off, bytes(len)); break;
      case 16: rec.cpu = rng.below(3); break;
      case 17: {
        const b = rec.commands().store(2 * MiB + off, bytes(len)).clwb(2 * MiB + off, len).sfence().load(2 * MiB + off, 8);
        rec.run(b);
        break;
      }
      case 18: d.load(off, len); ma.load(off, len); break;
      case 19:
        if (rng.chance(0.1)) {
          rec = await rec.crash({ mode: rng.chance(0.5) ? 'random' : 'guaranteed', seed: rng.below(1000) });
          d = rec.mmapDevice({ offset: 0, length: 4 * MiB });
          ma = rec.mmap(rec.open('/a'), { length: 2 * MiB, shared: true, sync: true });
          mb = rec.mmap(rec.open('/b b'), { length: MiB, shared: true });
        } else {
          mb.fault(rng.below(MiB), rng.chance(0.5) ? 'read' : 'write');
          rec.open('/b b').punchHole(rng.below(16) * 4096, 8192);
        }
        break;
      // The emulator-level calls of format 1.1.
      case 20: {
        const at = rng.below(256) * 4096;
        try {
          rec.msync((rng.chance(0.5) ? ma : mb).address + at, rng.chance(0.9) ? 8192 : 4 * MiB, { sync: rng.chance(0.8) });
        } catch (err) {
          expect((err as Error).message).toMatch(/ENOMEM/); // recorded all the same
        }
        break;
      }
      case 21:
        if (rng.chance(0.5)) rec.reclaim(rng.chance(0.5) ? 4 : { pages: 2, seed: 1 });
        else if (rng.chance(0.5)) rec.dropCaches();
        else rec.backgroundWriteback(rng.chance(0.5) ? {} : { expireNs: 0 });
        break;
      case 22: {
        const pfn = rec.allocate(rng.chance(0.2));
        if (rng.chance(0.8)) rec.free(pfn);
        break;
      }
      case 23: {
        const held = rng.below(256);
        mb.store(held * 4096, bytes(1)); // the holder needs an entry to lock
        rec.runConcurrently([
          { fsync: rec.open('/b b') },
          { store: { mapping: mb, offset: rng.below(256) * 4096, bytes: bytes(8) }, cpu: 2 },
          { holdEntry: { file: rec.open('/b b'), pgoff: held, steps: 1 + rng.below(3), then: rng.chance(0.8) ? 'unlock' : 'punch' } },
        ], { schedule: [rng.below(3), rng.below(3), rng.below(3)] });
        break;
      }
    }
  }
  return rec;
}

async function same(a: Emulator, b: Emulator): Promise<void> {
  expect(b.stats()).toEqual(a.stats());
  for (const path of ['/a', '/b b']) expect(b.open(path).pread(0, MiB)).toEqual(a.open(path).pread(0, MiB));
  for (const mode of ['guaranteed', 'random', 'adversarial'] as const) {
    const [ia, ib] = [await a.crash({ mode, seed: 9 }), await b.crash({ mode, seed: 9 })];
    expect(Buffer.compare(Buffer.from(ia.core.mediaView()), Buffer.from(ib.core.mediaView())), mode).toBe(0);
  }
}

describe('record and replay', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: a replay has the recording's counters, clocks, files and crash images`, async () => {
      const emu = await createEmulator({ capacity: 16 * MiB, cacheBytes: 256 * 1024, seed: 40 + seed, kernel: seed === 3 ? 'linux-6.1' : 'linux-6.12' });
      const end = await randomWorkload(startRecording(emu), seed, 800);
      const trace = end.stop();
      expect(trace.startsWith('daxemu-trace 1.2\nemulator capacity=16777216 preset=optane-g1 persistence=adr seed=')).toBe(true);
      const r = await replay(trace);
      expect(r.operations).toBe(trace.trim().split('\n').length - 2);
      expect(r.emulator.stats().nsPerCpu.some((ns) => ns > 0)).toBe(true);
      await same(end.emulator, r.emulator);
    });
  }

  it('a replay from a file is streamed and gives the same run as from a string', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB, seed: 7 });
    const end = await randomWorkload(startRecording(emu), 7, 400);
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-trace-'));
    dirs.push(dir);
    await writeFile(join(dir, 't.trace'), end.stop());
    const [a, b] = [await replay(end.stop()), await replay(fileLines(join(dir, 't.trace')))];
    expect(b.emulator.stats()).toEqual(a.emulator.stats());
    expect(b.emulator.stats()).toEqual(end.emulator.stats());
  });

  it('a changed byte in a recorded store changes the replayed media', async () => {
    const emu = await createEmulator({ capacity: 4 * MiB });
    const rec = startRecording(emu);
    rec.mmapDevice().store(64, new Uint8Array([1, 2, 3]));
    const trace = rec.stop();
    expect(trace).toContain('store d0 64 3 x010203');
    const r = await replay(trace.replace('x010203', 'x010204'));
    expect([...r.emulator.mmapDevice().load(64, 3)]).toEqual([1, 2, 4]);
  });

  it('refuses to record an emulator that has run, or one with a custom cost model', async () => {
    const emu = await createEmulator({ capacity: 4 * MiB });
    emu.mmapDevice().store(0, new Uint8Array(8));
    expect(() => startRecording(emu)).toThrow(/EINVAL: startRecording: the emulator has run already/);
    const custom = await createEmulator({ capacity: 4 * MiB, preset: { ...(await createEmulator({ capacity: 4 * MiB })).cost, name: 'mine' } });
    expect(() => startRecording(custom)).toThrow(/EINVAL: startRecording: the cost model "mine" is not a preset/);
  });

  it('a failed call records nothing', async () => {
    const emu = await createEmulator({ capacity: 4 * MiB });
    const rec = startRecording(emu);
    const d = rec.mmapDevice({ length: 4096 });
    expect(() => d.store(4090, new Uint8Array(10))).toThrow(/EFAULT/);
    expect(rec.stop().split('\n').filter((l) => l.startsWith('store'))).toEqual([]);
  });
});

describe('the emulator-level calls (format 1.1)', () => {
  it('are recorded as their own lines and replay to the same counters, clocks and crash images (a save is a marker: it changes nothing)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-trace-'));
    dirs.push(dir);
    const emu = await createEmulator({ capacity: 16 * MiB, seed: 3 });
    const rec = startRecording(emu);
    const f = rec.createFile('/a', { size: 2 * MiB });
    const g = rec.createFile('/b b', { size: MiB, allocate: 'written' });
    const m = rec.mmap(f);
    const n = rec.mmap(g);
    m.store(0, new Uint8Array([1]));
    n.store(4096, new Uint8Array([2]));
    rec.msync(m.address, 8192);
    expect(() => rec.msync(n.address, 2 * MiB, { sync: true })).toThrow(/ENOMEM/);
    rec.reclaim({ pages: 3, seed: 1 });
    rec.dropCaches();
    rec.backgroundWriteback({ expireNs: 0 });
    expect(() => rec.backgroundWriteback({ expireNs: 0.5 })).toThrow(/EINVAL: backgroundWriteback: a recording takes whole ns/);
    rec.free(rec.allocate(true), 512);
    rec.allocate();
    const waits: unknown[] = [];
    const reports = rec.runConcurrently([{ fsync: g }, { store: { mapping: n, offset: 4096, bytes: new Uint8Array([3, 4]) }, cpu: 2 }, { holdEntry: { file: g, pgoff: 1, steps: 2, then: 'unlock' } }], { schedule: [2, 0, 1], waitLog: waits as never[] });
    expect(reports[0]).toBeDefined();
    await rec.save(join(dir, 'p.pool'));
    const trace = rec.stop();
    const lines = trace.split('\n');
    expect(lines[0]).toBe('daxemu-trace 1.2');
    expect(lines.slice(8, 18)).toEqual([
      `msync-at ${m.address} 8192`, `msync-at ${n.address} 2097152`, 'reclaim 3', 'dropcaches', 'bgwriteback 0', 'allocate extent', expect.stringMatching(/^free [0-9]+ 512$/), 'allocate block',
      'concurrent schedule=2,0,1 fsync:/b%20b store:m1:4096:x0304@2 hold:/b%20b:1:2:unlock', `save ${join(dir, 'p.pool')}`,
    ]);
    const r = await replay(trace);
    expect(r.operations).toBe(lines.length - 4); // less the two header lines, the save marker and the final newline
    // Before same(), whose reads move the counters.
    expect((await replayBinary(encodeBinaryTrace(trace))).emulator.stats()).toEqual(rec.emulator.stats());
    await same(rec.emulator, r.emulator);
  });

  it('a version-1 trace still reads; a later minor version or a bad concurrent line is refused before anything runs', async () => {
    expect((await replay('daxemu-trace 1\ndev d0 0 4096\nsfence\n')).operations).toBe(2);
    expect((await replay('daxemu-trace 1.0\ndev d0 0 4096\nsfence\n')).operations).toBe(2);
    await expect(replay('daxemu-trace 1.3\nsfence\n')).rejects.toThrow(/trace line 1: version 1.3 is not supported \(this daxemu reads versions 1 to 1.2\)/);
    const head = 'daxemu-trace 1.1\ncreate /a 4096 written\nmmap m0 /a 0 4096 shared\n';
    const cases: [string, RegExp][] = [
      ['concurrent\n', /trace line 4: expected "concurrent \[schedule=N,...\]/],
      ['concurrent fsync:/a store:m0:4096:x01\n', /trace line 4: a store task outside the 4096-byte m0/],
      ['concurrent fsync:/nope\n', /trace line 4: no file \/nope/],
      ['concurrent schedule=0,3 fsync:/a\n', /trace line 4: the schedule names task 3 of 1/],
      ['concurrent hold:/a:0:1:drop\n', /trace line 4: expected "concurrent/],
      ['msync-at 100 4096\n', /trace line 4: expected a page-aligned ADDRESS, got 100/],
      ['free 5 0\n', /trace line 4: expected a PFN and a COUNT of at least 1/],
      ['allocate huge\n', /trace line 4: expected "allocate block\|extent"/],
    ];
    for (const [line, message] of cases) {
      const emu = await createEmulator({ capacity: 4 * MiB });
      await expect(replayOn(emu, `${head}${line}`)).rejects.toThrow(message);
      expect(() => emu.open('/a')).toThrow(/ENOENT/);
    }
  });
});

describe('recording to a writer (startRecording(emu, { write }))', () => {
  const record = (rec: RecordingEmulator, n: number): void => {
    const d = rec.mmapDevice({ length: 4 * MiB });
    const bytes = new Uint8Array(64);
    for (let i = 0; i < n; i++) {
      bytes.fill(i & 0xff);
      d.store((i * 64) % (4 * MiB), bytes);
      d.clwb((i * 64) % (4 * MiB), 64);
      if (i % 8 === 7) rec.sfence();
    }
  };

  it('hands over the trace in order, in pieces, and keeps none of it: the pieces are the trace', async () => {
    const whole = startRecording(await createEmulator({ capacity: 16 * MiB, seed: 2 }));
    record(whole, 20_000);
    const pieces: string[] = [];
    const streamed = startRecording(await createEmulator({ capacity: 16 * MiB, seed: 2 }), { write: (t) => pieces.push(t) });
    record(streamed, 20_000);
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    expect(streamed.trace()).toBe('');
    expect(pieces.join('')).toBe(whole.stop());
    expect(streamed.stop()).toBe('');
    expect(() => startRecording(whole.emulator, { write: 'x' as never })).toThrow(/EINVAL: startRecording: write must be a function/);
  });

  it('records a long run to a file in bounded memory, and the file replays to the run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-trace-'));
    dirs.push(dir);
    const path = join(dir, 'run.trace');
    const { appendFileSync } = await import('node:fs');
    const rec = startRecording(await createEmulator({ capacity: 16 * MiB, seed: 3 }), { write: (t) => appendFileSync(path, t) });
    const heap = process.memoryUsage().heapUsed;
    let peak = 0;
    for (let k = 0; k < 10; k++) {
      record(rec, 30_000);
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    rec.stop();
    // 6.4 x 10^5 lines, 48 MiB of text: kept by the recording, they take 161 MiB of heap.
    expect(peak - heap).toBeLessThan(48 * MiB);
    const r = await replay(fileLines(path));
    expect(r.emulator.stats()).toEqual(rec.emulator.stats());
  }, 120_000);
});

describe('page-cache files and the emulator line\'s switches (format 1.2)', () => {
  it('a page-cache file is recorded as such, with the emulator\'s bugs, fixes and resident budget, and replays to the same run', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB, residentBytes: 12 * MiB, seed: 4, kernel: 'linux-6.1', bugs: ['B5'], fixes: ['truncate-writeback'] });
    const rec = startRecording(emu);
    const p = rec.mmap(rec.createFile('/p', { size: MiB, allocate: 'written', dax: false }), { length: MiB, shared: true });
    const f = rec.createFile('/a', { size: 2 * MiB });
    const m = rec.mmap(f, { length: 2 * MiB, shared: true });
    for (let i = 0; i < 64; i++) {
      p.store(i * 4096 + i, new Uint8Array([i + 1]));
      m.store(i * 8192, new Uint8Array([i + 2]));
    }
    p.msync(0, MiB);
    f.fsync();
    rec.open('/p').pwrite(100, new Uint8Array([9, 9]));
    const trace = rec.stop();
    const lines = trace.split('\n');
    expect(lines[0]).toBe('daxemu-trace 1.2');
    expect(lines[1]).toMatch(/ kernel=linux-6\.1 .* bugs=B5 fixes=truncate-writeback resident=12582912$/);
    expect(lines[2]).toBe(`create /p ${MiB} written pagecache`);
    expect(lines[4]).toBe(`create /a ${2 * MiB} none`);
    const r = await replay(trace);
    expect(r.emulator.open('/p').dax).toBe(false);
    expect(r.emulator.options.bugs).toEqual(['B5']);
    expect(r.emulator.options.residentBytes).toBe(12 * MiB);
    expect(r.emulator.stats().dax.pageCachePages).toBeGreaterThan(0);
    expect(r.emulator.stats()).toEqual(rec.emulator.stats());
    expect((await replayBinary(encodeBinaryTrace(trace))).emulator.stats()).toEqual(rec.emulator.stats());
  });

  it('refuses a create line with another fifth word, and an unknown bug, before anything runs', async () => {
    await expect(replay('daxemu-trace 1.2\ncreate /a 4096 written dax\n')).rejects.toThrow(/EINVAL: trace line 2: expected "create PATH SIZE none\|unwritten\|written \[pagecache\]", got "create \/a 4096 written dax"/);
    await expect(replay('daxemu-trace 1.2\nemulator bugs=B99\nsfence\n')).rejects.toThrow(/EINVAL: .*B99/);
    await expect(replay('daxemu-trace 1.2\nemulator resident=lots\nsfence\n')).rejects.toThrow(/EINVAL: trace line 2: expected "resident=N", got "resident=lots"/);
  });
});

describe('the binary twin', () => {
  it('replays as the text does, at a fraction of its size', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB, seed: 11 });
    const end = await randomWorkload(startRecording(emu), 11, 500);
    const text = end.stop();
    const binary = encodeBinaryTrace(`${text}# a comment\nmark done\n`);
    expect(binary.length).toBeLessThan(text.length * 0.75);
    const r = await replayBinary(binary);
    expect(r.emulator.stats()).toEqual(end.emulator.stats());
    expect(r.operations).toBe(text.trim().split('\n').length - 2);
    const [ta, tb] = [await analyze(text), await analyze(binary)];
    expect(tb.summary).toEqual(ta.summary);
  });

  it('keeps the implied fill of a store without DATA', async () => {
    const t = 'daxemu-trace 1\n\ndev d0 0 4096\nstore d0 0 16\n';
    const [a, b] = [await replay(t), await replayBinary(encodeBinaryTrace(t))];
    expect(b.emulator.mmapDevice().load(0, 16)).toEqual(a.emulator.mmapDevice().load(0, 16));
    expect([...a.emulator.mmapDevice().load(0, 16)].some((x) => x !== 0)).toBe(true);
  });

  it('its direct path (device and media accesses straight into the command buffer) replays as the text, for any batch', async () => {
    // Fill stores, the media target, a store too long for the direct path, more data than one
    // scratch buffer holds, CPU switches and a remapped device between direct runs, a crash.
    const lines = ['daxemu-trace 1', 'emulator capacity=16777216 seed=5', 'dev d0 4096 4194304'];
    const rng = new Rng(21);
    for (let i = 0; i < 3000; i++) {
      const len = rng.chance(0.01) ? 70_000 + rng.below(5000) : 1 + rng.below(rng.chance(0.2) ? 4000 : 100);
      const off = rng.below(4 * MiB - len);
      const target = rng.chance(0.3) ? '@' : 'd0';
      const at = target === '@' ? off + 8 * MiB : off;
      switch (rng.below(12)) {
        case 0: case 1: lines.push(`store ${target} ${at} ${len} fill:${rng.below(1000)}`); break;
        case 2: lines.push(`store ${target} ${at} ${Math.min(len, 300)} x${'5a'.repeat(Math.min(len, 300))}`); break;
        case 3: lines.push(`ntstore ${target} ${at} ${len}`); break;
        case 4: lines.push(`load ${target} ${at} ${len}`); break;
        case 5: lines.push(`clwb ${target} ${at} ${len}`); break;
        case 6: lines.push(`clflushopt ${target} ${at} ${len}`); break;
        case 7: lines.push(`clflush ${target} ${at} ${len}`); break;
        case 8: lines.push(rng.chance(0.5) ? 'sfence' : 'mfence'); break;
        case 9: lines.push(`cpu ${rng.below(3)}`); break;
        case 10: if (rng.chance(0.05)) lines.push('munmap d0', 'dev d0 4096 4194304'); break;
        case 11: if (rng.chance(0.02)) lines.push(`crash random ${rng.below(100)}`, 'dev d0 4096 4194304'); break;
      }
    }
    const text = `${lines.join('\n')}\n`;
    const binary = encodeBinaryTrace(text);
    const want = await replay(text);
    const wantStats = want.emulator.stats();
    // Read by the core's media reader: a load through a mapping would change the counters.
    const media = (e: Emulator): Uint8Array => e.core.readMedia(0, 16 * MiB);
    const wantMedia = media(want.emulator);
    for (const batch of [1, 7, 4096]) {
      const got = await replayBinary(binary, { batch });
      expect(got.emulator.stats()).toEqual(wantStats);
      expect(got.operations).toBe(want.operations);
      expect(got.cpuNs).toBe(want.cpuNs);
      expect(Buffer.compare(media(got.emulator), wantMedia)).toBe(0);
    }
    // The twin numbers records, the text lines: here the two header lines apart.
    const [ta, tb] = [await analyze(text), await analyze(binary)];
    expect(tb.findings.length).toBeGreaterThan(100);
    expect(tb.findings.map((f) => [f.kind, f.line + 2, f.lines, f.ns])).toEqual(ta.findings.map((f) => [f.kind, f.line, f.lines, f.ns]));
  }, 60_000);

  it('read from a file in chunks of any size, and written as it is encoded, it replays as the whole twin does', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB, seed: 11 });
    const end = await randomWorkload(startRecording(emu), 11, 500);
    const text = end.stop();
    const whole = encodeBinaryTrace(text);
    const pieces: Uint8Array[] = [];
    writeBinaryTrace(text, (b) => pieces.push(b));
    expect(Buffer.compare(Buffer.concat(pieces), Buffer.from(whole))).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-trace-'));
    dirs.push(dir);
    const path = join(dir, 'twin.bin');
    await writeFile(path, whole);
    const want = (await replayBinary(whole)).emulator.stats();
    // 7 bytes: every word and record straddles chunks; 1 MiB: the default.
    for (const chunk of [7, 4096, 1 << 20]) expect((await replayBinary(fileChunks(path, chunk))).emulator.stats(), `chunks of ${chunk}`).toEqual(want);
    expect((await analyze(fileChunks(path, 7))).summary).toEqual((await analyze(whole)).summary);
    // A truncated file is refused as the whole bytes are, before anything runs.
    await writeFile(path, whole.subarray(0, whole.length - 5));
    await expect(replayBinary(fileChunks(path, 7))).rejects.toThrow(/EINVAL: binary trace record \d+: the record runs past the end/);
    await writeFile(path, 'DAXEMUTB');
    await expect(replayBinary(fileChunks(path))).rejects.toThrow(/EINVAL: binary trace: no DAXEMUTB header/);
    expect(() => fileChunks(path, 0)).toThrow(/EINVAL: fileChunks: chunk must be a positive integer/);
  });

  it('a twin of 10^6 records replays from a file in bounded memory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-trace-'));
    dirs.push(dir);
    const path = join(dir, 'long.bin');
    const lines = ['daxemu-trace 1', 'dev d0 0 4194304'];
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(path, 'w');
    const record = (i: number): string => `store d0 ${(i * 64) % (4 * MiB)} 64 x${(i & 0xff).toString(16).padStart(2, '0').repeat(64)}\nclwb d0 ${(i * 64) % (4 * MiB)} 64\nsfence`;
    const source: LineSource = { name: 'generated', *lines() { yield* lines; for (let i = 0; i < 333_333; i++) yield* record(i).split('\n'); } };
    writeBinaryTrace(source, (b) => void writeSync(fd, b));
    closeSync(fd);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const file = fileChunks(path);
    const sampled: ByteSource = { name: path, *chunks() { for (const c of file.chunks()) { peak = Math.max(peak, process.memoryUsage().arrayBuffers); yield c; } } };
    const r = await replayBinary(sampled);
    expect(r.operations).toBe(1 + 3 * 333_333);
    expect(r.emulator.stats().stores).toBe(333_333);
    // The file is 29 MiB (given whole, its bytes are 29 MiB more); the window holds 4 MiB of it.
    expect(peak - before).toBeLessThan(12 * MiB);
  }, 60_000);

  it('refuses a truncated twin, a record outside its mapping, and a twin of a two-word trace', async () => {
    const good = encodeBinaryTrace(`daxemu-trace 1\ndev d0 0 4096\nstore d0 0 64 x${'ab'.repeat(64)}\nsfence\n`);
    await expect(replayBinary(good.subarray(0, good.length - 40))).rejects.toThrow(/EINVAL: binary trace record 2: the record runs past the end/);
    const outside = encodeBinaryTrace('daxemu-trace 1\ndev d0 0 4096\nclwb d0 4090 64\n');
    await expect(replayBinary(outside)).rejects.toThrow(/EINVAL: trace line 2: \[4090, 4154\) is outside the 4096-byte mapping/);
    await expect(replayBinary(new TextEncoder().encode('store 0 64\n'))).rejects.toThrow(/EINVAL: binary trace: no DAXEMUTB header/);
    expect(() => encodeBinaryTrace('store 0 64\n')).toThrow(/EINVAL: trace: a two-word trace has no binary twin/);
  });
});

describe('the two-word format', () => {
  it('replays as stores of the seeded fill on one shared mapping and msyncs of it', async () => {
    const r = await replay('# old\nstore 0 64\nstore 5000 100\nsync\nstore 3000000 8\n');
    const s = r.emulator.stats();
    expect(r.legacy).toBe(true);
    expect(r.operations).toBe(4);
    expect(s.stores).toBe(3);
    expect(s.storeBytes).toBe(172);
    expect(s.dax.writebackCalls).toBe(1);
    // The file is as large as the farthest store, rounded up to 2 MiB.
    expect(r.emulator.open('trace').size).toBe(4 * MiB);
  });

  it('names the line of a bad two-word line', async () => {
    await expect(replay('store 0 64\nstore 5\n')).rejects.toThrow(/EINVAL: trace line 2: expected "store <offset> <length>" or "sync", got "store 5"/);
  });
});

describe('bad traces', () => {
  const head = 'daxemu-trace 1\nemulator capacity=4194304\ndev d0 0 1048576\n';
  const cases: [string, string, RegExp][] = [
    ['a truncated line', `${head}store d0 12\n`, /trace line 4: expected "store TARGET OFF LEN \[DATA\]", got "store d0 12"/],
    ['an unknown operation', `${head}sfence\nflushall d0\n`, /trace line 5: unknown operation "flushall"/],
    ['an address outside the mapping', `${head}store d0 1048570 8\n`, /trace line 4: \[1048570, 1048578\) is outside the 1048576-byte mapping/],
    ['a negative size', `${head}load d0 0 -5\n`, /trace line 4: expected "load TARGET OFF LEN", got "load d0 0 -5"/],
    ['an unmapped target', `${head}clwb d3 0 64\n`, /trace line 4: d3 is not mapped/],
    ['bytes that do not match the length', `${head}store d0 0 2 x01\n`, /trace line 4: DATA must be fill:SEED or x and 2 bytes in hex/],
    ['another version', 'daxemu-trace 2\nsfence\n', /trace line 1: version 2 is not supported/],
    ['a binary file', '\u0000\u0001ELF\u0002\n', /trace line 1: not a text trace \(byte 0x00 at column 1\)/],
    ['an emulator line out of place', `${head}emulator seed=3\n`, /trace line 4: the emulator line must come right after/],
    ['a cpu out of range', `${head}cpu 999\n`, /trace line 4: expected a cpu in \[0, /],
  ];
  for (const [what, text, message] of cases) {
    it(`refuses ${what} with EINVAL and its line, before the emulator is touched`, async () => {
      const emu = await createEmulator({ capacity: 4 * MiB });
      const before = emu.stats();
      const err = await replayOn(emu, `${text}`).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EINVAL' });
      expect((err as Error).message).toMatch(message);
      expect(emu.stats()).toEqual(before);
      expect(() => emu.open('x')).toThrow(/ENOENT/);
    });
  }

  it('a trace file of 10^6 lines replays streamed, both passes, with bounded memory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-trace-'));
    dirs.push(dir);
    const path = join(dir, 'long.trace');
    await writeLongTrace(path, 1e6);
    // Heap sampled as the lines are read, in the check pass and the run pass alike.
    const file = fileLines(path);
    let read = 0;
    let peak = 0;
    const sampled: LineSource = {
      name: file.name,
      *lines() {
        for (const line of file.lines()) {
          if (++read % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
          yield line;
        }
      },
    };
    const heap = process.memoryUsage().heapUsed;
    const r = await replay(sampled);
    expect(r.operations).toBe(1e6 + 1);
    expect(read).toBeGreaterThanOrEqual(2 * (1e6 + 3)); // the header read, the check pass, the run pass
    const s = r.emulator.stats();
    expect([s.stores, s.fences]).toEqual([333_334, 333_333]);
    // The file is 56 MiB; each pass holds one 1 MiB chunk of it and the batch of 4096 operations.
    expect(peak - heap).toBeLessThan(48 * MiB);
  }, 120_000);

  it('a bad line at the end of a trace of 10^7 lines is found with bounded memory, nothing run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-trace-'));
    dirs.push(dir);
    const path = join(dir, 'big.trace');
    const block = 'sfence\n'.repeat(100_000);
    const { open } = await import('node:fs/promises');
    const fh = await open(path, 'w');
    await fh.write('daxemu-trace 1\ndev d0 0 4096\n');
    for (let i = 0; i < 100; i++) await fh.write(block);
    await fh.write('store d0 4095 2\n');
    await fh.close();
    const emu = await createEmulator({ capacity: 4 * MiB });
    const heap = process.memoryUsage().heapUsed;
    let peak = heap;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const err = await replayOn(emu, fileLines(path)).catch((e: unknown) => e);
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    expect((err as Error).message).toMatch(/trace line 10000003: \[4095, 4097\) is outside the 4096-byte mapping/);
    expect(emu.stats().fences).toBe(0);
    // The file is 70 MB; the check pass holds one 1 MiB chunk of it at a time.
    expect(peak - heap).toBeLessThan(48 * MiB);
  }, 120_000);
});
