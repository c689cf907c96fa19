// Entry encoding: the XArray word classes and the DAX value layout (docs/kernel-rules.md §1.4,
// include/linux/xarray.h, fs/dax.c), on the host (src/core/entry.ts) and in the core.
import { describe, expect, it } from 'vitest';
import {
  DAX_EMPTY, DAX_LOCKED, DAX_PFN_MAX, DAX_PMD, DAX_ZERO_PAGE, XA_RETRY_ENTRY, XA_ZERO_ENTRY, daxEntryOrder, daxIsConflict, daxIsEmptyEntry,
  daxIsLocked, daxIsPmdEntry, daxIsPteEntry, daxIsZeroEntry, daxLockedEntry, daxMkEntry, daxToPfn, daxUnlockedEntry, xaIsErr, xaIsInternal,
  xaIsNode, xaIsPointer, xaIsSibling, xaIsValue, xaMkError, xaMkSibling, xaMkValue, xaToErrno, xaToValue,
} from '../src/core/entry.js';
import { PmemError } from '../src/base/errors.js';
import { Rng } from '../src/base/random.js';
import { BUILDS, makeCore } from './helpers.js';

describe('XArray word classes (include/linux/xarray.h)', () => {
  it('a value entry is (v << 1) | 1 and round-trips 31 bits', () => {
    expect(xaMkValue(0)).toBe(1);
    expect(xaMkValue(0x12345)).toBe(0x2468b);
    expect(xaMkValue(0x7fffffff)).toBe(0xffffffff);
    expect(xaToValue(xaMkValue(0x7fffffff))).toBe(0x7fffffff);
    expect(xaIsValue(xaMkValue(7))).toBe(true);
  });

  it('internal words: siblings 0..62, retry 256, zero 257, nodes above 4096, errors at the top', () => {
    expect(xaMkSibling(0)).toBe(2);
    expect(xaIsSibling(xaMkSibling(62))).toBe(true);
    expect(xaIsSibling(xaMkSibling(63))).toBe(false);
    expect(XA_RETRY_ENTRY).toBe(1026);
    expect(XA_ZERO_ENTRY).toBe(1030);
    expect(xaIsInternal(XA_RETRY_ENTRY) && !xaIsSibling(XA_RETRY_ENTRY) && !xaIsNode(XA_RETRY_ENTRY)).toBe(true);
    expect(xaIsNode(0x10000 | 2)).toBe(true);
    expect(xaIsNode(4094)).toBe(false);
    expect(xaMkError(22)).toBe(0xffffffaa);
    expect(xaIsErr(xaMkError(22)) && xaToErrno(xaMkError(22)) === 22).toBe(true);
    expect(xaIsErr(xaMkError(4095))).toBe(true);
    expect(xaIsErr(0xffff0002)).toBe(false); // a node address just below the error range
  });

  it('a pointer entry is non-zero with low bits 00; zero is empty, not a pointer', () => {
    expect(xaIsPointer(0x1000)).toBe(true);
    expect(xaIsPointer(0)).toBe(false);
    expect(xaIsPointer(xaMkValue(4))).toBe(false);
  });
});

describe('DAX entries (fs/dax.c, Linux v4.20+; docs/kernel-rules.md §1.4)', () => {
  it('raw words match the worked values: DATA-PTE (p << 5) | 1, locked EMPTY-PTE 0x13, locked EMPTY-PMD 0x17', () => {
    expect(daxMkEntry(0x800, 0)).toBe((0x800 << 5) | 1);
    expect(daxMkEntry(0, DAX_EMPTY | DAX_LOCKED)).toBe(0x13);
    expect(daxMkEntry(0, DAX_EMPTY | DAX_PMD | DAX_LOCKED)).toBe(0x17);
    expect(daxMkEntry(3, DAX_ZERO_PAGE)).toBe((((3 << 4) | 4) << 1) | 1);
  });

  it('flag predicates read exactly their own bit', () => {
    const all = daxMkEntry(9, DAX_LOCKED | DAX_PMD | DAX_ZERO_PAGE | DAX_EMPTY);
    expect([daxIsLocked(all), daxIsPmdEntry(all), daxIsZeroEntry(all), daxIsEmptyEntry(all)]).toEqual([true, true, true, true]);
    const none = daxMkEntry(9, 0);
    expect([daxIsLocked(none), daxIsPmdEntry(none), daxIsZeroEntry(none), daxIsEmptyEntry(none), daxIsPteEntry(none)]).toEqual([false, false, false, false, true]);
    expect(daxEntryOrder(daxMkEntry(1, DAX_PMD))).toBe(9);
    expect(daxEntryOrder(none)).toBe(0);
    expect(daxIsConflict(XA_RETRY_ENTRY)).toBe(true);
  });

  it('pfn and flags round-trip over the whole 27-bit pfn range', () => {
    const rng = new Rng(42);
    for (let i = 0; i < 10_000; i++) {
      const pfn = i === 0 ? DAX_PFN_MAX : rng.below(DAX_PFN_MAX + 1);
      const flags = rng.below(16);
      const e = daxMkEntry(pfn, flags);
      expect(xaIsValue(e)).toBe(true);
      expect(daxToPfn(e)).toBe(pfn);
      expect(xaToValue(e) & 15).toBe(flags);
    }
  });

  it('locking sets only DAX_LOCKED and unlocking clears only it (dax_lock_entry)', () => {
    const e = daxMkEntry(0x1234, DAX_PMD);
    expect(daxLockedEntry(e)).toBe(e | 2);
    expect(daxUnlockedEntry(daxLockedEntry(e))).toBe(e);
    expect(daxToPfn(daxLockedEntry(e))).toBe(0x1234);
  });

  it('a pfn that does not fit a 32-bit slot is refused with ERANGE', () => {
    expect(DAX_PFN_MAX).toBe(2 ** 27 - 1);
    expect(() => daxMkEntry(DAX_PFN_MAX + 1, 0)).toThrowError(PmemError);
    try {
      daxMkEntry(2 ** 27, 0);
    } catch (err) {
      expect((err as PmemError).code).toBe('ERANGE');
    }
    expect(() => daxMkEntry(-1, 0)).toThrowError(/pfn/);
    expect(() => daxMkEntry(1, 16)).toThrowError(/flags/);
  });
});

describe.each(BUILDS)('core encoding (%s build) equals the host encoding', (build) => {
  it('daxMkEntry gives the same word in the core and on the host, and both refuse pfn 2^27', async () => {
    const core = await makeCore(build);
    const rng = new Rng(7);
    for (let i = 0; i < 5000; i++) {
      const pfn = rng.below(DAX_PFN_MAX + 1);
      const flags = rng.below(16);
      expect(core.daxMkEntry(pfn, flags)).toBe(daxMkEntry(pfn, flags));
    }
    expect(() => core.daxMkEntry(DAX_PFN_MAX + 1, 0)).toThrowError(expect.objectContaining({ code: 'ERANGE' }));
  });
});
