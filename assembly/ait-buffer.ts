// A DIMM's own DRAM as a cache of 4 KiB blocks: what Optane's controller keeps beside the
// address indirection table (the "AIT buffer" of VANS, src/general/ait.cpp in
// TheNetAdmin/VANS: 4096 entries of 4 KiB in vans.cfg). A read that reaches the media leaves
// its block there, so a later write to part of a media line in that block finds the old
// contents in DRAM and needs no read of the media: the DIMM knows them, as if it had read
// the line for ownership (cost.ts dimmTake).
//
// Simplifications, said in docs/hardware-model.md: the cache is direct-mapped (VANS's is
// fully associative with LRU), only reads that went to the media fill it (VANS fills it from
// read-modify-write reads too, which would lift the fenced small-write stream of FAST'20
// Fig. 13 well above what was measured), and reads it holds still cost what a media read
// costs (the load latencies are fitted to measurements, not built from parts).
//
// Within a DIMM's state (assembly/cost.ts has the rest), from AIT_OFFSET:
//     u32 tag[MAX_AIT_BLOCKS]   the DIMM-local block number + 1 held in each slot (0: empty)

import { CAL_END } from './media-calendar';

export const AIT_OFFSET: u32 = CAL_END;
/** The most blocks a DIMM's DRAM cache may hold (src/hw/presets.ts checks aitBufferBlocks against it). */
export const MAX_AIT_BLOCKS: u32 = 4096;
/** The bytes a DIMM's state takes up to the cache's end. */
export const AIT_END: u32 = AIT_OFFSET + (MAX_AIT_BLOCKS << 2);

/** The slot that holds `block` (a DIMM-local 4 KiB block number) in a cache of `blocks` slots. */
@inline function slotOf(d: usize, block: u32, blocks: u32): usize {
  return d + AIT_OFFSET + (<usize>(block % blocks) << 2);
}

/** Whether the DIMM at `d`, caching `blocks` blocks, holds DIMM-local block `block`. */
export function aitHolds(d: usize, block: u32, blocks: u32): bool {
  return blocks != 0 && load<u32>(slotOf(d, block, blocks)) == block + 1;
}

/** The DIMM read DIMM-local block `block` from its media: the cache now holds it. */
export function aitFill(d: usize, block: u32, blocks: u32): void {
  if (blocks != 0) store<u32>(slotOf(d, block, blocks), block + 1);
}
