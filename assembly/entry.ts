// Slot words and DAX entries. One 32-bit word per slot, classified by its low two bits as
// the XArray does (include/linux/xarray.h):
//
//   ...........................00  pointer (non-zero): a page, e.g. a v4.5 hole page
//   ...........................10  internal: sibling 0..62, retry 256, zero 257,
//                                   node (address | 2, > 4096), error (-errno, top range)
//   ...........................x1  value entry holding a 31-bit value v = word >> 1
//
// A DAX entry is a value entry packing flags below DAX_SHIFT and the pfn above it
// (fs/dax.c, Linux v4.20+). In the raw word:
//
//   bit  31 ............. 5   4      3      2     1       0
//        pfn (27 bits)        EMPTY  ZERO   PMD   LOCKED  1 (value)
//
// The kernel's slots are 64 bits, ours 32: the pfn keeps 27 bits (2^27 pages, 512 GiB of
// media). wasm32 caps the media at 4 GiB (pfn < 2^20), so a valid emulator never reaches
// the limit; daxMkEntry still checks it. src/core/entry.ts is the host's twin of this file.

export const XA_CHUNK_SHIFT: u32 = 6;
export const XA_CHUNK_SIZE: u32 = 1 << XA_CHUNK_SHIFT;
export const XA_CHUNK_MASK: u32 = XA_CHUNK_SIZE - 1;
export const XA_MAX_MARKS: u32 = 3;
export const MAX_ERRNO: i32 = 4095;

export const PAGECACHE_TAG_DIRTY: u32 = 0;
export const PAGECACHE_TAG_WRITEBACK: u32 = 1;
export const PAGECACHE_TAG_TOWRITE: u32 = 2;

export const PMD_ORDER: u32 = 9;
export const PMD_NR: u32 = 1 << PMD_ORDER;
/** An order-9 entry fills this many slots of a shift-6 node: the canonical one and 7 siblings. */
export const PMD_SLOTS: u32 = PMD_NR >> XA_CHUNK_SHIFT;

@inline export function xaMkValue(v: u32): u32 { return (v << 1) | 1; }
@inline export function xaToValue(e: u32): u32 { return e >> 1; }
@inline export function xaIsValue(e: u32): bool { return (e & 1) != 0; }
@inline export function xaMkInternal(v: i32): u32 { return (<u32>v << 2) | 2; }
@inline export function xaToInternal(e: u32): i32 { return <i32>e >> 2; }
@inline export function xaIsInternal(e: u32): bool { return (e & 3) == 2; }
@inline export function xaMkSibling(offset: u32): u32 { return xaMkInternal(<i32>offset); }
@inline export function xaIsSibling(e: u32): bool { return xaIsInternal(e) && e < xaMkSibling(XA_CHUNK_SIZE - 1); }
// A node word also carries its node's level: address | (shift / 6) << 2 | 2. Nodes are
// 64-byte aligned, so those address bits are free, and a walk then reads only the slot it
// follows, one cache line per level (the kernel reads node->shift instead).
@inline export function xaMkNode(node: usize, shift: u32): u32 { return <u32>node | ((shift / XA_CHUNK_SHIFT) << 2) | 2; }
@inline export function xaToNode(e: u32): usize { return <usize>(e & ~63); }
@inline export function xaNodeShift(e: u32): u32 { return ((e >> 2) & 7) * XA_CHUNK_SHIFT; }
@inline export function xaIsNode(e: u32): bool { return xaIsInternal(e) && e > 4096; }
@inline export function xaMkError(errno: i32): u32 { return xaMkInternal(-errno); }
@inline export function xaIsErr(e: u32): bool { return xaIsInternal(e) && e >= xaMkInternal(-MAX_ERRNO); }
/** An entry a caller may store: a value or a non-zero pointer, never an internal word. */
@inline export function xaIsStorable(e: u32): bool { return !xaIsInternal(e); }
export const XA_RETRY_ENTRY: u32 = xaMkInternal(256);
export const XA_ZERO_ENTRY: u32 = xaMkInternal(257);

export const DAX_SHIFT: u32 = 4;
export const DAX_LOCKED: u32 = 1 << 0;
export const DAX_PMD: u32 = 1 << 1;
export const DAX_ZERO_PAGE: u32 = 1 << 2;
export const DAX_EMPTY: u32 = 1 << 3;
export const DAX_FLAGS_MASK: u32 = (1 << DAX_SHIFT) - 1;
export const DAX_PFN_MAX: u32 = (1 << (31 - DAX_SHIFT)) - 1;

/** dax_make_entry: an XA_ERROR word (ERANGE) when the pfn does not fit a 32-bit slot. */
export function daxMkEntry(pfn: u32, flags: u32): u32 {
  if (pfn > DAX_PFN_MAX || flags > DAX_FLAGS_MASK) return xaMkError(34 /* ERANGE */);
  return xaMkValue(flags | (pfn << DAX_SHIFT));
}
@inline export function daxToPfn(e: u32): u32 { return xaToValue(e) >> DAX_SHIFT; }
@inline export function daxIsLocked(e: u32): bool { return (xaToValue(e) & DAX_LOCKED) != 0; }
@inline export function daxIsPmdEntry(e: u32): bool { return (xaToValue(e) & DAX_PMD) != 0; }
@inline export function daxIsPteEntry(e: u32): bool { return (xaToValue(e) & DAX_PMD) == 0; }
@inline export function daxIsZeroEntry(e: u32): bool { return (xaToValue(e) & DAX_ZERO_PAGE) != 0; }
@inline export function daxIsEmptyEntry(e: u32): bool { return (xaToValue(e) & DAX_EMPTY) != 0; }
@inline export function daxIsConflict(e: u32): bool { return e == XA_RETRY_ENTRY; }
@inline export function daxEntryOrder(e: u32): u32 { return daxIsPmdEntry(e) ? PMD_ORDER : 0; }
@inline export function daxLockedEntry(e: u32): u32 { return xaMkValue(xaToValue(e) | DAX_LOCKED); }
@inline export function daxUnlockedEntry(e: u32): u32 { return xaMkValue(xaToValue(e) & ~DAX_LOCKED); }
