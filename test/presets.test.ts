// The cost presets: every preset is complete, optane-g1 reproduces the FAST'20 latency figures
// through the formulas of src/hw/cost-model.ts (docs/cost-model.md §5.1 and §5.7), and
// resolveCostModel rejects bad custom models with EINVAL naming the field.
import { describe, expect, it } from 'vitest';
import { COST_FIELDS, LATER_FIELDS, type CostModel } from '../src/hw/cost-model.js';
import { PmemError } from '../src/base/errors.js';
import { describePresets, PRESET_NAMES, PRESETS, resolveCostModel } from '../src/hw/presets.js';
import { FIG12_PERSIST_NS } from './helpers.js';

const LINE = 64;

/**
 * The buffer-entry claim per line of [S1] Fig.2's sequential run: LATTester's task 1 writes 64 B
 * after 64 B, so one write in mediaLineBytes / 64 opens a new media line (src/hw/presets.ts header).
 */
function runClaimNs(m: CostModel): number {
  return m.bufferLines === 0 ? 0 : (m.bufferMissNs * LINE) / m.mediaLineBytes;
}

/** Warm line, store + clwb + sfence, averaged over the sequential run: the fence waits for the write-back. */
function warmPersistNs(m: CostModel): number {
  return m.storeHitNs + m.flushIssueNs + Math.max(m.sfenceNs, m.writebackNs + runClaimNs(m));
}

/** Line, ntstore + sfence, averaged over the same run. */
function warmNtPersistNs(m: CostModel): number {
  return m.ntIssueNs + Math.max(m.sfenceNs, m.ntLatencyNs + runClaimNs(m));
}

/**
 * n warm lines at a fresh address: stores, clwb each, one fence; the DIMM claims buffer entries
 * for them, so the last write-back is acknowledged bufferMissNs late ([S1] Fig.12, src/hw/presets.ts).
 */
function freshPersistNs(m: CostModel, n: number): number {
  const perLine = Math.max(m.flushIssueNs, LINE / m.flushBytesPerNs);
  return m.storeHitNs * n + m.flushIssueNs + (n - 1) * perLine + m.writebackNs + m.bufferMissNs;
}

/** n lines of ntstore at a fresh address, one fence ([S1] Fig.12). */
function freshNtPersistNs(m: CostModel, n: number): number {
  return m.ntIssueNs + (n - 1) * Math.max(m.ntIssueNs, LINE / m.ntBytesPerNs) + m.ntLatencyNs + m.bufferMissNs;
}

function relativeError(model: number, target: number): number {
  return (model - target) / target;
}

/** Throws unless `run` throws PmemError EINVAL whose message contains `mentions`. */
function expectEinval(run: () => unknown, mentions: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PmemError);
  expect((caught as PmemError).code).toBe('EINVAL');
  expect((caught as PmemError).message).toContain(mentions);
}

function customModel(changes: Record<string, unknown> = {}): CostModel {
  return { ...PRESETS['optane-g1'], name: 'custom', ...changes } as CostModel;
}

describe('cost presets', () => {
  it.each(PRESET_NAMES)('preset %s resolves with every field set and valid', (name) => {
    const model = resolveCostModel(name);
    expect(model.name).toBe(name);
    expect(['adr', 'eadr']).toContain(model.persistence);
    expect(typeof model.clwbInvalidates).toBe('boolean');
    for (const field of COST_FIELDS) {
      expect(Number.isFinite(model[field]), field).toBe(true);
      expect(model[field], field).toBeGreaterThanOrEqual(0);
    }
    // A preset passes the same checks as a custom model.
    expect(resolveCostModel({ ...model })).toEqual(model);
  });

  it('optane-g1 matches [S1] Fig.2 averaged over its sequential run within 10 % (docs/cost-model.md §5.1)', () => {
    const m = PRESETS['optane-g1'];
    expect(Math.abs(relativeError(warmPersistNs(m), 62.3))).toBeLessThan(0.1);
    expect(Math.abs(relativeError(warmNtPersistNs(m), 90.4))).toBeLessThan(0.1);
    expect(m.loadSeqNs).toBeCloseTo(169.4, 1);
    expect(m.loadRandNs).toBeCloseTo(305.0, 1);
    // One line persists at WPQ speed, and ntstore is the slower of the two (§5.1 emulator check).
    expect(warmPersistNs(m)).toBeLessThan(warmNtPersistNs(m));
  });

  it('optane-g1 matches [S1] Fig.12 latency vs access size at fresh addresses within 25 % (docs/cost-model.md §5.7)', () => {
    const m = PRESETS['optane-g1'];
    const table = FIG12_PERSIST_NS.map(({ size: bytes, clwb, ntstore: nt }) => {
      const n = bytes / LINE;
      const modelClwb = freshPersistNs(m, n);
      const modelNt = freshNtPersistNs(m, n);
      return { bytes, modelClwb, clwb, clwbError: relativeError(modelClwb, clwb), modelNt, nt, ntError: relativeError(modelNt, nt) };
    });
    const shown = JSON.stringify(table, (_key, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(3)) : v));
    for (const row of table) {
      expect(Math.abs(row.clwbError), shown).toBeLessThan(0.25);
      expect(Math.abs(row.ntError), shown).toBeLessThan(0.25);
    }
  });

  it('optane-g1: store+clwb is faster at 256 B and ntstore from 512 B, where PMDK switches (§5.7, §4.1)', () => {
    const m = PRESETS['optane-g1'];
    expect(freshPersistNs(m, 4)).toBeLessThan(freshNtPersistNs(m, 4));
    expect(freshNtPersistNs(m, 8)).toBeLessThan(freshPersistNs(m, 8));
  });

  it('both g1 presets share the latency parameters and differ in DIMM count only', () => {
    const one = PRESETS['optane-g1'];
    const six = PRESETS['optane-g1-6dimm'];
    expect({ ...six, name: one.name, dimms: one.dimms }).toEqual(one);
    expect(six.dimms).toBe(6);
    expect(six.interleaveBytes).toBe(4096);
  });

  it('dram persists one line faster than optane-g1 and writes 64-byte media lines', () => {
    const dram = PRESETS.dram;
    expect(warmPersistNs(dram)).toBeLessThan(warmPersistNs(PRESETS['optane-g1']));
    expect(warmNtPersistNs(dram)).toBeLessThan(warmNtPersistNs(PRESETS['optane-g1']));
    expect(Math.abs(relativeError(warmPersistNs(dram), 57.3))).toBeLessThan(0.1); // [S1] Fig.2 DRAM
    expect(Math.abs(relativeError(warmNtPersistNs(dram), 86.9))).toBeLessThan(0.1);
    expect(dram.mediaLineBytes).toBe(64);
    expect(dram.loadRandNs).toBeLessThan(PRESETS['optane-g1'].loadSeqNs);
  });

  it('nvdimm-n runs at DRAM speed and cxl is slower than DRAM', () => {
    expect(warmPersistNs(PRESETS['nvdimm-n'])).toBe(warmPersistNs(PRESETS.dram));
    expect(PRESETS['nvdimm-n'].loadRandNs).toBe(PRESETS.dram.loadRandNs);
    expect(PRESETS.cxl.loadRandNs).toBeGreaterThan(PRESETS.dram.loadRandNs);
    expect(warmPersistNs(PRESETS.cxl)).toBeGreaterThan(warmPersistNs(PRESETS.dram));
  });

  it('an unknown preset name is EINVAL naming it and listing the valid names', () => {
    expectEinval(() => resolveCostModel('optane-g3' as never), "'optane-g3'");
    expectEinval(() => resolveCostModel('optane-g3' as never), PRESET_NAMES.join(', '));
    expectEinval(() => resolveCostModel('toString' as never), "'toString'");
    expectEinval(() => resolveCostModel(null as never), 'preset');
  });

  it('a custom model missing a field is EINVAL naming the field', () => {
    const missing: Record<string, unknown> = { ...customModel() };
    delete missing.writebackNs;
    expectEinval(() => resolveCostModel(missing as unknown as CostModel), 'writebackNs');
  });

  it.each([
    ['negative time', { sfenceNs: -1 }, 'sfenceNs', '-1'],
    ['NaN', { loadSeqNs: Number.NaN }, 'loadSeqNs', 'NaN'],
    ['infinity', { loadRandNs: Number.POSITIVE_INFINITY }, 'loadRandNs', 'Infinity'],
    ['a string for a number', { storeHitNs: '1' }, 'storeHitNs', '"1"'],
    ['zero rate, which would divide', { flushBytesPerNs: 0 }, 'flushBytesPerNs', '0'],
    ['non-integer count', { maxOutstanding: 2.5 }, 'maxOutstanding', '2.5'],
    ['zero outstanding', { maxOutstanding: 0 }, 'maxOutstanding', '0'],
    ['non-integer buffer', { bufferLines: 1.5 }, 'bufferLines', '1.5'],
    ['more lines in flight than the core keeps', { maxOutstanding: 65 }, 'maxOutstanding', '65'],
    ['more buffer lines than the core keeps', { bufferLines: 65 }, 'bufferLines', '65'],
    ['a write queue deeper than the core keeps', { wpqLines: 65 }, 'wpqLines', '65'],
    ['a fractional write queue', { wpqLines: 1.5 }, 'wpqLines', '1.5'],
    ['a negative write queue', { wpqLines: -1 }, 'wpqLines', '-1'],
    ['a negative read-modify-write time', { rmwNs: -5 }, 'rmwNs', '-5'],
    ['a negative buffer-miss time', { bufferMissNs: -5 }, 'bufferMissNs', '-5'],
    ['a buffer-miss time that is not a number', { bufferMissNs: Number.NaN }, 'bufferMissNs', 'NaN'],
    ['more fill buffers than the core keeps lines in flight', { fillBufferLines: 65 }, 'fillBufferLines', '65'],
    ['a fractional number of fill buffers', { fillBufferLines: 2.5 }, 'fillBufferLines', '2.5'],
    ['a fractional number of contending writers', { contentionWriters: 2.5 }, 'contentionWriters', '2.5'],
    ['more contending writers than the core keeps', { contentionWriters: 65 }, 'contentionWriters', '65'],
    ['a negative contention exponent', { contentionExponent: -0.6 }, 'contentionExponent', '-0.6'],
    ['zero dimms', { dimms: 0 }, 'dimms', '0'],
    ['65 dimms', { dimms: 65 }, 'dimms', '65'],
    ['mediaLineBytes 100', { mediaLineBytes: 100 }, 'mediaLineBytes', '100'],
    ['mediaLineBytes 8192', { mediaLineBytes: 8192 }, 'mediaLineBytes', '8192'],
    ['interleave below a page', { interleaveBytes: 2048 }, 'interleaveBytes', '2048'],
    ['interleave not a power of two', { interleaveBytes: 6144 }, 'interleaveBytes', '6144'],
    ['bad persistence', { persistence: 'cpu_cache' }, 'persistence', '"cpu_cache"'],
    ['non-boolean clwbInvalidates', { clwbInvalidates: 1 }, 'clwbInvalidates', '1'],
    ['empty name', { name: '' }, 'name', '""'],
    ['unknown field', { writeBackNs: 50 }, 'writeBackNs', 'unknown'],
  ])('a custom model with %s is EINVAL naming the field and value', (_what, changes, field, value) => {
    expectEinval(() => resolveCostModel(customModel(changes)), field);
    expectEinval(() => resolveCostModel(customModel(changes)), value);
  });

  it('a custom model written before the later fields (wpqLines, rmwNs, bufferMissNs, fillBufferLines, contention) existed is accepted with them off (0)', () => {
    const old: Record<string, unknown> = { ...customModel() };
    for (const field of LATER_FIELDS) delete old[field];
    expect(resolveCostModel(old as unknown as CostModel)).toMatchObject(Object.fromEntries(LATER_FIELDS.map((field) => [field, 0])));
  });

  it('a bad persistence argument is EINVAL', () => {
    expectEinval(() => resolveCostModel('dram', 'battery' as never), 'persistence');
  });

  it('the persistence argument overrides the preset and the custom model', () => {
    expect(resolveCostModel('optane-g1', 'eadr').persistence).toBe('eadr');
    expect(resolveCostModel('optane-g1').persistence).toBe('adr');
    expect(PRESETS['optane-g1'].persistence).toBe('adr');
    expect(resolveCostModel(customModel({ persistence: 'eadr' }), 'adr').persistence).toBe('adr');
  });

  it('resolved models are frozen copies, independent of PRESETS and of the caller object', () => {
    const resolved = resolveCostModel('optane-g1');
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolved).not.toBe(PRESETS['optane-g1']);
    expect(resolved).toEqual(PRESETS['optane-g1']);
    expect(Object.isFrozen(PRESETS['optane-g1'])).toBe(true);
    expect(Object.isFrozen(PRESETS)).toBe(true);

    const mine = customModel();
    const fromMine = resolveCostModel(mine);
    mine.writebackNs = 1;
    expect(fromMine.writebackNs).toBe(PRESETS['optane-g1'].writebackNs);
    expect(Object.isFrozen(fromMine)).toBe(true);
  });

  it('describePresets gives a Markdown table with one row per preset', () => {
    const lines = describePresets().split('\n');
    expect(lines).toHaveLength(2 + PRESET_NAMES.length);
    for (const name of PRESET_NAMES) expect(lines.some((line) => line.startsWith(`| \`${name}\` |`))).toBe(true);
    const optane = lines.find((line) => line.startsWith('| `optane-g1` |'));
    expect(optane).toContain('169.4 / 305.0');
    expect(optane).toContain('| 62.3 |'); // the [S1] Fig.2 target, reproduced
    expect(optane).toContain('| 1.32 |'); // one thread's cold store+clwb stream, inside [S1] Fig.13's 1.1-1.5
  });
});
