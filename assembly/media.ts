// The media's block (pfn) allocator: 4 KiB blocks, and 2 MiB extents aligned to 2 MiB for
// PMD mappings. A pfn here is a block number counted from the start of the media.
//
//   ALLOC_OFFSET: bitmap, one bit per block (1 = in use)
//   then:         u16 per 2 MiB extent: how many of its 512 blocks are free
//
// Single blocks come from extents already in use before they break a free one, so that
// whole extents stay available for PMD faults as long as space allows (the filesystems'
// allocators aim for the same with their 2 MiB-aligned extents).

import { ENOSPC, EINVAL } from './errno';
import { ALLOC_OFFSET, BLOCK_SHIFT, EXTENT_SHIFT, H_FREE_BLOCKS, MEDIA_SIZE, hdr } from './layout';

export const BLOCKS_PER_EXTENT: u32 = 1 << (EXTENT_SHIFT - BLOCK_SHIFT);

// The extent the last single-block allocation came from: where the next one looks first.
let partialHint: u32 = 0;

@inline function blockCount(): u32 { return MEDIA_SIZE >> BLOCK_SHIFT; }
@inline function extentCount(): u32 { return MEDIA_SIZE >> EXTENT_SHIFT; }
@inline function countsAddr(): usize { return <usize>ALLOC_OFFSET + ((blockCount() + 7) >> 3); }
@inline function extentFree(e: u32): u32 { return load<u16>(countsAddr() + (<usize>e << 1)); }
@inline function setExtentFree(e: u32, n: u32): void { store<u16>(countsAddr() + (<usize>e << 1), <u16>n); }
@inline function blockUsed(pfn: u32): bool { return (load<u8>(<usize>ALLOC_OFFSET + (pfn >> 3)) & (1 << (pfn & 7))) != 0; }
@inline function addFree(d: i32): void { store<u32>(hdr(H_FREE_BLOCKS), load<u32>(hdr(H_FREE_BLOCKS)) + d); }

function markBlock(pfn: u32, used: bool): void {
  const at = <usize>ALLOC_OFFSET + (pfn >> 3);
  const bit = <u8>(<u32>1 << (pfn & 7));
  store<u8>(at, used ? load<u8>(at) | bit : load<u8>(at) & ~bit);
}

/** Marks every block free; called once when the media is laid out. */
export function mediaInit(): void {
  memory.fill(<usize>ALLOC_OFFSET, 0, (blockCount() + 7) >> 3);
  for (let e: u32 = 0; e < extentCount(); e++) setExtentFree(e, BLOCKS_PER_EXTENT);
  store<u32>(hdr(H_FREE_BLOCKS), blockCount());
  partialHint = 0;
}

/** Free 4 KiB blocks. */
export function mediaFreeBlocks(): u32 {
  return load<u32>(hdr(H_FREE_BLOCKS));
}

/** Allocates a free, 2 MiB-aligned 2 MiB extent; its first pfn, or -ENOSPC when none is whole. */
export function mediaAllocExtent(): i32 {
  for (let e: u32 = 0; e < extentCount(); e++) {
    if (extentFree(e) != BLOCKS_PER_EXTENT) continue;
    memory.fill(<usize>ALLOC_OFFSET + ((e * BLOCKS_PER_EXTENT) >> 3), 0xff, BLOCKS_PER_EXTENT >> 3);
    setExtentFree(e, 0);
    addFree(-<i32>BLOCKS_PER_EXTENT);
    return <i32>(e * BLOCKS_PER_EXTENT);
  }
  return -ENOSPC;
}

/** Allocates one 4 KiB block, from a partly used extent when there is one; its pfn or -ENOSPC. */
export function mediaAllocBlock(): i32 {
  const extents = extentCount();
  if (extents == 0 || mediaFreeBlocks() == 0) return -ENOSPC;
  let chosen: u32 = extents;
  const hinted = partialHint < extents ? extentFree(partialHint) : 0;
  if (hinted > 0 && hinted < BLOCKS_PER_EXTENT) {
    chosen = partialHint;
  } else {
    let whole: u32 = extents;
    for (let e: u32 = 0; e < extents; e++) {
      const free = extentFree(e);
      if (free > 0 && free < BLOCKS_PER_EXTENT) {
        chosen = e;
        break;
      }
      if (free == BLOCKS_PER_EXTENT && whole == extents) whole = e;
    }
    if (chosen == extents) chosen = whole;
  }
  const first = chosen * BLOCKS_PER_EXTENT;
  for (let pfn = first; pfn < first + BLOCKS_PER_EXTENT; pfn++) {
    if (blockUsed(pfn)) continue;
    markBlock(pfn, true);
    setExtentFree(chosen, extentFree(chosen) - 1);
    addFree(-1);
    partialHint = chosen;
    return <i32>pfn;
  }
  return -ENOSPC; // unreachable while the counts are right
}

/** Frees `count` blocks from `pfn`; -EINVAL (nothing freed) if any is out of range or already free. */
export function mediaFree(pfn: u32, count: u32): i32 {
  if (count == 0 || <u64>pfn + <u64>count > <u64>blockCount()) return -EINVAL;
  for (let i: u32 = 0; i < count; i++) if (!blockUsed(pfn + i)) return -EINVAL;
  for (let i: u32 = 0; i < count; i++) {
    const b = pfn + i;
    markBlock(b, false);
    const e = b / BLOCKS_PER_EXTENT;
    setExtentFree(e, extentFree(e) + 1);
  }
  addFree(<i32>count);
  return 0;
}

/** Marks `count` free blocks from `pfn` allocated (rebuilding a crash image's files); -EINVAL if any is taken. */
export function mediaReserve(pfn: u32, count: u32): i32 {
  if (count == 0 || <u64>pfn + <u64>count > <u64>blockCount()) return -EINVAL;
  for (let i: u32 = 0; i < count; i++) if (blockUsed(pfn + i)) return -EINVAL;
  for (let i: u32 = 0; i < count; i++) {
    const b = pfn + i;
    markBlock(b, true);
    const e = b / BLOCKS_PER_EXTENT;
    setExtentFree(e, extentFree(e) - 1);
  }
  addFree(-<i32>count);
  return 0;
}

/** 1 when block `pfn` is allocated, 0 when free, -EINVAL when out of range. */
export function mediaBlockUsed(pfn: u32): i32 {
  if (pfn >= blockCount()) return -EINVAL;
  return blockUsed(pfn) ? 1 : 0;
}
