/**
 * Cost presets: one CostModel per platform, chosen once when an emulator is created.
 * Every number comes from docs/cost-model.md (a bare §n below is a section of that page) and
 * carries its tag there:
 *   [Sn] Fig./Table   a published measurement or code (docs/cost-model.md §7 lists the sources);
 *   D                 derived by the arithmetic shown;
 *   §6 L              an unpublished local measurement, used only for the shape of a value
 *                     that docs/cost-model.md leaves TBD (it is then called a placeholder).
 *
 * optane-g1 calibration (formulas in src/hw/cost-model.ts). What each [S1] experiment runs was read
 * in LATTester (NVSL/OptaneStudy src/kernel: tasks.c, common.h, memaccess.c):
 *   Fig.2 is task 1: one 64 B write per iteration, mfence, 64 B apart in order ("seq") or at
 *     random in 1 GB ("rand"); store+clwb first loads the 256 B from its line (warm), ntstore
 *     clflushes them (cold). Its figures are the average over the whole run (tasks.c
 *     latency_job: total / LATENCY_OPS_COUNT); we read Fig.2's write figures as the sequential
 *     run. There 3 writes in 4 land in a media line the previous iteration wrote, and 1 in 4
 *     opens a new one, which the DIMM claims (bufferMissNs, below), so on average:
 *       store+clwb+fence = storeHitNs + flushIssueNs + writebackNs + bufferMissNs / 4  = 62.3
 *       ntstore+fence    = ntIssueNs + ntLatencyNs + bufferMissNs / 4                  = 90.4
 *     (ntstore: the 4 clean clflushes between writes must outlast its read-modify-write, rmwNs.)
 *   Fig.12's latency panel: task 1 has 64–256 B variants (same method); which code ran 512–4096 B
 *     is not in the repository. We read it as task 1 at random addresses (n = size/64 lines;
 *     every access claims new buffer entries, so it pays bufferMissNs; store+clwb lines warm):
 *       T(n)    = n storeHitNs + flushIssueNs + writebackNs + bufferMissNs + (n-1) 64/flushBytesPerNs
 *       T_nt(n) = ntIssueNs + ntLatencyNs + bufferMissNs + (n-1) 64/ntBytesPerNs
 *     At 64 B each pairs with a Fig.2 equation: Fig.12 − Fig.2 = 3/4 bufferMissNs, which gives
 *     (116.4 − 62.3) × 4/3 for store+clwb and (124.7 − 90.4) × 4/3 for ntstore; bufferMissNs is
 *     their mean, and writebackNs and ntLatencyNs follow from Fig.2.
 *   Fig.12's bandwidth panel (6 threads, see docs/hardware-model.md) and Fig.13 (task 9, one thread, sfence every
 *     N bytes) stream cold lines from a 2 GB region per thread: every store misses and reads
 *     for ownership. One thread's store+clwb stream tops out at 1.1–1.5 GB/s whatever the
 *     DIMM count (Fig.13; data/flush.csv; Fig.4's 1.42 and 1.44), under the media's limit: the
 *     thread's fill buffers carry the reads for ownership and the write-backs, so their rates
 *     add up (fillBufferLines): 64 B / (64/readBytesPerNs + 64/flushBytesPerNs) = 1.32 GB/s.
 *     storeMissNs is what a 64 B stream leaves over (below).
 * test/validation.test.ts checks all of these against the published curves; test/presets.test.ts
 * checks the closed forms.
 */
import { COST_FIELDS, LATER_FIELDS, coldLineNs, type CostModel, type CostModelInput } from './cost-model.js';
import { PmemError } from '../base/index.js';

export type PresetName = 'optane-g1' | 'optane-g1-6dimm' | 'dram' | 'cxl' | 'nvdimm-n';
export type Persistence = CostModel['persistence'];

/** A cache line: the unit of flushes and NT stores, so rates below are written 64 B / (ns per line). */
const LINE_BYTES = 64;

/**
 * The CPU side of the [S1] platform (Xeon Platinum 8260, Cascade Lake, 2.2 GHz): costs of
 * instructions that do not depend on the memory behind them. The DRAM-like presets reuse
 * them for want of their own numbers.
 */
const CASCADE_LAKE_CPU = {
  // TBD in docs/cost-model.md; placeholder = a 4-cycle L1 hit at 2.2 GHz ([S1] README platform), 4 / 2.2 ≈ 1.8 → 2.
  loadHitNs: 2,
  // D: one 64 B AVX-512 store retires per cycle at 2.2 GHz, 1 / 2.2 = 0.45 (docs/cost-model.md §2.4 "hit → ~0").
  storeHitNs: 0.45,
  // TBD in docs/cost-model.md; placeholder shaped on §6 L (clwb 4.7–5.7 ns/line sustained); it must stay
  // below 64/flushBytesPerNs so that the [S1] Fig.12 sweep is pipe-bound.
  flushIssueNs: 5,
  // TBD in docs/cost-model.md; placeholder shaped on §6 L (ntstore 6.4–7.9 ns/line sustained), below 64/ntBytesPerNs.
  ntIssueNs: 6,
  // TBD in docs/cost-model.md (§8 gap 4); placeholder = §6 L, sfence alone 1.7–2.2.
  sfenceNs: 2,
  // TBD in docs/cost-model.md (§8 gap 4); placeholder = §6 L, mfence alone 12.2–15.0.
  mfenceNs: 15,
  // TBD in docs/cost-model.md (§2.2 names MLP without a value); placeholder = the 12 write-combining
  // buffers PMDK sizes its NT copies for, [S9] memcpy_memset.h PERF_BARRIER_SIZE comment.
  maxOutstanding: 12,
  // TBD in docs/cost-model.md; placeholder = maxOutstanding's 12: on Intel cores the write-combining
  // buffers PMDK sizes for are the L1 fill buffers, which also carry reads for ownership and
  // write-backs. The sustained cold store+clwb rate it bounds is checked against [S1] Fig.12/13.
  fillBufferLines: 12,
} as const;

/** clflush of a clean line: TBD in docs/cost-model.md; placeholder = writebackNs × 72/101, the §6 L clean/dirty clflush ratio. */
const CLEAN_CLFLUSH_RATIO = 72 / 101;

/**
 * One Optane DC PMM gen 1 on the [S1] machine. The Fig.12 sweep ran on the 6-DIMM interleaved
 * machine, but an access below 4 KiB touches one DIMM (4 KiB interleave), so both g1 presets
 * share these latency parameters and differ only in dimms.
 */
const OPTANE_G1_STORE_MISS_NS = 61.7; // D: see storeMissNs below
/** D: [S1] Fig.12 64 B − Fig.2 = 3/4 of a buffer miss (header): store+clwb (116.4 − 62.3) × 4/3 = 72.1, ntstore (124.7 − 90.4) × 4/3 = 45.7; mean 58.9. */
const OPTANE_G1_BUFFER_MISS_NS = 58.9;
/** D: [S1] Fig.2 62.3 − storeHitNs 0.45 − flushIssueNs 5 − bufferMissNs 58.9 / 4 = 42.1. */
const OPTANE_G1_WRITEBACK_NS = 42.1;

const OPTANE_G1: CostModel = {
  name: 'optane-g1',
  persistence: 'adr', // Cascade Lake with PMem 100 is ADR only, docs/cost-model.md §3 ([S7], [S16])
  ...CASCADE_LAKE_CPU,
  loadSeqNs: 169.4, // P: [S1] Fig.2, Optane read sequential
  loadRandNs: 305.0, // P: [S1] Fig.2, Optane read random
  readBytesPerNs: 2.9, // P: [S1] Fig.4 NI, one thread, one DIMM (2.9 GB/s)
  // D, OPTANE_G1_STORE_MISS_NS: a 64 B store+clwb+sfence stream takes 111.9 ns an access on one thread ([S1] Fig.13, 64 B /
  // 0.572 GB/s) and 139.1 on each of 6 ([S1] Fig.12 bandwidth, 6 × 64 B / 2.76 GB/s); their mean 125.5
  // − flushIssueNs 5 − writebackNs 42.1 − sfenceNs 2 − bufferMissNs / 4 (one access in 4 claims a
  // media line) = 61.7: the part of a streamed read for ownership the prefetcher does not hide.
  storeMissNs: OPTANE_G1_STORE_MISS_NS,
  writebackNs: OPTANE_G1_WRITEBACK_NS,
  // TBD (§8 gap 3); placeholder = §6 L, a clean clflush sustained 71.9–72.5 ns. [S1] Fig.2's ntstore run (4 clean clflushes
  // between writes, header) bounds it from below: from 55 ns the next write finds the read-modify-write (rmwNs) done and the run
  // averages 90.4; below 48 it is off by over 10 % (at 30, writebackNs × 72/101 as for dram, 142.7).
  clflushCleanNs: 72,
  flushBytesPerNs: LINE_BYTES / 26.4, // D: 64 B / 26.4 ns, [S1] Fig.12 store+clwb latency from 256 to 4096 B, (1774.2 − 192.5) / 60
  clwbInvalidates: true, // docs/cost-model.md §4.3: the common Cascade Lake assumption, unverified (§8 gap 2)
  ntLatencyNs: 69.7, // D: [S1] Fig.2 ntstore+fence 90.4 − ntIssueNs 6 − bufferMissNs 58.9 / 4 (header)
  ntBytesPerNs: LINE_BYTES / ((1550.6 - 484.0) / 48), // D: 64 B / 22.2 ns, [S1] Fig.12 marginal
  mediaLineBytes: 256, // P/C: XPLine, [S1] Fig.9, [S4] vans.cfg
  bufferLines: 64, // C: [S4] vans.cfg rmw.buffer_entries=64 (× 256 B = 16 KiB, [S1] Fig.9)
  dimms: 1,
  interleaveBytes: 4096, // C: [S4] stride_mapping(4096); no effect with one DIMM
  mediaReadBytesPerNs: 6.6, // P: [S2] max read bandwidth per DIMM
  mediaWriteBytesPerNs: 2.3, // P: [S2] max write bandwidth per DIMM
  wpqLines: 4, // C: [S4] vans_6dimm_interleaved.cfg, a WPQ of 4 entries in its iMC model (docs/cost-model.md §4.5)
  // C: [S4] vans.cfg nv_media read_latency=100 + write_latency=300 ticks: a read-modify-write reads the
  // media line, then writes it; 400 ticks = 300 ns if a tick is tCK = 0.75 ns (docs/cost-model.md §2.5 asks to
  // verify that unit).
  rmwNs: 300,
  bufferMissNs: OPTANE_G1_BUFFER_MISS_NS,
  // D: docs/cost-model.md §2.6, the fit to [S1] Fig.4 NI: ntstore 2.2 GB/s × min(1, (4/k)^0.6) for k threads
  // on one DIMM (data: 2.20–2.22 up to 4, 1.53 at 8, 0.80 at 24).
  contentionWriters: 4,
  contentionExponent: 0.6,
  // C: [S4] vans.cfg ait.buffer_entries=4096 blocks of 4 KiB (16 MiB of the DIMM's DRAM, src/general/ait.cpp)
  aitBufferBlocks: 4096,
};

/** Volatile DDR4-2666 DRAM on the same Cascade Lake machine, used as pmem (ADR semantics). */
const DRAM_WRITEBACK_NS = 51.85; // D: [S1] Fig.2 DRAM 57.3 − storeHitNs 0.45 − flushIssueNs 5

const DRAM: CostModel = {
  name: 'dram',
  persistence: 'adr', // ADR semantics by definition of the preset: durable once in the memory controller
  ...CASCADE_LAKE_CPU,
  loadSeqNs: 81.4, // P: [S1] Fig.2, DRAM read sequential
  loadRandNs: 101.5, // P: [S1] Fig.2, DRAM read random
  // TBD in docs/cost-model.md (only the 18-thread peak is sourced); placeholder by Little's law,
  // maxOutstanding 12 × 64 B / loadSeqNs 81.4 = 9.4 GB/s.
  readBytesPerNs: (12 * LINE_BYTES) / 81.4,
  // TBD in docs/cost-model.md (no cold-line DRAM stream); placeholder = optane-g1's, scaled by the
  // sequential read latency it stands for: 61.7 × 81.4 / 169.4 ≈ 29.6.
  storeMissNs: (OPTANE_G1_STORE_MISS_NS * 81.4) / 169.4,
  writebackNs: DRAM_WRITEBACK_NS,
  clflushCleanNs: DRAM_WRITEBACK_NS * CLEAN_CLFLUSH_RATIO, // TBD; placeholder, 51.85 × 72/101 ≈ 37.0
  // TBD in docs/cost-model.md (one-thread DRAM clwb rate unpublished); placeholder 64 B / 5.2 ns, §6 L clwb 4.7–5.7 ns/line.
  flushBytesPerNs: LINE_BYTES / 5.2,
  clwbInvalidates: true, // same Cascade Lake CPU as optane-g1, docs/cost-model.md §4.3
  ntLatencyNs: 80.9, // D: [S1] Fig.2 DRAM ntstore+sfence 86.9 − ntIssueNs 6
  // TBD in docs/cost-model.md; placeholder 64 B / 7.0 ns, §6 L ntstore 6.4–7.9 ns/line.
  ntBytesPerNs: LINE_BYTES / 7.0,
  mediaLineBytes: 64, // docs/cost-model.md table 1a: DRAM writes 64 B
  bufferLines: 0, // no media write-combining buffer: DRAM writes each line in place
  dimms: 6, // [S1] README: 6 × DDR4-2666 channels per socket
  // The real channel interleave is finer than a page; 4096 is the smallest the model allows (placeholder).
  interleaveBytes: 4096,
  mediaReadBytesPerNs: 105.6 / 6, // D: [S1] Fig.4 DRAM read peak 105.6 GB/s over 6 channels = 17.6
  mediaWriteBytesPerNs: 76.8 / 6, // D: [S1] Fig.4 DRAM ntstore 76.8 GB/s at 24 threads over 6 channels = 12.8
  wpqLines: 4, // TBD for DRAM; placeholder = optane-g1's, the same iMC ([S4])
  rmwNs: 0, // 64-byte media lines: a write never covers part of one, so there is no read-modify-write
  bufferMissNs: 0, // no media buffer: nothing to claim
  contentionWriters: 0, // TBD: no published collapse; [S1] Fig.4 DRAM keeps rising to 24 threads
  contentionExponent: 0,
  aitBufferBlocks: 0, // no read-modify-write to spare
};

/** Added latency of a direct-attached CXL link: [S13] (secondary) DRAM + 70–90 ns, midpoint 80. */
const CXL_LINK_NS = 80;

const CXL: CostModel = {
  name: 'cxl',
  persistence: 'adr', // C: [S10] drivers/cxl/pmem.c registers ND_REGION_PERSIST_MEMCTRL (ADR-like)
  // CPU-side costs: TBD for a CXL host (Sapphire Rapids or later); placeholder = Cascade Lake's.
  ...CASCADE_LAKE_CPU,
  loadSeqNs: 81.4 + CXL_LINK_NS, // P/D: [S1] Fig.2 DRAM 81.4 + 80, [S13]; within [S14]'s 2–5× DRAM
  loadRandNs: 101.5 + CXL_LINK_NS, // P/D: [S1] Fig.2 DRAM 101.5 + 80, [S13]
  readBytesPerNs: (12 * LINE_BYTES) / (81.4 + CXL_LINK_NS), // TBD; placeholder, Little's law 12 × 64 B / 161.4 ns = 4.8
  storeMissNs: (OPTANE_G1_STORE_MISS_NS * (81.4 + CXL_LINK_NS)) / 169.4, // TBD; placeholder scaled as dram's, 61.7 × 161.4 / 169.4 ≈ 58.8
  writebackNs: DRAM_WRITEBACK_NS + CXL_LINK_NS, // TBD (docs/cost-model.md §1a); placeholder = DRAM 51.85 + 80, [S13]
  clflushCleanNs: (DRAM_WRITEBACK_NS + CXL_LINK_NS) * CLEAN_CLFLUSH_RATIO, // TBD; placeholder, 131.85 × 72/101 ≈ 94.0
  // TBD; placeholder = dram's CPU flush pipe; maxOutstanding then bounds a thread at 12 lines per round trip.
  flushBytesPerNs: LINE_BYTES / 5.2,
  // TBD (§8 gap 2); §4.3 L saw clwb keep the line on Emerald Rapids, the class of CPU that hosts CXL.
  clwbInvalidates: false,
  ntLatencyNs: 80.9 + CXL_LINK_NS, // TBD; placeholder = dram 80.9 + 80, [S13]
  ntBytesPerNs: LINE_BYTES / 7.0, // TBD; placeholder = dram's
  mediaLineBytes: 64, // C: CXL.mem moves 64 B cache lines (docs/cost-model.md table 1a)
  bufferLines: 0, // no media write-combining buffer modelled
  dimms: 1, // one expander card
  interleaveBytes: 4096, // no effect with one device
  mediaReadBytesPerNs: 32, // TBD; placeholder D: PCIe 5.0 x8 raw, 32 GT/s × 8 lanes / 8 bits = 32 GB/s per direction
  mediaWriteBytesPerNs: 32, // TBD; same placeholder, the link's other direction
  wpqLines: 4, // TBD; placeholder = optane-g1's ([S4])
  rmwNs: 0, // 64-byte media lines: a write never covers part of one, so there is no read-modify-write
  bufferMissNs: 0, // no media buffer: nothing to claim
  contentionWriters: 0, // TBD; placeholder = dram's (no CXL thread-scaling measurement found)
  contentionExponent: 0,
  aitBufferBlocks: 0, // 64-byte media lines: no read-modify-write to spare
};

/**
 * NVDIMM-N: DRAM with a flash backup, which "work like conventional ECC DRAM DIMMs" ([S15]), so
 * it runs at DRAM speed; assumed to be a DDR4-2666 module on the same Cascade Lake machine.
 */
const NVDIMM_N: CostModel = {
  ...DRAM,
  name: 'nvdimm-n',
  persistence: 'adr', // [S15]: the module saves DRAM to flash on power loss; the WPQ is ADR-protected
  dimms: 1, // placeholder: one module, as in [S15] (Micron 32 GB DDR4-2933)
  // remaining fields = dram (D from table 1a: "= DRAM (57.3 / 86.9 class)"); [S15] quotes 17 GB/s
  // for a DDR4-2133 module, a grade below the 17.6 GB/s per channel kept from dram.
};

export const PRESETS: Readonly<Record<PresetName, CostModel>> = Object.freeze({
  'optane-g1': Object.freeze(OPTANE_G1),
  // Six DIMMs interleaved at 4 KiB ([S4] stride_mapping(4096), [S1] Fig.5); latency is per access.
  'optane-g1-6dimm': Object.freeze({ ...OPTANE_G1, name: 'optane-g1-6dimm', dimms: 6 }),
  dram: Object.freeze(DRAM),
  cxl: Object.freeze(CXL),
  'nvdimm-n': Object.freeze(NVDIMM_N),
});

export const PRESET_NAMES = Object.freeze(Object.keys(PRESETS) as PresetName[]);

const BYTES_PER_NS_FIELDS = new Set<string>(['readBytesPerNs', 'flushBytesPerNs', 'ntBytesPerNs', 'mediaReadBytesPerNs', 'mediaWriteBytesPerNs']);
const KNOWN_FIELDS = new Set<string>(['name', 'persistence', 'clwbInvalidates', ...COST_FIELDS]);

function invalid(message: string): PmemError {
  return new PmemError('EINVAL', message);
}

/** A bad value as a message shows it: strings quoted, anything else as String() gives it (NaN, -1, undefined). */
function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function isPowerOfTwo(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && 2 ** Math.round(Math.log2(value)) === value;
}

function checkPersistence(value: unknown, what: string): asserts value is Persistence {
  if (value !== 'adr' && value !== 'eadr') {
    throw invalid(`${what} must be 'adr' or 'eadr', got ${show(value)}`);
  }
}

/** Throws EINVAL naming the field unless `value` suits `field` (see resolveCostModel). */
function checkField(field: (typeof COST_FIELDS)[number], value: unknown): void {
  const what = `cost model field ${field}`;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(`${what} must be a finite number >= 0, got ${show(value)}`);
  }
  // Rates and sizes divide: 64 / flushBytesPerNs, address / interleaveBytes, ... mod dimms.
  if (BYTES_PER_NS_FIELDS.has(field) && value === 0) throw invalid(`${what} must be > 0, got 0`);
  switch (field) {
    // The core keeps at most 64 lines in flight per CPU and 64 buffer entries per DIMM.
    case 'maxOutstanding':
      if (!Number.isInteger(value) || value < 1 || value > 64) throw invalid(`${what} must be an integer in [1, 64], got ${String(value)}`);
      break;
    case 'bufferLines':
      if (!Number.isInteger(value) || value > 64) throw invalid(`${what} must be an integer in [0, 64], got ${String(value)}`);
      break;
    case 'aitBufferBlocks':
      if (!Number.isInteger(value) || value > 4096) throw invalid(`${what} must be an integer in [0, 4096], got ${String(value)}`);
      break;
    case 'wpqLines':
    case 'fillBufferLines':
    case 'contentionWriters':
      if (!Number.isInteger(value) || value > 64) throw invalid(`${what} must be an integer in [0, 64], got ${String(value)}`);
      break;
    case 'dimms':
      if (!Number.isInteger(value) || value < 1 || value > 64) throw invalid(`${what} must be an integer in [1, 64], got ${String(value)}`);
      break;
    case 'mediaLineBytes':
      if (!isPowerOfTwo(value) || value < 64 || value > 4096) {
        throw invalid(`${what} must be a power of two from 64 to 4096, got ${String(value)}`);
      }
      break;
    case 'interleaveBytes':
      if (!isPowerOfTwo(value) || value < 4096) throw invalid(`${what} must be a power of two >= 4096, got ${String(value)}`);
      break;
  }
}

/** Validates a caller's CostModel field by field; returns a fresh copy holding only the known fields. */
function checkCustomModel(custom: object): CostModel {
  const fields = custom as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key)) throw invalid(`cost model has unknown field ${key}`);
  }
  if (typeof fields.name !== 'string' || fields.name.length === 0) {
    throw invalid(`cost model field name must be a non-empty string, got ${show(fields.name)}`);
  }
  checkPersistence(fields.persistence, 'cost model field persistence');
  if (typeof fields.clwbInvalidates !== 'boolean') {
    throw invalid(`cost model field clwbInvalidates must be a boolean, got ${show(fields.clwbInvalidates)}`);
  }
  const copy: Record<string, unknown> = {
    name: fields.name,
    persistence: fields.persistence,
    clwbInvalidates: fields.clwbInvalidates,
  };
  for (const field of COST_FIELDS) {
    // The later fields: a model written without them keeps its old meaning (0: off).
    const value = (LATER_FIELDS as readonly string[]).includes(field) && fields[field] === undefined ? 0 : fields[field];
    checkField(field, value);
    copy[field] = value;
  }
  return copy as unknown as CostModel;
}

/**
 * Resolves the `preset` option of an emulator: a preset name or a custom CostModel, checked
 * and returned as a frozen copy, with `persistence` (when given) replacing the model's own.
 * Throws PmemError EINVAL naming the unknown preset or the bad field.
 */
export function resolveCostModel(preset: PresetName | CostModelInput, persistence?: Persistence): CostModel {
  let model: CostModel;
  if (typeof preset === 'string') {
    if (!Object.hasOwn(PRESETS, preset)) {
      throw invalid(`unknown cost preset '${preset}'; valid presets: ${PRESET_NAMES.join(', ')}`);
    }
    model = { ...PRESETS[preset] };
  } else if (typeof preset === 'object' && preset !== null) {
    model = checkCustomModel(preset);
  } else {
    throw invalid(`preset must be a preset name or a CostModel object, got ${show(preset)}`);
  }
  if (persistence !== undefined) {
    checkPersistence(persistence, 'persistence');
    model.persistence = persistence;
  }
  return Object.freeze(model);
}

/**
 * The DIMM's buffer-entry claim per 64 B line of a sequential run, on average: one line in
 * mediaLineBytes / 64 opens a media line the DIMM must claim (none without a buffer).
 */
function sequentialClaimNs(m: CostModel): number {
  return m.bufferLines === 0 ? 0 : (m.bufferMissNs * LINE_BYTES) / m.mediaLineBytes;
}

/** A warm line, store + clwb + sfence, averaged over [S1] Fig.2's sequential run (header): the write-back hides the fence. */
function persistOneLineNs(m: CostModel): number {
  return m.storeHitNs + m.flushIssueNs + Math.max(m.sfenceNs, m.writebackNs + sequentialClaimNs(m));
}

/** A line, ntstore + sfence, averaged over the same run. */
function ntPersistOneLineNs(m: CostModel): number {
  return m.ntIssueNs + Math.max(m.sfenceNs, m.ntLatencyNs + sequentialClaimNs(m));
}

/**
 * One thread's steady clwb rate in GB/s: a line every max(issue, pipe, round trip / slots) ns,
 * the last because with maxOutstanding in flight each issue waits for the oldest write-back.
 */
function flushThroughputGBps(m: CostModel): number {
  const nsPerLine = Math.max(m.flushIssueNs, LINE_BYTES / m.flushBytesPerNs, (m.flushIssueNs + m.writebackNs) / m.maxOutstanding);
  return LINE_BYTES / nsPerLine;
}

/**
 * One thread's sustained store+clwb rate over cold lines in GB/s: the line budget's pace,
 * a read for ownership plus a write-back per line (flush throughput alone without a budget).
 */
function coldStreamGBps(m: CostModel): number {
  if (m.fillBufferLines === 0) return flushThroughputGBps(m);
  return LINE_BYTES / coldLineNs(m);
}

/** A Markdown table of the presets, one row each, for the README and docs/presets.md. */
export function describePresets(): string {
  const header = [
    '| Preset | Persistence | Load seq / rand (ns) | 1-line store+clwb+sfence (ns) | 1-line ntstore+sfence (ns) | Flush throughput, 1 thread (GB/s) | Cold store+clwb stream, 1 thread (GB/s) | DIMMs | Media line (B) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const rows = PRESET_NAMES.map((name) => {
    const m = PRESETS[name];
    return `| \`${name}\` | ${m.persistence} | ${m.loadSeqNs.toFixed(1)} / ${m.loadRandNs.toFixed(1)} | ${persistOneLineNs(m).toFixed(1)} | ${ntPersistOneLineNs(m).toFixed(1)} | ${flushThroughputGBps(m).toFixed(2)} | ${coldStreamGBps(m).toFixed(2)} | ${m.dimms} | ${m.mediaLineBytes} |`;
  });
  return [...header, ...rows].join('\n');
}
