// The persistent-memory instructions of one emulated CPU, on media addresses (byte offsets
// from the start of the media): store, load, ntstore, clflush, clflushopt, clwb, sfence,
// mfence. Each updates the line states (lines.ts), the undo slots, the media model and the
// CPU's clock (cost.ts), and returns 0 or -errno. A call that fails changes nothing.
//
// Durability, per instruction and persistence domain (docs/cost-model.md §2.1, §2.7, §3):
//   store       ADR: not durable until written back (flush + fence, clflush, or eviction).
//               eADR: durable once visible.
//   ntstore     bypasses the cache; durable after this CPU's next fence (both domains).
//   clflush     writes back and invalidates, serialised and ordered: durable when done.
//   clflushopt  writes back and invalidates, weakly ordered: durable at this CPU's fence.
//   clwb        writes back, keeps the line unless the preset says clwb invalidates;
//               durable at this CPU's fence.
//   sfence/mfence  wait for this CPU's write-backs and NT lines; they become durable.
// A line stored again after its flush but before the fence is treated as never flushed:
// the fence then does not make it durable (the older flushed contents are not tracked).
//
// Threads: every instruction that reads or changes shared state (line states, undo slots,
// the DIMMs' buffers and calendars, the media counters, the eviction rng) holds the lines
// lock (lock.ts) from its first line to its last, data copy included, so that each
// instruction is atomic against the other threads' as one instruction is on hardware. A
// CPU's own record (clock, pipes, flush queue, counters) is driven by one thread at a time
// and needs none. The exports take the lock; the functions they share do not.
//
// The media is sparse (chunks.ts): an export first gives the chunks of its range the memory
// it needs (a store's data and line states, a load's line states), or fails with -ENOMEM
// before it changes anything. Bytes move chunk by chunk (toMedia, fromMedia).

import { allZero } from './zero';
import { copyBytes } from './copy';
import { EINVAL, ERANGE } from './errno';
import {
  C_CLFLUSHOPT_CLEAN, C_CLFLUSHOPT_DIRTY, C_CLFLUSH_CLEAN, C_CLFLUSH_DIRTY, C_CLWB_CLEAN, C_CLWB_DIRTY, C_LOADS, C_LOAD_BYTES, C_LOAD_MISSES,
  C_MFENCES, C_NT_BYTES, C_NT_LINES, C_NT_STORES, C_SFENCES, C_STORES, C_STORE_BYTES, C_STORE_MISSES, CPU_CLFLUSH_DONE, CPU_NOW, NONE, count,
  cpuNow, cpuState, setCpuNow, writeOwner,
} from './cpu';
import {
  FLUSH_PIPE, NT_PIPE, clflushCleanNs, clwbInvalidates, dimmRead, dimmWrite, eadr, fenceWait, fillBurstNs, fillSlot, flushIssueNs, flushLineNs, loadHitNs,
  loadMissNs, mfenceNs, ntIssueNs, ntLatencyNs, ntLineNs, outPush, pipeSlot, readLineNs, sfenceNs, storeHitNs, storeMissNs, writebackNs,
} from './cost';
import { CHUNK_BYTES, CHUNK_MASK, chunkHasData, chunksReserve, mediaAt, stateAt } from './chunks';
import { CHUNK_SHIFT, H_LINES_LOCK, MAX_CPUS, MEDIA_SIZE, hdr } from './layout';
import { lockGive, lockGiveLong, lockTake, lockTakeLong } from './lock';
import {
  LINE_CACHED, LINE_DIRTY, LINE_PENDING, LINE_UNDO, lineState, pendingHead, pendingLink, pendingNext, pendingUnlink, setLineState, undoFind,
  undoPendingCpu, undoRelease, undoReleaseAll, undoTake, undoVictimDirty,
} from './lines';

export const FLUSH_CLFLUSH: u32 = 0;
export const FLUSH_CLFLUSHOPT: u32 = 1;
export const FLUSH_CLWB: u32 = 2;

/** 0 when [addr, addr + len) lies in the media and `cpu` exists, else -errno. */
@inline function checkRange(cpu: u32, addr: u32, len: u32): i32 {
  if (cpu >= MAX_CPUS) return -EINVAL;
  if (<u64>addr + <u64>len > <u64>MEDIA_SIZE) return -ERANGE;
  return 0;
}

/** Copies `len` bytes from `src` to media address `addr`, chunk by chunk; every chunk has data (chunksReserve). */
@inline function toMedia(addr: u32, src: usize, len: u32): void {
  while (true) {
    const n = min(len, CHUNK_BYTES - (addr & CHUNK_MASK));
    assert(chunkHasData(addr >> CHUNK_SHIFT));
    copyBytes(mediaAt(addr), src, n);
    if (n == len) return;
    addr += n;
    src += n;
    len -= n;
  }
}

/** Copies `len` bytes at media address `addr` to `dst`, chunk by chunk (a chunk without data reads zeros). */
@inline function fromMedia(dst: usize, addr: u32, len: u32): void {
  while (true) {
    const n = min(len, CHUNK_BYTES - (addr & CHUNK_MASK));
    copyBytes(dst, mediaAt(addr), n);
    if (n == len) return;
    addr += n;
    dst += n;
    len -= n;
  }
}

/** Takes the lines lock and gives [addr, addr + len)'s chunks what the access needs: 0, -EDEADLK or -ENOMEM (lock released). */
@inline function takeLinesFor(addr: u32, len: u32, write: bool): i32 {
  const held = takeLines();
  if (held != 0) return held;
  const rc = chunksReserve(addr, len, write);
  if (rc != 0) giveLines();
  return rc;
}

/** Takes the lines lock: 0, or -EDEADLK (lock.ts). */
@inline export function takeLines(): i32 {
  return lockTake(hdr(H_LINES_LOCK));
}

/**
 * Holds the lines lock across host calls, so that what they read (a crash image: the media
 * and the undo slots) is one instant's state: 0, or -EDEADLK. Other threads' instructions
 * wait until pmReleaseLines, however long that takes.
 */
export function pmHoldLines(): i32 {
  return lockTakeLong(hdr(H_LINES_LOCK));
}

/** Ends pmHoldLines's hold. */
export function pmReleaseLines(): void {
  lockGiveLong(hdr(H_LINES_LOCK));
}

@inline export function giveLines(): void {
  lockGive(hdr(H_LINES_LOCK));
}

/** Puts a non-durable line on `cpu`'s pending list (moving it from another CPU's): its next fence makes it durable. */
export function pendOn(cpu: u32, line: u32): void {
  const slot = undoFind(line);
  if (undoPendingCpu(slot) == cpu) return;
  pendingUnlink(slot);
  pendingLink(cpu, slot);
}

/** Makes a line non-durable (ADR): its current contents go to an undo slot first. */
function takeUndo(cpu: u32, line: u32): void {
  const victim = undoTake(cpu, line);
  // An evicted dirty line is written back: it reaches its DIMM.
  if (victim != NONE && undoVictimDirty) dimmWrite(victim << 6, cpuNow(cpuState(cpu)), cpu, 0);
}

/**
 * Stores `len` bytes from `src` (any wasm address) at media address `addr`. `more` is set
 * on the later pieces of one access the host split to fit its data buffer: they are not
 * counted again and do not pay the first miss again.
 */
export function pmStore(cpu: u32, addr: u32, src: usize, len: u32, more: bool): i32 {
  const bad = checkRange(cpu, addr, len);
  if (bad != 0 || len == 0) return bad;
  const held = takeLinesFor(addr, len, true);
  if (held != 0) return held;
  storeLines(cpu, addr, src, len, more);
  giveLines();
  return 0;
}

export function storeLines(cpu: u32, addr: u32, src: usize, len: u32, more: bool): void {
  const c = cpuState(cpu);
  const first = addr >> 6;
  const last = (addr + len - 1) >> 6;
  let cost: f64 = 0;
  let missed = more;
  for (let line = first; line <= last; line++) {
    const at = stateAt(line); // fixed for the loop body: giving a chunk memory happened before it
    let s = load<u8>(at);
    if ((s & LINE_CACHED) != 0) {
      cost += storeHitNs;
    } else {
      // The first miss pays for the read for ownership; the prefetcher hides the rest. Each
      // read still takes its DIMM's media time, and waits when the media is busy, and a
      // share of the CPU's fill buffers: a long cold stream stalls at their pace.
      if (fillBurstNs > 0) {
        const at = cpuNow(c) + cost;
        cost += fillSlot(c, at, readLineNs) - at;
      }
      cost += dimmRead(line << 6, cpuNow(c) + cost, cpu) + (missed ? storeHitNs : storeMissNs);
      missed = true;
      count(c, C_STORE_MISSES, 1);
    }
    if (eadr) {
      // Visible is durable: a pending NT write to the line is overtaken as well.
      if ((s & LINE_UNDO) != 0) undoRelease(undoFind(line));
    } else if ((s & LINE_UNDO) == 0) {
      takeUndo(cpu, line);
    } else if ((s & LINE_PENDING) != 0) {
      // Stored again before the fence: the flush no longer covers the newest data.
      pendingUnlink(undoFind(line));
    }
    s = load<u8>(at);
    store<u8>(at, (s & ~LINE_PENDING) | LINE_DIRTY | LINE_CACHED);
  }
  toMedia(addr, src, len);
  setCpuNow(c, cpuNow(c) + cost);
  if (!more) count(c, C_STORES, 1);
  count(c, C_STORE_BYTES, <f64>len);
}

/** Loads `len` bytes at media address `addr` into `dst`; loads see the newest data. `more` as for pmStore. */
export function pmLoad(cpu: u32, addr: u32, dst: usize, len: u32, more: bool): i32 {
  const bad = checkRange(cpu, addr, len);
  if (bad != 0 || len == 0) return bad;
  const held = takeLinesFor(addr, len, false);
  if (held != 0) return held;
  loadLines(cpu, addr, dst, len, more);
  giveLines();
  return 0;
}

export function loadLines(cpu: u32, addr: u32, dst: usize, len: u32, more: bool): void {
  const c = cpuState(cpu);
  const first = addr >> 6;
  const last = (addr + len - 1) >> 6;
  let cost: f64 = 0;
  let missed = more;
  for (let line = first; line <= last; line++) {
    const at = stateAt(line);
    const s = load<u8>(at);
    if ((s & LINE_CACHED) != 0) {
      cost += loadHitNs;
      continue;
    }
    cost += loadMissNs(line << 6, !missed, cpuNow(c) + cost, cpu);
    missed = true;
    count(c, C_LOAD_MISSES, 1);
    store<u8>(at, s | LINE_CACHED);
  }
  fromMedia(dst, addr, len);
  setCpuNow(c, cpuNow(c) + cost);
  if (!more) count(c, C_LOADS, 1);
  count(c, C_LOAD_BYTES, <f64>len);
}

/**
 * Non-temporal store: the data bypasses the cache, each line is written through the NT
 * pipe, and the lines become durable at this CPU's next fence. A partial line costs a
 * whole line (no write-combining across calls).
 */
export function pmNtStore(cpu: u32, addr: u32, src: usize, len: u32, more: bool): i32 {
  const bad = checkRange(cpu, addr, len);
  if (bad != 0 || len == 0) return bad;
  const held = takeLinesFor(addr, len, true);
  if (held != 0) return held;
  ntStoreLines(cpu, addr, src, len, more);
  giveLines();
  return 0;
}

export function ntStoreLines(cpu: u32, addr: u32, src: usize, len: u32, more: bool): void {
  const c = cpuState(cpu);
  const first = addr >> 6;
  const last = (addr + len - 1) >> 6;
  for (let line = first; line <= last; line++) {
    const slotStart = pipeSlot(c, NT_PIPE, ntIssueNs, ntLineNs);
    if ((lineState(line) & LINE_UNDO) == 0) takeUndo(cpu, line);
    pendOn(cpu, line);
    setLineState(line, (lineState(line) | LINE_PENDING) & ~(LINE_DIRTY | LINE_CACHED));
    outPush(c, dimmWrite(line << 6, slotStart + ntLatencyNs, cpu, writeOwner(cpu)));
  }
  toMedia(addr, src, len);
  if (!more) count(c, C_NT_STORES, 1);
  count(c, C_NT_LINES, <f64>(last - first + 1));
  count(c, C_NT_BYTES, <f64>len);
}

/** Flushes every line that [addr, addr + len) touches with `kind` (FLUSH_*). */
export function pmFlush(cpu: u32, kind: u32, addr: u32, len: u32): i32 {
  const bad = checkRange(cpu, addr, len);
  if (bad != 0) return bad;
  if (kind > FLUSH_CLWB) return -EINVAL;
  if (len == 0) return 0;
  const held = takeLines();
  if (held != 0) return held;
  flushLines(cpu, kind, addr >> 6, (addr + len - 1) >> 6, false);
  giveLines();
  return 0;
}

/** Flushes lines [first, last] (only the dirty ones when `dirtyOnly`); the caller holds the lines lock. */
export function flushLines(cpu: u32, kind: u32, first: u32, last: u32, dirtyOnly: bool): void {
  const c = cpuState(cpu);
  for (let line = first; line <= last; line++) {
    const at = stateAt(line);
    const s = load<u8>(at);
    const dirty = (s & LINE_DIRTY) != 0;
    if (dirtyOnly && !dirty) continue;
    if (kind == FLUSH_CLFLUSH) {
      // Serialised: starts after the previous clflush, and is complete when it returns.
      const start = max(cpuNow(c), load<f64>(c, CPU_CLFLUSH_DONE));
      const done = dirty ? dimmWrite(line << 6, start + writebackNs, cpu, writeOwner(cpu)) : start + clflushCleanNs;
      setCpuNow(c, done);
      store<f64>(c, done, CPU_CLFLUSH_DONE);
      if ((s & LINE_UNDO) != 0) undoRelease(undoFind(line));
      // Only a changed state is written: a chunk without line states of its own stays so.
      const after = load<u8>(at) & ~(LINE_DIRTY | LINE_CACHED);
      if (after != load<u8>(at)) store<u8>(at, after);
      count(c, dirty ? C_CLFLUSH_DIRTY : C_CLFLUSH_CLEAN, 1);
      continue;
    }
    let slotStart = pipeSlot(c, FLUSH_PIPE, flushIssueNs, flushLineNs);
    if (dirty && fillBurstNs > 0) {
      // A write-back also takes its share of the fill buffers; the pipe follows it.
      slotStart = fillSlot(c, slotStart, flushLineNs);
      store<f64>(c + FLUSH_PIPE, slotStart + flushLineNs);
    }
    outPush(c, dirty ? dimmWrite(line << 6, slotStart + writebackNs, cpu, writeOwner(cpu)) : slotStart);
    let next = s;
    if (dirty) {
      next &= ~LINE_DIRTY;
      if ((s & LINE_UNDO) != 0) {
        // Written back, not yet fenced: durable at this CPU's fence.
        pendOn(cpu, line);
        next |= LINE_PENDING;
      }
    }
    if (kind == FLUSH_CLFLUSHOPT || clwbInvalidates) next &= ~LINE_CACHED;
    if (next != s) store<u8>(at, next);
    if (kind == FLUSH_CLFLUSHOPT) count(c, dirty ? C_CLFLUSHOPT_DIRTY : C_CLFLUSHOPT_CLEAN, 1);
    else count(c, dirty ? C_CLWB_DIRTY : C_CLWB_CLEAN, 1);
  }
}

/**
 * Flushes only the dirty lines of [addr, addr + len): what an ideal kernel that tracked
 * dirty lines instead of dirty pages would do at writeback. Clean lines cost nothing.
 */
export function pmFlushDirty(cpu: u32, kind: u32, addr: u32, len: u32): i32 {
  const bad = checkRange(cpu, addr, len);
  if (bad != 0) return bad;
  if (kind > FLUSH_CLWB) return -EINVAL;
  if (len == 0) return 0;
  const held = takeLines();
  if (held != 0) return held;
  flushLines(cpu, kind, addr >> 6, (addr + len - 1) >> 6, true);
  giveLines();
  return 0;
}

/** pmZeroDurable checks ranges from this size up for zeros before writing them. */
const ZERO_CHECK_MIN: u32 = 64 << 10;

/**
 * Zeroes [addr, addr + len) as non-temporal stores of zeros followed by an sfence would,
 * in one pass: the same costs, counters and media traffic, and every line of the range
 * durable, clean and uncached at the end, without taking an undo copy on the way (nothing
 * can crash in between). How freshly allocated blocks are zeroed.
 */
export function pmZeroDurable(cpu: u32, addr: u32, len: u32): i32 {
  const bad = checkRange(cpu, addr, len);
  if (bad != 0) return bad;
  const held = takeLines();
  if (held != 0) return held;
  if (len > 0) zeroLines(cpu, addr, len);
  fenceLines(cpu, false);
  giveLines();
  return 0;
}

function zeroLines(cpu: u32, addr: u32, len: u32): void {
  const c = cpuState(cpu);
  const first = addr >> 6;
  const last = (addr + len - 1) >> 6;
  for (let line = first; line <= last; line++) {
    outPush(c, dimmWrite(line << 6, pipeSlot(c, NT_PIPE, ntIssueNs, ntLineNs) + ntLatencyNs, cpu, writeOwner(cpu)));
    if ((lineState(line) & LINE_UNDO) != 0) undoRelease(undoFind(line));
    if (lineState(line) != 0) setLineState(line, 0);
  }
  // Media never written since creation is still the operating system's zero pages: reading
  // them costs little, while writing zeros would commit every page of a 2 MiB extent that a
  // workload may touch once. A small range is written at once: its page is about to be used,
  // and a read first would fault it twice. A chunk without data of its own is zeros already.
  const small = len < ZERO_CHECK_MIN;
  for (let at = addr, left = len; left > 0; ) {
    const n = min(left, CHUNK_BYTES - (at & CHUNK_MASK));
    if (chunkHasData(at >> CHUNK_SHIFT) && (small || !allZero(mediaAt(at), <usize>n))) memory.fill(mediaAt(at), 0, n);
    at += n;
    left -= n;
  }
  count(c, C_NT_STORES, 1);
  count(c, C_NT_LINES, <f64>(last - first + 1));
  count(c, C_NT_BYTES, <f64>len);
}

/**
 * Flushes `lines` lines that are not on the media and not dirty (the kernel's zero page):
 * the instruction's cost for clean lines, counted as clean flushes; no line state changes.
 */
export function pmFlushClean(cpu: u32, kind: u32, lines: u32): i32 {
  if (cpu >= MAX_CPUS || kind > FLUSH_CLWB) return -EINVAL;
  const c = cpuState(cpu);
  for (let i: u32 = 0; i < lines; i++) {
    if (kind == FLUSH_CLFLUSH) {
      const done = max(cpuNow(c), load<f64>(c, CPU_CLFLUSH_DONE)) + clflushCleanNs;
      setCpuNow(c, done);
      store<f64>(c, done, CPU_CLFLUSH_DONE);
      count(c, C_CLFLUSH_CLEAN, 1);
    } else {
      outPush(c, pipeSlot(c, FLUSH_PIPE, flushIssueNs, flushLineNs));
      count(c, kind == FLUSH_CLFLUSHOPT ? C_CLFLUSHOPT_CLEAN : C_CLWB_CLEAN, 1);
    }
  }
  return 0;
}

/** Advances a CPU's clock by `ns` (kernel work the hardware model does not see: faults). */
export function pmAdvance(cpu: u32, ns: f64): i32 {
  if (cpu >= MAX_CPUS || !(ns >= 0)) return -EINVAL;
  const c = cpuState(cpu);
  setCpuNow(c, cpuNow(c) + ns);
  return 0;
}

/** sfence (mfence when `full`): waits for this CPU's lines in flight; they become durable. */
export function pmFence(cpu: u32, full: bool): i32 {
  if (cpu >= MAX_CPUS) return -EINVAL;
  const held = takeLines();
  if (held != 0) return held;
  fenceLines(cpu, full);
  giveLines();
  return 0;
}

export function fenceLines(cpu: u32, full: bool): void {
  const c = cpuState(cpu);
  fenceWait(c, full ? mfenceNs : sfenceNs);
  let slot = undoReleaseAll(cpu) ? NONE : pendingHead(cpu);
  while (slot != NONE) {
    const next = pendingNext(slot);
    undoRelease(slot);
    slot = next;
  }
  count(c, full ? C_MFENCES : C_SFENCES, 1);
}

/** The CPU's emulated clock, ns (-1 for a CPU that does not exist). */
export function pmNow(cpu: u32): f64 {
  return cpu < MAX_CPUS ? load<f64>(cpuState(cpu), CPU_NOW) : -1;
}
