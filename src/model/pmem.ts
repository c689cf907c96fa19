/**
 * The reference model of the emulated persistent-memory hardware: the spec in code, written
 * to be obviously right rather than fast. The wasm core (src/core/core.ts over assembly/) is held
 * to it bit for bit by test/pmem-differential.test.ts.
 *
 * Where the semantics come from (read these with this file):
 *   assembly/pmem.ts   the instructions and the durability rules in its header
 *   assembly/lines.ts  line states, undo slots, the free stack, pending lists, eviction
 *   assembly/cost.ts   the cost formulas, the flush queue, the DIMM buffers (XPBuffer)
 *   assembly/cpu.ts    the per-CPU record and the counter indices (C_* below)
 *   assembly/rng.ts    the seeded generator (src/base/random.ts is the same stream)
 *   src/hw/cost-model.ts  the parameters and the formulas in prose
 *
 * The pieces, as plain objects:
 *   media        Uint8Array: always the newest data (loads read it)
 *   lineState    Uint8Array, one byte per 64-byte line: LINE_DIRTY | LINE_PENDING | LINE_CACHED | LINE_UNDO
 *   undo slots   slotLine[slot] (null when free), slotData[slot] (the line's last durable
 *                contents), slotCpu[slot] (the CPU whose fence makes the line durable, or
 *                NONE), slotOfLine (line -> slot), freeSlots (a stack: pop() is the next
 *                slot taken, a released slot is pushed on top)
 *   CPUs         now, the two pipes' free times, clflushDone, outstanding (completion times
 *                of the write-backs and NT lines in flight, oldest first), pending (slots
 *                waiting for this CPU's fence, HEAD FIRST: the core links a slot at the head
 *                of its list and a fence walks from the head), counters
 *   DIMMs        lastReadLine (per CPU, the media line it last read, null for none), clock
 *                (the LRU stamp source), buffer (entries {mediaLine, stamp, parts written,
 *                busyUntil, owner, known}), the media calendar and the write-queue ring (the timeline),
 *                aitTags (the DRAM block cache: per slot, the DIMM-local 4 KiB block it holds, -1 for none)
 *
 * Rules the core follows and this model repeats, because they decide its exact output:
 *   - The free stack starts so that slots are taken 0, 1, 2, ...
 *   - Under ADR a store's line, and under both domains an NT line, takes an undo slot when it
 *     has none. With every slot taken, the generator picks a SLOT (below(undoSlots)); its line
 *     is evicted: it becomes durable, loses DIRTY and CACHED, counts as C_EVICTIONS of the
 *     storing CPU and, when it was DIRTY, is one DIMM write. The freed slot is the one taken.
 *   - Clocks are f64 sums in the core's order: a store or load adds its lines' costs into
 *     `cost` and adds that to `now` once; flushes and NT lines move `now` line by line.
 *   - A call that fails (ERANGE for a range outside the media, EINVAL for a CPU that does not
 *     exist or a flush kind that is not 0..2) changes nothing. CPU is checked first, then the
 *     range, then the flush kind.
 * A whole store or load is one access here; src/core/core.ts cuts calls longer than its 2 MiB
 * scratch buffer into several (each then pays its own first miss).
 */
import { coldLineNs, contentionSlowdown, type CostModel } from '../hw/index.js';
import { PmemError } from '../base/index.js';
import { Rng } from '../base/index.js';

/** Emulated CPUs (assembly/layout.ts MAX_CPUS). */
export const MAX_CPUS = 8;
/** "No CPU": the pending CPU of an undo slot that waits for no fence (assembly/cpu.ts NONE). */
export const NONE = 0xffffffff;
export const LINE_BYTES = 64;

// Line state bits (assembly/lines.ts).
export const LINE_DIRTY = 1; // modified in the cache: a flush has to write it back
export const LINE_PENDING = 2; // written back (clflushopt/clwb) or NT-written, not fenced yet
export const LINE_CACHED = 4; // present in the cache: loads and stores hit
export const LINE_UNDO = 8; // not durable: an undo slot holds its durable contents

// Flush kinds (assembly/pmem.ts FLUSH_*).
export const FLUSH_CLFLUSH = 0;
export const FLUSH_CLFLUSHOPT = 1;
export const FLUSH_CLWB = 2;

// Per-CPU counters, by index (assembly/cpu.ts C_*).
export const C_LOADS = 0;
export const C_LOAD_BYTES = 1;
export const C_LOAD_MISSES = 2;
export const C_STORES = 3;
export const C_STORE_BYTES = 4;
export const C_STORE_MISSES = 5;
export const C_NT_STORES = 6;
export const C_NT_LINES = 7;
export const C_NT_BYTES = 8;
export const C_CLFLUSH_DIRTY = 9;
export const C_CLFLUSH_CLEAN = 10;
export const C_CLFLUSHOPT_DIRTY = 11;
export const C_CLFLUSHOPT_CLEAN = 12;
export const C_CLWB_DIRTY = 13;
export const C_CLWB_CLEAN = 14;
export const C_SFENCES = 15;
export const C_MFENCES = 16;
export const C_EVICTIONS = 17;
export const C_FENCE_WAIT_NS = 18;
export const CPU_COUNTERS = 19;

// Shared media counters, by index (assembly/cost.ts M_*).
export const M_DIMM_BYTES_WRITTEN = 0; // 64-byte writes that reached a DIMM, in bytes
export const M_MEDIA_BYTES_WRITTEN = 1;
export const M_MEDIA_BYTES_READ = 2;
export const M_BUFFER_HITS = 3;
export const MEDIA_COUNTERS = 4;

/** The core's flush queue is a ring of this many entries: maxOutstanding is capped at it. */
const MAX_OUTSTANDING = 64;
/** A DIMM's buffer holds at most this many media lines: bufferLines is capped at it. */
const MAX_BUFFER_LINES = 64;
/** The deepest write queue per DIMM (assembly/cost.ts MAX_WPQ_LINES). */
const MAX_WPQ_LINES = 64;
/** The most blocks a DIMM's DRAM cache holds (assembly/ait-buffer.ts MAX_AIT_BLOCKS). */
const MAX_AIT_BLOCKS = 4096;
/** The media calendar's ring: buckets of 32 ns, 1024 of them (assembly/media-calendar.ts). */
const CALENDAR_BUCKETS = 1024;
/** A CPU quiet for longer than this (the calendar's ring) no longer counts as a DIMM's writer (assembly/cost.ts). */
const WRITER_QUIET_NS = 32768;
const CALENDAR_BUCKET_NS = 32;

export interface ModelPmemOptions {
  /** Bytes of media (a multiple of 64; the core wants a multiple of 2 MiB). */
  mediaBytes: number;
  /** Undo slots: how many lines may be non-durable at once (at least 1). */
  undoSlots: number;
  /** The cost model, as resolveCostModel (src/hw/presets.ts) returns it. */
  cost: CostModel;
  /** The seed of the eviction generator (the core's initHardware seed). */
  seed: number;
}

/** One non-durable line, as pmUndoList reports it. */
export interface ModelUndoRecord {
  line: number;
  /** The line's state byte (LINE_*). */
  state: number;
  /** The CPU whose fence makes it durable, or NONE. */
  cpu: number;
  /** The line's last durable contents (a copy of the undo slot). */
  durable: Uint8Array;
}

interface CpuRecord {
  now: number;
  flushPipeFree: number;
  ntPipeFree: number;
  clflushDone: number;
  /** Completion times of the write-backs and NT lines in flight, oldest first. */
  outstanding: number[];
  /** Undo slots waiting for this CPU's fence, head (most recently linked) first. */
  pending: number[];
  counters: number[];
  /** Fences executed, as a u32: this CPU's writes between two fences form one request. */
  fenceEpoch: number;
  /** When the CPU's fill buffers have worked off every line given them (the line budget). */
  fillBudget: number;
  /** The DIMM this CPU wrote to last (null: none), for writer contention. */
  writeDimm: DimmRecord | null;
}

interface BufferEntry {
  mediaLine: number;
  stamp: number;
  /** Which 64-byte parts of the media line were written since it entered the buffer. */
  parts: Set<number>;
  /** Until when a read-modify-write of the line is in progress (0: none). */
  busyUntil: number;
  /** The owner (writeOwner) of the line's last write, 0 before the first. */
  owner: number;
  /** Whether the DIMM holds the line's old contents: it read the line (for a CPU), or its last read was this line. */
  known: boolean;
}

interface DimmRecord {
  /** Media line of this DIMM's last load miss, or null before the first. */
  /** Per CPU, the media line it last read from this DIMM, or null before its first. */
  lastReadLine: (number | null)[];
  /** The LRU stamp source: one tick per write that reaches the DIMM and per read that fills an entry. */
  clock: number;
  buffer: BufferEntry[];
  /** The media calendar (assembly/media-calendar.ts): per ring slot, the bucket it describes and up to when it is booked. */
  calendarHeld: Float64Array;
  calendarBookedTo: Float64Array;
  /** When each of the last wpqLines writes left the write queue (a ring; wpqHead is the oldest). */
  wpq: number[];
  wpqHead: number;
  /** The media line the DIMM claimed a buffer entry for last (null: none), and when that claim completes. */
  claimLine: number | null;
  claimDone: number;
  /** Per CPU, when its last write here was acknowledged (null: never). */
  lastAck: (number | null)[];
  /** The CPUs whose latest write went to this DIMM. */
  writers: Set<number>;
  /** The DRAM block cache, direct-mapped: per slot, the DIMM-local 4 KiB block it holds (-1: none). */
  aitTags: Int32Array;
}

/** The cost parameters as the core holds them after costAttach (assembly/cost.ts). */
interface Params {
  loadHitNs: number;
  loadSeqNs: number;
  loadRandNs: number;
  readLineNs: number;
  storeHitNs: number;
  storeMissNs: number;
  writebackNs: number;
  clflushCleanNs: number;
  flushIssueNs: number;
  flushLineNs: number;
  maxOutstanding: number;
  ntIssueNs: number;
  ntLatencyNs: number;
  ntLineNs: number;
  sfenceNs: number;
  mfenceNs: number;
  mediaLineBytes: number;
  bufferLines: number;
  dimms: number;
  interleaveBytes: number;
  mediaReadNs: number;
  mediaWriteNs: number;
  wpqLines: number;
  rmwNs: number;
  bufferMissNs: number;
  aitBufferBlocks: number;
  /** How far the line budget may run ahead: fillBufferLines × (readLineNs + flushLineNs); 0 turns it off. */
  fillBurstNs: number;
  /** Whether concurrent writers slow a DIMM's media writes, and by how much for 1..MAX_CPUS writers. */
  contention: boolean;
  slowdownByWriters: number[];
  clwbInvalidates: boolean;
  eadr: boolean;
}

/** What costAttach derives from a CostModel: line times from rates, integers truncated, caps applied. */
function paramsOf(cost: CostModel): Params {
  return {
    loadHitNs: cost.loadHitNs,
    loadSeqNs: cost.loadSeqNs,
    loadRandNs: cost.loadRandNs,
    readLineNs: 64 / cost.readBytesPerNs,
    storeHitNs: cost.storeHitNs,
    storeMissNs: cost.storeMissNs,
    writebackNs: cost.writebackNs,
    clflushCleanNs: cost.clflushCleanNs,
    flushIssueNs: cost.flushIssueNs,
    flushLineNs: 64 / cost.flushBytesPerNs,
    maxOutstanding: Math.trunc(Math.min(cost.maxOutstanding, MAX_OUTSTANDING)),
    ntIssueNs: cost.ntIssueNs,
    ntLatencyNs: cost.ntLatencyNs,
    ntLineNs: 64 / cost.ntBytesPerNs,
    sfenceNs: cost.sfenceNs,
    mfenceNs: cost.mfenceNs,
    mediaLineBytes: Math.trunc(cost.mediaLineBytes),
    bufferLines: Math.trunc(Math.min(cost.bufferLines, MAX_BUFFER_LINES)),
    dimms: Math.trunc(cost.dimms),
    interleaveBytes: Math.trunc(cost.interleaveBytes),
    mediaReadNs: Math.trunc(cost.mediaLineBytes) / cost.mediaReadBytesPerNs,
    mediaWriteNs: Math.trunc(cost.mediaLineBytes) / cost.mediaWriteBytesPerNs,
    wpqLines: Math.trunc(Math.min(cost.wpqLines, MAX_WPQ_LINES)),
    rmwNs: cost.rmwNs,
    bufferMissNs: cost.bufferMissNs,
    aitBufferBlocks: Math.trunc(Math.min(cost.aitBufferBlocks, MAX_AIT_BLOCKS)),
    fillBurstNs: cost.fillBufferLines * coldLineNs(cost),
    contention: cost.contentionWriters > 0,
    slowdownByWriters: Array.from({ length: MAX_CPUS }, (_, i) => contentionSlowdown(cost, i + 1)),
    clwbInvalidates: cost.clwbInvalidates,
    eadr: cost.persistence === 'eadr',
  };
}

function isCpu(cpu: number): boolean {
  return Number.isInteger(cpu) && cpu >= 0 && cpu < MAX_CPUS;
}

export class ModelPmem {
  readonly mediaBytes: number;
  readonly undoSlots: number;
  readonly cost: CostModel;
  private readonly p: Params;
  private readonly rng: Rng;

  private readonly mediaData: Uint8Array;
  private readonly lineState: Uint8Array;

  private readonly slotLine: (number | null)[];
  private readonly slotData: Uint8Array[];
  private readonly slotCpu: number[];
  private readonly slotOfLine = new Map<number, number>();
  private readonly freeSlots: number[];

  private readonly cpus: CpuRecord[];
  private readonly dimms: DimmRecord[];
  private readonly mediaCounters: number[];

  constructor(options: ModelPmemOptions) {
    const { mediaBytes, undoSlots, cost, seed } = options;
    if (!Number.isInteger(mediaBytes) || mediaBytes < 0 || mediaBytes % LINE_BYTES !== 0) {
      throw new PmemError('EINVAL', `mediaBytes must be a multiple of ${LINE_BYTES}, got ${mediaBytes}`);
    }
    // A line can only be non-durable in a slot: the model needs one at least (the core does not check).
    if (!Number.isInteger(undoSlots) || undoSlots < 1) throw new PmemError('EINVAL', `undoSlots must be an integer >= 1, got ${undoSlots}`);
    this.mediaBytes = mediaBytes;
    this.undoSlots = undoSlots;
    this.cost = cost;
    this.p = paramsOf(cost);
    this.rng = new Rng(seed >>> 0);
    this.mediaData = new Uint8Array(mediaBytes);
    this.lineState = new Uint8Array(mediaBytes / LINE_BYTES);
    this.slotLine = new Array<number | null>(undoSlots).fill(null);
    this.slotData = Array.from({ length: undoSlots }, () => new Uint8Array(LINE_BYTES));
    this.slotCpu = new Array<number>(undoSlots).fill(NONE);
    // The top of the stack is the end of the array: pop() gives slot 0 first, then 1, 2, ...
    this.freeSlots = Array.from({ length: undoSlots }, (_, i) => undoSlots - 1 - i);
    this.cpus = Array.from({ length: MAX_CPUS }, () => ({
      now: 0,
      flushPipeFree: 0,
      ntPipeFree: 0,
      clflushDone: 0,
      outstanding: [],
      pending: [],
      counters: new Array<number>(CPU_COUNTERS).fill(0),
      fenceEpoch: 0,
      fillBudget: 0,
      writeDimm: null,
    }));
    this.dimms = Array.from({ length: this.p.dimms }, () => ({ lastReadLine: new Array<number | null>(MAX_CPUS).fill(null), clock: 0, buffer: [], calendarHeld: new Float64Array(CALENDAR_BUCKETS), calendarBookedTo: new Float64Array(CALENDAR_BUCKETS), wpq: new Array<number>(this.p.wpqLines).fill(0), wpqHead: 0, claimLine: null, claimDone: 0, lastAck: new Array<number | null>(MAX_CPUS).fill(null), writers: new Set<number>(), aitTags: new Int32Array(this.p.aitBufferBlocks).fill(-1) }));
    this.mediaCounters = new Array<number>(MEDIA_COUNTERS).fill(0);
  }

  // ---- the instructions ----------------------------------------------------------------

  /** Stores `bytes` at media address `addr` through CPU `cpu`; an NT store when `nontemporal`. */
  pmStore(cpu: number, addr: number, bytes: Uint8Array, nontemporal = false): void {
    this.checkRange(nontemporal ? 'ntstore' : 'store', cpu, addr, bytes.length);
    if (bytes.length === 0) return;
    if (nontemporal) this.ntStore(cpu, addr, bytes);
    else this.store(cpu, addr, bytes);
  }

  /** Loads `length` bytes at media address `addr` through CPU `cpu`: the newest data. */
  pmLoad(cpu: number, addr: number, length: number): Uint8Array {
    this.checkRange('load', cpu, addr, length);
    if (length === 0) return new Uint8Array(0);
    const c = this.cpus[cpu]!;
    let cost = 0;
    let missed = false;
    for (let line = this.firstLine(addr); line <= this.lastLine(addr, length); line++) {
      const s = this.lineState[line]!;
      if (s & LINE_CACHED) {
        cost += this.p.loadHitNs;
        continue;
      }
      cost += this.loadMissNs(line * LINE_BYTES, !missed, c.now + cost, cpu);
      missed = true;
      c.counters[C_LOAD_MISSES] += 1;
      this.lineState[line] = s | LINE_CACHED;
    }
    const out = this.mediaData.slice(addr, addr + length);
    c.now = c.now + cost;
    c.counters[C_LOADS] += 1;
    c.counters[C_LOAD_BYTES] += length;
    return out;
  }

  /** Advances a CPU's clock by `ns` (work the hardware model does not see); EINVAL for a bad CPU or a negative or NaN `ns`. */
  pmAdvance(cpu: number, ns: number): void {
    if (!isCpu(cpu) || !(ns >= 0)) throw new PmemError('EINVAL', `advance: cpu ${cpu} or ${ns} ns is invalid`);
    this.cpus[cpu]!.now += ns;
  }

  /** Flushes every line of [addr, addr + length) with `kind`: 0 clflush, 1 clflushopt, 2 clwb. */
  pmFlush(cpu: number, kind: number, addr: number, length: number): void {
    this.checkRange('flush', cpu, addr, length);
    if (kind !== FLUSH_CLFLUSH && kind !== FLUSH_CLFLUSHOPT && kind !== FLUSH_CLWB) {
      throw new PmemError('EINVAL', `flush: kind must be 0 (clflush), 1 (clflushopt) or 2 (clwb), got ${kind}`);
    }
    if (length === 0) return;
    const c = this.cpus[cpu]!;
    const p = this.p;
    for (let line = this.firstLine(addr); line <= this.lastLine(addr, length); line++) {
      const s = this.lineState[line]!;
      const dirty = (s & LINE_DIRTY) !== 0;
      if (kind === FLUSH_CLFLUSH) {
        // Serialised: starts after the previous clflush and is complete (durable) when it returns.
        const start = Math.max(c.now, c.clflushDone);
        const done = dirty ? this.dimmWrite(line * LINE_BYTES, start + p.writebackNs, cpu, this.writeOwner(cpu)) : start + p.clflushCleanNs;
        c.now = done;
        c.clflushDone = done;
        if (s & LINE_UNDO) this.undoRelease(this.slotOfLine.get(line)!);
        this.lineState[line] = this.lineState[line]! & ~(LINE_DIRTY | LINE_CACHED);
        c.counters[dirty ? C_CLFLUSH_DIRTY : C_CLFLUSH_CLEAN] += 1;
        continue;
      }
      // clflushopt / clwb: overlapped on the flush pipe, durable at this CPU's next fence.
      let slotStart = this.pipeSlot(c, 'flushPipeFree', p.flushIssueNs, p.flushLineNs);
      if (dirty && p.fillBurstNs > 0) {
        // A write-back also takes its share of the fill buffers; the pipe follows it.
        slotStart = this.fillSlot(c, slotStart, p.flushLineNs);
        c.flushPipeFree = slotStart + p.flushLineNs;
      }
      c.outstanding.push(dirty ? this.dimmWrite(line * LINE_BYTES, slotStart + p.writebackNs, cpu, this.writeOwner(cpu)) : slotStart);
      let next = s;
      if (dirty) {
        next &= ~LINE_DIRTY;
        if (s & LINE_UNDO) {
          const slot = this.slotOfLine.get(line)!;
          if (this.slotCpu[slot] !== cpu) {
            this.pendingUnlink(slot);
            this.pendingLink(cpu, slot);
          }
          next |= LINE_PENDING;
        }
      }
      if (kind === FLUSH_CLFLUSHOPT || p.clwbInvalidates) next &= ~LINE_CACHED;
      this.lineState[line] = next;
      if (kind === FLUSH_CLFLUSHOPT) c.counters[dirty ? C_CLFLUSHOPT_DIRTY : C_CLFLUSHOPT_CLEAN] += 1;
      else c.counters[dirty ? C_CLWB_DIRTY : C_CLWB_CLEAN] += 1;
    }
  }

  /** sfence (mfence when `full`): waits for this CPU's lines in flight; its pending lines become durable. */
  pmFence(cpu: number, full: boolean): void {
    if (!isCpu(cpu)) throw new PmemError('EINVAL', `fence: cpu ${cpu} does not exist`);
    const c = this.cpus[cpu]!;
    // The clock moves past the fence's own cost and past every line in flight.
    const start = c.now + (full ? this.p.mfenceNs : this.p.sfenceNs);
    let done = start;
    for (const t of c.outstanding) done = Math.max(done, t);
    c.counters[C_FENCE_WAIT_NS] += done - start;
    c.now = done;
    c.outstanding = [];
    c.fenceEpoch = (c.fenceEpoch + 1) >>> 0;
    // Released from the head on: each slot goes back on top of the free stack in this order.
    for (const slot of [...c.pending]) this.undoRelease(slot);
    c.counters[full ? C_MFENCES : C_SFENCES] += 1;
  }

  // ---- read-outs -----------------------------------------------------------------------

  /** CPU `cpu`'s emulated clock in ns, or -1 for a CPU that does not exist. */
  pmNow(cpu: number): number {
    return isCpu(cpu) ? this.cpus[cpu]!.now : -1;
  }

  /** Per-CPU counter `index` (C_*), or NaN for a bad CPU or index. */
  pmCounter(cpu: number, index: number): number {
    if (!isCpu(cpu) || !Number.isInteger(index) || index < 0 || index >= CPU_COUNTERS) return NaN;
    return this.cpus[cpu]!.counters[index]!;
  }

  /** Shared media counter `index` (M_*), or NaN. */
  pmMediaCounter(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= MEDIA_COUNTERS) return NaN;
    return this.mediaCounters[index]!;
  }

  /** Undo slots in use: the lines that are not durable. */
  pmUndoUsed(): number {
    return this.slotOfLine.size;
  }

  /** Every non-durable line, in slot order (as the core lists them), with a copy of its durable contents. */
  pmUndoList(): ModelUndoRecord[] {
    const out: ModelUndoRecord[] = [];
    for (let slot = 0; slot < this.undoSlots; slot++) {
      const line = this.slotLine[slot];
      if (line === null || line === undefined) continue;
      out.push({ line, state: this.lineState[line]!, cpu: this.slotCpu[slot]!, durable: this.slotData[slot]!.slice() });
    }
    return out;
  }

  /** A line's state byte (LINE_*); EINVAL past the media. */
  pmLineState(line: number): number {
    if (!Number.isInteger(line) || line < 0 || line >= this.lineState.length) {
      throw new PmemError('EINVAL', `line ${line} is outside the media`);
    }
    return this.lineState[line]!;
  }

  /** The media bytes: the newest data, what loads see (a live view: do not modify). */
  media(): Uint8Array {
    return this.mediaData;
  }

  // ---- stores --------------------------------------------------------------------------

  /** A plain store: each line gets dirty and cached; under ADR it becomes non-durable. */
  private store(cpu: number, addr: number, bytes: Uint8Array): void {
    const c = this.cpus[cpu]!;
    const p = this.p;
    let cost = 0;
    let missed = false;
    for (let line = this.firstLine(addr); line <= this.lastLine(addr, bytes.length); line++) {
      // Read per line: an earlier line of this store may have evicted this one.
      const s = this.lineState[line]!;
      if (s & LINE_CACHED) {
        cost += p.storeHitNs;
      } else {
        // The first miss pays for the read for ownership; the prefetcher hides the rest. Each
        // read still takes its DIMM's media time, and waits when the media is busy, and a
        // share of the CPU's fill buffers: a long cold stream stalls at their pace.
        if (p.fillBurstNs > 0) {
          const at = c.now + cost;
          cost += this.fillSlot(c, at, p.readLineNs) - at;
        }
        cost += this.dimmRead(line * LINE_BYTES, c.now + cost, cpu) + (missed ? p.storeHitNs : p.storeMissNs);
        missed = true;
        c.counters[C_STORE_MISSES] += 1;
      }
      if (p.eadr) {
        // Visible is durable: a pending NT write to the line is overtaken as well.
        if (s & LINE_UNDO) this.undoRelease(this.slotOfLine.get(line)!);
      } else if (!(s & LINE_UNDO)) {
        this.takeUndo(cpu, line);
      } else if (s & LINE_PENDING) {
        // Stored again before the fence: the flush no longer covers the newest data.
        this.pendingUnlink(this.slotOfLine.get(line)!);
      }
      this.lineState[line] = (this.lineState[line]! & ~LINE_PENDING) | LINE_DIRTY | LINE_CACHED;
    }
    // The data lands after the loop: the undo copies taken above hold the older contents.
    this.mediaData.set(bytes, addr);
    c.now = c.now + cost;
    c.counters[C_STORES] += 1;
    c.counters[C_STORE_BYTES] += bytes.length;
  }

  /** An NT store: each line goes through the NT pipe, leaves the cache, and waits for this CPU's fence. */
  private ntStore(cpu: number, addr: number, bytes: Uint8Array): void {
    const c = this.cpus[cpu]!;
    const p = this.p;
    const first = this.firstLine(addr);
    const last = this.lastLine(addr, bytes.length);
    for (let line = first; line <= last; line++) {
      const slotStart = this.pipeSlot(c, 'ntPipeFree', p.ntIssueNs, p.ntLineNs);
      if (!(this.lineState[line]! & LINE_UNDO)) this.takeUndo(cpu, line);
      const slot = this.slotOfLine.get(line)!;
      if (this.slotCpu[slot] !== cpu) {
        this.pendingUnlink(slot);
        this.pendingLink(cpu, slot);
      }
      this.lineState[line] = (this.lineState[line]! | LINE_PENDING) & ~(LINE_DIRTY | LINE_CACHED);
      c.outstanding.push(this.dimmWrite(line * LINE_BYTES, slotStart + p.ntLatencyNs, cpu, this.writeOwner(cpu)));
    }
    this.mediaData.set(bytes, addr);
    c.counters[C_NT_STORES] += 1;
    c.counters[C_NT_LINES] += last - first + 1;
    c.counters[C_NT_BYTES] += bytes.length;
  }

  // ---- undo slots and pending lists (assembly/lines.ts) ----------------------------------

  /**
   * Makes `line` non-durable: its current (durable) contents go into a slot. With every slot
   * taken, a random slot's line is evicted first (written back: durable, out of the cache).
   */
  private takeUndo(cpu: number, line: number): void {
    let victim: number | null = null;
    let victimDirty = false;
    if (this.slotOfLine.size === this.undoSlots) {
      const slot = this.randomSlot();
      victim = this.slotLine[slot]!;
      victimDirty = (this.lineState[victim]! & LINE_DIRTY) !== 0;
      this.undoRelease(slot);
      this.lineState[victim] = this.lineState[victim]! & ~(LINE_DIRTY | LINE_CACHED);
      this.cpus[cpu]!.counters[C_EVICTIONS] += 1;
    }
    const slot = this.freeSlots.pop()!;
    this.slotLine[slot] = line;
    this.slotCpu[slot] = NONE;
    this.slotData[slot]!.set(this.mediaData.subarray(line * LINE_BYTES, (line + 1) * LINE_BYTES));
    this.slotOfLine.set(line, slot);
    this.lineState[line] = this.lineState[line]! | LINE_UNDO;
    // An evicted dirty line is written back: it reaches its DIMM.
    if (victim !== null && victimDirty) this.dimmWrite(victim * LINE_BYTES, this.cpus[cpu]!.now, cpu, 0);
  }

  /** The eviction victim's slot: the core's rngBelow, floor(u32 * n / 2^32) in exact integers. */
  private randomSlot(): number {
    // Rng.below computes the same in doubles, which rounds for n > 2^21; this is exact for every n.
    return Number((BigInt(this.rng.u32()) * BigInt(this.undoSlots)) >> 32n);
  }

  /** Frees a slot: its line is durable from now on. The slot goes on top of the free stack. */
  private undoRelease(slot: number): void {
    const line = this.slotLine[slot]!;
    this.pendingUnlink(slot);
    this.slotOfLine.delete(line);
    this.slotLine[slot] = null;
    this.freeSlots.push(slot);
    this.lineState[line] = this.lineState[line]! & ~(LINE_UNDO | LINE_PENDING);
  }

  /** Links a slot at the head of a CPU's pending list (it must be in none). */
  private pendingLink(cpu: number, slot: number): void {
    this.cpus[cpu]!.pending.unshift(slot);
    this.slotCpu[slot] = cpu;
  }

  /** Takes a slot out of whichever CPU's pending list holds it (nothing if none). */
  private pendingUnlink(slot: number): void {
    const cpu = this.slotCpu[slot]!;
    if (cpu === NONE) return;
    const list = this.cpus[cpu]!.pending;
    list.splice(list.indexOf(slot), 1);
    this.slotCpu[slot] = NONE;
  }

  // ---- costs (assembly/cost.ts) ------------------------------------------------------

  /**
   * Issues one overlapped line on a pipe: with maxOutstanding lines in flight it first waits
   * for the oldest; then now += issueNs; the line's slot starts when both the CPU and the
   * pipe are free, and the pipe stays busy for lineNs. Returns the slot's start.
   */
  private pipeSlot(c: CpuRecord, pipe: 'flushPipeFree' | 'ntPipeFree', issueNs: number, lineNs: number): number {
    if (c.outstanding.length >= this.p.maxOutstanding) {
      const oldest = c.outstanding.shift()!;
      if (oldest > c.now) c.now = oldest;
    }
    c.now = c.now + issueNs;
    const slot = Math.max(c.now, c[pipe]);
    c[pipe] = slot + lineNs;
    return slot;
  }

  /**
   * The CPU's line budget: a line wanting `lineNs` of its fill buffers at `at` starts once the
   * budget is no more than fillBurstNs ahead; returns when it starts.
   */
  private fillSlot(c: CpuRecord, at: number, lineNs: number): number {
    const start = Math.max(at, c.fillBudget - this.p.fillBurstNs);
    c.fillBudget = Math.max(c.fillBudget, start) + lineNs;
    return start;
  }

  /** The DIMM that holds media address `addr`: (addr / interleaveBytes) mod dimms. */
  private dimmOf(addr: number): DimmRecord {
    return this.dimms[Math.floor(addr / this.p.interleaveBytes) % this.p.dimms]!;
  }

  /** The 4 KiB block of its own DIMM that `addr` falls in (assembly/cost.ts dimmBlock). */
  private dimmBlock(addr: number): number {
    const stripe = this.p.interleaveBytes;
    return Math.floor((Math.floor(addr / (stripe * this.p.dimms)) * stripe + (addr % stripe)) / 4096);
  }

  /** Whether DIMM `d`'s DRAM holds the block of `addr`, which a read brought in (assembly/ait-buffer.ts). */
  private aitHolds(d: DimmRecord, addr: number): boolean {
    if (d.aitTags.length === 0) return false;
    const block = this.dimmBlock(addr);
    return d.aitTags[block % d.aitTags.length] === block;
  }

  /**
   * The DIMM's timeline, shared by every CPU (off when wpqLines is 0): the memory controller
   * queues wpqLines writes per DIMM. A write arriving at `arrive` is accepted (durable under
   * ADR) once the write wpqLines before it has left the queue; it leaves when its `work`,
   * booked on the calendar from acceptance on, is done (at once without work). Returns the
   * acceptance time.
   */
  private dimmQueue(d: DimmRecord, arrive: number, work: number): number {
    if (this.p.wpqLines === 0) return arrive;
    const accepted = Math.max(arrive, d.wpq[d.wpqHead]!);
    d.wpq[d.wpqHead] = work > 0 ? this.mediaBook(d, accepted, work) : accepted;
    d.wpqHead = (d.wpqHead + 1) % this.p.wpqLines;
    return accepted;
  }

  /**
   * Books `work` ns of media time on DIMM `d` from `at` on, in 32 ns buckets that record up
   * to when they are booked: a request starts in its bucket after that (or at `at`, if
   * later), skips full buckets and runs on until done. Returns when it ends. A bucket older
   * than the one its ring slot holds counts as idle and is not recorded
   * (assembly/media-calendar.ts).
   */
  private mediaBook(d: DimmRecord, at: number, work: number): number {
    let bucket = Math.floor(at / CALENDAR_BUCKET_NS);
    let from = at;
    let left = work;
    // Past one ring of buckets the rest runs on unbooked (assembly/media-calendar.ts).
    for (let n = 0; n < CALENDAR_BUCKETS; n++) {
      const slot = bucket - Math.floor(bucket / CALENDAR_BUCKETS) * CALENDAR_BUCKETS;
      const held = d.calendarHeld[slot]!;
      const end = (bucket + 1) * CALENDAR_BUCKET_NS;
      let begin = from;
      if (held === bucket) begin = Math.max(from, d.calendarBookedTo[slot]!);
      else if (held < bucket) d.calendarHeld[slot] = bucket; // a stale slot: this bucket is empty
      if (begin < end) {
        const take = Math.min(end - begin, left);
        if (held <= bucket) d.calendarBookedTo[slot] = begin + take;
        left -= take;
        if (left <= 0) return begin + take;
      }
      bucket += 1;
      from = end;
    }
    return from + left;
  }

  /**
   * A 64-byte line reaches its DIMM at `arrive` (a write-back, an NT line, an eviction).
   * Without a buffer it goes to the media at once (a read first when the media line is
   * wider). With one it merges into the buffer: a line written whole goes to the media when
   * it is written again, and a miss in a full buffer evicts the least recently used line
   * (evictWork). That media work, slowed by writer contention, queues on the DIMM's timeline.
   * Returns when the write is acknowledged (dimmClaim).
   */
  private dimmWrite(addr: number, arrive: number, cpu: number, owner: number): number {
    const d = this.dimmOf(addr);
    if (!this.p.contention) return this.dimmTake(d, addr, arrive, cpu, owner, 1);
    // A cache eviction belongs to no CPU's stream: slowed by the DIMM's writers, it neither joins nor counts.
    if (owner === 0) return this.dimmTake(d, addr, arrive, cpu, owner, this.writerSlowdown(d, arrive, null));
    this.joinWriters(d, cpu);
    const ack = this.dimmTake(d, addr, arrive, cpu, owner, this.writerSlowdown(d, arrive, cpu));
    d.lastAck[cpu] = ack;
    return ack;
  }

  /** dimmWrite on DIMM `d`, its media work `slowdown` times as long. */
  private dimmTake(d: DimmRecord, addr: number, arrive: number, cpu: number, owner: number, slowdown: number): number {
    const p = this.p;
    const m = this.mediaCounters;
    m[M_DIMM_BYTES_WRITTEN] += 64;
    if (p.bufferLines === 0) {
      m[M_MEDIA_BYTES_WRITTEN] += p.mediaLineBytes;
      if (p.mediaLineBytes > 64) m[M_MEDIA_BYTES_READ] += p.mediaLineBytes;
      return this.dimmQueue(d, arrive, (p.mediaLineBytes > 64 ? p.mediaReadNs + p.mediaWriteNs : p.mediaWriteNs) * slowdown);
    }
    const mediaLine = Math.floor(addr / p.mediaLineBytes);
    const part = Math.floor((addr % p.mediaLineBytes) / LINE_BYTES);
    d.clock += 1;
    const stamp = d.clock;
    let work = 0;
    let e = d.buffer.find((entry) => entry.mediaLine === mediaLine);
    if (e) {
      m[M_BUFFER_HITS] += 1;
      if (e.parts.size === 0) {
        // The first write to a line held from a read: the DIMM claims the entry for writing.
        d.claimLine = mediaLine;
        d.claimDone = Infinity;
      } else if (e.parts.size === p.mediaLineBytes / LINE_BYTES) {
        // Written whole and now again: the whole line goes to the media first, then stays, known.
        m[M_MEDIA_BYTES_WRITTEN] += p.mediaLineBytes;
        work = p.mediaWriteNs * slowdown;
        e.parts = new Set();
        e.known = true;
      }
    } else {
      if (d.buffer.length < p.bufferLines) {
        e = { mediaLine, stamp, parts: new Set(), busyUntil: 0, owner: 0, known: false };
        d.buffer.push(e);
      } else {
        // Evict the least recently used media line (the first of the oldest stamps; stamps are unique).
        e = d.buffer[0]!;
        for (const entry of d.buffer) if (entry.stamp < e.stamp) e = entry;
        work = this.evictWork(e, slowdown);
      }
      e.mediaLine = mediaLine;
      e.parts = new Set();
      e.busyUntil = 0;
      e.owner = 0;
      // The DIMM knows the line's old contents when the writing CPU's last read from it was
      // this line (a read for ownership), or when its DRAM still holds the block a read brought in.
      e.known = d.lastReadLine[cpu] === mediaLine || this.aitHolds(d, addr);
      d.claimLine = mediaLine;
      d.claimDone = Infinity; // open until its first write is accepted
    }
    e.stamp = stamp;
    e.parts.add(part);
    if (owner === 0 || p.rmwNs === 0) return this.dimmClaim(d, mediaLine, this.dimmQueue(d, arrive, work));
    // A new request to a line whose read-modify-write is still in progress waits for it.
    const newRequest = e.owner !== owner;
    const accepted = this.dimmQueue(d, newRequest ? Math.max(arrive, e.busyUntil) : arrive, work);
    if (e.parts.size === p.mediaLineBytes / LINE_BYTES || e.known) e.busyUntil = 0;
    // Part of a line whose old contents the DIMM never read: it reads, merges and writes it.
    else if (newRequest) e.busyUntil = accepted + p.rmwNs;
    e.owner = owner;
    return this.dimmClaim(d, mediaLine, accepted);
  }

  /**
   * The media work of evicting entry `e`: none for a line held only from a read; else a media
   * write, after a read when it was written in part and the DIMM does not hold its old
   * contents (assembly/cost.ts evictWork).
   */
  private evictWork(e: BufferEntry, slowdown: number): number {
    const p = this.p;
    if (e.parts.size === 0) return 0;
    let work = 0;
    if (e.parts.size !== p.mediaLineBytes / LINE_BYTES && !e.known) {
      this.mediaCounters[M_MEDIA_BYTES_READ] += p.mediaLineBytes;
      work = p.mediaReadNs;
    }
    this.mediaCounters[M_MEDIA_BYTES_WRITTEN] += p.mediaLineBytes;
    return (work + p.mediaWriteNs) * slowdown;
  }

  /**
   * A read that missed the buffer brings its media line in, known and unwritten, in a free
   * entry or in place of the least recently used one if that holds no write; otherwise it
   * passes by (assembly/cost.ts bufferAdmit).
   */
  private bufferAdmit(d: DimmRecord, mediaLine: number): void {
    let e: BufferEntry | undefined;
    if (d.buffer.length < this.p.bufferLines) {
      e = { mediaLine, stamp: 0, parts: new Set(), busyUntil: 0, owner: 0, known: true };
      d.buffer.push(e);
    } else {
      e = d.buffer[0]!;
      for (const entry of d.buffer) if (entry.stamp < e.stamp) e = entry;
      if (e.parts.size !== 0) return;
    }
    d.clock += 1;
    e.mediaLine = mediaLine;
    e.stamp = d.clock;
    e.parts = new Set();
    e.busyUntil = 0;
    e.owner = 0;
    e.known = true;
  }

  /**
   * The slowdown of DIMM `d`'s media writes (docs/cost-model.md §2.6): its writers are the CPUs
   * whose latest write went to it, less those quiet there for longer than WRITER_QUIET_NS
   * before `arrive`; the writing CPU `self` (null for an eviction) always counts
   * (assembly/cost.ts writerSlowdown).
   */
  private writerSlowdown(d: DimmRecord, arrive: number, self: number | null): number {
    let writers = 0;
    for (const cpu of d.writers) {
      const at = d.lastAck[cpu];
      if (cpu === self || (at !== null && at !== undefined && at > arrive - WRITER_QUIET_NS)) writers += 1;
    }
    return writers <= 1 ? 1 : this.p.slowdownByWriters[writers - 1]!;
  }

  /** `cpu`'s write stream moves to DIMM `d`: it stops counting as a writer of the one before. */
  private joinWriters(d: DimmRecord, cpu: number): void {
    const c = this.cpus[cpu]!;
    if (c.writeDimm === d) return;
    c.writeDimm?.writers.delete(cpu);
    d.writers.add(cpu);
    c.writeDimm = d;
  }

  /**
   * When a write to `mediaLine` accepted at `accepted` is acknowledged: the DIMM's claim of a
   * buffer entry for the line it claimed last completes bufferMissNs after the last write to
   * that line accepted while the claim was open; those writes are acknowledged then, any
   * other write when accepted (assembly/cost.ts dimmClaim).
   */
  private dimmClaim(d: DimmRecord, mediaLine: number, accepted: number): number {
    if (d.claimLine !== mediaLine || accepted >= d.claimDone) return accepted;
    d.claimDone = accepted + this.p.bufferMissNs;
    return d.claimDone;
  }

  /** Whose request a write of `cpu` belongs to: its writes since its last fence (never 0; assembly/cpu.ts writeOwner). */
  private writeOwner(cpu: number): number {
    return (Math.imul(this.cpus[cpu]!.fenceEpoch, 64) + cpu + 1) >>> 0;
  }

  /**
   * A read by `cpu` of the line at media address `addr` reaches its DIMM at `at` (a load miss
   * or a store's read for ownership). The media is read unless that CPU's last read from
   * this DIMM was the same media line (the DIMM merges a stream's adjacent requests, one
   * stream per CPU) or the DIMM's buffer holds it; that read queues on the DIMM's timeline,
   * and its media line enters the buffer (bufferAdmit).
   * Returns how long it waited, and whether it was sequential (the same media line as the
   * CPU's previous read from the DIMM, or the next one).
   */
  private dimmRead(addr: number, at: number, cpu: number): number {
    const p = this.p;
    const d = this.dimmOf(addr);
    const mediaLine = Math.floor(addr / p.mediaLineBytes);
    const last = d.lastReadLine[cpu]!;
    d.lastReadLine[cpu] = mediaLine;
    this.lastReadWasSequential = last !== null && (mediaLine === last || mediaLine === last + 1);
    if (last === mediaLine || d.buffer.some((entry) => entry.mediaLine === mediaLine)) return 0;
    this.mediaCounters[M_MEDIA_BYTES_READ] += p.mediaLineBytes;
    if (d.aitTags.length > 0) {
      const block = this.dimmBlock(addr);
      d.aitTags[block % d.aitTags.length] = block;
    }
    if (p.bufferLines > 0) this.bufferAdmit(d, mediaLine);
    if (p.wpqLines === 0) return 0;
    // The read waits for the work booked ahead of it on the calendar.
    return Math.max(0, this.mediaBook(d, at, p.mediaReadNs) - p.mediaReadNs - at);
  }

  private lastReadWasSequential = false;

  /**
   * What a load miss by `cpu` at media address `addr`, reaching its DIMM at `at`, costs: the
   * wait of its read (dimmRead), then for the first miss of an access a latency, sequential
   * or random; the later misses stream at readLineNs each.
   */
  private loadMissNs(addr: number, first: boolean, at: number, cpu: number): number {
    const wait = this.dimmRead(addr, at, cpu);
    if (!first) return wait + this.p.readLineNs;
    return wait + (this.lastReadWasSequential ? this.p.loadSeqNs : this.p.loadRandNs);
  }

  // ---- argument checks -----------------------------------------------------------------

  /** EINVAL for a CPU that does not exist, then ERANGE unless [addr, addr + length) lies in the media. */
  private checkRange(op: string, cpu: number, addr: number, length: number): void {
    if (!isCpu(cpu)) throw new PmemError('EINVAL', `${op}: cpu ${cpu} does not exist`);
    if (!Number.isInteger(addr) || !Number.isInteger(length) || addr < 0 || length < 0 || addr + length > this.mediaBytes) {
      throw new PmemError('ERANGE', `${op}: [${addr}, ${addr + length}) is outside the media`);
    }
  }

  private firstLine(addr: number): number {
    return Math.floor(addr / LINE_BYTES);
  }

  private lastLine(addr: number, length: number): number {
    return Math.floor((addr + length - 1) / LINE_BYTES);
  }
}
