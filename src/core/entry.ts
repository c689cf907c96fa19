/**
 * Slot words and DAX entries, host side. The wasm core has the same helpers in
 * assembly/entry.ts (same names); test/entry.test.ts holds the two equal bit for bit.
 *
 * A slot is one 32-bit word, classified by its low two bits as the XArray does
 * (include/linux/xarray.h):
 *
 *   ...........................00  pointer (non-zero): a page, e.g. a v4.5 hole page
 *   ...........................10  internal: sibling (0..62), retry (256), zero (257),
 *                                   node (address | 2, > 4096), error (-errno, top range)
 *   ...........................x1  value entry holding a 31-bit value v = word >>> 1
 *
 * A DAX entry is a value entry whose value packs flags below DAX_SHIFT and the pfn
 * above it (fs/dax.c, Linux v4.20+). In the raw word that is:
 *
 *   bit  31 ............. 5   4      3      2     1       0
 *        pfn (27 bits)        EMPTY  ZERO   PMD   LOCKED  1 (value)
 *
 * The kernel's slots are 64 bits wide, ours 32: the pfn field keeps 27 bits, so a
 * DAX entry addresses at most 2^27 pages (512 GiB). wasm32 caps the media at 4 GiB,
 * i.e. pfn < 2^20, so the limit is never reached by a valid emulator; daxMkEntry checks it.
 */
import { PmemError } from '../base/index.js';

export const XA_CHUNK_SHIFT = 6;
export const XA_CHUNK_SIZE = 1 << XA_CHUNK_SHIFT;
export const XA_MAX_MARKS = 3;
/** The largest index a tree accepts: indices are unsigned 32-bit page offsets. */
export const XA_MAX_INDEX = 0xffffffff;
export const MAX_ERRNO = 4095;

/** Page-cache marks (include/linux/fs.h): XA_MARK_0..2. */
export const PAGECACHE_TAG_DIRTY = 0;
export const PAGECACHE_TAG_WRITEBACK = 1;
export const PAGECACHE_TAG_TOWRITE = 2;

/** The orders a slot may hold: a page (PTE) or a 2 MiB extent (PMD). */
export const PMD_ORDER = 9;
export const PMD_NR = 1 << PMD_ORDER;

export const xaMkValue = (v: number): number => ((v << 1) | 1) >>> 0;
export const xaToValue = (e: number): number => e >>> 1;
export const xaIsValue = (e: number): boolean => (e & 1) === 1;
export const xaMkInternal = (v: number): number => ((v << 2) | 2) >>> 0;
export const xaToInternal = (e: number): number => e >> 2;
export const xaIsInternal = (e: number): boolean => (e & 3) === 2;
export const xaMkSibling = (offset: number): number => xaMkInternal(offset);
export const xaIsSibling = (e: number): boolean => xaIsInternal(e) && e < xaMkSibling(XA_CHUNK_SIZE - 1);
export const xaIsNode = (e: number): boolean => xaIsInternal(e) && e > 4096;
export const xaIsPointer = (e: number): boolean => e !== 0 && (e & 3) === 0;
export const XA_RETRY_ENTRY = xaMkInternal(256);
export const XA_ZERO_ENTRY = xaMkInternal(257);
export const xaMkError = (errno: number): number => xaMkInternal(-errno);
export const xaIsErr = (e: number): boolean => xaIsInternal(e) && e >>> 0 >= xaMkInternal(-MAX_ERRNO);
export const xaToErrno = (e: number): number => -(e >> 2);

export const DAX_SHIFT = 4;
export const DAX_LOCKED = 1 << 0;
export const DAX_PMD = 1 << 1;
export const DAX_ZERO_PAGE = 1 << 2;
export const DAX_EMPTY = 1 << 3;
/** The largest pfn a 32-bit slot can carry: 31 value bits less DAX_SHIFT flag bits. */
export const DAX_PFN_MAX = (1 << (31 - DAX_SHIFT)) - 1;

/** Packs a DAX entry (dax_make_entry); throws ERANGE when the pfn does not fit. */
export function daxMkEntry(pfn: number, flags: number): number {
  if (!Number.isInteger(pfn) || pfn < 0 || pfn > DAX_PFN_MAX) {
    throw new PmemError('ERANGE', `pfn ${pfn} does not fit a 32-bit slot (max ${DAX_PFN_MAX})`);
  }
  if (!Number.isInteger(flags) || flags < 0 || flags >= 1 << DAX_SHIFT) {
    throw new PmemError('EINVAL', `DAX flags ${flags} are not a combination of DAX_LOCKED|PMD|ZERO_PAGE|EMPTY`);
  }
  return xaMkValue(flags | (pfn << DAX_SHIFT));
}
export const daxToPfn = (e: number): number => xaToValue(e) >>> DAX_SHIFT;
export const daxFlags = (e: number): number => xaToValue(e) & ((1 << DAX_SHIFT) - 1);
export const daxIsLocked = (e: number): boolean => (xaToValue(e) & DAX_LOCKED) !== 0;
export const daxIsPmdEntry = (e: number): boolean => (xaToValue(e) & DAX_PMD) !== 0;
export const daxIsPteEntry = (e: number): boolean => (xaToValue(e) & DAX_PMD) === 0;
export const daxIsZeroEntry = (e: number): boolean => (xaToValue(e) & DAX_ZERO_PAGE) !== 0;
export const daxIsEmptyEntry = (e: number): boolean => (xaToValue(e) & DAX_EMPTY) !== 0;
export const daxIsConflict = (e: number): boolean => e === XA_RETRY_ENTRY;
export const daxEntryOrder = (e: number): number => (daxIsPmdEntry(e) ? PMD_ORDER : 0);
/** dax_lock_entry stores the entry again with DAX_LOCKED set; marks are untouched. */
export const daxLockedEntry = (e: number): number => xaMkValue(xaToValue(e) | DAX_LOCKED);
export const daxUnlockedEntry = (e: number): number => xaMkValue(xaToValue(e) & ~DAX_LOCKED);
