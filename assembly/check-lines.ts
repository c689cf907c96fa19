// The line states and undo slots checked against each other, for tests: what a lost update
// between threads (a race on the lines lock's state) would break first.
//
// Checked (a violation returns its LINES_* code and leaves the line or slot in linesCheckAt):
//   - as many lines carry LINE_UNDO as undo slots are in use, and each slot in use names a
//     line that carries it (so each such line has exactly one slot);
//   - LINE_PENDING only on a line with LINE_UNDO, and exactly when its slot is on a CPU's
//     pending list; each CPU's list links back (prev/next) and has its counted length;
//   - the zero chunk, which every chunk without memory of its own reads (chunks.ts), is
//     still all zeros.
// Only chunks with line states of their own are scanned: the others are all state 0.
// Runs under the lines lock, so it sees no instruction half-done.

import { CPU_PENDING_COUNT, NONE, cpuState } from './cpu';
import { CHUNK_LINE_SHIFT, CHUNK_RESIDENT_BYTES, chunkHasStates } from './chunks';
import { CHUNKS, H_LINES_LOCK, LINES_SIZE, MAX_CPUS, UNDO_SLOTS, ZERO_OFFSET, hdr } from './layout';
import { allZero } from './zero';
import { LINE_PENDING, LINE_UNDO, lineState, pendingHead, pendingNext, undoFind, undoLine, undoPendingCpu, undoUsed } from './lines';
import { lockGive, lockTake } from './lock';

export const LINES_OK: i32 = 0;
export const LINES_UNDO_STRAY: i32 = 1;
export const LINES_UNDO_COUNT: i32 = 2;
export const LINES_PENDING_FLAG: i32 = 3;
export const LINES_PENDING_LIST: i32 = 4;
export const LINES_PENDING_COUNT: i32 = 5;
export const LINES_ZERO_CHUNK: i32 = 6;

/** The line (or, for list errors, the slot) a failed check stopped at. */
export let linesCheckAt: u32 = 0;

function fail(code: i32, at: u32): i32 {
  linesCheckAt = at;
  return code;
}

function checkLines(): i32 {
  // The state bytes alone first (cheap: no hash lookups), then each slot in use.
  let withUndo: u32 = 0;
  let pendingLines: u32 = 0;
  if (CHUNKS > 0 && !allZero(<usize>ZERO_OFFSET, CHUNK_RESIDENT_BYTES)) return fail(LINES_ZERO_CHUNK, 0);
  for (let c: u32 = 0; c < CHUNKS; c++) {
    if (!chunkHasStates(c)) continue;
    const end = (c + 1) << CHUNK_LINE_SHIFT;
    for (let line: u32 = c << CHUNK_LINE_SHIFT; line < end; line++) {
      const s = lineState(line);
      if ((s & LINE_UNDO) != 0) withUndo++;
      if ((s & LINE_PENDING) != 0) {
        if ((s & LINE_UNDO) == 0) return fail(LINES_PENDING_FLAG, line);
        pendingLines++;
      }
    }
  }
  if (withUndo != undoUsed()) return fail(LINES_UNDO_COUNT, withUndo);
  // As many slots in use as lines that need one, each naming a line that does: a bijection.
  for (let slot: u32 = 0; slot < UNDO_SLOTS; slot++) {
    const line = undoLine(slot);
    if (line >= LINES_SIZE || undoFind(line) != slot) continue; // a free slot
    const s = lineState(line);
    if ((s & LINE_UNDO) == 0) return fail(LINES_UNDO_STRAY, line);
    if (((s & LINE_PENDING) != 0) != (undoPendingCpu(slot) != NONE)) return fail(LINES_PENDING_FLAG, line);
  }
  let listed: u32 = 0;
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) {
    let n: u32 = 0;
    for (let slot = pendingHead(cpu); slot != NONE; slot = pendingNext(slot)) {
      if (undoPendingCpu(slot) != cpu || n > undoUsed()) return fail(LINES_PENDING_LIST, slot);
      n++;
    }
    if (n != load<u32>(cpuState(cpu), CPU_PENDING_COUNT)) return fail(LINES_PENDING_COUNT, cpu);
    listed += n;
  }
  return listed == pendingLines ? LINES_OK : fail(LINES_PENDING_COUNT, listed);
}

/** Checks every line and undo slot: LINES_OK, a LINES_* code, or -EDEADLK (lock.ts). */
export function pmCheckLines(): i32 {
  const held = lockTake(hdr(H_LINES_LOCK));
  if (held != 0) return held;
  const rc = checkLines();
  lockGive(hdr(H_LINES_LOCK));
  return rc;
}
