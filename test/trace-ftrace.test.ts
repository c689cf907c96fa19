// ftraceDiff and `daxemu ftrace-diff` (src/trace/ftrace*.ts): kernel fs_dax traces of the W2
// workload (a sparse 4 MiB file, one byte written to each page, msync of the whole), as a
// kernel prints them in tracefs and trace-cmd report form, replay with no difference on both
// profiles; a copy with one change gives exactly that change; malformed lines are refused.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileLines, formatFtraceDiff, ftraceDiff, parseFtrace, type FtraceKernel } from '../src/trace/index.js';
import { daxemu } from './cli-helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/ftrace/${name}`, import.meta.url));
const text = (name: string): string => readFileSync(fixture(name), 'utf8');
const KERNELS: FtraceKernel[] = ['linux-6.12', 'linux-6.1'];
const FIXTURES = ['w2-aligned-6.12.trace', 'w2-unaligned-6.12.trace', 'w2-aligned-6.1.report', 'w2-unaligned-6.1.report'];

/** The trace with its line `n` (1-based) replaced by `f(line)`; '' removes it. */
function mutate(trace: string, n: number, f: (line: string) => string): string {
  const lines = trace.split('\n');
  const out = f(lines[n - 1]!);
  lines.splice(n - 1, 1, ...(out === '' ? [] : [out]));
  return lines.join('\n');
}

/** The 1-based line of the `k`-th (0-based) line holding `what`. */
function lineOf(trace: string, what: string, k = 0): number {
  const lines = trace.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) if (lines[i]!.includes(what) && seen++ === k) return i + 1;
  throw new Error(`no ${what}`);
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daxemu-ftrace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parsing kernel fs_dax traces', () => {
  it('reads tracefs and trace-cmd report lines alike: names, flags, results and fields', () => {
    const a = parseFtrace(text('w2-aligned-6.12.trace'));
    const b = parseFtrace(text('w2-aligned-6.1.report'));
    expect(a.map((e) => e.name)).toEqual(b.map((e) => e.name));
    expect(a[1]).toMatchObject({ line: 14, name: 'dax_pmd_fault_done', dev: '259:0', ino: 0x83, shared: true, address: 0x7ffff7600000, vmStart: 0x7ffff7600000, vmEnd: 0x7ffff7a00000, pgoff: 0, maxPgoff: 0x400, result: 'NOPAGE' });
    expect(a[0]!.faultFlags).toBe('WRITE|ALLOW_RETRY|KILLABLE|USER|INTERRUPTIBLE|VMA_LOCK');
    expect(a[0]!.result).toBe('');
    expect(b[7]).toMatchObject({ name: 'dax_writeback_range_done', start: 0x1000, end: 0x3ff });
  });

  it('skips events of other systems and the header lines, and reads the other fs_dax classes', () => {
    const ev = parseFtrace([
      '# tracer: nop', 'cpus=2', 'CPU 1 is empty',
      '  w2-1 [000] d..1. 1.000001: sched_switch: prev_comm=w2 prev_pid=1',
      '  w2-1 [000] 1.000002: dax_pmd_load_hole: dev 259:0 ino 0x83 shared address 0x7ffff7600000 zero_page 00000000c0ffee00 radix_entry 0x11',
      '  w2-1 (    1) [000] ..... 1.000003: dax_insert_mapping: dev 259:0 ino 0x83 private write address 0x7ffff7600000 radix_entry 0x0',
      '  w2-1 [000] 1.000004: dax_pte_fault_done: dev 259:0 ino 0x83 shared  address 0x7ffff7600000 pgoff 0x0 ',
    ].join('\n'));
    expect(ev.map((e) => e.name)).toEqual(['dax_pmd_load_hole', 'dax_insert_mapping', 'dax_pte_fault_done']);
    expect(ev[1]).toMatchObject({ shared: false, write: true, line: 6 });
    expect(ev[2]).toMatchObject({ faultFlags: '', result: '' });
  });

  const head = text('w2-aligned-6.12.trace');
  const bad: [string, string, RegExp][] = [
    ['a line that is no event line', mutate(head, 14, () => 'garbage here'), /ftrace line 14: expected an event line "TASK-PID \[CPU\] TIMESTAMP: EVENT: FIELDS"/],
    ['a truncated fs_dax event', mutate(head, 14, (l) => l.slice(0, l.indexOf(' vm_start'))), /ftrace line 14: expected "dax_pmd_fault_done: dev MAJ:MIN ino X shared\|private FLAGS address X vm_start X/],
    ['a field that is not hex', mutate(head, 17, (l) => l.replace('pgoff 0x0-0x3ff', 'pgoff 0x0-end')), /ftrace line 17: expected "dax_writeback_range: dev MAJ:MIN ino X pgoff X-X"/],
    ['a report of lost events', mutate(head, 15, () => 'CPU:1 [LOST 12 EVENTS]'), /ftrace line 15: the trace lost events/],
    ['a binary file', '\u0000ELF\u0001\n', /line 1: not a text trace/],
    ['a trace without fs_dax events', '# tracer: nop\n  w2-1 [000] 1.0: sched_switch: x\n', /no fs_dax events/],
    ['a VMA that moved (two VMAs over the same addresses)', `${head}${mutate(head, 13, (l) => l.replace('vm_end 0x7ffff7a00000', 'vm_end 0x7ffff7c00000')).split('\n')[12]}\n`, /ftrace line 21: this VMA \[0x7ffff7600000, 0x7ffff7c00000\) overlaps another one seen at line 13/],
    ['a VMA that does not hold its address', mutate(head, 13, (l) => l.replace('address 0x7ffff7600000', 'address 0x7ffff7a00000')), /ftrace line 13: expected a page-aligned VMA holding the address/],
  ];
  for (const [what, trace, message] of bad) {
    it(`refuses ${what} with EINVAL and its line, before anything runs`, async () => {
      const err = await ftraceDiff(trace).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EINVAL' });
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe.each(KERNELS)('ftraceDiff on %s', (kernel) => {
  for (const name of FIXTURES) {
    it(`the kernel's W2 trace ${name} gives no difference`, async () => {
      const r = await ftraceDiff(text(name), { kernel });
      expect(r.differences).toEqual([]);
      expect(r.compared).toBe(r.events);
      expect(r.emulatorEvents).toBe(r.events);
      expect([r.accesses, r.writebacks]).toEqual([name.includes('unaligned') ? 1024 : 2, 1]);
    });
  }
});

describe('a mutated trace gives exactly the difference introduced', () => {
  const u = text('w2-unaligned-6.12.trace');
  const a = text('w2-aligned-6.1.report');

  it('one result changed: MAJOR|NOPAGE to NOPAGE on one PTE fault', async () => {
    const n = lineOf(u, 'dax_pte_fault_done', 300);
    const r = await ftraceDiff(mutate(u, n, (l) => l.replace('MAJOR|NOPAGE', 'NOPAGE')));
    expect(r.differences).toEqual([{ line: n, event: 'dax_pte_fault_done', kind: 'fields', fields: [{ field: 'result', kernel: 'NOPAGE', emulator: 'MAJOR|NOPAGE' }] }]);
  });

  it('one PMD fault result changed: NOPAGE to FALLBACK', async () => {
    const n = lineOf(a, 'dax_pmd_fault_done', 1);
    const r = await ftraceDiff(mutate(a, n, (l) => l.replace('NOPAGE', 'FALLBACK')), { kernel: 'linux-6.1' });
    expect(r.differences).toEqual([{ line: n, event: 'dax_pmd_fault_done', kind: 'fields', fields: [{ field: 'result', kernel: 'FALLBACK', emulator: 'NOPAGE' }] }]);
  });

  it('one dax_writeback_one removed: the emulator has it alone', async () => {
    const n = lineOf(u, 'dax_writeback_one', 500);
    const r = await ftraceDiff(mutate(u, n, () => ''));
    expect(r.differences).toEqual([{ line: n, event: 'dax_writeback_one', kind: 'emulator-only', fields: [{ field: 'pgoff', kernel: '-', emulator: '0x1f4' }, { field: 'pglen', kernel: '-', emulator: '0x1' }] }]);
  });

  it('one dax_pte_fault removed: the emulator has it alone, the rest of the access still compares', async () => {
    const n = lineOf(u, 'dax_pte_fault:', 7);
    const r = await ftraceDiff(mutate(u, n, () => ''));
    expect(r.differences).toHaveLength(1);
    expect(r.differences[0]).toMatchObject({ line: n, event: 'dax_pte_fault', kind: 'emulator-only' });
    expect(r.differences[0]!.fields).toContainEqual({ field: 'pgoff', kernel: '-', emulator: '0x7' });
  });

  it('one PMD attempt removed from the aligned trace: its pair of events is the difference', async () => {
    const n = lineOf(a, 'dax_pmd_fault:', 1);
    const r = await ftraceDiff(mutate(a, n, () => ''), { kernel: 'linux-6.1' });
    expect(r.differences.map((d) => [d.line, d.event, d.kind])).toEqual([[n, 'dax_pmd_fault', 'emulator-only']]);
  });

  it('an extra event in the kernel trace is the kernel\'s alone', async () => {
    const n = lineOf(u, 'dax_writeback_one', 10);
    const r = await ftraceDiff(mutate(u, n, (l) => `${l}\n${l}`));
    expect(r.differences).toEqual([{ line: n + 1, event: 'dax_writeback_one', kind: 'kernel-only', fields: [{ field: 'pgoff', kernel: '0xa', emulator: '-' }, { field: 'pglen', kernel: '0x1', emulator: '-' }] }]);
  });

  it('a writeback whose dax_writeback_range was removed replays as an fsync: its range is the difference', async () => {
    const n = lineOf(a, 'dax_writeback_range:');
    const r = await ftraceDiff(mutate(a, n, () => ''), { kernel: 'linux-6.1' });
    expect(r.differences.map((d) => [d.line, d.event, d.kind])).toEqual([[n, 'dax_writeback_range', 'emulator-only'], [n + 2, 'dax_writeback_range_done', 'fields']]);
  });

  it('prints each difference with its line', async () => {
    const n = lineOf(u, 'dax_pte_fault_done', 3);
    const r = await ftraceDiff(mutate(u, n, (l) => l.replace('MAJOR|NOPAGE', 'NOPAGE')));
    expect(formatFtraceDiff(r, 'w2.trace').split('\n').slice(1)).toEqual([`line ${n}: dax_pte_fault_done: result kernel NOPAGE, emulator MAJOR|NOPAGE`, '1 difference', '']);
  });
});

describe('daxemu ftrace-diff', () => {
  it('exits 0 with no differences, naming the counts', async () => {
    const r = await daxemu('ftrace-diff', fixture('w2-aligned-6.12.trace'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/w2-aligned-6\.12\.trace: 8 fs_dax events \(8 compared\), 2 accesses and 1 writeback replayed on linux-6\.12; the emulator emitted 8\nno differences\n$/);
  });

  it('exits 1 with the differences of a mutated trace, --kernel linux-6.1, --json', async () => {
    const path = join(dir, 'mutated.report');
    await writeFile(path, mutate(text('w2-aligned-6.1.report'), 9, () => ''));
    const r = await daxemu('ftrace-diff', path, '--kernel', 'linux-6.1', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { kernel: string; differences: { line: number; event: string; kind: string }[] };
    expect(report.kernel).toBe('linux-6.1');
    expect(report.differences.map((d) => [d.line, d.event, d.kind])).toEqual([[9, 'dax_writeback_range_done', 'emulator-only']]);
    // --limit 0 lists none and counts it: still a difference, still exit 1.
    const counted = await daxemu('ftrace-diff', path, '--kernel', 'linux-6.1', '--limit', '0');
    expect(counted.code).toBe(1);
    expect(counted.stdout).toMatch(/\.\.\. and 1 more\n1 difference\n$/);
  });

  it('exits 2 for a malformed line, an unknown kernel or option, or a missing file', async () => {
    const path = join(dir, 'bad.trace');
    await writeFile(path, mutate(text('w2-aligned-6.12.trace'), 18, (l) => l.replace(' pglen 0x200', '')));
    const bad = await daxemu('ftrace-diff', path);
    expect([bad.code, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toMatch(/^daxemu ftrace-diff: EINVAL: ftrace line 18: expected "dax_writeback_one: dev MAJ:MIN ino X pgoff X pglen X", got "dev 259:0 ino 0x83 pgoff 0x0"/);
    expect((await daxemu('ftrace-diff', path, '--kernel', 'linux-4.5')).stderr).toMatch(/--kernel: unknown 'linux-4.5' \(choose from linux-6.12, linux-6.1\)/);
    expect((await daxemu('ftrace-diff', path, '--frob')).code).toBe(2);
    expect((await daxemu('ftrace-diff', path, '--limit', 'lots')).stderr).toMatch(/--limit: expected a count of differences to list, got 'lots'/);
    const missing = await daxemu('ftrace-diff', join(dir, 'none.trace'));
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/ENOENT: cannot open/)]);
  });
});

describe('a long kernel trace', () => {
  it('of 5 x 10^5 events is diffed as it is read, in bounded memory, its differences capped by limit', async () => {
    const path = join(dir, 'long.trace');
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fh = openSync(path, 'w');
    const flags = 'WRITE|ALLOW_RETRY|KILLABLE|USER|INTERRUPTIBLE|VMA_LOCK';
    writeSync(fh, `  w2-1 [001] .....  1.000001: dax_pte_fault: dev 259:0 ino 0x83 shared ${flags} address 0x7ffff7601000 pgoff 0x0 \n`);
    writeSync(fh, `  w2-1 [001] .....  1.000002: dax_pte_fault_done: dev 259:0 ino 0x83 shared ${flags} address 0x7ffff7601000 pgoff 0x0 MAJOR|NOPAGE\n`);
    // Then msyncs of a clean file, which the kernel still traces: the emulator's kernels
    // return before ->writepages with nothing tagged DIRTY (rule 4), so each is two differences.
    const pair = '  w2-1 [001] .....  2.000000: dax_writeback_range: dev 259:0 ino 0x83 pgoff 0x0-0x0\n  w2-1 [001] .....  2.000001: dax_writeback_range_done: dev 259:0 ino 0x83 pgoff 0x1-0x0\n';
    const block = pair.repeat(1000);
    for (let i = 0; i < 250; i++) writeSync(fh, block);
    closeSync(fh);
    const file = fileLines(path);
    let read = 0;
    let peak = 0;
    const heap = process.memoryUsage().heapUsed;
    const sampled = { name: file.name, *lines() { for (const l of file.lines()) { if (++read % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed); yield l; } } };
    const r = await ftraceDiff(sampled, { limit: 100 });
    expect(r.events).toBe(2 + 500_000);
    expect([r.accesses, r.writebacks]).toEqual([1, 250_000]);
    expect(r.differences.length).toBe(100);
    expect(r.differences.length + r.omitted).toBeGreaterThanOrEqual(2 * 249_999);
    expect(r.differences.slice(10).every((d) => d.kind === 'kernel-only' && d.event.startsWith('dax_writeback_range'))).toBe(true);
    expect(formatFtraceDiff(r)).toMatch(new RegExp(`\\.\\.\\. and ${r.omitted} more\\n${r.differences.length + r.omitted} differences\\n$`));
    // The files, the PMD-printed mappings, the implied ones, the plan's walk and the run's.
    expect(read).toBe(5 * 500_002);
    // The trace is 46 MiB; parsed into an array of events it takes 167 MiB of heap.
    expect(peak - heap).toBeLessThan(64 << 20);
    await expect(ftraceDiff(fixture('w2-aligned-6.12.trace'), { limit: -1 })).rejects.toThrow(/EINVAL: ftraceDiff: limit must be a non-negative integer, got -1/);
  }, 120_000);
});
