// The XPBuffer index of one DIMM: which of its (at most 64) buffer entries holds a media
// line, and which entry was written least recently. A small hash table answers the first
// and a list in write order the second, so neither scans the entries. The result is the
// same as scanning: the entry holding the media line, and the one with the oldest stamp
// (the reference model, src/model/pmem.ts, scans).
//
// Within a DIMM's state (assembly/cost.ts has the rest):
//     8 u32 used        entries in use, filled from index 0
//    12 u32 lastFound   the entry found last, tried first (sequential writes hit it 3 times in 4)
//    32 u8  mru         the most recently written entry + 1 (0: none)
//    33 u8  lru         the least recently written entry + 1
//    64 entries[64]     32 bytes each, the media line number first
//  2624 u8 hash[128]    entry + 1 (0: empty), linear probing from a multiplicative hash
//  2752 u8 newer[64]    per entry: the entry written next after it + 1 (0: it is the mru)
//  2816 u8 older[64]    per entry: the entry written just before it + 1 (0: it is the lru)

export const D_USED: u32 = 8;
export const D_LAST_FOUND: u32 = 12;
const D_MRU: u32 = 32;
const D_LRU: u32 = 33;
export const D_ENTRIES: u32 = 64;
export const ENTRY_SHIFT: u32 = 5;
const D_HASH: u32 = 2624;
const HASH_SLOTS: u32 = 128; // twice the entries: probes stay short
const D_NEWER: u32 = 2752;
const D_OLDER: u32 = 2816;
/** The first byte after the index: cost.ts puts the DIMM's write queue there. */
export const XPBUFFER_END: u32 = 2880;

@inline export function entryAt(d: usize, i: u32): usize {
  return d + D_ENTRIES + (<usize>i << ENTRY_SHIFT);
}

@inline function indexOf(d: usize, e: usize): u32 {
  return <u32>((e - d - D_ENTRIES) >> ENTRY_SHIFT);
}

/** The home slot of media line `ml`: the top 7 bits of a Fibonacci hash. */
@inline function home(ml: u32): u32 {
  return (ml * 0x9e3779b1) >>> 25;
}

@inline function slotAt(d: usize, s: u32): u32 {
  return <u32>load<u8>(d + D_HASH + s);
}

/** The buffer entry holding media line `ml` in DIMM `d`, or 0. */
export function bufferFind(d: usize, ml: u32): usize {
  const used = load<u32>(d, D_USED);
  const last = load<u32>(d, D_LAST_FOUND);
  if (last < used && load<u32>(entryAt(d, last)) == ml) return entryAt(d, last);
  for (let s = home(ml); ; s = (s + 1) & (HASH_SLOTS - 1)) {
    const v = slotAt(d, s);
    if (v == 0) return 0;
    if (load<u32>(entryAt(d, v - 1)) == ml) {
      store<u32>(d, v - 1, D_LAST_FOUND);
      return entryAt(d, v - 1);
    }
  }
  return 0; // unreachable: the table is never full
}

/** What bufferFind leaves behind when it finds entry `e`: tried first next time. */
@inline export function bufferFound(d: usize, e: usize): void {
  store<u32>(d, indexOf(d, e), D_LAST_FOUND);
}

function hashInsert(d: usize, ml: u32, i: u32): void {
  let s = home(ml);
  while (slotAt(d, s) != 0) s = (s + 1) & (HASH_SLOTS - 1);
  store<u8>(d + D_HASH + s, <u8>(i + 1));
}

/** Removes media line `ml` (present) from the table, shifting later probes back into the hole. */
function hashRemove(d: usize, ml: u32): void {
  let hole = home(ml);
  while (load<u32>(entryAt(d, slotAt(d, hole) - 1)) != ml) hole = (hole + 1) & (HASH_SLOTS - 1);
  for (let j = (hole + 1) & (HASH_SLOTS - 1); ; j = (j + 1) & (HASH_SLOTS - 1)) {
    const v = slotAt(d, j);
    if (v == 0) break;
    const k = home(load<u32>(entryAt(d, v - 1)));
    // An entry whose home lies cyclically in (hole, j] must stay where it is.
    const stays = hole <= j ? k > hole && k <= j : k > hole || k <= j;
    if (stays) continue;
    store<u8>(d + D_HASH + hole, <u8>v);
    hole = j;
  }
  store<u8>(d + D_HASH + hole, 0);
}

function unlink(d: usize, i: u32): void {
  const newer = <u32>load<u8>(d + D_NEWER + i);
  const older = <u32>load<u8>(d + D_OLDER + i);
  if (newer != 0) store<u8>(d + D_OLDER + newer - 1, <u8>older);
  else store<u8>(d, <u8>older, D_MRU);
  if (older != 0) store<u8>(d + D_NEWER + older - 1, <u8>newer);
  else store<u8>(d, <u8>newer, D_LRU);
}

function pushNewest(d: usize, i: u32): void {
  const mru = <u32>load<u8>(d, D_MRU);
  store<u8>(d + D_NEWER + i, 0);
  store<u8>(d + D_OLDER + i, <u8>mru);
  if (mru != 0) store<u8>(d + D_NEWER + mru - 1, <u8>(i + 1));
  else store<u8>(d, <u8>(i + 1), D_LRU);
  store<u8>(d, <u8>(i + 1), D_MRU);
}

/** Entry `e` was just written: it becomes the most recently written. */
export function bufferTouch(d: usize, e: usize): void {
  const i = indexOf(d, e);
  if (<u32>load<u8>(d, D_MRU) == i + 1) return;
  unlink(d, i);
  pushNewest(d, i);
}

/** The least recently written entry (the buffer is full). */
export function bufferOldest(d: usize): usize {
  return entryAt(d, <u32>load<u8>(d, D_LRU) - 1);
}

/**
 * Gives entry `e` (a free one, or bufferOldest's, whose old contents the caller has
 * accounted for) to media line `ml`: it is indexed under `ml` and becomes the newest. The
 * caller sets its fields.
 */
export function bufferClaim(d: usize, e: usize, ml: u32, fresh: bool): void {
  const i = indexOf(d, e);
  if (fresh) {
    store<u32>(d, i + 1, D_USED);
    pushNewest(d, i);
  } else {
    hashRemove(d, load<u32>(e));
    bufferTouch(d, e);
  }
  store<u32>(e, ml);
  hashInsert(d, ml, i);
}
