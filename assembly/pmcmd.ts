// The hardware command loop: a buffer of encoded pmem operations run in one wasm call.
//
//   record (4 x u32): [ op, addr, len, data offset ]
//     PM_STORE / PM_NTSTORE: store `len` bytes taken from the data buffer at `data offset`
//     PM_LOAD:               load `len` bytes into the data buffer at `data offset`
//     PM_CLFLUSH / PM_CLFLUSHOPT / PM_CLWB: flush the lines of [addr, addr + len)
//     PM_SFENCE / PM_MFENCE: fence (addr, len and offset unused)
//
// The whole buffer is checked before anything runs, so a bad record changes nothing: the
// call returns -errno and leaves the failing record's number in pmRunFailed. That includes
// the memory of the media chunks the records write or load (chunks.ts): a buffer that
// needs more than the resident budget fails with -ENOMEM before its first record runs. The records
// hold the lines lock in runs of LOCK_RUN, so other threads' instructions interleave with
// these between runs.

import { EINVAL, ERANGE } from './errno';
import { chunksReserve } from './chunks';
import { MAX_CPUS, MEDIA_SIZE, SCRATCH_DATA_SIZE } from './layout';
import { FLUSH_CLFLUSH, FLUSH_CLFLUSHOPT, FLUSH_CLWB, fenceLines, flushLines, giveLines, loadLines, ntStoreLines, storeLines, takeLines } from './pmem';

/** Records run under one taking of the lines lock. */
const LOCK_RUN: u32 = 64;

export const PM_STORE: u32 = 1;
export const PM_LOAD: u32 = 2;
export const PM_NTSTORE: u32 = 3;
export const PM_CLFLUSH: u32 = 4;
export const PM_CLFLUSHOPT: u32 = 5;
export const PM_CLWB: u32 = 6;
export const PM_SFENCE: u32 = 7;
export const PM_MFENCE: u32 = 8;

/** The record that made the last pmRun fail. */
export let pmRunFailed: u32 = 0;

function check(op: u32, addr: u32, len: u32, off: u32): i32 {
  if (op < PM_STORE || op > PM_MFENCE) return -EINVAL;
  if (op >= PM_SFENCE) return 0;
  if (<u64>addr + <u64>len > <u64>MEDIA_SIZE) return -ERANGE;
  if (op <= PM_NTSTORE && <u64>off + <u64>len > <u64>SCRATCH_DATA_SIZE) return -EINVAL;
  return 0;
}

/** Gives the chunks of every store, NT store and load their memory: 0, or -errno with pmRunFailed set. */
function reserveChunks(ops: usize, count: u32): i32 {
  const held = takeLines();
  if (held != 0) {
    pmRunFailed = 0;
    return held;
  }
  let rc: i32 = 0;
  for (let i: u32 = 0; i < count && rc == 0; i++) {
    const r = ops + (<usize>i << 4);
    const op = load<u32>(r);
    if (op > PM_NTSTORE) continue;
    rc = chunksReserve(load<u32>(r, 4), load<u32>(r, 8), op != PM_LOAD);
    if (rc != 0) pmRunFailed = i;
  }
  giveLines();
  return rc;
}

/** Runs `count` records from `ops` for `cpu` with data at `data`; count, or -errno. */
export function pmRun(cpu: u32, ops: usize, count: u32, data: usize): i32 {
  if (cpu >= MAX_CPUS) {
    pmRunFailed = 0;
    return -EINVAL;
  }
  for (let i: u32 = 0; i < count; i++) {
    const r = ops + (<usize>i << 4);
    const bad = check(load<u32>(r), load<u32>(r, 4), load<u32>(r, 8), load<u32>(r, 12));
    if (bad != 0) {
      pmRunFailed = i;
      return bad;
    }
  }
  const reserved = reserveChunks(ops, count);
  if (reserved != 0) return reserved;
  // The lock is taken once per LOCK_RUN records, not per record: uncontended, a lock pair
  // costs about as much as a small record, and other threads still get in between runs.
  let held: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    if (held == 0) {
      const rc = takeLines();
      // Only a lock taken from a dead thread fails here (lock.ts); the records before ran.
      if (rc < 0) {
        pmRunFailed = i;
        return rc;
      }
    }
    const r = ops + (<usize>i << 4);
    const op = load<u32>(r);
    const addr = load<u32>(r, 4);
    const len = load<u32>(r, 8);
    const buf = data + <usize>load<u32>(r, 12);
    if (op >= PM_SFENCE) fenceLines(cpu, op == PM_MFENCE);
    else if (len == 0) {
      // nothing to do, as the instructions' own exports do for an empty range
    } else if (op == PM_STORE) storeLines(cpu, addr, buf, len, false);
    else if (op == PM_LOAD) loadLines(cpu, addr, buf, len, false);
    else if (op == PM_NTSTORE) ntStoreLines(cpu, addr, buf, len, false);
    else flushLines(cpu, op == PM_CLFLUSH ? FLUSH_CLFLUSH : op == PM_CLFLUSHOPT ? FLUSH_CLFLUSHOPT : FLUSH_CLWB, addr >> 6, (addr + len - 1) >> 6, false);
    if (++held == LOCK_RUN || i + 1 == count) {
      giveLines();
      held = 0;
    }
  }
  return <i32>count;
}
