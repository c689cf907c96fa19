// The pmem hardware: the wasm core (both builds) against the reference model
// (src/model/pmem.ts), and the durability and cost rules one by one.
//
// Differential part: long seeded sequences of stores, NT stores, loads, the three flushes and
// both fences on CPUs 0 and 1, over a few hot clusters of lines so that lines are reused and,
// with only 64 undo slots, evictions happen all the time; now and then a bad call that must
// fail the same way on both and change nothing, and a batch through the core's command loop
// (pmRun). Both CPU clocks are compared exactly after every operation; every 200 operations
// and at the end everything else is: all counters, the media counters, the undo slots in
// use, the undo list (line, state, pending CPU, durable bytes), every line state, the media.
// A failure names its seed, configuration and step: rerun with
//   PMEM_DIFF_SEED=<seed> [PMEM_DIFF_CONFIG=<label>] npx vitest run test/pmem-differential.test.ts
//
// Focused part: each rule of assembly/pmem.ts's header (durability per instruction and
// persistence domain) and the cost formulas of src/hw/cost-model.ts, checked on both builds
// and on the model.
import { describe, expect, it } from 'vitest';
import type { Core, WasmBuild } from '../src/core/index.js';
import type { CostModel } from '../src/hw/cost-model.js';
import { PmemError } from '../src/base/errors.js';
import {
  C_CLFLUSH_DIRTY, C_CLWB_DIRTY, C_EVICTIONS, C_FENCE_WAIT_NS, C_NT_LINES, C_SFENCES, C_STORE_MISSES, CPU_COUNTERS, FLUSH_CLFLUSH, FLUSH_CLFLUSHOPT,
  FLUSH_CLWB, LINE_CACHED, LINE_DIRTY, LINE_PENDING, LINE_UNDO, M_BUFFER_HITS, M_DIMM_BYTES_WRITTEN, M_MEDIA_BYTES_READ, M_MEDIA_BYTES_WRITTEN,
  MAX_CPUS, MEDIA_COUNTERS, ModelPmem, NONE,
} from '../src/model/pmem.js';
import { resolveCostModel } from '../src/hw/presets.js';
import { Rng } from '../src/base/random.js';
import { BUILDS } from './helpers.js';
import { makeHardware, makePmem, mediaOf, undoRecords, type HardwareOptions, type Pmem } from './pmem-helpers.js';

/** The core's smallest media: a multiple of 2 MiB. */
const MEDIA_BYTES = 2 << 20;
/** Few undo slots, so that the clusters below overflow them and evictions happen constantly. */
const UNDO_SLOTS = 64;
/** Under eADR only NT lines take slots, and fences free them soon: fewer slots, so that they overflow too. */
const UNDO_SLOTS_EADR = 4;
const CHECK_EVERY = 200;
const CPUS = [0, 1];

/** Corners the presets leave alone: 4 KiB media lines over 3 DIMMs, a 4-line buffer, 3 lines in flight, clwb keeping lines. */
const CORNERS = resolveCostModel({
  ...resolveCostModel('optane-g1'),
  name: 'corners',
  clwbInvalidates: false,
  maxOutstanding: 3,
  mediaLineBytes: 4096,
  bufferLines: 4,
  dimms: 3,
  interleaveBytes: 4096,
});

/** A congested DIMM timeline: slow media behind a one-write queue, so nearly every write and read waits. */
const CONGESTED = resolveCostModel({
  ...resolveCostModel('optane-g1'),
  name: 'congested',
  mediaReadBytesPerNs: 1,
  mediaWriteBytesPerNs: 0.5,
  wpqLines: 1,
  dimms: 2,
});

/** The timeline off (wpqLines 0): what a custom model written before it gets. */
const NO_TIMELINE = resolveCostModel({ ...resolveCostModel('optane-g1-6dimm'), name: 'no-timeline', wpqLines: 0 });

/** Writer contention from two writers on (the random operations use two CPUs), over two DIMMs. */
const CONTENDED = resolveCostModel({ ...resolveCostModel('optane-g1'), name: 'contended', dimms: 2, contentionWriters: 1, contentionExponent: 0.7 });

/** A tight line budget: one line ahead and a slow read rate, so that cold stores and write-backs wait on it all the time. */
const TIGHT_BUDGET = resolveCostModel({ ...resolveCostModel('optane-g1'), name: 'tight-budget', fillBufferLines: 1, readBytesPerNs: 0.5 });

/** A two-line XPBuffer: nearly every read and write finds it full (the read-populates rule's corners). */
const TWO_ENTRIES = resolveCostModel({ ...resolveCostModel('optane-g1'), name: 'two-entries', bufferLines: 2 });

/**
 * A three-block DRAM cache per DIMM over two DIMMs: the random clusters' blocks displace each
 * other there, so writes find their block held, displaced, or never read (ait-buffer.ts).
 */
const THREE_AIT_BLOCKS = resolveCostModel({ ...resolveCostModel('optane-g1'), name: 'three-ait-blocks', dimms: 2, aitBufferBlocks: 3 });

/** The DRAM cache off: a write's read-modify-write is spared only by a read for ownership or a buffered read. */
const NO_AIT = resolveCostModel({ ...resolveCostModel('optane-g1'), name: 'no-ait', aitBufferBlocks: 0 });

interface Config {
  label: string;
  cost: CostModel;
  seeds: number[];
}

const CONFIGS: Config[] = [
  { label: 'optane-g1 adr', cost: resolveCostModel('optane-g1'), seeds: [1, 2, 3] },
  { label: 'optane-g1 eadr', cost: resolveCostModel('optane-g1', 'eadr'), seeds: [4] },
  { label: 'dram adr', cost: resolveCostModel('dram'), seeds: [5, 6] },
  { label: 'dram eadr', cost: resolveCostModel('dram', 'eadr'), seeds: [7] },
  { label: 'cxl adr', cost: resolveCostModel('cxl'), seeds: [8] }, // clwb keeps the line cached
  { label: 'optane-g1-6dimm adr', cost: resolveCostModel('optane-g1-6dimm'), seeds: [9] },
  { label: 'corners adr', cost: CORNERS, seeds: [10] },
  { label: 'congested adr', cost: CONGESTED, seeds: [11] },
  { label: 'no-timeline adr', cost: NO_TIMELINE, seeds: [12] },
  { label: 'tight-budget adr', cost: TIGHT_BUDGET, seeds: [13] },
  { label: 'contended adr', cost: CONTENDED, seeds: [14] },
  // Two buffer entries per DIMM: reads fill them, displace each other and pass by lines waiting to be written.
  { label: 'two-entry buffer adr', cost: TWO_ENTRIES, seeds: [15, 16] },
  { label: 'three-block DRAM cache adr', cost: THREE_AIT_BLOCKS, seeds: [17, 18] },
  { label: 'no DRAM cache adr', cost: NO_AIT, seeds: [19] },
];

const fixedSeed = process.env.PMEM_DIFF_SEED ? Number(process.env.PMEM_DIFF_SEED) : undefined;
const onlyConfig = process.env.PMEM_DIFF_CONFIG;
const STEPS = process.env.PMEM_DIFF_STEPS ? Number(process.env.PMEM_DIFF_STEPS) : 20_000;

// ---- the differential run ------------------------------------------------------------------

type Outcome = { value: unknown } | { error: string };

/** Runs a call, turning its result or its PmemError into something toEqual can compare. */
function attempt(run: () => unknown): Outcome {
  try {
    const value = run();
    return { value: value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value };
  } catch (err) {
    if (err instanceof PmemError) return { error: err.code };
    throw err;
  }
}

interface Op {
  name: string;
  run: (pm: Pmem) => unknown;
  /** A call that must fail: it is checked to change nothing. */
  bad?: boolean;
}

/** The seeded workload: addresses mostly in a few hot 2 KiB clusters, lengths up to 300 bytes. */
class Workload {
  private readonly clusters: number[];
  private lastEnd = 0;
  private lastStore: { addr: number; len: number } = { addr: 0, len: 64 };

  constructor(
    private readonly rng: Rng,
    private readonly mediaBytes: number,
  ) {
    // The media's last bytes, a 4 KiB boundary (a DIMM change under interleaving), and random places.
    this.clusters = [mediaBytes - 2048, 4096 * (1 + rng.below(100)) - 1024];
    for (let i = 0; i < 4; i++) this.clusters.push(64 * rng.below((mediaBytes - 2048) / 64));
  }

  private bytes(len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.rng.below(256);
    return out;
  }

  /** An address and a length inside the media. */
  private range(maxLen: number): { addr: number; len: number } {
    const rng = this.rng;
    const r = rng.below(100);
    const addr = r < 85 ? rng.pick(this.clusters) + rng.below(2048) : r < 93 ? rng.below(this.mediaBytes) : Math.min(this.lastEnd, this.mediaBytes - 1);
    const len = Math.min(rng.chance(0.6) ? rng.between(1, 64) : rng.between(1, maxLen), this.mediaBytes - addr);
    this.lastEnd = addr + len;
    return { addr, len };
  }

  private flushRange(): { addr: number; len: number } {
    if (this.rng.chance(0.5)) return this.lastStore;
    if (this.rng.chance(0.03)) return { addr: this.range(1).addr, len: 0 };
    return this.range(512);
  }

  next(): Op {
    const rng = this.rng;
    const cpu = rng.pick(CPUS);
    const roll = rng.below(100);
    if (roll < 36) {
      const nt = roll >= 28;
      const { addr, len } = this.range(300);
      this.lastStore = { addr, len };
      const data = this.bytes(len);
      return { name: `${nt ? 'ntstore' : 'store'}(cpu ${cpu}, ${addr}, ${len})`, run: (pm) => pm.pmStore(cpu, addr, data, nt) };
    }
    if (roll < 50) {
      const { addr, len } = rng.chance(0.02) ? { addr: this.range(1).addr, len: 0 } : this.range(300);
      return { name: `load(cpu ${cpu}, ${addr}, ${len})`, run: (pm) => pm.pmLoad(cpu, addr, len) };
    }
    if (roll < 69) {
      const kind = roll < 58 ? FLUSH_CLWB : roll < 64 ? FLUSH_CLFLUSHOPT : FLUSH_CLFLUSH;
      const { addr, len } = this.flushRange();
      return { name: `flush(cpu ${cpu}, kind ${kind}, ${addr}, ${len})`, run: (pm) => pm.pmFlush(cpu, kind, addr, len) };
    }
    if (roll < 85) {
      const full = roll >= 81;
      return { name: `${full ? 'mfence' : 'sfence'}(cpu ${cpu})`, run: (pm) => pm.pmFence(cpu, full) };
    }
    if (roll < 87) return this.badOp(cpu);
    // The persist idiom: store, flush the same range, fence.
    const { addr, len } = this.range(300);
    this.lastStore = { addr, len };
    const data = this.bytes(len);
    const kind = rng.chance(0.8) ? FLUSH_CLWB : FLUSH_CLFLUSHOPT;
    return {
      name: `persist(cpu ${cpu}, ${addr}, ${len}, kind ${kind})`,
      run: (pm) => {
        pm.pmStore(cpu, addr, data);
        pm.pmFlush(cpu, kind, addr, len);
        pm.pmFence(cpu, false);
      },
    };
  }

  /** A call that must throw: a range past the media, a CPU that does not exist, a bad flush kind. */
  private badOp(cpu: number): Op {
    const rng = this.rng;
    const end = this.mediaBytes;
    const badCpu = rng.pick([MAX_CPUS, MAX_CPUS + 1, 100, -1]);
    const pastAddr = rng.chance(0.2) ? -64 : end - rng.below(64);
    const pastLen = 65 + rng.below(300);
    const cases: Op[] = [
      { name: `store past the media (${pastAddr}, ${pastLen})`, run: (pm) => pm.pmStore(cpu, pastAddr, new Uint8Array(pastLen).fill(0xee)) },
      { name: `ntstore past the media (${pastAddr}, ${pastLen})`, run: (pm) => pm.pmStore(cpu, pastAddr, new Uint8Array(pastLen).fill(0xee), true) },
      { name: `load past the media (${end + 64}, 1)`, run: (pm) => pm.pmLoad(cpu, end + 64, 1) },
      { name: `empty store at ${end + 1}`, run: (pm) => pm.pmStore(cpu, end + 1, new Uint8Array(0)) },
      { name: `clwb past the media (${pastAddr}, ${pastLen})`, run: (pm) => pm.pmFlush(cpu, FLUSH_CLWB, pastAddr, pastLen) },
      { name: `store on cpu ${badCpu}`, run: (pm) => pm.pmStore(badCpu, 0, new Uint8Array(8).fill(0xee)) },
      { name: `load on cpu ${badCpu}`, run: (pm) => pm.pmLoad(badCpu, 0, 8) },
      { name: `clflush on cpu ${badCpu}`, run: (pm) => pm.pmFlush(badCpu, FLUSH_CLFLUSH, 0, 64) },
      { name: `sfence on cpu ${badCpu}`, run: (pm) => pm.pmFence(badCpu, false) },
      { name: `store on cpu ${badCpu} past the media (EINVAL first)`, run: (pm) => pm.pmStore(badCpu, end, new Uint8Array(8)) },
      { name: 'flush kind 3', run: (pm) => pm.pmFlush(cpu, 3, 0, 64) },
      { name: 'flush kind -1', run: (pm) => pm.pmFlush(cpu, -1, 0, 64) },
      { name: `flush kind 3 past the media (ERANGE first)`, run: (pm) => pm.pmFlush(cpu, 3, end, 64) },
    ];
    return { ...rng.pick(cases), bad: true };
  }

  /** A batch of valid command records for the core's pmRun, and the same operations as calls. */
  batch(): { cpu: number; records: Uint32Array; data: Uint8Array; calls: Op[] } {
    const rng = this.rng;
    const cpu = rng.pick(CPUS);
    const n = rng.between(1, 20);
    const records = new Uint32Array(4 * n);
    const parts: Uint8Array[] = [];
    const calls: Op[] = [];
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const op = rng.between(1, 8); // PM_STORE .. PM_MFENCE (assembly/pmcmd.ts)
      const { addr, len } = op <= 6 ? this.range(300) : { addr: 0, len: 0 };
      records.set([op, addr, len, offset], 4 * i);
      const bytes = op === 1 || op === 3 ? this.bytes(len) : new Uint8Array(len);
      parts.push(bytes);
      offset += len;
      if (op === 1 || op === 3) calls.push({ name: `run ${op}`, run: (pm) => pm.pmStore(cpu, addr, bytes, op === 3) });
      else if (op === 2) calls.push({ name: 'run load', run: (pm) => pm.pmLoad(cpu, addr, len) });
      else if (op <= 6) calls.push({ name: `run flush ${op - 4}`, run: (pm) => pm.pmFlush(cpu, op - 4, addr, len) });
      else calls.push({ name: 'run fence', run: (pm) => pm.pmFence(cpu, op === 8) });
    }
    const data = new Uint8Array(offset);
    offset = 0;
    for (const p of parts) {
      data.set(p, offset);
      offset += p.length;
    }
    return { cpu, records, data, calls };
  }
}

/** The cheap part of the state: clocks, counters, undo slots in use. */
function fingerprint(pm: Pmem): number[] {
  const out: number[] = [pm.pmUndoUsed()];
  for (let cpu = 0; cpu < MAX_CPUS; cpu++) {
    out.push(pm.pmNow(cpu));
    for (let i = 0; i < CPU_COUNTERS; i++) out.push(pm.pmCounter(cpu, i));
  }
  for (let i = 0; i < MEDIA_COUNTERS; i++) out.push(pm.pmMediaCounter(i));
  return out;
}

/** Everything the core and the model expose must be equal. */
function expectSameState(core: Core, model: ModelPmem, where: string): void {
  expect(fingerprint(core), `${where}: clocks, counters, undo slots in use`).toEqual(fingerprint(model));
  const hex = (r: { line: number; state: number; cpu: number; durable: Uint8Array }) => ({ ...r, durable: Buffer.from(r.durable).toString('hex') });
  expect(undoRecords(core).map(hex), `${where}: undo list`).toEqual(undoRecords(model).map(hex));
  const lines = MEDIA_BYTES / 64;
  const coreStates = new Uint8Array(lines);
  for (let line = 0; line < lines; line++) coreStates[line] = core.pmLineState(line);
  const modelStates = new Uint8Array(lines);
  for (let line = 0; line < lines; line++) modelStates[line] = model.pmLineState(line);
  if (Buffer.compare(coreStates, modelStates) !== 0) {
    const line = coreStates.findIndex((s, i) => s !== modelStates[i]);
    expect(coreStates[line], `${where}: state of line ${line}`).toBe(modelStates[line]);
  }
  const coreMedia = mediaOf(core);
  const modelMedia = mediaOf(model);
  if (Buffer.compare(coreMedia, modelMedia) !== 0) {
    const at = coreMedia.findIndex((b, i) => b !== modelMedia[i]);
    expect(coreMedia[at], `${where}: media byte ${at}`).toBe(modelMedia[at]);
  }
}

/** Runs `steps` random operations on a core and a model built alike, comparing as it goes. */
function runDifferential(core: Core, model: ModelPmem, seed: number, steps: number): void {
  const rng = new Rng(seed);
  const work = new Workload(rng, MEDIA_BYTES);
  const recent: string[] = [];
  const note = (name: string): void => {
    recent.push(name);
    if (recent.length > 25) recent.shift();
  };
  try {
    for (let step = 0; step < steps; step++) {
      const where = (): string => `seed ${seed} step ${step}`;
      if (rng.chance(0.01)) {
        // A batch through the core's command loop; the model runs the same calls one by one.
        const { cpu, records, data, calls } = work.batch();
        note(`pmRun(cpu ${cpu}: ${calls.map((c) => c.name).join(', ')})`);
        const modelData = new Uint8Array(data);
        for (let i = 0; i < calls.length; i++) {
          const out = calls[i]!.run(model);
          if (out instanceof Uint8Array) modelData.set(out, records[4 * i + 3]!); // where the record's data lies
        }
        expect(core.pmRun(cpu, records, data), `${where()}: pmRun`).toBeNull();
        expect(Buffer.compare(data, modelData), `${where()}: bytes loaded by pmRun`).toBe(0);
      } else {
        const op = work.next();
        note(op.name);
        const before = op.bad ? fingerprint(core) : [];
        const got = attempt(() => op.run(core));
        const want = attempt(() => op.run(model));
        expect(got, `${where()}: ${op.name}`).toEqual(want);
        if (op.bad) {
          expect('error' in got, `${where()}: ${op.name} must fail`).toBe(true);
          expect(fingerprint(core), `${where()}: ${op.name} changed the core`).toEqual(before);
        }
      }
      for (const cpu of CPUS) {
        const a = core.pmNow(cpu);
        const b = model.pmNow(cpu);
        if (a !== b) expect(a, `${where()}: clock of cpu ${cpu}`).toBe(b);
      }
      if (step % CHECK_EVERY === 0 || step === steps - 1) expectSameState(core, model, where());
    }
  } catch (err) {
    console.error(`last operations:\n  ${recent.join('\n  ')}`);
    throw err;
  }
}

const CASES = CONFIGS.filter((c) => onlyConfig === undefined || c.label === onlyConfig).flatMap((c) =>
  (fixedSeed !== undefined ? [fixedSeed] : c.seeds).map((seed) => ({ label: c.label, cost: c.cost, seed })),
);

describe.each(BUILDS)('pmem differential: wasm core (%s build) against the reference model', (build) => {
  it.each(CASES)(`$label, seed $seed: ${STEPS} random operations give identical clocks, counters, lines, undo slots and media`, async ({ label, cost, seed }) => {
    const undoSlots = cost.persistence === 'eadr' ? UNDO_SLOTS_EADR : UNDO_SLOTS;
    const options: HardwareOptions = { mediaBytes: MEDIA_BYTES, undoSlots, cost, seed };
    const core = await makeHardware(build, options);
    expect(core.layout.maxCpus).toBe(MAX_CPUS);
    const model = new ModelPmem(options);
    try {
      runDifferential(core, model, seed, STEPS);
    } catch (err) {
      console.error(
        `pmem differential failure: seed ${seed}, config '${label}', ${build} build; replay: PMEM_DIFF_SEED=${seed} PMEM_DIFF_CONFIG='${label}' npx vitest run test/pmem-differential.test.ts`,
      );
      throw err;
    }
    // The run did reach the interesting paths.
    const total = (i: number): number => CPUS.reduce((sum, cpu) => sum + model.pmCounter(cpu, i), 0);
    expect(total(C_EVICTIONS)).toBeGreaterThan(STEPS / 100);
    expect(total(C_CLWB_DIRTY) + total(C_CLFLUSH_DIRTY)).toBeGreaterThan(STEPS / 100);
    expect(total(C_NT_LINES)).toBeGreaterThan(STEPS / 100);
    expect(total(C_FENCE_WAIT_NS)).toBeGreaterThan(0);
    if (cost.bufferLines > 0) expect(model.pmMediaCounter(M_BUFFER_HITS)).toBeGreaterThan(0);
  });
});

// ---- the rules, one by one -------------------------------------------------------------

/** Round numbers, so that the cost formulas can be checked exactly. */
const ROUND: CostModel = resolveCostModel({
  name: 'round-numbers',
  persistence: 'adr',
  clwbInvalidates: true,
  loadHitNs: 2,
  loadSeqNs: 100,
  loadRandNs: 200,
  readBytesPerNs: 64 / 10,
  storeHitNs: 1,
  storeMissNs: 10,
  writebackNs: 100,
  clflushCleanNs: 50,
  flushIssueNs: 1,
  flushBytesPerNs: 64 / 10,
  maxOutstanding: 16,
  ntIssueNs: 1,
  ntLatencyNs: 80,
  ntBytesPerNs: 64 / 8,
  sfenceNs: 2,
  mfenceNs: 20,
  mediaLineBytes: 256,
  bufferLines: 4,
  dimms: 1,
  interleaveBytes: 4096,
  mediaReadBytesPerNs: 6.6,
  mediaWriteBytesPerNs: 2.3,
});

/** Round numbers for the DIMM timeline: 64-byte media lines without a buffer, 128 ns of media per line, 2 DIMMs. */
const TIMELINE: CostModel = resolveCostModel({
  ...ROUND,
  name: 'round-timeline',
  mediaLineBytes: 64,
  bufferLines: 0,
  dimms: 2,
  mediaReadBytesPerNs: 1,
  mediaWriteBytesPerNs: 0.5,
  wpqLines: 2,
});

const OPTANE = resolveCostModel('optane-g1');
const OPTANE_EADR = resolveCostModel('optane-g1', 'eadr');
const TARGETS: (WasmBuild | 'model')[] = [...BUILDS, 'model'];
const bytes = (len: number, value: number): Uint8Array => new Uint8Array(len).fill(value);
const zeros = (len: number): string => '00'.repeat(len);

function hw(target: WasmBuild | 'model', cost: CostModel, undoSlots = UNDO_SLOTS): Promise<Core | ModelPmem> {
  return makePmem(target, { mediaBytes: MEDIA_BYTES, undoSlots, cost, seed: 7 });
}

/** The undo list with the durable bytes in hex. */
function undoList(pm: Core | ModelPmem): { line: number; state: number; cpu: number; durable: string }[] {
  return undoRecords(pm).map((r) => ({ ...r, durable: Buffer.from(r.durable).toString('hex') }));
}

describe.each(TARGETS)('pmem rules (%s)', (target) => {
  it('a store alone is lost at a guaranteed crash under ADR: its line stays non-durable until flush and fence', async () => {
    const pm = await hw(target, OPTANE);
    pm.pmStore(0, 5 * 64 + 3, bytes(8, 0xab));
    pm.pmFence(0, false); // a fence without a flush writes nothing back
    expect(pm.pmUndoUsed()).toBe(1);
    expect(pm.pmLineState(5)).toBe(LINE_UNDO | LINE_DIRTY | LINE_CACHED);
    expect(undoList(pm)).toEqual([{ line: 5, state: LINE_UNDO | LINE_DIRTY | LINE_CACHED, cpu: NONE, durable: zeros(64) }]);
    expect(Array.from(pm.pmLoad(1, 5 * 64 + 3, 8))).toEqual(Array.from(bytes(8, 0xab))); // loads see the newest data
  });

  it('under eADR a store is durable once visible: it takes no undo slot', async () => {
    const pm = await hw(target, OPTANE_EADR);
    pm.pmStore(0, 5 * 64 + 3, bytes(100, 0xab));
    expect(pm.pmUndoUsed()).toBe(0);
    expect(pm.pmLineState(5)).toBe(LINE_DIRTY | LINE_CACHED);
    expect(pm.pmLineState(6)).toBe(LINE_DIRTY | LINE_CACHED);
  });

  it('clflush writes a dirty line back and makes it durable without a fence', async () => {
    const pm = await hw(target, OPTANE);
    pm.pmStore(0, 64, bytes(8, 1));
    pm.pmFlush(0, FLUSH_CLFLUSH, 64, 8);
    expect(pm.pmUndoUsed()).toBe(0);
    expect(pm.pmLineState(1)).toBe(0); // written back and invalidated
    expect(pm.pmCounter(0, C_CLFLUSH_DIRTY)).toBe(1);
    expect(pm.pmMediaCounter(M_DIMM_BYTES_WRITTEN)).toBe(64);
  });

  it.each([
    ['clwb', FLUSH_CLWB],
    ['clflushopt', FLUSH_CLFLUSHOPT],
  ])('%s without a fence leaves the line non-durable (PENDING on this CPU); sfence makes it durable', async (_name, kind) => {
    const pm = await hw(target, OPTANE);
    pm.pmStore(0, 64, bytes(8, 1));
    pm.pmFlush(0, kind, 64, 8);
    expect(pm.pmUndoUsed()).toBe(1);
    // Both leave the cache on optane-g1 (clwbInvalidates); the write-back is done, not yet fenced.
    expect(pm.pmLineState(1)).toBe(LINE_UNDO | LINE_PENDING);
    expect(undoList(pm)).toEqual([{ line: 1, state: LINE_UNDO | LINE_PENDING, cpu: 0, durable: zeros(64) }]);
    pm.pmFence(0, false);
    expect(pm.pmUndoUsed()).toBe(0);
    expect(pm.pmLineState(1)).toBe(0);
  });

  it('clwb keeps the line cached when the model says clwb does not invalidate; mfence makes it durable as sfence does', async () => {
    const pm = await hw(target, resolveCostModel('cxl'));
    pm.pmStore(0, 64, bytes(8, 1));
    pm.pmFlush(0, FLUSH_CLWB, 64, 8);
    expect(pm.pmLineState(1)).toBe(LINE_UNDO | LINE_PENDING | LINE_CACHED);
    pm.pmFence(0, true);
    expect(pm.pmUndoUsed()).toBe(0);
    expect(pm.pmLineState(1)).toBe(LINE_CACHED);
  });

  it.each([
    ['ADR', OPTANE],
    ['eADR', OPTANE_EADR],
  ])('an ntstore is non-durable until this CPU sfences, under %s too', async (_name, cost) => {
    const pm = await hw(target, cost);
    pm.pmStore(0, 7 * 64, bytes(64, 3), true);
    expect(pm.pmUndoUsed()).toBe(1);
    expect(pm.pmLineState(7)).toBe(LINE_UNDO | LINE_PENDING); // bypassed the cache
    expect(undoList(pm)).toEqual([{ line: 7, state: LINE_UNDO | LINE_PENDING, cpu: 0, durable: zeros(64) }]);
    pm.pmFence(0, false);
    expect(pm.pmUndoUsed()).toBe(0);
    expect(pm.pmLineState(7)).toBe(0);
  });

  it('a store after clwb and before sfence leaves the line non-durable after the sfence (the older flushed contents are not tracked)', async () => {
    const pm = await hw(target, OPTANE);
    pm.pmStore(0, 64, bytes(8, 1));
    pm.pmFlush(0, FLUSH_CLWB, 64, 8);
    pm.pmStore(0, 72, bytes(8, 2));
    pm.pmFence(0, false);
    expect(pm.pmUndoUsed()).toBe(1);
    expect(pm.pmLineState(1)).toBe(LINE_UNDO | LINE_DIRTY | LINE_CACHED);
    expect(undoList(pm)).toEqual([{ line: 1, state: LINE_UNDO | LINE_DIRTY | LINE_CACHED, cpu: NONE, durable: zeros(64) }]);
  });

  it("a fence on CPU 1 does not make CPU 0's flushed or NT-stored lines durable", async () => {
    const pm = await hw(target, OPTANE);
    pm.pmStore(0, 64, bytes(8, 1));
    pm.pmFlush(0, FLUSH_CLWB, 64, 8);
    pm.pmStore(0, 128, bytes(64, 2), true);
    pm.pmFence(1, false);
    pm.pmFence(1, true);
    expect(undoList(pm).map((r) => [r.line, r.cpu])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    pm.pmFence(0, false);
    expect(pm.pmUndoUsed()).toBe(0);
  });

  it('filling more lines than undoSlots evicts: C_EVICTIONS counts, pmUndoUsed stays at undoSlots, the evicted lines are durable', async () => {
    const slots = 16;
    const lines = 40;
    const pm = await hw(target, OPTANE, slots);
    for (let line = 0; line < lines; line++) pm.pmStore(0, 4096 + line * 64, bytes(1, line + 1));
    expect(pm.pmCounter(0, C_EVICTIONS)).toBe(lines - slots);
    expect(pm.pmUndoUsed()).toBe(slots);
    const nonDurable = undoList(pm).map((r) => r.line);
    expect(nonDurable).toHaveLength(slots);
    let evicted = 0;
    for (let line = 64; line < 64 + lines; line++) {
      const state = pm.pmLineState(line);
      if (nonDurable.includes(line)) {
        expect(state).toBe(LINE_UNDO | LINE_DIRTY | LINE_CACHED);
      } else {
        expect(state & LINE_UNDO).toBe(0); // durable: written back, out of the cache
        expect(state).toBe(0);
        evicted++;
      }
    }
    expect(evicted).toBe(lines - slots);
    expect(pm.pmMediaCounter(M_DIMM_BYTES_WRITTEN)).toBe((lines - slots) * 64); // each victim was dirty
  });

  it('clflush of n dirty lines costs exactly n × writebackNs, of n clean lines n × clflushCleanNs', async () => {
    const pm = await hw(target, ROUND);
    const n = 8;
    pm.pmStore(0, 0, bytes(n * 64, 1));
    let t0 = pm.pmNow(0);
    pm.pmFlush(0, FLUSH_CLFLUSH, 0, n * 64);
    expect(pm.pmNow(0) - t0).toBe(n * ROUND.writebackNs);
    t0 = pm.pmNow(0);
    pm.pmFlush(0, FLUSH_CLFLUSH, 0, n * 64);
    expect(pm.pmNow(0) - t0).toBe(n * ROUND.clflushCleanNs);
  });

  it('clwb of n dirty lines plus one sfence costs flushIssueNs + (n−1) × max(flushIssueNs, 64/flushBytesPerNs) + writebackNs', async () => {
    const pm = await hw(target, ROUND);
    const n = 8;
    pm.pmStore(0, 0, bytes(n * 64, 1));
    const t0 = pm.pmNow(0);
    pm.pmFlush(0, FLUSH_CLWB, 0, n * 64);
    pm.pmFence(0, false);
    const interval = Math.max(ROUND.flushIssueNs, 64 / ROUND.flushBytesPerNs);
    const expected = ROUND.flushIssueNs + (n - 1) * interval + ROUND.writebackNs; // one latency plus n−1 issue intervals
    expect(expected).toBe(171);
    expect(pm.pmNow(0) - t0).toBe(expected);
    // The fence waited for the last write-back past its own cost.
    expect(pm.pmCounter(0, C_FENCE_WAIT_NS)).toBe(expected - (n * ROUND.flushIssueNs + ROUND.sfenceNs));
  });

  it('with maxOutstanding write-backs in flight, the next clwb waits for the oldest to complete', async () => {
    const m = 4;
    const cost = resolveCostModel({ ...ROUND, maxOutstanding: m });
    const pm = await hw(target, cost);
    pm.pmStore(0, 0, bytes(2 * m * 64, 1));
    const t0 = pm.pmNow(0);
    pm.pmFlush(0, FLUSH_CLWB, 0, 2 * m * 64);
    pm.pmFence(0, false);
    // Line m + i issues when line i completes: the second half ends one round trip after the first.
    const firstHalf = cost.flushIssueNs + (m - 1) * (64 / cost.flushBytesPerNs) + cost.writebackNs;
    expect(pm.pmNow(0) - t0).toBe(firstHalf + cost.flushIssueNs + cost.writebackNs);
  });

  it('an ntstore of one line plus sfence costs ntIssueNs + ntLatencyNs', async () => {
    const pm = await hw(target, ROUND);
    pm.pmStore(0, 0, bytes(64, 1), true);
    pm.pmFence(0, false);
    expect(pm.pmNow(0)).toBe(ROUND.ntIssueNs + ROUND.ntLatencyNs);
  });

  it("a load's first miss costs loadRandNs, or loadSeqNs after a miss in the same or the previous media line; later misses stream at 64/readBytesPerNs; hits cost loadHitNs", async () => {
    const pm = await hw(target, ROUND);
    let t0 = pm.pmNow(0);
    pm.pmLoad(0, 8192, 4 * 64); // media line 32, cold
    expect(pm.pmNow(0) - t0).toBe(ROUND.loadRandNs + 3 * (64 / ROUND.readBytesPerNs));
    t0 = pm.pmNow(0);
    pm.pmLoad(0, 8192 + 256, 8); // media line 33 follows 32
    expect(pm.pmNow(0) - t0).toBe(ROUND.loadSeqNs);
    t0 = pm.pmNow(0);
    pm.pmLoad(0, 8192, 4 * 64);
    expect(pm.pmNow(0) - t0).toBe(4 * ROUND.loadHitNs);
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_READ)).toBe(2 * 256); // one read per media line missed
  });

  it("a store's first missing line costs storeMissNs, the others storeHitNs (the prefetcher hides them)", async () => {
    const pm = await hw(target, ROUND);
    pm.pmStore(0, 100, bytes(300, 1)); // lines 1..6
    expect(pm.pmNow(0)).toBe(ROUND.storeMissNs + 5 * ROUND.storeHitNs);
    expect(pm.pmCounter(0, C_STORE_MISSES)).toBe(6);
  });

  it('the XPBuffer merges writes to a buffered media line; a miss in a full buffer writes back the least recently used one, reading it first unless it was written whole or read for ownership', async () => {
    const pm = await hw(target, ROUND); // 256-byte media lines, 4 buffer entries
    /** Stores a byte (its read for ownership is not counted here), then clflushes it: the media bytes the write-back read. */
    const writeBack = (line: number): number => {
      pm.pmStore(0, line * 64, bytes(1, 1));
      const before = pm.pmMediaCounter(M_MEDIA_BYTES_READ);
      pm.pmFlush(0, FLUSH_CLFLUSH, line * 64, 1);
      return pm.pmMediaCounter(M_MEDIA_BYTES_READ) - before;
    };
    for (const line of [0, 1, 2, 3, 4, 8, 12]) expect(writeBack(line)).toBe(0); // media line 0 whole, 1..3 one part each
    expect(pm.pmMediaCounter(M_BUFFER_HITS)).toBe(7); // each write found its media line: its read for ownership brought it in
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(0);
    expect(writeBack(16)).toBe(0); // evicts media line 0: whole, no read
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(256);
    expect(writeBack(20)).toBe(0); // evicts media line 1: one part of four, merged with what its read for ownership brought
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(512);
    pm.pmStore(0, 24 * 64, bytes(64, 1), true); // an NT line: part of media line 6, whose old contents the DIMM never read
    pm.pmFence(0, false);
    for (const line of [28, 32, 36]) expect(writeBack(line)).toBe(0); // evicts media lines 2..5, each read for ownership
    expect(writeBack(40)).toBe(256); // evicts media line 6: read-modify-write
    expect(pm.pmMediaCounter(M_DIMM_BYTES_WRITTEN)).toBe(14 * 64);
  });

  it('a media line written whole and then written again goes to the media first, and the DIMM keeps its contents to merge into', async () => {
    const pm = await hw(target, ROUND); // 256-byte media lines, 4 buffer entries
    pm.pmStore(0, 0, bytes(256, 1), true); // media line 0, whole: buffered, not yet on the media
    pm.pmFence(0, false);
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(0);
    pm.pmStore(0, 64, bytes(64, 2), true); // written again: the whole line goes to the media first
    pm.pmFence(0, false);
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(256);
    for (const at of [1024, 2048, 3072, 4096]) pm.pmStore(0, at, bytes(256, 3), true); // evict media line 0 (one part new)
    pm.pmFence(0, false);
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(512);
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_READ)).toBe(0); // the DIMM held the rest: no read to merge
  });

  it('the DIMM timeline: a write queue of wpqLines per DIMM accepts a write once the write wpqLines before it has left for the media', async () => {
    const pm = await hw(target, TIMELINE); // 128 ns of media per line, a 2-write queue
    pm.pmStore(0, 0, bytes(256, 1), true); // 4 NT lines, slots at 1, 9, 17, 25, arriving 80 ns later
    pm.pmFence(0, false);
    // Accepted at 81 and 89 (queue free); the third waits for the first to leave (81 + 128),
    // the fourth for the second (209 + 128); the fence waits for the last acceptance.
    expect(pm.pmNow(0)).toBe(337);
  });

  it('the DIMM timeline is shared: two CPUs writing one DIMM queue behind each other, two DIMMs do not', async () => {
    const one = await hw(target, { ...TIMELINE, wpqLines: 1 });
    one.pmStore(0, 0, bytes(64, 1), true);
    one.pmStore(1, 64, bytes(64, 1), true); // the same DIMM
    one.pmFence(0, false);
    one.pmFence(1, false);
    expect(one.pmNow(0)).toBe(81);
    expect(one.pmNow(1)).toBe(81 + 128); // accepted when CPU 0's write left the queue
    const two = await hw(target, { ...TIMELINE, wpqLines: 1 });
    two.pmStore(0, 0, bytes(64, 1), true);
    two.pmStore(1, 4096, bytes(64, 1), true); // the next DIMM (4 KiB interleave)
    two.pmFence(1, false);
    expect(two.pmNow(1)).toBe(81);
  });

  it("the DIMM timeline: a read that misses waits for the media's queued work, then takes its own", async () => {
    const pm = await hw(target, TIMELINE);
    pm.pmStore(0, 0, bytes(128, 1), true); // media busy until 81 + 128 + 128 = 337
    pm.pmFence(0, false); // now 89
    pm.pmLoad(0, 8192, 64); // DIMM (8192 / 4096) mod 2 = 0, the one the NT lines went to
    expect(pm.pmNow(0)).toBe(337 + TIMELINE.loadRandNs);
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_READ)).toBe(64);
  });

  it('a read-modify-write keeps its media line busy: a later request to a line the DIMM never read waits rmwNs', async () => {
    const pm = await hw(target, { ...ROUND, rmwNs: 300 }); // 256-byte media lines, no timeline
    pm.pmStore(0, 0, bytes(64, 1), true); // slot 1, accepted at 81: part of media line 0, never read
    pm.pmFence(0, false);
    expect(pm.pmNow(0)).toBe(81);
    pm.pmStore(0, 64, bytes(64, 1), true); // a new request (after the fence) to the same media line
    pm.pmFence(0, false);
    expect(pm.pmNow(0)).toBe(81 + 300); // it waited for the read-modify-write, not its own 162
  });

  it('the read-modify-write rule spares one request, a line written whole, and a line read for ownership first', async () => {
    /** The clock after `run` with the rule on, and with it off. */
    const both = async (run: (pm: Core | ModelPmem) => void): Promise<[number, number]> => {
      const on = await hw(target, { ...ROUND, rmwNs: 300 });
      const off = await hw(target, { ...ROUND, rmwNs: 0 });
      run(on);
      run(off);
      return [on.pmNow(0), off.pmNow(0)];
    };
    const [oneOn, oneOff] = await both((pm) => {
      pm.pmStore(0, 0, bytes(64, 1), true);
      pm.pmStore(0, 64, bytes(64, 1), true); // the same request: no fence in between
      pm.pmFence(0, false);
    });
    expect(oneOn).toBe(oneOff);
    const [wholeOn, wholeOff] = await both((pm) => {
      pm.pmStore(0, 0, bytes(256, 1), true); // all four parts: nothing to read
      pm.pmFence(0, false);
      pm.pmStore(0, 64, bytes(64, 2), true);
      pm.pmFence(0, false);
    });
    expect(wholeOn).toBe(wholeOff);
    const [readOn, readOff] = await both((pm) => {
      for (const at of [0, 64]) {
        pm.pmStore(0, at, bytes(64, 1)); // the read for ownership brings the media line's contents
        pm.pmFlush(0, FLUSH_CLWB, at, 64);
        pm.pmFence(0, false);
      }
    });
    expect(readOn).toBe(readOff);
  });

  // VANS (TheNetAdmin/VANS src/general/rmw.cpp): a read that misses the RMW buffer fills an
  // entry (read_cold), and a later write to a held entry merges without reading the media
  // (write_patch).
  it('a read brings its media line into the buffer: a later partial write of it needs no read-modify-write, and its eviction no media read (VANS rmw.cpp)', async () => {
    /** The ns from after the loads to the second of two NT lines made durable, and the media bytes read. */
    const run = async (loadFirst: boolean): Promise<[number, number]> => {
      const pm = await hw(target, { ...ROUND, rmwNs: 300 }); // 256-byte media lines, 4 entries, no timeline
      if (loadFirst) pm.pmLoad(0, 0, 64); // media line 0 read: the buffer holds it
      pm.pmLoad(0, 4096, 64); // the CPU's last read is another line, so only the buffer can know line 0
      const start = pm.pmNow(0);
      for (const at of [64, 128]) {
        pm.pmStore(0, at, bytes(64, 1), true); // two requests (a fence each) to part of media line 0
        pm.pmFence(0, false);
      }
      const took = pm.pmNow(0) - start;
      for (const at of [8192, 12288, 16384, 20480]) pm.pmStore(0, at, bytes(256, 2), true); // whole lines: evict media line 0
      pm.pmFence(0, false);
      expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(256); // media line 0, merged
      return [took, pm.pmMediaCounter(M_MEDIA_BYTES_READ)];
    };
    const line = ROUND.ntIssueNs + ROUND.ntLatencyNs;
    expect(await run(true)).toEqual([2 * line, 2 * 256]); // no wait, and only the loads read the media
    expect(await run(false)).toEqual([line + 300, 256 + 256]); // the second request waited; the eviction read the line
  });

  it('a read takes a free entry or one held only from a read; it passes by a buffer whose oldest line waits to be written', async () => {
    const pm = await hw(target, ROUND); // 4 entries
    pm.pmLoad(0, 0, 64); // media line 0 read and held
    pm.pmLoad(1, 64, 64); // another CPU, another line of media line 0: the buffer serves it
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_READ)).toBe(256);
    for (const at of [256, 512, 768, 1024]) pm.pmStore(0, at, bytes(64, 1), true); // media lines 1..4: the last displaces line 0, unwritten
    pm.pmFence(0, false);
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(0); // a line held only from a read leaves without a media write
    pm.pmLoad(0, 1280, 64); // media line 5: every entry waits to be written, so it is not held
    pm.pmLoad(1, 1344, 64); // the other CPU reads media line 5 again
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_READ)).toBe(3 * 256);
    expect(pm.pmMediaCounter(M_MEDIA_BYTES_WRITTEN)).toBe(0); // and no read evicted a write
  });

  it("the first write to a line held from a read still claims its entry: it is acknowledged bufferMissNs late ([S1] Fig. 12's loaded lines)", async () => {
    const pm = await hw(target, { ...ROUND, bufferMissNs: 40 });
    pm.pmLoad(0, 0, 64); // media line 0 held from a read
    let start = pm.pmNow(0);
    pm.pmStore(0, 64, bytes(64, 1), true);
    pm.pmFence(0, false);
    expect(pm.pmNow(0) - start).toBe(ROUND.ntIssueNs + ROUND.ntLatencyNs + 40);
    start = pm.pmNow(0);
    pm.pmStore(0, 128, bytes(64, 1), true); // held and written now: acknowledged on arrival
    pm.pmFence(0, false);
    expect(pm.pmNow(0) - start).toBe(ROUND.ntIssueNs + ROUND.ntLatencyNs);
  });

  it('a buffer miss: a burst of writes into a media line the DIMM claims is acknowledged bufferMissNs after its last write, a held line at once', async () => {
    const pm = await hw(target, { ...ROUND, bufferMissNs: 40 }); // no timeline: accepted on arrival
    pm.pmStore(0, 0, bytes(256, 1), true); // 4 NT lines into media line 0, arriving at 81, 89, 97, 105
    pm.pmFence(0, false);
    // Each arrives while the claim is open (81 + 40, then 89 + 40, ...): the last is acknowledged at 145.
    expect(pm.pmNow(0)).toBe(105 + 40);
    pm.pmStore(0, 64, bytes(64, 2), true); // media line 0 is held: arrives at 145 + 1 + 80, acknowledged then
    pm.pmFence(0, false);
    expect(pm.pmNow(0)).toBe(145 + 81);
    // A line arriving after the claim completed does not reopen it: with a 5 ns claim, the second
    // of two lines 8 ns apart is acknowledged on arrival.
    const short = await hw(target, { ...ROUND, bufferMissNs: 5 });
    short.pmStore(0, 256, bytes(128, 1), true); // arriving at 81 (claim done 86) and 89
    short.pmFence(0, false);
    expect(short.pmNow(0)).toBe(89);
  });

  it('a buffer miss costs serialised writes once per claim: clflush of two lines of a new media line pays bufferMissNs once', async () => {
    const clflushTwo = async (bufferMissNs: number): Promise<number> => {
      const pm = await hw(target, { ...ROUND, bufferMissNs });
      pm.pmStore(0, 512, bytes(128, 1)); // two dirty lines of media line 2
      const start = pm.pmNow(0);
      pm.pmFlush(0, FLUSH_CLFLUSH, 512, 128);
      return pm.pmNow(0) - start;
    };
    expect(await clflushTwo(0)).toBe(2 * ROUND.writebackNs);
    expect(await clflushTwo(40)).toBe(2 * ROUND.writebackNs + 40);
  });

  it('the line budget: past fillBufferLines lines ahead, cold stores stall at 64/readBytesPerNs a line and write-backs start at 64/flushBytesPerNs a line', async () => {
    // 10 ns a line each way, so the budget may run 2 × (10 + 10) = 40 ns ahead of the clock.
    const pm = await hw(target, { ...ROUND, fillBufferLines: 2 });
    pm.pmStore(0, 0, bytes(512, 1)); // 8 cold lines: the budget reaches 10, 20, ..., 80
    // Lines 1..6 go at the store's pace (10, then 1 ns each); the 7th waits until 60 − 40 = 20,
    // the 8th until 70 − 40 = 30; each then costs storeHitNs.
    expect(pm.pmNow(0)).toBe(31);
    pm.pmFlush(0, FLUSH_CLWB, 0, 512);
    pm.pmFence(0, false);
    // The first write-back starts when the budget (80) is 40 ahead, at 40; then one per 10 ns;
    // the last, at 110, completes writebackNs later.
    expect(pm.pmNow(0)).toBe(110 + ROUND.writebackNs);
    const off = await hw(target, ROUND);
    off.pmStore(0, 0, bytes(512, 1));
    expect(off.pmNow(0)).toBe(ROUND.storeMissNs + 7 * ROUND.storeHitNs);
  });

  it('writer contention: a second CPU writing a DIMM doubles its media writes (contentionWriters 1, exponent 1) until it moves to another DIMM', async () => {
    const pm = await hw(target, { ...TIMELINE, contentionWriters: 1, contentionExponent: 1 }); // 128 ns a media write
    pm.pmStore(0, 0, bytes(64, 1), true); // CPU 0 alone on DIMM 0: media busy from 81 to 209
    pm.pmStore(1, 8192, bytes(64, 1), true); // CPU 1 on DIMM 0 too: two writers, 2 × 128 from 209 to 465
    pm.pmAdvance(2, 100);
    pm.pmLoad(2, 16384, 64); // a read of DIMM 0 at 100 waits for both
    expect(pm.pmNow(2)).toBe(465 + TIMELINE.loadRandNs);
    pm.pmStore(1, 4096, bytes(64, 1), true); // CPU 1's stream moves to DIMM 1
    pm.pmStore(0, 64, bytes(64, 1), true); // CPU 0 alone on DIMM 0 again: 128 ns, after CPU 2's read (465 to 529), to 657
    pm.pmAdvance(3, 100);
    pm.pmLoad(3, 24576, 64);
    expect(pm.pmNow(3)).toBe(657 + TIMELINE.loadRandNs);
  });

  it('writer contention: a CPU whose last write to the DIMM was acknowledged more than 32768 ns ago no longer counts as its writer', async () => {
    /** CPU 0's write to DIMM 0 at `at` + 81, after CPU 1's acknowledged at 81: its fence, then a read; the clock gained. */
    const writeAndRead = async (at: number): Promise<number> => {
      const pm = await hw(target, { ...TIMELINE, contentionWriters: 1, contentionExponent: 1 });
      pm.pmStore(1, 8192, bytes(64, 1), true);
      pm.pmAdvance(0, at);
      pm.pmStore(0, 0, bytes(64, 1), true);
      pm.pmFence(0, false); // accepted on arrival, at + 81
      pm.pmLoad(0, 16384, 64); // waits for the write's media time, then reads
      return pm.pmNow(0) - at;
    };
    expect(await writeAndRead(32_700)).toBe(81 + 2 * 128 + TIMELINE.loadRandNs); // 81 > 32781 − 32768: two writers
    expect(await writeAndRead(32_800)).toBe(81 + 128 + TIMELINE.loadRandNs); // quiet: CPU 0 alone
  });

  it("writer contention: a cache eviction's write-back neither moves its CPU's stream to another DIMM nor counts there", async () => {
    /** CPU 1 streams to DIMM 1, maybe evicts a line to DIMM 0, then CPU 0 writes DIMM 1; CPU 0's clock after a read of DIMM 1. */
    const cpu0After = async (contentionWriters: number, evict: boolean): Promise<number> => {
      const pm = await hw(target, { ...TIMELINE, contentionWriters, contentionExponent: 1 }, 1); // one undo slot
      pm.pmStore(1, 4096, bytes(64, 1), true); // CPU 1's stream: DIMM 1
      pm.pmFence(1, false);
      if (evict) {
        pm.pmStore(1, 8192, bytes(64, 1)); // takes the only undo slot
        pm.pmStore(1, 64, bytes(64, 1)); // evicts line 8192: its write-back goes to DIMM 0
      }
      pm.pmStore(0, 4160, bytes(64, 1), true); // DIMM 1
      pm.pmFence(0, false);
      pm.pmLoad(0, 12288, 64); // DIMM 1: waits for its media work
      return pm.pmNow(0);
    };
    const alone = await cpu0After(0, false);
    const shared = await cpu0After(1, false);
    expect(shared).toBeGreaterThan(alone); // CPU 1 is DIMM 1's other writer
    expect(await cpu0After(1, true)).toBe(shared); // and stays one after its eviction to DIMM 0
  });

  it('the media calendar: a CPU behind in time uses the idle media before another CPU\'s later work, and waits for work it overlaps', async () => {
    const pm = await hw(target, TIMELINE); // 64 ns to read a line, 128 to write one
    pm.pmAdvance(0, 10_000);
    pm.pmStore(0, 0, bytes(64, 1), true); // CPU 0: media busy from 10081 to 10209
    pm.pmLoad(1, 8192, 64); // CPU 1 at time 0, the same DIMM: the media is idle then
    expect(pm.pmNow(1)).toBe(TIMELINE.loadRandNs);
    pm.pmAdvance(2, 10_100);
    pm.pmLoad(2, 16384, 64); // CPU 2 at 10100, inside CPU 0's write: it waits until 10209
    expect(pm.pmNow(2)).toBe(10_209 + TIMELINE.loadRandNs);
  });

  it('the media calendar stays bounded: a write that takes longer than its ring (a very slow custom media) still completes, late', async () => {
    const slow = { ...TIMELINE, mediaWriteBytesPerNs: 64 / 1e12 }; // 1000 s of media per line
    const pm = await hw(target, slow);
    pm.pmStore(0, 0, bytes(192, 1), true); // three lines; the third waits for the first to leave
    pm.pmFence(0, false); // booked bucket by bucket this would take 3e10 steps
    expect(pm.pmNow(0)).toBe(81 + 1e12);
  });

  it('wpqLines 0 turns the DIMM timeline off: writes are accepted when they arrive', async () => {
    const pm = await hw(target, { ...TIMELINE, wpqLines: 0 });
    pm.pmStore(0, 0, bytes(256, 1), true);
    pm.pmFence(0, false);
    expect(pm.pmNow(0)).toBe(25 + 80);
  });

  it('a call with a bad CPU or flush kind throws EINVAL, one past the media ERANGE (the CPU checked first, the kind last), and changes nothing', async () => {
    const pm = await hw(target, OPTANE);
    pm.pmStore(0, 0, bytes(8, 1));
    const end = MEDIA_BYTES;
    const snapshot = (): unknown => [fingerprint(pm), undoList(pm), Array.from(mediaOf(pm).subarray(0, 64))];
    const before = snapshot();
    const code = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (err) {
        if (err instanceof PmemError) return err.code;
        throw err;
      }
      return undefined;
    };
    expect(code(() => pm.pmStore(MAX_CPUS, 0, bytes(8, 2)))).toBe('EINVAL');
    expect(code(() => pm.pmStore(-1, 0, bytes(8, 2), true))).toBe('EINVAL');
    expect(code(() => pm.pmFence(MAX_CPUS, false))).toBe('EINVAL');
    expect(code(() => pm.pmFlush(0, 3, 0, 64))).toBe('EINVAL');
    expect(code(() => pm.pmStore(0, end - 4, bytes(8, 2)))).toBe('ERANGE');
    expect(code(() => pm.pmStore(0, end - 4, bytes(8, 2), true))).toBe('ERANGE');
    expect(code(() => pm.pmLoad(0, end, 1))).toBe('ERANGE');
    expect(code(() => pm.pmFlush(0, FLUSH_CLWB, end - 64, 65))).toBe('ERANGE');
    expect(code(() => pm.pmStore(MAX_CPUS, end, bytes(8, 2)))).toBe('EINVAL');
    expect(code(() => pm.pmFlush(0, 3, end, 64))).toBe('ERANGE');
    expect(snapshot()).toEqual(before);
    expect(pm.pmNow(MAX_CPUS)).toBe(-1);
    expect(pm.pmCounter(0, CPU_COUNTERS)).toBeNaN();
    expect(pm.pmMediaCounter(MEDIA_COUNTERS)).toBeNaN();
    expect(code(() => pm.pmLineState(MEDIA_BYTES / 64))).toBe('EINVAL');
    expect(pm.pmCounter(0, C_SFENCES)).toBe(0);
  });
});
