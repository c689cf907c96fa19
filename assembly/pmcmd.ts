// The hardware command loop: a buffer of encoded pmem operations run in one wasm call.
//
//   record (4 x u32): [ op, addr, len, data offset ]
//     PM_STORE / PM_NTSTORE: store `len` bytes taken from the data buffer at `data offset`
//     PM_LOAD:               load `len` bytes into the data buffer at `data offset`
//     PM_CLFLUSH / PM_CLFLUSHOPT / PM_CLWB: flush the lines of [addr, addr + len)
//     PM_SFENCE / PM_MFENCE: fence (addr, len and offset unused)
//
// The whole buffer is checked before anything runs, so a bad record changes nothing: the
// call returns -errno and leaves the failing record's number in pmRunFailed. Each record
// takes the lines lock on its own, so other threads' instructions interleave with these.

import { EINVAL, ERANGE } from './errno';
import { MAX_CPUS, MEDIA_SIZE, SCRATCH_DATA_SIZE } from './layout';
import { FLUSH_CLFLUSH, FLUSH_CLFLUSHOPT, FLUSH_CLWB, pmFence, pmFlush, pmLoad, pmNtStore, pmStore } from './pmem';

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
  for (let i: u32 = 0; i < count; i++) {
    const r = ops + (<usize>i << 4);
    const op = load<u32>(r);
    const addr = load<u32>(r, 4);
    const len = load<u32>(r, 8);
    const buf = data + <usize>load<u32>(r, 12);
    let rc: i32 = 0;
    if (op == PM_STORE) rc = pmStore(cpu, addr, buf, len, false);
    else if (op == PM_LOAD) rc = pmLoad(cpu, addr, buf, len, false);
    else if (op == PM_NTSTORE) rc = pmNtStore(cpu, addr, buf, len, false);
    else if (op == PM_CLFLUSH) rc = pmFlush(cpu, FLUSH_CLFLUSH, addr, len);
    else if (op == PM_CLFLUSHOPT) rc = pmFlush(cpu, FLUSH_CLFLUSHOPT, addr, len);
    else if (op == PM_CLWB) rc = pmFlush(cpu, FLUSH_CLWB, addr, len);
    else rc = pmFence(cpu, op == PM_MFENCE);
    // Only a lock taken from a dead thread fails here (lock.ts); the records before ran.
    if (rc < 0) {
      pmRunFailed = i;
      return rc;
    }
  }
  return <i32>count;
}
