/**
 * Workingset shadow entries: what page reclaim leaves in the slot of an evicted page-cache
 * page so that a refault can tell how long the page was gone (mm/workingset.c
 * pack_shadow/unpack_shadow). The kernel packs the eviction counter with the node and memcg
 * ids into an exceptional (value) entry, so nothing in the bits tells a shadow from a DAX
 * entry; only the mapping's type does (docs/kernel-rules.md §1.1, §5.4).
 *
 * daxemu: a shadow is a value word whose DAX flag bits are ZERO_PAGE and EMPTY together, a
 * combination no DAX entry has, with the eviction counter (modulo 2^27) in the pfn field;
 * one memory node, no memcg. The emulator can therefore find a shadow that a bug let into a
 * DAX tree (checkInvariants), where the kernel could not.
 */
import { DAX_EMPTY, DAX_PFN_MAX, DAX_ZERO_PAGE, daxFlags, daxMkEntry, daxToPfn, xaIsValue } from '../core/index.js';

const SHADOW_FLAGS = DAX_ZERO_PAGE | DAX_EMPTY;

/** The shadow word for a page evicted at eviction counter `eviction`. */
export function packShadow(eviction: number): number {
  return daxMkEntry(eviction & DAX_PFN_MAX, SHADOW_FLAGS);
}

/** Whether a slot word is a shadow entry. */
export function isShadow(word: number): boolean {
  return word !== 0 && xaIsValue(word) && daxFlags(word) === SHADOW_FLAGS;
}

/** The eviction counter a shadow recorded. */
export function shadowEviction(word: number): number {
  return daxToPfn(word);
}
