// Setting up and reading out the hardware model: initialisation, counters, the undo list
// that crash images are built from, line states for tests.

import { CPU_COUNTERS, CPU_COUNTERS_OFF, cpuReset, cpuState } from './cpu';
import { COST_PARAMS, costAttach, costReset, costSet, mediaCounter, MEDIA_COUNTERS } from './cost';
import { EINVAL } from './errno';
import { LINES_SIZE, MAX_CPUS, UNDO_SLOTS } from './layout';
import { lineState, linesInit, undoData, undoFind, undoLine, undoPendingCpu, undoUsed } from './lines';
import { mediaInit } from './media';
import { rngSeed } from './rng';

/** Initialises media, lines, undo slots, CPUs and counters; the cost parameters must be set. */
export function pmInit(seed: u32): void {
  costAttach();
  mediaInit();
  linesInit();
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) cpuReset(cpu);
  costReset();
  rngSeed(seed);
  return 0;
}

/** A thread attaching to a laid-out memory reads the cost parameters once. */
export function pmAttach(): void {
  costAttach();
}

/** Per-CPU counter `i` (cpu.ts C_*), or NaN for a bad index. */
export function pmCounter(cpu: u32, i: u32): f64 {
  if (cpu >= MAX_CPUS || i >= CPU_COUNTERS) return NaN;
  return load<f64>(cpuState(cpu) + CPU_COUNTERS_OFF + (<usize>i << 3));
}

/** Shared media counter `i` (cost.ts M_*), or NaN. */
export function pmMediaCounter(i: u32): f64 {
  return i < MEDIA_COUNTERS ? mediaCounter(i) : NaN;
}

/** Where the last pmUndoList stopped: the slot to continue from, or UNDO_SLOTS when done. */
export let pmUndoNext: u32 = 0;

/**
 * Writes one record per non-durable line into `dst`, at most `max`, scanning the undo
 * slots from `fromSlot`: [line, undo data address, state byte, pending cpu]. Returns how
 * many; pmUndoNext says where to go on. Crash images are built from this list.
 */
export function pmUndoList(dst: usize, max: u32, fromSlot: u32): u32 {
  let n: u32 = 0;
  let slot = fromSlot;
  for (; slot < UNDO_SLOTS && n < max; slot++) {
    const line = undoLine(slot);
    // A slot is in use exactly when the hash maps its line back to it.
    if (line >= LINES_SIZE || undoFind(line) != slot) continue;
    const r = dst + (<usize>n << 4);
    store<u32>(r, line, 0);
    store<u32>(r, <u32>undoData(slot), 4);
    store<u32>(r, lineState(line), 8);
    store<u32>(r, undoPendingCpu(slot), 12);
    n++;
  }
  pmUndoNext = slot;
  return n;
}

/** A line's state byte (lines.ts LINE_*), or -EINVAL past the media. */
export function pmLineState(line: u32): i32 {
  return line < LINES_SIZE ? <i32>lineState(line) : -EINVAL;
}

/** Undo slots in use: lines that are not durable. */
export function pmUndoUsed(): u32 {
  return undoUsed();
}

export { costSet, COST_PARAMS };
