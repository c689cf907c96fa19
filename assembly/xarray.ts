// The normal tree API (xa_load, xa_store, xa_erase, xa_set_mark, ... of lib/xarray.c):
// checked entry points that take a tree id and return a word. Errors come back as XA_ERROR
// words (xaMkError(errno)), the kernel's way of returning an error where an entry is
// expected, so one i32 crosses the boundary per call. A call that fails changes nothing:
// every node a store may need is reserved before the tree is touched.
//
// The semantics are written out in src/core/tree.ts; src/model/xarray.ts is their reference.

import { EBADF, EINVAL, ENOMEM, ENOSPC } from './errno';
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE, PMD_NR, PMD_ORDER, XA_CHUNK_MASK, XA_MAX_MARKS, XA_RETRY_ENTRY, xaIsInternal, xaIsNode, xaIsSibling, xaMkError, xaNodeShift, xaToInternal, xaToNode } from './entry';
import { getMarks, getSlot, heapReserve, maxIndexOfShift, nodeShift, setMarks } from './node';
import { liveTree, setTreeMark, treeCount, treeCreate, treeHead, treeMarked, treeRelease, setTreeHead, treeNodes } from './tree';
import {
  PMD_NODE_SHIFT, RANGE_CONFLICT, RANGE_SAME, XA_PRESENT, xasCreate, xasEntryOrder, xasEraseAt, xasFind, xasFindAfter, xasFindNext, xasFreeSubtree, xasInsertAt,
  xasNode, xasNodesNeeded, xasOffset, xasStopIndex, xasRangeState, xasReplaceAt, xasSetMarkAt, xasClearMarkAt, xasWalk, xasWalkTouching,
} from './xas';

// What the last xaFindMarked / xaFindPresent found (per thread; the host reads them), or
// where it stopped when it found nothing (xaStopIndex, an f64 since it can reach 2^36).
export let xaStopIndex: f64 = 0;
export let xaFoundWord: u32 = 0;
export let xaFoundOrder: u32 = 0;
export let xaFoundMarks: u32 = 0;

/** Creates an empty tree; returns its id (>= 1) or -ENOSPC when every id is taken. */
export function xaCreateTree(): i32 {
  const id = treeCreate();
  return id == 0 ? -ENOSPC : <i32>id;
}

/** Destroys a tree and frees its nodes; 0 or -EBADF. */
export function xaDestroyTree(tree: u32): i32 {
  const t = liveTree(tree);
  if (t == 0) return -EBADF;
  const head = treeHead(t);
  if (head != 0) xasFreeSubtree(xaToNode(head));
  setTreeHead(t, 0);
  treeRelease(tree);
  return 0;
}

/** The entry covering `index` (the canonical word of an order-9 entry), or 0. */
export function xaLoad(tree: u32, index: u32): u32 {
  const t = liveTree(tree);
  if (t == 0) return xaMkError(EBADF);
  return xasWalk(t, index) ? getSlot(xasNode, xasOffset) : 0;
}

/**
 * Stores `entry` at `index` with `order` 0 or 9; entry 0 erases. Returns the old word,
 * XA_RETRY_ENTRY when an order-9 store meets an order-0 entry, or an XA_ERROR word.
 */
export function xaStore(tree: u32, index: u32, order: u32, entry: u32): u32 {
  const t = liveTree(tree);
  if (t == 0) return xaMkError(EBADF);
  if ((order != 0 && order != PMD_ORDER) || xaIsInternal(entry)) return xaMkError(EINVAL);
  if (entry == 0) return eraseRange(t, index, order);
  if (order == 0) {
    if (xasWalk(t, index)) return xasReplaceAt(xasNode, xasOffset, entry);
    if (!heapReserve(xasNodesNeeded(t, index, 0))) return xaMkError(ENOMEM);
    xasInsertAt(t, xasCreate(tree, t, index, 0), index & XA_CHUNK_MASK, entry);
    return 0;
  }
  const base = index & ~(PMD_NR - 1);
  const last = base + PMD_NR - 1;
  const state = xasRangeState(t, base);
  if (state == RANGE_SAME) return xasReplaceAt(xasNode, xasOffset, entry);
  if (state == RANGE_CONFLICT) return XA_RETRY_ENTRY;
  if (!heapReserve(xasNodesNeeded(t, last, PMD_NODE_SHIFT))) return xaMkError(ENOMEM);
  xasInsertAt(t, xasCreate(tree, t, last, PMD_NODE_SHIFT), (base >> PMD_NODE_SHIFT) & XA_CHUNK_MASK, entry);
  return 0;
}

/** Erases every entry covering an index of the order-sized range; returns the old word at `index`. */
function eraseRange(t: usize, index: u32, order: u32): u32 {
  const old = xasWalk(t, index) ? getSlot(xasNode, xasOffset) : 0;
  if (order == 0) {
    if (old != 0) xasEraseAt(t, xasNode, xasOffset);
    return old;
  }
  const base = index & ~(PMD_NR - 1);
  while (xasFind(t, base, base + PMD_NR - 1, XA_PRESENT) >= 0) xasEraseAt(t, xasNode, xasOffset);
  return old;
}

/** Erases the entry covering `index` (dissolving an order-9 entry); returns the old word. */
export function xaErase(tree: u32, index: u32): u32 {
  return xaStore(tree, index, 0, 0);
}

@inline function badMark(mark: u32): bool {
  return mark >= XA_MAX_MARKS;
}

/** Sets `mark` on the entry covering `index`: 1, or 0 when no entry is there. */
export function xaSetMark(tree: u32, index: u32, mark: u32): u32 {
  const t = liveTree(tree);
  if (t == 0) return xaMkError(EBADF);
  if (badMark(mark)) return xaMkError(EINVAL);
  if (!xasWalkTouching(t, index)) return 0;
  xasSetMarkAt(t, xasNode, xasOffset, mark);
  return 1;
}

/** Clears `mark` on the entry covering `index`: 1, or 0 when no entry is there. */
export function xaClearMark(tree: u32, index: u32, mark: u32): u32 {
  const t = liveTree(tree);
  if (t == 0) return xaMkError(EBADF);
  if (badMark(mark)) return xaMkError(EINVAL);
  if (!xasWalkTouching(t, index)) return 0;
  xasClearMarkAt(t, xasNode, xasOffset, mark);
  return 1;
}

/** 1 when the entry covering `index` has `mark`, else 0. */
export function xaGetMark(tree: u32, index: u32, mark: u32): u32 {
  const t = liveTree(tree);
  if (t == 0) return xaMkError(EBADF);
  if (badMark(mark)) return xaMkError(EINVAL);
  if (!xasWalk(t, index)) return 0;
  return <u32>(getMarks(xasNode, mark) >> xasOffset) & 1;
}

/** The marks (bit m for mark m) of the entry at a canonical slot. */
function marksAt(node: usize, off: u32): u32 {
  let marks: u32 = 0;
  for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) marks |= (<u32>(getMarks(node, mark) >> off) & 1) << mark;
  return marks;
}

/** Publishes what xasFind found in the xaFound* globals; -1 when nothing. */
function foundAt(index: i64): f64 {
  if (index < 0) {
    xaStopIndex = <f64>xasStopIndex;
    return -1;
  }
  xaFoundWord = getSlot(xasNode, xasOffset);
  xaFoundOrder = xasEntryOrder(xasNode);
  xaFoundMarks = marksAt(xasNode, xasOffset);
  return <f64>index;
}

/**
 * The first index of the first entry with `mark` covering [start, end], -1 when none,
 * or -1 - errno on bad arguments. The entry is in xaFoundWord / Order / Marks.
 */
export function xaFindMarked(tree: u32, start: u32, end: u32, mark: u32): f64 {
  const t = liveTree(tree);
  if (t == 0) return -1 - EBADF;
  if (badMark(mark)) return -1 - EINVAL;
  return foundAt(xasFind(t, start, end, mark));
}

/**
 * The next entry with `mark` after the entry covering `prev`, up to `end`, walking on from
 * that entry's node as xas_for_each_marked does (so that where a fruitless walk stops,
 * xaStopIndex, is where the kernel's stops). -1 when none, -1 - errno on bad arguments.
 */
export function xaFindNextMarked(tree: u32, prev: u32, end: u32, mark: u32): f64 {
  const t = liveTree(tree);
  if (t == 0) return -1 - EBADF;
  if (badMark(mark)) return -1 - EINVAL;
  return foundAt(xasFindAfter(t, prev, end, mark));
}

/** As xaFindMarked, for any entry. */
export function xaFindPresent(tree: u32, start: u32, end: u32): f64 {
  const t = liveTree(tree);
  if (t == 0) return -1 - EBADF;
  return foundAt(xasFind(t, start, end, XA_PRESENT));
}

/** XOR of the first indices the last xaWalkMarked visited (a checksum of the walk). */
export let xaWalkXor: u32 = 0;

/**
 * Visits every entry with `mark` covering [start, end] once, in order; returns how many,
 * or -errno. The batch path's for-each-marked loop.
 */
export function xaWalkMarked(tree: u32, start: u32, end: u32, mark: u32): i64 {
  const t = liveTree(tree);
  if (t == 0) return -EBADF;
  if (badMark(mark)) return -EINVAL;
  let visited: i64 = 0;
  let xor: u32 = 0;
  let index = xasFind(t, start, end, mark);
  while (index >= 0) {
    visited++;
    xor ^= <u32>index;
    index = xasFindNext(<u64>index + (<u64>1 << xasEntryOrder(xasNode)), end, mark);
  }
  xaWalkXor = xor;
  return visited;
}

/** Bits lo..hi of a 64-bit word. */
@inline function rangeMask(lo: u32, hi: u32): u64 {
  return (<u64>-1 << lo) & (<u64>-1 >> (63 - hi));
}

/**
 * Sets TOWRITE on every DIRTY entry of `node` covering [start, end]; leaves first, then the
 * summary above each child (radix_tree_range_tag_if_tagged's order, so no summary bit is
 * ever set above nothing). Returns the number of DIRTY entries met.
 */
function tagNode(node: usize, base: u64, start: u64, end: u64): u32 {
  const shift = nodeShift(node);
  const last = base + maxIndexOfShift(shift);
  let lo: u32 = start <= base ? 0 : <u32>((start - base) >> shift);
  const hi: u32 = end >= last ? 63 : <u32>((end - base) >> shift);
  const first = getSlot(node, lo);
  if (xaIsSibling(first)) lo = <u32>xaToInternal(first); // an order-9 entry covering start
  let dirty = getMarks(node, PAGECACHE_TAG_DIRTY) & rangeMask(lo, hi);
  const before = getMarks(node, PAGECACHE_TAG_TOWRITE);
  if (shift == 0) {
    // A leaf holds only entries: tag them all at once.
    if ((before | dirty) != before) setMarks(node, PAGECACHE_TAG_TOWRITE, before | dirty);
    return <u32>popcnt(dirty);
  }
  let towrite = before;
  let tagged: u32 = 0;
  while (dirty != 0) {
    const off = <u32>ctz(dirty);
    dirty &= dirty - 1;
    const e = getSlot(node, off);
    if (xaIsNode(e)) {
      const child = xaToNode(e);
      tagged += tagNode(child, base + (<u64>off << shift), start, end);
      if (getMarks(child, PAGECACHE_TAG_TOWRITE) != 0) towrite |= <u64>1 << off;
    } else {
      tagged++;
      towrite |= <u64>1 << off;
    }
  }
  if (towrite != before) setMarks(node, PAGECACHE_TAG_TOWRITE, towrite);
  return tagged;
}

/**
 * tag_pages_for_writeback: TOWRITE |= DIRTY over entries covering [start, end]; clears
 * nothing. Returns how many DIRTY entries were met, or -errno.
 */
export function xaTagTowrite(tree: u32, start: u32, end: u32): i32 {
  const t = liveTree(tree);
  if (t == 0) return -EBADF;
  const head = treeHead(t);
  if (head == 0 || start > end || !treeMarked(t, PAGECACHE_TAG_DIRTY)) return 0;
  const top = xaToNode(head);
  if (<u64>start > maxIndexOfShift(xaNodeShift(head))) return 0;
  const tagged = tagNode(top, 0, start, end);
  if (getMarks(top, PAGECACHE_TAG_TOWRITE) != 0) setTreeMark(t, PAGECACHE_TAG_TOWRITE);
  return <i32>tagged;
}

/** Entries in the tree (an order-9 entry once), or -EBADF. */
export function xaCount(tree: u32): i32 {
  const t = liveTree(tree);
  return t == 0 ? -EBADF : <i32>treeCount(t);
}

/** Nodes the tree holds, or -EBADF. */
export function xaTreeNodes(tree: u32): i32 {
  const t = liveTree(tree);
  return t == 0 ? -EBADF : <i32>treeNodes(t);
}
