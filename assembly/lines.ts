// Persistence state of every 64-byte media line, and the undo slots that keep the last
// durable contents of each line that is not durable yet.
//
// Line states live with the media's chunks (chunks.ts): stateAt finds a line's byte, and a
// chunk that never left state 0 shares the zero chunk's. Only a caller that made sure the
// chunk has states of its own (chunksReserve) may set a state other than the one it reads.
//
// The media always holds the newest data, so loads read it directly; what a power failure
// would leave is rebuilt from the undo slots (crash images). A line's state byte:
//
//   bit 0  LINE_DIRTY    modified in the cache: a flush has to write it back
//   bit 1  LINE_PENDING  written back by clflushopt/clwb, or written by an NT store, and not
//                        fenced yet: durable only once this CPU fences
//   bit 2  LINE_CACHED   present in the cache (loads and stores hit)
//   bit 3  LINE_UNDO     not durable: an undo slot holds its durable contents
//
// Under eADR a store is durable when it is visible, so stores take no undo slot; NT stores
// still do, since they bypass the cache and need a fence (PMDK keeps it: docs/cost-model.md §3).
//
// Undo slots (UNDO_OFFSET):
//   records[slots] (16 B): line, prev, next (this CPU's pending list), cpu (NONE if not pending)
//   data[slots]    (64 B): the line's durable contents
//   free[slots]    (4 B):  stack of free slot numbers
//   hash[buckets]  (4 B):  line -> slot + 1, linear probing, 0 = empty
// When every slot is taken, a seeded random victim is written back (evicted): it becomes
// durable and its slot is reused. So the undo memory, like a cache, stays bounded.

import { chunksInit, mediaAt, stateAt } from './chunks';
import { copyBytes } from './copy';
import { C_EVICTIONS, CPU_PENDING_COUNT, CPU_PENDING_HEAD, NONE, count, cpuState } from './cpu';
import { H_UNDO_USED, UNDO_HASH_BUCKETS, UNDO_OFFSET, UNDO_SLOTS, hdr } from './layout';
import { rngBelow } from './rng';

export const LINE_DIRTY: u8 = 1;
export const LINE_PENDING: u8 = 2;
export const LINE_CACHED: u8 = 4;
export const LINE_UNDO: u8 = 8;
export const LINE_BYTES: u32 = 64;

const REC_LINE: u32 = 0;
const REC_PREV: u32 = 4;
const REC_NEXT: u32 = 8;
const REC_CPU: u32 = 12;

@inline export function lineState(line: u32): u8 { return load<u8>(stateAt(line)); }
@inline export function setLineState(line: u32, s: u8): void { store<u8>(stateAt(line), s); }
/** Where a line's bytes are read (a line never straddles chunks). */
@inline export function lineAddr(line: u32): usize { return mediaAt(line << 6); }

@inline function rec(slot: u32): usize { return <usize>UNDO_OFFSET + (<usize>slot << 4); }
@inline export function undoData(slot: u32): usize { return <usize>UNDO_OFFSET + (<usize>UNDO_SLOTS << 4) + (<usize>slot << 6); }
@inline function freeStack(): usize { return <usize>UNDO_OFFSET + <usize>UNDO_SLOTS * 80; }
@inline function hashAt(bucket: u32): usize { return freeStack() + (<usize>UNDO_SLOTS << 2) + (<usize>bucket << 2); }
/**
 * A line's home bucket: runs of 16 lines (1 KiB of media) hash as one, each line at its own
 * place in a run of 16 buckets (one 64-byte cache line), so that a page's 64 lines touch
 * 4 cache lines of the hash rather than 64.
 */
@inline function hashOf(line: u32): u32 { return (((line >> 4) * 0x9e3779b1) << 4 | (line & 15)) & (UNDO_HASH_BUCKETS - 1); }
@inline export function undoUsed(): u32 { return load<u32>(hdr(H_UNDO_USED)); }
@inline export function undoLine(slot: u32): u32 { return load<u32>(rec(slot), REC_LINE); }
@inline export function undoPendingCpu(slot: u32): u32 { return load<u32>(rec(slot), REC_CPU); }

/** Empties every line state and undo slot, and gives every chunk's memory back. */
export function linesInit(): void {
  chunksInit();
  const stack = freeStack();
  for (let i: u32 = 0; i < UNDO_SLOTS; i++) store<u32>(stack + (<usize>i << 2), UNDO_SLOTS - 1 - i);
  memory.fill(hashAt(0), 0, <usize>UNDO_HASH_BUCKETS << 2);
  store<u32>(hdr(H_UNDO_USED), 0);
}

/** The undo slot of a line, or NONE. */
export function undoFind(line: u32): u32 {
  let b = hashOf(line);
  while (true) {
    const v = load<u32>(hashAt(b));
    if (v == 0) return NONE;
    if (undoLine(v - 1) == line) return v - 1;
    b = (b + 1) & (UNDO_HASH_BUCKETS - 1);
  }
}

function hashInsert(line: u32, slot: u32): void {
  let b = hashOf(line);
  while (load<u32>(hashAt(b)) != 0) b = (b + 1) & (UNDO_HASH_BUCKETS - 1);
  store<u32>(hashAt(b), slot + 1);
}

/** Removes a line from the hash, shifting later entries back so probes stay unbroken. */
function hashRemove(line: u32): void {
  const mask = UNDO_HASH_BUCKETS - 1;
  let b = hashOf(line);
  while (undoLine(load<u32>(hashAt(b)) - 1) != line) b = (b + 1) & mask;
  let hole = b;
  let next = (hole + 1) & mask;
  while (true) {
    const v = load<u32>(hashAt(next));
    if (v == 0) break;
    const home = hashOf(undoLine(v - 1));
    // Move the entry into the hole unless its home lies cyclically in (hole, next].
    const stays = hole <= next ? home > hole && home <= next : home > hole || home <= next;
    if (!stays) {
      store<u32>(hashAt(hole), v);
      hole = next;
    }
    next = (next + 1) & mask;
  }
  store<u32>(hashAt(hole), 0);
}

/** Links a slot into a CPU's pending list (it must be in none). */
export function pendingLink(cpu: u32, slot: u32): void {
  const c = cpuState(cpu);
  const head = load<u32>(c, CPU_PENDING_HEAD);
  const r = rec(slot);
  store<u32>(r, NONE, REC_PREV);
  store<u32>(r, head, REC_NEXT);
  store<u32>(r, cpu, REC_CPU);
  if (head != NONE) store<u32>(rec(head), slot, REC_PREV);
  store<u32>(c, slot, CPU_PENDING_HEAD);
  store<u32>(c, load<u32>(c, CPU_PENDING_COUNT) + 1, CPU_PENDING_COUNT);
}

/** Unlinks a slot from whichever CPU's pending list holds it (no-op if none). */
export function pendingUnlink(slot: u32): void {
  const r = rec(slot);
  const cpu = load<u32>(r, REC_CPU);
  if (cpu == NONE) return;
  const c = cpuState(cpu);
  const prev = load<u32>(r, REC_PREV);
  const next = load<u32>(r, REC_NEXT);
  if (prev != NONE) store<u32>(rec(prev), next, REC_NEXT);
  else store<u32>(c, next, CPU_PENDING_HEAD);
  if (next != NONE) store<u32>(rec(next), prev, REC_PREV);
  store<u32>(r, NONE, REC_CPU);
  store<u32>(c, load<u32>(c, CPU_PENDING_COUNT) - 1, CPU_PENDING_COUNT);
}

/** The first slot of a CPU's pending list, or NONE; undoPendingNext walks on. */
@inline export function pendingHead(cpu: u32): u32 { return load<u32>(cpuState(cpu), CPU_PENDING_HEAD); }
@inline export function pendingNext(slot: u32): u32 { return load<u32>(rec(slot), REC_NEXT); }

/** Frees a line's undo slot: the line is durable from now on. */
export function undoRelease(slot: u32): void {
  const line = undoLine(slot);
  pendingUnlink(slot);
  hashRemove(line);
  const used = undoUsed();
  store<u32>(freeStack() + (<usize>(UNDO_SLOTS - used) << 2), slot);
  store<u32>(hdr(H_UNDO_USED), used - 1);
  setLineState(line, lineState(line) & ~(LINE_UNDO | LINE_PENDING));
}

/** Whether the victim of the last undoTake eviction was dirty (its write-back reaches a DIMM). */
export let undoVictimDirty: bool = false;

/**
 * Makes `line` non-durable: copies its current (durable) contents into a new undo slot.
 * When no slot is free a seeded random victim is evicted first: written back, it becomes
 * durable and leaves the cache. `cpu` is charged with the eviction. Returns the victim's
 * line, or NONE when nothing was evicted.
 */
export function undoTake(cpu: u32, line: u32): u32 {
  let victim: u32 = NONE;
  if (undoUsed() == UNDO_SLOTS) {
    const slot = rngBelow(UNDO_SLOTS);
    victim = undoLine(slot);
    undoVictimDirty = (lineState(victim) & LINE_DIRTY) != 0;
    undoRelease(slot);
    setLineState(victim, lineState(victim) & ~(LINE_DIRTY | LINE_CACHED));
    count(cpuState(cpu), C_EVICTIONS, 1);
  }
  const used = undoUsed();
  const slot = load<u32>(freeStack() + (<usize>(UNDO_SLOTS - used - 1) << 2));
  store<u32>(hdr(H_UNDO_USED), used + 1);
  const r = rec(slot);
  store<u32>(r, line, REC_LINE);
  store<u32>(r, NONE, REC_CPU);
  copyBytes(undoData(slot), lineAddr(line), LINE_BYTES);
  hashInsert(line, slot);
  setLineState(line, lineState(line) | LINE_UNDO);
  return victim;
}

/**
 * Whether the bulk paths may be taken: undoReleaseAll here, the page path of page-copy.ts.
 * Tests turn them off to compare (pmNtStorePagesPath).
 */
export let undoBulk: bool = true;

export function setUndoBulk(on: bool): void {
  undoBulk = on;
}

/**
 * What ntStoreLines does to the undo state of `lines` lines from `line` on, none of which
 * has a slot, when as many slots are free: each in line order takes a slot (undoTake, no
 * eviction) and goes onto `cpu`'s pending list (pendingLink), pending, neither dirty nor
 * cached. The records, list and states end as those calls leave them; the lines' contents
 * go into their slots in one copy per run of consecutive slots.
 */
export function undoTakePending(cpu: u32, line: u32, lines: u32): void {
  const c = cpuState(cpu);
  const used = undoUsed();
  let head = load<u32>(c, CPU_PENDING_HEAD);
  let runLine = line;
  let runSlot: u32 = NONE;
  for (let i: u32 = 0; i < lines; i++) {
    const l = line + i;
    const slot = load<u32>(freeStack() + (<usize>(UNDO_SLOTS - used - i - 1) << 2));
    const r = rec(slot);
    store<u32>(r, l, REC_LINE);
    store<u32>(r, NONE, REC_PREV);
    store<u32>(r, head, REC_NEXT);
    store<u32>(r, cpu, REC_CPU);
    if (head != NONE) store<u32>(rec(head), slot, REC_PREV);
    head = slot;
    hashInsert(l, slot);
    setLineState(l, (lineState(l) | LINE_UNDO | LINE_PENDING) & ~(LINE_DIRTY | LINE_CACHED));
    if (slot != runSlot + (l - runLine)) {
      if (l > runLine) memory.copy(undoData(runSlot), lineAddr(runLine), (l - runLine) * LINE_BYTES);
      runLine = l;
      runSlot = slot;
    }
  }
  if (lines > 0) memory.copy(undoData(runSlot), lineAddr(runLine), (line + lines - runLine) * LINE_BYTES);
  store<u32>(hdr(H_UNDO_USED), used + lines);
  store<u32>(c, head, CPU_PENDING_HEAD);
  store<u32>(c, load<u32>(c, CPU_PENDING_COUNT) + lines, CPU_PENDING_COUNT);
}

/**
 * undoRelease of every slot on `cpu`'s pending list, in list order, when those are all the
 * slots in use and many (at least 1/32 of the hash's buckets): the hash then ends empty, so
 * it is cleared in one fill instead of entry by entry, and the list's records end as
 * pendingUnlink leaves them (no CPU, no previous slot). False, and nothing done, otherwise.
 */
export function undoReleaseAll(cpu: u32): bool {
  const c = cpuState(cpu);
  const used = undoUsed();
  if (!undoBulk || load<u32>(c, CPU_PENDING_COUNT) != used || (<u64>used << 5) < <u64>UNDO_HASH_BUCKETS) return false;
  let left = used;
  for (let slot = load<u32>(c, CPU_PENDING_HEAD); slot != NONE; slot = load<u32>(rec(slot), REC_NEXT)) {
    const r = rec(slot);
    const line = load<u32>(r, REC_LINE);
    store<u32>(r, NONE, REC_PREV);
    store<u32>(r, NONE, REC_CPU);
    store<u32>(freeStack() + (<usize>(UNDO_SLOTS - left) << 2), slot);
    left--;
    setLineState(line, lineState(line) & ~(LINE_UNDO | LINE_PENDING));
  }
  memory.fill(hashAt(0), 0, <usize>UNDO_HASH_BUCKETS << 2);
  store<u32>(hdr(H_UNDO_USED), 0);
  store<u32>(c, NONE, CPU_PENDING_HEAD);
  store<u32>(c, 0, CPU_PENDING_COUNT);
  return true;
}
