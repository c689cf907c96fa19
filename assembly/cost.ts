// The cost model: parameters, the per-CPU flush queue, and the media model of each DIMM.
// The formulas are documented with the parameters in src/hw/cost-model.ts (after
// docs/cost-model.md §2); this file is their implementation.
//
// COSTS (at DIMMS_OFFSET): f64 params[32] in src/hw/cost-model.ts COST_FIELDS order, then the
// flags; f64 shared counters at COSTS_COUNTERS. Each DIMM (DIMM_STATE_SIZE, after COSTS_SIZE):
//     4 u32 clock      LRU stamp source
//    16 u32 wpqHead    the oldest slot of the write-queue ring
//    20 u32 claimLine  the media line the DIMM claimed a buffer entry for last + 1 (0: none)
//    24 u32 writers    a bit per CPU whose latest write went to this DIMM
//    40 f64 claimDone  when that claim completes (dimmClaim)
//    8, 12, 32, 33 and 2624..2879: the buffer's index (used, lastFound, mru, lru, hash and
//                      lists: assembly/xpbuffer.ts)
//    64 entries[64]    32 bytes each:
//                      0 u32 media line, 4 u32 stamp, 8 u64 mask of 64-byte parts written,
//                      16 f64 busy until (a read-modify-write in progress), 24 u32 owner of
//                      the last write (writeOwner), 28 u32 known (the DIMM read the line);
//                      an entry with no part written holds a line only from a read (bufferAdmit)
//  2880 f64 wpq[MAX_WPQ_LINES]  when each of the last wpqLines writes left the queue for the media
//  3392 u32 lastRead[MAX_CPUS]  per CPU, the media line it last read from this DIMM, + 1 (0: none)
//  3424 f64 lastAck[MAX_CPUS]  per CPU, when its last write here was acknowledged (see writers)
//  4096 the media calendar (assembly/media-calendar.ts)
// 20480 the DRAM cache of 4 KiB blocks (assembly/ait-buffer.ts)
// The parameters are copied into this instance's globals by costAttach: decided once.

import { C_FENCE_WAIT_NS, CPU_FENCE_EPOCH, CPU_FILL_BUDGET, CPU_WRITE_DIMM, CPU_FLUSH_PIPE, CPU_NOW, CPU_NT_PIPE, CPU_OUTQ_OFF, CPU_OUT_COUNT, CPU_OUT_HEAD, MAX_OUTSTANDING, count, cpuState, writeOwner } from './cpu';
import { COSTS_SIZE, DIMMS_OFFSET, DIMM_STATE_SIZE, MAX_CPUS } from './layout';
import { MAX_AIT_BLOCKS, aitFill, aitHolds } from './ait-buffer';
import { mediaBook } from './media-calendar';
import { D_USED, XPBUFFER_END, bufferClaim, bufferFind, bufferFound, bufferOldest, bufferTouch, entryAt } from './xpbuffer';

export const P_LOAD_HIT: u32 = 0;
export const P_LOAD_SEQ: u32 = 1;
export const P_LOAD_RAND: u32 = 2;
export const P_READ_BW: u32 = 3;
export const P_STORE_HIT: u32 = 4;
export const P_STORE_MISS: u32 = 5;
export const P_WRITEBACK: u32 = 6;
export const P_CLFLUSH_CLEAN: u32 = 7;
export const P_FLUSH_ISSUE: u32 = 8;
export const P_FLUSH_BW: u32 = 9;
export const P_MAX_OUTSTANDING: u32 = 10;
export const P_NT_ISSUE: u32 = 11;
export const P_NT_LATENCY: u32 = 12;
export const P_NT_BW: u32 = 13;
export const P_SFENCE: u32 = 14;
export const P_MFENCE: u32 = 15;
export const P_MEDIA_LINE: u32 = 16;
export const P_BUFFER_LINES: u32 = 17;
export const P_DIMMS: u32 = 18;
export const P_INTERLEAVE: u32 = 19;
export const P_MEDIA_READ_BW: u32 = 20;
export const P_MEDIA_WRITE_BW: u32 = 21;
export const P_WPQ_LINES: u32 = 22;
export const P_RMW_NS: u32 = 23;
export const P_BUFFER_MISS: u32 = 24;
export const P_FILL_BUFFER_LINES: u32 = 25;
export const P_CONTENTION_WRITERS: u32 = 26;
export const P_CONTENTION_EXPONENT: u32 = 27;
export const P_AIT_BUFFER_BLOCKS: u32 = 28;
export const P_CLWB_INVALIDATES: u32 = 30;
export const P_EADR: u32 = 31;
/** Then the host's table of media-write slowdowns for 1..MAX_CPUS writers (src/hw/cost-model.ts coreCostParams). */
export const P_WRITER_SLOWDOWN: u32 = 32;
export const COST_PARAMS: u32 = 64;

// Shared counters (f64), by index.
export const M_DIMM_BYTES_WRITTEN: u32 = 0; // 64-byte writes that reached a DIMM
export const M_MEDIA_BYTES_WRITTEN: u32 = 1;
export const M_MEDIA_BYTES_READ: u32 = 2;
export const M_BUFFER_HITS: u32 = 3;
export const MEDIA_COUNTERS: u32 = 4;
export const COSTS_COUNTERS: u32 = 512;

const D_CLOCK: u32 = 4;
const D_WPQ_HEAD: u32 = 16;
const D_WPQ: u32 = XPBUFFER_END;
const E_BUSY: u32 = 16;
const E_OWNER: u32 = 24;
const D_CLAIM_LINE: u32 = 20;
const D_CLAIM_DONE: u32 = 40;
const E_KNOWN: u32 = 28;
/** The deepest write queue a DIMM may have (src/hw/presets.ts checks wpqLines against it). */
export const MAX_WPQ_LINES: u32 = 64;
const D_LAST_READ: u32 = D_WPQ + (MAX_WPQ_LINES << 3);
const D_LAST_ACK: u32 = D_LAST_READ + (MAX_CPUS << 2);
const D_WRITERS: u32 = 24;

// The parameters, as this instance's globals.
export let loadHitNs: f64 = 0;
export let loadSeqNs: f64 = 0;
export let loadRandNs: f64 = 0;
export let readLineNs: f64 = 0; // 64 / readBytesPerNs
export let storeHitNs: f64 = 0;
export let storeMissNs: f64 = 0;
export let writebackNs: f64 = 0;
export let clflushCleanNs: f64 = 0;
export let flushIssueNs: f64 = 0;
export let flushLineNs: f64 = 0; // 64 / flushBytesPerNs
export let maxOutstanding: u32 = 1;
export let ntIssueNs: f64 = 0;
export let ntLatencyNs: f64 = 0;
export let ntLineNs: f64 = 0; // 64 / ntBytesPerNs
export let sfenceNs: f64 = 0;
export let mfenceNs: f64 = 0;
export let mediaLineBytes: u32 = 64;
export let bufferLines: u32 = 0;
export let dimms: u32 = 1;
export let interleaveBytes: u32 = 4096;
export let mediaReadNs: f64 = 0; // mediaLineBytes / mediaReadBytesPerNs
export let mediaWriteNs: f64 = 0; // mediaLineBytes / mediaWriteBytesPerNs
let fullMask: u64 = 0; // every 64-byte part of a media line written
export let wpqLines: u32 = 0; // 0: no media timeline
// Divisions by mediaLineBytes, interleaveBytes and dimms as shifts and masks when they are
// powers of two (as in every preset): the same results, for a fraction of the time.
let mediaLineShift: u32 = 0;
let mediaLinePow2: bool = false;
let interleaveShift: u32 = 0;
let interleavePow2: bool = false;
let dimmsPow2: bool = false;
export let rmwNs: f64 = 0; // how long a read-modify-write keeps its media line busy
export let bufferMissNs: f64 = 0; // how long the DIMM takes to claim a buffer entry for a media line
export let fillBurstNs: f64 = 0; // how far a CPU's line budget may run ahead of its clock (0: no budget)
let aitBlocks: u32 = 0; // 4 KiB blocks the DIMM's DRAM cache holds (0: none)
let contention: bool = false; // whether concurrent writers slow a DIMM's media writes
/** A CPU quiet for longer than this (the media calendar's ring) no longer counts as a DIMM's writer. */
const WRITER_QUIET_NS: f64 = 32768;
export let clwbInvalidates: bool = false;
export let eadr: bool = false;

@inline function isPow2(n: u32): bool {
  return n != 0 && (n & (n - 1)) == 0;
}

/** addr / mediaLineBytes. */
@inline function mediaLineOf(addr: u32): u32 {
  return mediaLinePow2 ? addr >> mediaLineShift : addr / mediaLineBytes;
}

@inline function param(i: u32): f64 { return load<f64>(<usize>DIMMS_OFFSET + (<usize>i << 3)); }

/** Sets one parameter (the host writes them all, then calls costAttach). */
export function costSet(index: u32, value: f64): void {
  if (index < COST_PARAMS) store<f64>(<usize>DIMMS_OFFSET + (<usize>index << 3), value);
}

/** Reads the parameters into this instance's globals. */
export function costAttach(): void {
  loadHitNs = param(P_LOAD_HIT);
  loadSeqNs = param(P_LOAD_SEQ);
  loadRandNs = param(P_LOAD_RAND);
  readLineNs = 64 / param(P_READ_BW);
  storeHitNs = param(P_STORE_HIT);
  storeMissNs = param(P_STORE_MISS);
  writebackNs = param(P_WRITEBACK);
  clflushCleanNs = param(P_CLFLUSH_CLEAN);
  flushIssueNs = param(P_FLUSH_ISSUE);
  flushLineNs = 64 / param(P_FLUSH_BW);
  maxOutstanding = <u32>min(param(P_MAX_OUTSTANDING), <f64>MAX_OUTSTANDING);
  ntIssueNs = param(P_NT_ISSUE);
  ntLatencyNs = param(P_NT_LATENCY);
  ntLineNs = 64 / param(P_NT_BW);
  sfenceNs = param(P_SFENCE);
  mfenceNs = param(P_MFENCE);
  mediaLineBytes = <u32>param(P_MEDIA_LINE);
  bufferLines = <u32>min(param(P_BUFFER_LINES), 64);
  dimms = <u32>param(P_DIMMS);
  interleaveBytes = <u32>param(P_INTERLEAVE);
  fullMask = mediaLineBytes >= 4096 ? <u64>-1 : (<u64>1 << <u64>(mediaLineBytes >> 6)) - 1;
  mediaReadNs = <f64>mediaLineBytes / param(P_MEDIA_READ_BW);
  mediaWriteNs = <f64>mediaLineBytes / param(P_MEDIA_WRITE_BW);
  wpqLines = <u32>min(param(P_WPQ_LINES), <f64>MAX_WPQ_LINES);
  mediaLinePow2 = isPow2(mediaLineBytes);
  mediaLineShift = ctz(mediaLineBytes);
  interleavePow2 = isPow2(interleaveBytes);
  interleaveShift = ctz(interleaveBytes);
  dimmsPow2 = isPow2(dimms);
  rmwNs = param(P_RMW_NS);
  bufferMissNs = param(P_BUFFER_MISS);
  fillBurstNs = param(P_FILL_BUFFER_LINES) * (readLineNs + flushLineNs);
  aitBlocks = <u32>min(param(P_AIT_BUFFER_BLOCKS), <f64>MAX_AIT_BLOCKS);
  contention = param(P_CONTENTION_WRITERS) > 0;
  clwbInvalidates = param(P_CLWB_INVALIDATES) != 0;
  eadr = param(P_EADR) != 0;
}

/** Clears the shared media counters and every DIMM's buffer. */
export function costReset(): void {
  memory.fill(<usize>DIMMS_OFFSET + COSTS_COUNTERS, 0, MEDIA_COUNTERS << 3);
  memory.fill(<usize>DIMMS_OFFSET + COSTS_SIZE, 0, <usize>DIMM_STATE_SIZE * 64);
}

@inline function mediaCount(i: u32, by: f64): void {
  const at = <usize>DIMMS_OFFSET + COSTS_COUNTERS + (<usize>i << 3);
  store<f64>(at, load<f64>(at) + by);
}

/** A shared media counter. */
export function mediaCounter(i: u32): f64 {
  return load<f64>(<usize>DIMMS_OFFSET + COSTS_COUNTERS + (<usize>i << 3));
}

@inline function dimm(addr: u32): usize {
  const chunk = interleavePow2 ? addr >> interleaveShift : addr / interleaveBytes;
  return <usize>DIMMS_OFFSET + COSTS_SIZE + <usize>(dimmsPow2 ? chunk & (dimms - 1) : chunk % dimms) * DIMM_STATE_SIZE;
}

/** The 4 KiB block of its own DIMM that media address `addr` falls in (the DIMMs interleave by interleaveBytes). */
@inline function dimmBlock(addr: u32): u32 {
  const a = <u64>addr;
  const stripe = <u64>interleaveBytes;
  return <u32>(((a / (stripe * <u64>dimms)) * stripe + a % stripe) >> 12);
}

/**
 * The DIMM's timeline (when wpqLines > 0): a write waits in the memory controller's write
 * queue, which holds wpqLines writes per DIMM; it is accepted (durable under ADR) once the
 * write wpqLines before it has left the queue. It leaves when its media work, booked on the
 * DIMM's calendar from its acceptance on, is done (at once when it has none: the buffer
 * took it). Every CPU shares the calendar, so CPUs writing one DIMM share its bandwidth.
 * Returns the acceptance time.
 */
function dimmQueue(d: usize, arrive: f64, work: f64): f64 {
  if (wpqLines == 0) return arrive;
  const head = load<u32>(d, D_WPQ_HEAD);
  const slot = d + D_WPQ + (<usize>head << 3);
  const accepted = max(arrive, load<f64>(slot));
  store<f64>(slot, work > 0 ? mediaBook(d, accepted, work) : accepted);
  const next = head + 1;
  store<u32>(d, next < wpqLines ? next : next % wpqLines, D_WPQ_HEAD);
  return accepted;
}

/**
 * A 64-byte line reaches the DIMM holding media address `addr` at time `arrive` (a
 * write-back, an NT line, an eviction): it merges into the DIMM's buffer. A line written
 * whole goes to the media when it is written again; a buffer miss evicts the least recently
 * used media line (evictWork). Without a buffer every
 * write goes to the media at once. Media work is slowed while several CPUs write the DIMM
 * (writerSlowdown). Returns when the write is acknowledged (dimmClaim).
 */
export function dimmWrite(addr: u32, arrive: f64, cpu: u32, owner: u32): f64 {
  const d = dimm(addr);
  if (!contention) return dimmTake(d, addr, arrive, cpu, owner, 1);
  // A cache eviction belongs to no CPU's stream: the DIMM's writers slow it, but it neither
  // makes its CPU one of them nor counts that CPU.
  if (owner == 0) return dimmTake(d, addr, arrive, cpu, owner, writerSlowdown(d, arrive, 0));
  joinWriters(d, cpu);
  const ack = dimmTake(d, addr, arrive, cpu, owner, writerSlowdown(d, arrive, 1 << cpu));
  store<f64>(d + D_LAST_ACK + (<usize>cpu << 3), ack);
  return ack;
}

/** The buffer entry the last dimmTake wrote (0 without a buffer): dimmWriteNext writes on into it. */
let lastEntry: usize = 0;

/** dimmWrite on DIMM `d`, its media work `slowdown` times as long. */
function dimmTake(d: usize, addr: u32, arrive: f64, cpu: u32, owner: u32, slowdown: f64): f64 {
  mediaCount(M_DIMM_BYTES_WRITTEN, 64);
  const lineBytes = <f64>mediaLineBytes;
  if (bufferLines == 0) {
    mediaCount(M_MEDIA_BYTES_WRITTEN, lineBytes);
    if (mediaLineBytes > 64) mediaCount(M_MEDIA_BYTES_READ, lineBytes);
    return dimmQueue(d, arrive, (mediaLineBytes > 64 ? mediaReadNs + mediaWriteNs : mediaWriteNs) * slowdown);
  }
  const ml = mediaLineOf(addr);
  const stamp = load<u32>(d, D_CLOCK) + 1;
  store<u32>(d, stamp, D_CLOCK);
  let work: f64 = 0;
  let e = bufferFind(d, ml);
  if (e != 0) {
    mediaCount(M_BUFFER_HITS, 1);
    bufferTouch(d, e);
    work = heldWork(d, e, ml, slowdown);
  } else {
    const used = load<u32>(d, D_USED);
    const fresh = used < bufferLines;
    if (fresh) {
      e = entryAt(d, used);
    } else {
      // Evict the least recently used media line: a partly written one is merged with its old
      // contents, read from the media unless the DIMM holds them (a read for ownership).
      e = bufferOldest(d);
      work = evictWork(e, slowdown);
    }
    bufferClaim(d, e, ml, fresh);
    store<u64>(e, 0, 8);
    store<f64>(e, 0, E_BUSY);
    store<u32>(e, 0, E_OWNER);
    // The DIMM knows the line's old contents when the writing CPU's last read from it was this
    // line (a read for ownership), or when its DRAM still holds the block a read brought in.
    store<u32>(e, lastRead(d, cpu) == ml + 1 || aitHolds(d, dimmBlock(addr), aitBlocks) ? 1 : 0, E_KNOWN);
    store<u32>(d, ml + 1, D_CLAIM_LINE);
    store<f64>(d, Infinity, D_CLAIM_DONE); // open until its first write is accepted
  }
  lastEntry = e;
  return entryWrite(d, e, ml, addr, stamp, arrive, owner, work);
}

/**
 * The media work before a write merges into entry `e`, which already holds media line `ml`:
 * none, unless the line was written whole (below); an entry held only from a read is claimed.
 */
@inline function heldWork(d: usize, e: usize, ml: u32, slowdown: f64): f64 {
  const mask = load<u64>(e, 8);
  if (mask == 0) {
    // The first write to a line the buffer holds from a read: the DIMM claims the entry
    // for writing as it would for a line it did not hold (dimmClaim).
    store<u32>(d, ml + 1, D_CLAIM_LINE);
    store<f64>(d, Infinity, D_CLAIM_DONE);
  } else if (mask == fullMask) {
    // A line written whole is written again: the DIMM first writes the whole line to the
    // media (so rewriting a small region costs the media a line per rewrite), then keeps
    // it, known, to merge the new parts into.
    mediaCount(M_MEDIA_BYTES_WRITTEN, <f64>mediaLineBytes);
    store<u64>(e, 0, 8);
    store<u32>(e, 1, E_KNOWN);
    return mediaWriteNs * slowdown;
  }
  return 0;
}

/** The 64-byte part at `addr` merges into entry `e` (media line `ml`) after `work` of media time: when it is acknowledged. */
@inline function entryWrite(d: usize, e: usize, ml: u32, addr: u32, stamp: u32, arrive: f64, owner: u32, work: f64): f64 {
  const part = <u64>1 << (<u64>((mediaLinePow2 ? addr & (mediaLineBytes - 1) : addr % mediaLineBytes) >> 6));
  store<u32>(e, stamp, 4);
  const mask = load<u64>(e, 8) | part;
  store<u64>(e, mask, 8);
  if (owner == 0 || rmwNs == 0) return dimmClaim(d, ml, dimmQueue(d, arrive, work));
  // A new request to a line whose read-modify-write is still in progress waits for it.
  const newRequest = load<u32>(e, E_OWNER) != owner;
  const accepted = dimmQueue(d, newRequest ? max(arrive, load<f64>(e, E_BUSY)) : arrive, work);
  if (mask == fullMask || load<u32>(e, E_KNOWN) != 0) {
    store<f64>(e, 0, E_BUSY);
  } else if (newRequest) {
    // Part of a line whose old contents the DIMM never read: it reads, merges and writes it.
    store<f64>(e, accepted + rmwNs, E_BUSY);
  }
  store<u32>(e, owner, E_OWNER);
  return dimmClaim(d, ml, accepted);
}

/**
 * The lines [line, line + lines) by `cpu` as ntWriteLines issues them, when its last DIMM
 * write (with none by anyone since) was to the same media line on the same DIMM `d`: per
 * line the pipe slot, the DIMM's write and the flush-queue entry, with the same work and
 * results as dimmWrite, less what is known already. The CPU counts among the DIMM's writers
 * (joinWriters does nothing); the entry is the one written last (bufferFind finds it, and
 * it is the most recently used: bufferTouch does nothing); the writers' slowdown matters only
 * when the line was written whole. What no line in between reads (the DIMM's stamp clock,
 * the media counters, the entry found last, the CPU's last acknowledgement) is stored once.
 */
function ntWriteRest(c: usize, d: usize, line: u32, lines: u32, cpu: u32, owner: u32): void {
  const e = lastEntry;
  const ml = load<u32>(e);
  let stamp = load<u32>(d, D_CLOCK);
  let ack: f64 = 0;
  for (let l = line; l < line + lines; l++) {
    const arrive = pipeSlot(c, NT_PIPE, ntIssueNs, ntLineNs) + ntLatencyNs;
    stamp++;
    const slowdown = contention && load<u64>(e, 8) == fullMask ? writerSlowdown(d, arrive, 1 << cpu) : 1;
    ack = entryWrite(d, e, ml, l << 6, stamp, arrive, owner, heldWork(d, e, ml, slowdown));
    outPush(c, ack);
  }
  store<u32>(d, stamp, D_CLOCK);
  bufferFound(d, e);
  mediaCount(M_DIMM_BYTES_WRITTEN, <f64>(lines << 6));
  mediaCount(M_BUFFER_HITS, <f64>lines);
  if (contention) store<f64>(d + D_LAST_ACK + (<usize>cpu << 3), ack);
}

/**
 * The DIMM side of `count` non-temporal lines from line `first` by `cpu`, each issued on
 * the NT pipe, written to its DIMM and put in the flush queue, in order: what pipeSlot,
 * dimmWrite and outPush per line do, with the lines after the first of each media line (on
 * one DIMM) written by ntWriteRest.
 */
export function ntWriteLines(cpu: u32, first: u32, count: u32): void {
  const c = cpuState(cpu);
  const owner = writeOwner(cpu);
  const end = first + count;
  const perMediaLine = max<u32>(mediaLineBytes >> 6, 1);
  const perChunk = max<u32>(interleaveBytes >> 6, 1);
  let line = first;
  while (line < end) {
    const addr = line << 6;
    outPush(c, dimmWrite(addr, pipeSlot(c, NT_PIPE, ntIssueNs, ntLineNs) + ntLatencyNs, cpu, owner));
    line++;
    if (bufferLines == 0) continue;
    // The rest of this media line, as far as it stays on this DIMM.
    const next = <u64>line;
    const runEnd = <u32>min(<u64>end, min(next + <u64>(perMediaLine - line % perMediaLine) % <u64>perMediaLine, next + <u64>(perChunk - line % perChunk) % <u64>perChunk));
    if (line >= runEnd) continue;
    ntWriteRest(c, dimm(addr), line, runEnd - line, cpu, owner);
    line = runEnd;
  }
}

/**
 * When a write to media line `ml`, accepted at `accepted`, is acknowledged. The DIMM claims
 * an entry of its buffer for a line it did not hold (and maps its address) one line at a
 * time: the claim completes bufferMissNs after the last write to that line that came while
 * it was open, and those writes are acknowledged then. Any other write is acknowledged when
 * accepted. So a burst of lines into a new media line waits bufferMissNs after its last
 * line, while writes that wait for each other (clflush, or one per fence) pay it once.
 */
@inline function dimmClaim(d: usize, ml: u32, accepted: f64): f64 {
  if (load<u32>(d, D_CLAIM_LINE) != ml + 1 || accepted >= load<f64>(d, D_CLAIM_DONE)) return accepted;
  const done = accepted + bufferMissNs;
  store<f64>(d, done, D_CLAIM_DONE);
  return done;
}

/** `cpu`'s write stream moves to DIMM `d`: it stops counting as a writer of the one before. */
function joinWriters(d: usize, cpu: u32): void {
  const c = cpuState(cpu);
  const here = <u32>((d - DIMMS_OFFSET - COSTS_SIZE) / DIMM_STATE_SIZE) + 1;
  const before = load<u32>(c, CPU_WRITE_DIMM);
  if (before != here) {
    if (before != 0) {
      const old = <usize>DIMMS_OFFSET + COSTS_SIZE + <usize>(before - 1) * DIMM_STATE_SIZE;
      store<u32>(old, load<u32>(old, D_WRITERS) & ~(1 << cpu), D_WRITERS);
    }
    store<u32>(d, load<u32>(d, D_WRITERS) | (1 << cpu), D_WRITERS);
    store<u32>(c, here, CPU_WRITE_DIMM);
  }
}

/**
 * How much slower the DIMM writes its media while several CPUs write to it (docs/cost-model.md
 * §2.6, a fit to FAST'20 Fig. 4, not a mechanism). Its writers are the CPUs whose latest write
 * went to it (joinWriters), less those whose last write there was acknowledged more than
 * WRITER_QUIET_NS before `arrive`; the writing CPU (`self`, its bit; 0 for an eviction)
 * always counts. Time alone cannot tell who writes at once: the host runs each CPU for a
 * whole access at a time, so on a busy DIMM the CPUs' accesses follow each other in emulated
 * time although their threads write together. Beyond contentionWriters writers each media
 * write takes (writers / contentionWriters) ^ contentionExponent times as long; the host
 * computes that table once, so the core and the reference model round alike.
 */
function writerSlowdown(d: usize, arrive: f64, self: u32): f64 {
  const writers = load<u32>(d, D_WRITERS);
  if ((writers & ~self) == 0) return 1; // no other writer: no slowdown
  let k: u32 = 0;
  for (let o: u32 = 0; o < MAX_CPUS; o++) {
    const bit: u32 = 1 << o;
    if ((writers & bit) != 0 && ((self & bit) != 0 || load<f64>(d + D_LAST_ACK + (<usize>o << 3)) > arrive - WRITER_QUIET_NS)) k++;
  }
  return k <= 1 ? 1 : param(P_WRITER_SLOWDOWN + k - 1);
}

/**
 * The media work of evicting entry `e` (the buffer is full): nothing for a line the buffer
 * holds only from a read; else the line is written to the media, read first when it was
 * written in part and the DIMM does not hold its old contents (a read-modify-write).
 */
function evictWork(e: usize, slowdown: f64): f64 {
  const mask = load<u64>(e, 8);
  if (mask == 0) return 0;
  const lineBytes = <f64>mediaLineBytes;
  let work: f64 = 0;
  if (mask != fullMask && load<u32>(e, E_KNOWN) == 0) {
    mediaCount(M_MEDIA_BYTES_READ, lineBytes);
    work = mediaReadNs;
  }
  mediaCount(M_MEDIA_BYTES_WRITTEN, lineBytes);
  return (work + mediaWriteNs) * slowdown;
}

/**
 * A read that missed the buffer brings media line `ml` into it (VANS rmw.cpp: a read that
 * misses fills an entry, which later reads and writes find): the DIMM then holds its
 * contents, known, with no part written. It takes a free entry, or the least recently used
 * one if that holds no write; lines waiting to be written stay, and then the read passes by.
 */
function bufferAdmit(d: usize, ml: u32): void {
  const used = load<u32>(d, D_USED);
  const fresh = used < bufferLines;
  const e = fresh ? entryAt(d, used) : bufferOldest(d);
  if (!fresh && load<u64>(e, 8) != 0) return;
  bufferClaim(d, e, ml, fresh);
  const stamp = load<u32>(d, D_CLOCK) + 1;
  store<u32>(d, stamp, D_CLOCK);
  store<u32>(e, stamp, 4);
  store<u64>(e, 0, 8);
  store<f64>(e, 0, E_BUSY);
  store<u32>(e, 0, E_OWNER);
  store<u32>(e, 1, E_KNOWN);
}

@inline function lastRead(d: usize, cpu: u32): u32 {
  return load<u32>(d + D_LAST_READ + (<usize>cpu << 2));
}

/**
 * A read by `cpu` of the line at media address `addr` reaches its DIMM at time `at` (a load
 * miss or a store's read for ownership). The media is read unless that CPU's last read from
 * this DIMM was the same media line (the DIMM merges a stream's adjacent requests, one stream
 * per CPU) or the DIMM's buffer holds it; the read then queues behind the media's work, and
 * its media line enters the buffer (bufferAdmit). Returns how long it waited. Sets
 * lastReadWasSequential for loadMissNs.
 */
let lastReadWasSequential = false;
export function dimmRead(addr: u32, at: f64, cpu: u32): f64 {
  const d = dimm(addr);
  const ml = mediaLineOf(addr);
  const last = lastRead(d, cpu);
  store<u32>(d + D_LAST_READ + (<usize>cpu << 2), ml + 1);
  // Sequential: the same media line as this CPU's previous read from the DIMM, or the next one.
  lastReadWasSequential = last != 0 && (ml + 1 == last || ml == last);
  if (last == ml + 1 || bufferFind(d, ml) != 0) return 0;
  mediaCount(M_MEDIA_BYTES_READ, <f64>mediaLineBytes);
  aitFill(d, dimmBlock(addr), aitBlocks);
  if (bufferLines > 0) bufferAdmit(d, ml);
  if (wpqLines == 0) return 0;
  // The read waits for the work booked ahead of it on the calendar.
  return max(0, mediaBook(d, at, mediaReadNs) - mediaReadNs - at);
}

/** What a load miss by `cpu` at media address `addr`, reaching its DIMM at `at`, costs: the first miss of an access by locality. */
export function loadMissNs(addr: u32, first: bool, at: f64, cpu: u32): f64 {
  const wait = dimmRead(addr, at, cpu);
  if (!first) return wait + readLineNs;
  return wait + (lastReadWasSequential ? loadSeqNs : loadRandNs);
}

/**
 * The CPU's line budget (fill buffers shared by reads for ownership and write-backs): a line
 * wanting `lineNs` of it at time `at` starts once the budget is no more than fillBurstNs
 * ahead, so a burst of cold lines runs at the instructions' own pace and a long stream at
 * one line per lineNs. Returns when the line starts. Only called when fillBurstNs > 0.
 */
export function fillSlot(c: usize, at: f64, lineNs: f64): f64 {
  const budget = load<f64>(c, CPU_FILL_BUDGET);
  const start = max(at, budget - fillBurstNs);
  store<f64>(c, max(budget, start) + lineNs, CPU_FILL_BUDGET);
  return start;
}

/** Makes room in the CPU's flush queue: with maxOutstanding in flight, wait for the oldest. */
export function outWaitSlot(c: usize): void {
  const n = load<u32>(c, CPU_OUT_COUNT);
  if (n < maxOutstanding) return;
  const head = load<u32>(c, CPU_OUT_HEAD);
  const oldest = load<f64>(c + CPU_OUTQ_OFF + (<usize>head << 3));
  if (oldest > load<f64>(c, CPU_NOW)) store<f64>(c, oldest, CPU_NOW);
  store<u32>(c, (head + 1) % MAX_OUTSTANDING, CPU_OUT_HEAD);
  store<u32>(c, n - 1, CPU_OUT_COUNT);
}

/** Records a write-back or NT line completing at `done`. */
export function outPush(c: usize, done: f64): void {
  const n = load<u32>(c, CPU_OUT_COUNT);
  const at = (load<u32>(c, CPU_OUT_HEAD) + n) % MAX_OUTSTANDING;
  store<f64>(c + CPU_OUTQ_OFF + (<usize>at << 3), done);
  store<u32>(c, n + 1, CPU_OUT_COUNT);
}

/** Issues one overlapped line on a pipe (flush or NT): returns the time its slot starts. */
export function pipeSlot(c: usize, pipe: u32, issueNs: f64, lineNs: f64): f64 {
  outWaitSlot(c);
  const now = load<f64>(c, CPU_NOW) + issueNs;
  store<f64>(c, now, CPU_NOW);
  const slot = max(now, load<f64>(c + pipe));
  store<f64>(c + pipe, slot + lineNs);
  return slot;
}

/** A fence: the clock moves past its own cost and past every line in flight; the queue empties. */
export function fenceWait(c: usize, fenceNs: f64): void {
  const start = load<f64>(c, CPU_NOW) + fenceNs;
  let done = start;
  const n = load<u32>(c, CPU_OUT_COUNT);
  const head = load<u32>(c, CPU_OUT_HEAD);
  for (let i: u32 = 0; i < n; i++) done = max(done, load<f64>(c + CPU_OUTQ_OFF + (<usize>((head + i) % MAX_OUTSTANDING) << 3)));
  count(c, C_FENCE_WAIT_NS, done - start);
  store<u32>(c, load<u32>(c, CPU_FENCE_EPOCH) + 1, CPU_FENCE_EPOCH);
  store<f64>(c, done, CPU_NOW);
  store<u32>(c, 0, CPU_OUT_COUNT);
  store<u32>(c, 0, CPU_OUT_HEAD);
}

// Keep the pipe offsets exported for pmem.ts.
export const FLUSH_PIPE: u32 = CPU_FLUSH_PIPE;
export const NT_PIPE: u32 = CPU_NT_PIPE;
