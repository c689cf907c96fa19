// Per-CPU state: one record per emulated CPU (a host thread drives one), 4 KiB each.
//
//     0  f64 now             the CPU's emulated clock, ns
//     8  f64 flushPipeFree   when the overlapped-flush pipe can take the next line
//    16  f64 ntPipeFree      the same for non-temporal lines
//    24  f64 clflushDone     when the last (serialised) clflush completed
//    32  u32 outCount        flushes and NT lines in flight (not yet fenced)
//    36  u32 outHead         ring position of the oldest in flight
//    40  u32 pendingHead     first undo slot of the lines this CPU flushed and has not fenced
//    44  u32 pendingCount
//    48  u32 fenceEpoch      fences this CPU has executed (what separates its write requests)
//    52  u32 writeDimm       the DIMM this CPU wrote to last + 1 (0: none), for writer contention
//    56  f64 fillBudget      when the CPU's fill buffers have worked off every line given them
//    64  f64 counters[CPU_COUNTERS]
//   512  f64 outQ[MAX_OUTSTANDING]   completion times, a ring

import { CPUS_OFFSET, CPU_STATE_SIZE } from './layout';

export const CPU_NOW: u32 = 0;
export const CPU_FLUSH_PIPE: u32 = 8;
export const CPU_NT_PIPE: u32 = 16;
export const CPU_CLFLUSH_DONE: u32 = 24;
export const CPU_OUT_COUNT: u32 = 32;
export const CPU_OUT_HEAD: u32 = 36;
export const CPU_PENDING_HEAD: u32 = 40;
export const CPU_PENDING_COUNT: u32 = 44;
export const CPU_FENCE_EPOCH: u32 = 48;
export const CPU_WRITE_DIMM: u32 = 52;
export const CPU_FILL_BUDGET: u32 = 56;
export const CPU_COUNTERS_OFF: u32 = 64;
export const CPU_OUTQ_OFF: u32 = 512;
export const MAX_OUTSTANDING: u32 = 64;
export const NONE: u32 = 0xffffffff;

// Counters, by index (src/core/core.ts names them in the same order).
export const C_LOADS: u32 = 0;
export const C_LOAD_BYTES: u32 = 1;
export const C_LOAD_MISSES: u32 = 2;
export const C_STORES: u32 = 3;
export const C_STORE_BYTES: u32 = 4;
export const C_STORE_MISSES: u32 = 5;
export const C_NT_STORES: u32 = 6;
export const C_NT_LINES: u32 = 7;
export const C_NT_BYTES: u32 = 8;
export const C_CLFLUSH_DIRTY: u32 = 9;
export const C_CLFLUSH_CLEAN: u32 = 10;
export const C_CLFLUSHOPT_DIRTY: u32 = 11;
export const C_CLFLUSHOPT_CLEAN: u32 = 12;
export const C_CLWB_DIRTY: u32 = 13;
export const C_CLWB_CLEAN: u32 = 14;
export const C_SFENCES: u32 = 15;
export const C_MFENCES: u32 = 16;
export const C_EVICTIONS: u32 = 17;
export const C_FENCE_WAIT_NS: u32 = 18;
export const CPU_COUNTERS: u32 = 19;

@inline export function cpuState(cpu: u32): usize { return <usize>CPUS_OFFSET + <usize>cpu * CPU_STATE_SIZE; }
@inline export function cpuNow(c: usize): f64 { return load<f64>(c, CPU_NOW); }
@inline export function setCpuNow(c: usize, t: f64): void { store<f64>(c, t, CPU_NOW); }
/**
 * Who a write belongs to, for the DIMM's read-modify-write rule: this CPU's writes since its
 * last fence form one request. Never 0 (0 is a cache eviction, which belongs to no request).
 */
@inline export function writeOwner(cpu: u32): u32 {
  return (load<u32>(cpuState(cpu), CPU_FENCE_EPOCH) << 6) + cpu + 1;
}
@inline export function count(c: usize, counter: u32, by: f64): void {
  const at = c + CPU_COUNTERS_OFF + (<usize>counter << 3);
  store<f64>(at, load<f64>(at) + by);
}

/** Resets a CPU record: clock 0, nothing in flight, nothing pending, counters 0. */
export function cpuReset(cpu: u32): void {
  const c = cpuState(cpu);
  memory.fill(c, 0, CPU_STATE_SIZE);
  store<u32>(c, NONE, CPU_PENDING_HEAD);
}
