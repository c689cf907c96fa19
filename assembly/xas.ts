// The advanced tree API, after lib/xarray.c's xas_*: walks, path creation, erase with
// node deletion and shrink, mark propagation, ordered search. Proceed with caution: these
// functions trust their arguments (a live tree record, a slot that holds an entry); the
// checked, normal API is assembly/xarray.ts.
//
// Where entries live. An order-0 entry is always in a shift-0 node; an order-9 entry is
// always a canonical slot at an offset that is a multiple of 8 in a shift-6 node, followed
// by 7 sibling slots pointing back to it (XA_STATE_ORDER with order 9: shift 6, sibs 7).
// So a non-internal word in a shift-6 node is an order-9 entry, and its marks are kept on
// the canonical slot only (the kernel's xas_squash_marks leaves siblings unmarked).

import { PMD_ORDER, PMD_SLOTS, XA_CHUNK_MASK, XA_CHUNK_SHIFT, XA_CHUNK_SIZE, XA_MAX_MARKS, xaIsInternal, xaIsNode, xaIsSibling, xaIsValue, xaMkNode, xaMkSibling, xaNodeShift, xaToInternal, xaToNode } from './entry';
import {
  getMarks, getSlot, maxIndexOfShift, nodeAlloc, nodeBase, nodeCount, nodeFree, nodeNrValues, nodeOffset, nodeParent, nodeShift,
  setMarks, setNodeCount, setNodeNrValues, setNodeOffset, setNodeParent, setSlot,
} from './node';
import { addTreeCount, addTreeNodes, clearTreeMark, setTreeHead, setTreeMark, treeHead, treeMarked } from './tree';

/** The pseudo-mark that xasFind takes to find any present entry. */
export const XA_PRESENT: u32 = XA_MAX_MARKS;
/** The shift of the nodes that hold order-9 entries. */
export const PMD_NODE_SHIFT: u32 = PMD_ORDER - (PMD_ORDER % XA_CHUNK_SHIFT);

// The cursor: the slot the last xasWalk or xasFind stopped on (per thread, like xa_state).
export let xasNode: usize = 0;
export let xasOffset: u32 = 0;
/** The first index of the entry the last xasFind or xasFindNext returned. */
export let xasIndex: u64 = 0;
/**
 * Where the last xasFind or xasFindNext that found nothing stopped: the end of the last
 * node it walked off, or the first index past `end` it reached. xas_find_marked leaves
 * xa_index there, and fs/dax.c prints it in dax_writeback_range_done.
 */
export let xasStopIndex: u64 = 0;

@inline function stopAt(index: u64): i64 {
  xasStopIndex = index;
  return -1;
}

/** The order of an entry held in `node`: order 9 in shift-6 nodes, 0 in leaves. */
@inline export function xasEntryOrder(node: usize): u32 {
  return nodeShift(node) == PMD_NODE_SHIFT ? PMD_ORDER : 0;
}

/** The smallest multiple of 6, at least `minShift`, whose node covers `index`. */
function shiftFor(index: u32, minShift: u32): u32 {
  let shift = minShift;
  while (maxIndexOfShift(shift) < <u64>index) shift += XA_CHUNK_SHIFT;
  return shift;
}

/** A sink for xasWalkTouching's header reads, so that they are not optimised away. */
export let xasTouched: u32 = 0;

/** Walks to the entry covering `index`; on true the cursor is on its (canonical) slot. */
export function xasWalk(t: usize, index: u32): bool {
  return walk(t, index, false);
}

/**
 * xasWalk that also reads each node's header on the way down. Mark updates climb back
 * through those headers; reading them while the slot's line is still on its way lets the
 * two cache misses of a level overlap instead of coming one after the other.
 */
export function xasWalkTouching(t: usize, index: u32): bool {
  return walk(t, index, true);
}

@inline function walk(t: usize, index: u32, touch: bool): bool {
  let word = treeHead(t);
  if (word == 0 || <u64>index > maxIndexOfShift(xaNodeShift(word))) return false;
  while (true) {
    const node = xaToNode(word);
    let off = (index >> xaNodeShift(word)) & XA_CHUNK_MASK;
    if (touch) xasTouched += load<u32>(node, 16);
    const e = getSlot(node, off);
    if (e == 0) return false;
    if (xaIsNode(e)) {
      word = e;
      continue;
    }
    if (xaIsSibling(e)) off = <u32>xaToInternal(e);
    xasNode = node;
    xasOffset = off;
    return true;
  }
}

/** How many nodes xasCreate(t, index, target) will allocate: reserve them first. */
export function xasNodesNeeded(t: usize, index: u32, target: u32): u32 {
  const head = treeHead(t);
  if (head == 0) return (shiftFor(index, target) - target) / XA_CHUNK_SHIFT + 1;
  let node = xaToNode(head);
  const top = nodeShift(node);
  const want = shiftFor(index, max(top, target));
  // Growing happens only when `index` lies beyond the old top: its path below the new
  // top is then entirely new.
  if (want > top) return (want - top) / XA_CHUNK_SHIFT + (want - target) / XA_CHUNK_SHIFT;
  while (nodeShift(node) > target) {
    const shift = nodeShift(node);
    const e = getSlot(node, (index >> shift) & XA_CHUNK_MASK);
    if (e == 0) return (shift - target) / XA_CHUNK_SHIFT;
    node = xaToNode(e);
  }
  return 0;
}

/**
 * Makes the path to `index` down to a node of shift `target` and returns that node
 * (xas_create with xas_expand). The caller has reserved xasNodesNeeded nodes and knows
 * no entry covers `index` above `target`.
 */
export function xasCreate(tree: u32, t: usize, index: u32, target: u32): usize {
  const head = treeHead(t);
  let top: usize;
  if (head == 0) {
    top = nodeAlloc(tree, shiftFor(index, target));
    addTreeNodes(t, 1);
  } else {
    top = xaToNode(head);
    const want = shiftFor(index, max(nodeShift(top), target));
    while (nodeShift(top) < want) {
      // A new top holds the old one in slot 0; its marks summarise the old top's.
      const grown = nodeAlloc(tree, nodeShift(top) + XA_CHUNK_SHIFT);
      addTreeNodes(t, 1);
      setSlot(grown, 0, xaMkNode(top, nodeShift(top)));
      setNodeCount(grown, 1);
      for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) {
        if (getMarks(top, mark) != 0) setMarks(grown, mark, 1);
      }
      setNodeParent(top, grown);
      setNodeOffset(top, 0);
      top = grown;
    }
  }
  setTreeHead(t, xaMkNode(top, nodeShift(top)));
  let node = top;
  while (nodeShift(node) > target) {
    const shift = nodeShift(node);
    const off = (index >> shift) & XA_CHUNK_MASK;
    const e = getSlot(node, off);
    if (e != 0) {
      node = xaToNode(e);
      continue;
    }
    const child = nodeAlloc(tree, shift - XA_CHUNK_SHIFT);
    addTreeNodes(t, 1);
    setNodeParent(child, node);
    setNodeOffset(child, off);
    setSlot(node, off, xaMkNode(child, shift - XA_CHUNK_SHIFT));
    setNodeCount(node, nodeCount(node) + 1);
    node = child;
  }
  return node;
}

/** Fills an empty slot (or, for order 9, an empty run of PMD_SLOTS slots) with `entry`. */
export function xasInsertAt(t: usize, node: usize, off: u32, entry: u32): void {
  const slots: u32 = nodeShift(node) == PMD_NODE_SHIFT ? PMD_SLOTS : 1;
  setSlot(node, off, entry);
  for (let i: u32 = 1; i < slots; i++) setSlot(node, off + i, xaMkSibling(off));
  setNodeCount(node, nodeCount(node) + slots);
  if (xaIsValue(entry)) setNodeNrValues(node, nodeNrValues(node) + 1);
  addTreeCount(t, 1);
}

/** Replaces the entry in a slot; its marks stay (xas_store does not reset marks). */
export function xasReplaceAt(node: usize, off: u32, entry: u32): u32 {
  const old = getSlot(node, off);
  setSlot(node, off, entry);
  if (xaIsValue(old) != xaIsValue(entry)) {
    setNodeNrValues(node, xaIsValue(entry) ? nodeNrValues(node) + 1 : nodeNrValues(node) - 1);
  }
  return old;
}

/** Removes the entry at a canonical slot with its marks, frees emptied nodes, shrinks. */
export function xasEraseAt(t: usize, node: usize, off: u32): u32 {
  const old = getSlot(node, off);
  const slots: u32 = nodeShift(node) == PMD_NODE_SHIFT ? PMD_SLOTS : 1;
  for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) xasClearMarkAt(t, node, off, mark);
  for (let i: u32 = 0; i < slots; i++) setSlot(node, off + i, 0);
  setNodeCount(node, nodeCount(node) - slots);
  if (xaIsValue(old)) setNodeNrValues(node, nodeNrValues(node) - 1);
  addTreeCount(t, -1);
  // An empty node goes back to the heap, and its parent may empty in turn.
  while (nodeCount(node) == 0) {
    const parent = nodeParent(node);
    const slot = nodeOffset(node);
    nodeFree(node);
    addTreeNodes(t, -1);
    if (parent == 0) {
      setTreeHead(t, 0);
      return old;
    }
    setSlot(parent, slot, 0);
    setNodeCount(parent, nodeCount(parent) - 1);
    node = parent;
  }
  xasShrink(t);
  return old;
}

/** Drops top nodes whose only child is in slot 0 (xas_shrink); marks are unaffected. */
function xasShrink(t: usize): void {
  while (true) {
    const top = xaToNode(treeHead(t));
    if (nodeCount(top) != 1) return;
    const e = getSlot(top, 0);
    if (!xaIsNode(e)) return;
    const child = xaToNode(e);
    setNodeParent(child, 0);
    setNodeOffset(child, 0);
    setTreeHead(t, e);
    nodeFree(top);
    addTreeNodes(t, -1);
  }
}

/** Sets a mark on the entry at a canonical slot and on every summary above it. */
export function xasSetMarkAt(t: usize, node: usize, off: u32, mark: u32): void {
  while (true) {
    const bits = getMarks(node, mark);
    const bit = <u64>1 << off;
    if ((bits & bit) != 0) return; // the summaries above are already set
    setMarks(node, mark, bits | bit);
    const parent = nodeParent(node);
    if (parent == 0) {
      setTreeMark(t, mark);
      return;
    }
    off = nodeOffset(node);
    node = parent;
  }
}

/** Clears a mark and every summary bit above that no longer summarises anything. */
export function xasClearMarkAt(t: usize, node: usize, off: u32, mark: u32): void {
  while (true) {
    const bits = getMarks(node, mark);
    const bit = <u64>1 << off;
    if ((bits & bit) == 0) return;
    const left = bits & ~bit;
    setMarks(node, mark, left);
    if (left != 0) return; // the node still carries the mark for another slot
    const parent = nodeParent(node);
    if (parent == 0) {
      clearTreeMark(t, mark);
      return;
    }
    off = nodeOffset(node);
    node = parent;
  }
}

/** The first slot at or after `off` whose entry has `mark` (XA_PRESENT: any entry), or 64. */
function nextSlot(node: usize, off: u32, mark: u32): u32 {
  if (mark < XA_MAX_MARKS) {
    const bits = getMarks(node, mark) >> off;
    return bits == 0 ? XA_CHUNK_SIZE : off + <u32>ctz(bits);
  }
  for (; off < XA_CHUNK_SIZE; off++) {
    const e = getSlot(node, off);
    if (e != 0 && !xaIsSibling(e)) return off;
  }
  return XA_CHUNK_SIZE;
}

/**
 * Finds the first entry with `mark` (or XA_PRESENT) covering an index in [start, end],
 * walking down the summary bits (xas_find_marked). Returns its first index (below `start`
 * when `start` falls inside an order-9 entry) and leaves the cursor on it, or -1.
 */
export function xasFind(t: usize, start: u64, end: u64, mark: u32): i64 {
  if (start > end) return stopAt(start);
  const head = treeHead(t);
  if (head == 0) return stopAt(start);
  if (start > maxIndexOfShift(xaNodeShift(head))) return stopAt(start);
  // No mark anywhere: the walk runs off the end of the top node.
  if (mark < XA_MAX_MARKS && !treeMarked(t, mark)) return stopAt(maxIndexOfShift(xaNodeShift(head)) + 1);
  return findFrom(xaToNode(head), start, end, mark);
}

/**
 * Continues a search after the entry the cursor is on (xasIndex), from index `from`:
 * it climbs only as far as needed instead of starting again at the top, as
 * xas_for_each_marked does. The cursor must come from an xasFind on the same tree. A
 * `from` past `end` still scans on to where xas_find_marked would stop (xasStopIndex).
 */
export function xasFindNext(from: u64, end: u64, mark: u32): i64 {
  let node = xasNode;
  // Climb until `from` lies inside the node's range.
  while (from > nodeBase(xasIndex, nodeShift(node)) + maxIndexOfShift(nodeShift(node))) {
    node = nodeParent(node);
    if (node == 0) return stopAt(from);
  }
  return findFrom(node, from, end, mark);
}

/** xasFindNext after the entry covering `prev` (found again first); a plain search from prev + 1 if it is gone. */
export function xasFindAfter(t: usize, prev: u32, end: u64, mark: u32): i64 {
  if (!xasWalk(t, prev)) return xasFind(t, <u64>prev + 1, end, mark);
  const shift = nodeShift(xasNode);
  xasIndex = nodeBase(<u64>prev, shift) | (<u64>xasOffset << shift);
  return xasFindNext(xasIndex + (<u64>1 << xasEntryOrder(xasNode)), end, mark);
}

/** The search loop of xasFind, from any node whose range holds `index`. */
function findFrom(node: usize, index: u64, end: u64, mark: u32): i64 {
  while (true) {
    const shift = nodeShift(node);
    let off = <u32>(index >> shift) & XA_CHUNK_MASK;
    if (shift == PMD_NODE_SHIFT) {
      const here = getSlot(node, off);
      if (xaIsSibling(here)) {
        // `index` is inside an order-9 entry: its canonical slot speaks for it.
        off = <u32>xaToInternal(here);
        index = nodeBase(index, shift) | (<u64>off << shift);
      }
    }
    const next = nextSlot(node, off, mark);
    if (next == XA_CHUNK_SIZE) {
      // Nothing left here: go on after this node, in the nearest ancestor with slots left.
      const past = nodeBase(index, shift) + (<u64>XA_CHUNK_SIZE << shift);
      while (true) {
        const parent = nodeParent(node);
        if (parent == 0) return stopAt(past);
        const nextOff = nodeOffset(node) + 1;
        node = parent;
        if (nextOff < XA_CHUNK_SIZE) {
          index = nodeBase(index, nodeShift(node)) | (<u64>nextOff << nodeShift(node));
          break;
        }
      }
      if (index > end) return stopAt(index);
      continue;
    }
    if (next != off) index = nodeBase(index, shift) | (<u64>next << shift);
    // Past `end` (a continued walk may start there): xas_find_marked stops at this index.
    if (index > end) return stopAt(index);
    // Leaves hold only entries; only inner nodes need their slot read to tell.
    if (shift != 0) {
      const e = getSlot(node, next);
      if (xaIsNode(e)) {
        node = xaToNode(e);
        continue;
      }
    }
    xasNode = node;
    xasOffset = next;
    // An entry's first index: `index` may still sit inside an order-9 entry's first slot.
    xasIndex = nodeBase(index, shift) | (<u64>next << shift);
    return <i64>xasIndex;
  }
}

// Range states that xasRangeState reports for an order-9 store.
export const RANGE_EMPTY: u32 = 0;
export const RANGE_SAME: u32 = 1; // exactly one order-9 entry: the cursor is on it
export const RANGE_CONFLICT: u32 = 2; // an order-0 entry lies inside

/** What the 512-aligned range at `base` holds (xas_find_conflict for an order-9 store). */
export function xasRangeState(t: usize, base: u32): u32 {
  const head = treeHead(t);
  if (head == 0) return RANGE_EMPTY;
  let node = xaToNode(head);
  if (<u64>base > maxIndexOfShift(nodeShift(node))) return RANGE_EMPTY;
  // A shift-0 top covers [0, 63]: it lies inside the range at base 0 and holds an entry.
  if (nodeShift(node) < PMD_NODE_SHIFT) return RANGE_CONFLICT;
  while (nodeShift(node) > PMD_NODE_SHIFT) {
    const e = getSlot(node, (base >> nodeShift(node)) & XA_CHUNK_MASK);
    if (e == 0) return RANGE_EMPTY;
    node = xaToNode(e);
  }
  const off = (base >> PMD_NODE_SHIFT) & XA_CHUNK_MASK;
  const first = getSlot(node, off);
  if (first != 0 && !xaIsInternal(first)) {
    xasNode = node;
    xasOffset = off;
    return RANGE_SAME;
  }
  for (let i: u32 = 0; i < PMD_SLOTS; i++) {
    if (getSlot(node, off + i) != 0) return RANGE_CONFLICT;
  }
  return RANGE_EMPTY;
}

/** Gives every node below and including `node` back to the heap. */
export function xasFreeSubtree(node: usize): void {
  if (nodeShift(node) > 0) {
    for (let off: u32 = 0; off < XA_CHUNK_SIZE; off++) {
      const e = getSlot(node, off);
      if (xaIsNode(e)) xasFreeSubtree(xaToNode(e));
    }
  }
  nodeFree(node);
}
