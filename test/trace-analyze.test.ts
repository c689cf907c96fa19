// The flush and fence analysis (src/trace/analyze.ts): each kind of finding from a trace
// built to hold exactly it, with its line, its verdict and its cost from the cost model.
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../src/hw/index.js';
import { createEmulator } from '../src/emulator/index.js';
import { analysisMarkdown, analyze, formatAnalysisTable, importPmemcheck, startRecording } from '../src/trace/index.js';

const G1 = PRESETS['optane-g1'];
const head = (extra = ''): string => `daxemu-trace 1\nemulator capacity=16777216${extra}\ndev d0 0 1048576\n`;

describe('analyze', () => {
  it('a pmemcheck log with one missing flush and one redundant flush: exactly those two findings, with their costs', async () => {
    const log = [
      '|START',
      '|STORE;0x10000000;0x11;0x8', // line 2: flushed and fenced below
      '|FLUSH;0x10000000;0x40',
      '|FLUSH;0x10000000;0x40', // line 4: the redundant flush
      '|FENCE',
      '|STORE;0x10000040;0x22;0x8', // line 6: never flushed
      '|STOP',
    ].join('\n');
    const report = await analyze(importPmemcheck(log));
    expect(report.findings.map((f) => [f.kind, f.verdict, f.line, f.lines, f.ns])).toEqual([
      ['double-flush', 'performance', 4, 1, G1.flushIssueNs],
      ['not-durable', 'durability', 6, 1, 0],
    ]);
    expect(report.findings[0]!.share).toBeCloseTo(G1.flushIssueNs / report.totalNs, 12);
    expect(report.totalNs).toBeGreaterThan(0);
  });

  it('a clean flush, an empty fence and a clean clflush are costed from the preset', async () => {
    const r = await analyze(`${head()}clwb d0 0 128\nsfence\nclflush d0 4096 64\nmfence\n`);
    expect(r.findings.map((f) => [f.kind, f.line, f.lines, f.ns])).toEqual([
      ['clean-flush', 4, 2, 2 * G1.flushIssueNs],
      ['empty-fence', 5, 0, G1.sfenceNs],
      ['clean-flush', 6, 1, G1.clflushCleanNs],
      ['empty-fence', 7, 0, G1.mfenceNs],
    ]);
  });

  it('a store after the flush and before the fence: the first store is durable only with a later fence', async () => {
    const r = await analyze(`${head()}store d0 0 8\nclwb d0 0 64\nstore d0 8 8\nsfence\nclwb d0 0 64\nsfence\n`);
    expect(r.findings.map((f) => [f.kind, f.verdict, f.line])).toEqual([['late-durable', 'durability', 4]]);
    expect(r.findings[0]!.detail).toBe('stored at line 4, flushed, then stored again at line 6 before the fence');
  });

  it('a correct flush-and-fence run has no findings', async () => {
    const r = await analyze(`${head()}store d0 0 100\nclwb d0 0 100\nsfence\nntstore d0 4096 256\nsfence\n`);
    expect(r.findings).toEqual([]);
    expect(formatAnalysisTable(r)).toMatch(/no findings$/);
  });

  it('msync with nothing dirty, whole-entry waste, and stores lost at a crash', async () => {
    const t = `daxemu-trace 1\nemulator capacity=16777216\ncreate /f 65536 written\nmmap m0 /f 0 65536 shared\nstore m0 0 8\nmsync m0 0 65536\nmsync m0 0 65536\nstore m0 4096 8\ncrash guaranteed 1\n`;
    const r = await analyze(t);
    const kinds = r.findings.map((f) => [f.kind, f.line]);
    expect(kinds).toEqual([['entry-waste', 6], ['empty-sync', 7], ['not-durable', 8]]);
    // The first msync wrote back one PTE entry: 64 lines, one dirty.
    expect(r.findings[0]!.lines).toBe(63);
    expect(r.findings[2]!.detail).toMatch(/before the crash at line 9/);
  });

  it('an msync after user flushes is empty on a MAP_SYNC mapping, and not where it commits a first store\'s blocks', async () => {
    const body = 'store m0 100 64\nclwb m0 100 64\nsfence\nmsync m0 0 65536\n';
    const sync = await analyze(`daxemu-trace 1\ncreate /f 65536 none\nmmap m0 /f 0 65536 shared sync\n${body}`);
    expect(sync.findings.map((f) => [f.kind, f.line])).toEqual([['empty-sync', 7], ['entry-waste', 7]]);
    const plain = await analyze(`daxemu-trace 1\ncreate /f 65536 none\nmmap m0 /f 0 65536 shared\n${body}`);
    expect(plain.findings.map((f) => f.kind)).toEqual(['entry-waste']);
  });

  it('a store made durable by msync-at, bgwriteback or a concurrent fsync is not listed as non-durable; one they leave dirty is', async () => {
    const rec = startRecording(await createEmulator({ capacity: 16 << 20, seed: 1 }));
    const map = (path: string, dax: boolean): ReturnType<typeof rec.mmap> =>
      rec.mmap(rec.createFile(path, { size: 65536, allocate: 'written', dax }), { length: 65536, shared: true });
    const [d, p, c] = [map('/dax', true), map('/pc', false), map('/c', true)];
    d.store(0, new Uint8Array([1]));
    d.store(8192, new Uint8Array([2])); // left dirty: msync-at covers page 0 only
    rec.msync(d.address, 4096);
    p.store(0, new Uint8Array([3]));
    rec.backgroundWriteback({ expireNs: 0 }); // the page-cache file's pages are old enough
    c.store(0, new Uint8Array([4]));
    rec.runConcurrently([{ fsync: rec.open('/c') }]);
    const trace = rec.stop();
    const lines = trace.trim().split('\n');
    const r = await analyze(trace);
    expect(r.findings.filter((f) => f.kind === 'not-durable').map((f) => lines[f.line - 1])).toEqual(['store m0 8192 1 x02']);
  });

  it('under eADR every flush is of a clean line, and a store needs no flush', async () => {
    const r = await analyze(`${head(' persistence=eadr')}store d0 0 8\nclwb d0 0 64\nsfence\n`);
    expect(r.findings.map((f) => f.kind)).toEqual(['clean-flush', 'empty-fence']);
    expect(r.findings[0]!.detail).toMatch(/eADR/);
  });

  it('the Markdown report has the summary, the meanings and every finding', async () => {
    const r = await analyze(`${head()}clwb d0 0 64\nstore d0 0 8\n`);
    const md = analysisMarkdown(r);
    expect(md).toContain('| clean-flush | performance | 1 | 1 |');
    expect(md).toContain('- **not-durable**: store never made durable');
    expect(md).toMatch(/\| 5 \| not-durable \| durability \| 0\.0 ns \| 0\.00% \|/);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('lists at most `limit` findings of a kind and counts the rest', async () => {
    const r = await analyze(`${head()}${'sfence\n'.repeat(30)}`, { limit: 10 });
    expect(r.findings).toHaveLength(10);
    expect(r.omitted).toBe(20);
    expect(r.summary).toEqual([{ kind: 'empty-fence', verdict: 'performance', count: 30, lines: 0, ns: 30 * G1.sfenceNs, share: expect.any(Number) }]);
  });
});
