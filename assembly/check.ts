// Invariant checks and a dump of a tree, for tests and debugging. xaCheck walks a whole
// tree, so callers use it in debug runs and tests, never on a hot path.
//
// Checked (a violation returns its CHECK_* code and leaves the offending node and slot in
// xaCheckNode / xaCheckSlot):
//   - every reachable node is live (not on the free list), owned by this tree, has the
//     right parent, offset in the parent and shift (its parent's less 6), and is not empty;
//   - count and nrValues match the slots; entries sit only in shift-0 nodes (order 0) or
//     at multiples of 8 in shift-6 nodes followed by 7 siblings naming them (order 9);
//   - marks summarise: a node's bit for a child slot is set iff the child has any bit of
//     that mark; sibling and empty slots carry no marks; the tree's array-level marks are
//     set iff the top node has that mark anywhere;
//   - the record's node and entry counts match; the top cannot shrink.

import { EBADF } from './errno';
import { PMD_SLOTS, XA_CHUNK_SHIFT, XA_CHUNK_SIZE, XA_MAX_MARKS, xaIsInternal, xaIsNode, xaIsSibling, xaIsValue, xaMkSibling, xaNodeShift, xaToNode } from './entry';
import { H_HEAP_OFFSET, H_HEAP_TOP, H_NODES_FREE, H_NODES_IN_USE, H_NODE_FREE_HEAD, hdr } from './layout';
import { NODE_FREED, NODE_NEXT_FREE_OFF, NODE_SIZE, getMarks, getSlot, nodeCount, nodeNrValues, nodeOffset, nodeParent, nodeShift, nodeTree } from './node';
import { liveTree, treeCount, treeHead, treeMarked, treeNodes } from './tree';
import { PMD_NODE_SHIFT } from './xas';

export const CHECK_OK: i32 = 0;
export const CHECK_FREED_NODE: i32 = 1;
export const CHECK_NODE_OWNER: i32 = 2;
export const CHECK_NODE_PARENT: i32 = 3;
export const CHECK_NODE_SHIFT: i32 = 4;
export const CHECK_EMPTY_NODE: i32 = 5;
export const CHECK_COUNT: i32 = 6;
export const CHECK_NR_VALUES: i32 = 7;
export const CHECK_ENTRY_PLACE: i32 = 8;
export const CHECK_SIBLING: i32 = 9;
export const CHECK_BAD_SLOT: i32 = 10;
export const CHECK_MARK_SUMMARY: i32 = 11;
export const CHECK_MARK_ON_EMPTY: i32 = 12;
export const CHECK_ARRAY_MARK: i32 = 13;
export const CHECK_TREE_NODES: i32 = 14;
export const CHECK_TREE_COUNT: i32 = 15;
export const CHECK_NOT_SHRUNK: i32 = 16;
export const CHECK_HEAP: i32 = 17;

export let xaCheckNode: u32 = 0;
export let xaCheckSlot: u32 = 0;

let seenNodes: u32 = 0;
let seenEntries: u32 = 0;

function fail(code: i32, node: usize, slot: u32): i32 {
  xaCheckNode = <u32>node;
  xaCheckSlot = slot;
  return code;
}

@inline function markBit(node: usize, mark: u32, off: u32): bool {
  return ((getMarks(node, mark) >> off) & 1) != 0;
}

function checkNode(tree: u32, node: usize, parent: usize, offset: u32, shift: u32): i32 {
  if (nodeShift(node) == NODE_FREED) return fail(CHECK_FREED_NODE, node, offset);
  if (nodeTree(node) != tree) return fail(CHECK_NODE_OWNER, node, offset);
  if (nodeParent(node) != parent || (parent != 0 && nodeOffset(node) != offset)) return fail(CHECK_NODE_PARENT, node, offset);
  if (nodeShift(node) != shift) return fail(CHECK_NODE_SHIFT, node, offset);
  seenNodes++;
  let count: u32 = 0;
  let values: u32 = 0;
  for (let off: u32 = 0; off < XA_CHUNK_SIZE; off++) {
    const e = getSlot(node, off);
    if (e == 0 || xaIsSibling(e)) {
      for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) {
        if (markBit(node, mark, off)) return fail(CHECK_MARK_ON_EMPTY, node, off);
      }
      if (e == 0) continue;
      count++;
      const canonical = off & ~(PMD_SLOTS - 1);
      if (shift != PMD_NODE_SHIFT || canonical == off || e != xaMkSibling(canonical)) return fail(CHECK_SIBLING, node, off);
      const target = getSlot(node, canonical);
      if (target == 0 || xaIsInternal(target)) return fail(CHECK_SIBLING, node, off);
    } else if (xaIsNode(e)) {
      count++;
      if (shift == 0) return fail(CHECK_BAD_SLOT, node, off);
      const child = xaToNode(e);
      if (xaNodeShift(e) != shift - XA_CHUNK_SHIFT) return fail(CHECK_NODE_SHIFT, node, off);
      const r = checkNode(tree, child, node, off, shift - XA_CHUNK_SHIFT);
      if (r != CHECK_OK) return r;
      for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) {
        if (markBit(node, mark, off) != (getMarks(child, mark) != 0)) return fail(CHECK_MARK_SUMMARY, node, off);
      }
    } else if (xaIsInternal(e)) {
      return fail(CHECK_BAD_SLOT, node, off);
    } else {
      count++;
      seenEntries++;
      if (xaIsValue(e)) values++;
      if (shift == PMD_NODE_SHIFT) {
        if ((off & (PMD_SLOTS - 1)) != 0) return fail(CHECK_ENTRY_PLACE, node, off);
        for (let i: u32 = 1; i < PMD_SLOTS; i++) {
          if (getSlot(node, off + i) != xaMkSibling(off)) return fail(CHECK_SIBLING, node, off + i);
        }
      } else if (shift != 0) {
        return fail(CHECK_ENTRY_PLACE, node, off);
      }
    }
  }
  if (count == 0) return fail(CHECK_EMPTY_NODE, node, 0);
  if (count != nodeCount(node)) return fail(CHECK_COUNT, node, 0);
  if (values != nodeNrValues(node)) return fail(CHECK_NR_VALUES, node, 0);
  return CHECK_OK;
}

/** Verifies every invariant of one tree: CHECK_OK, a CHECK_* code, or -EBADF. */
export function xaCheck(tree: u32): i32 {
  const t = liveTree(tree);
  if (t == 0) return -EBADF;
  seenNodes = 0;
  seenEntries = 0;
  const head = treeHead(t);
  if (head == 0) {
    for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) {
      if (treeMarked(t, mark)) return fail(CHECK_ARRAY_MARK, 0, mark);
    }
  } else {
    if (!xaIsNode(head)) return fail(CHECK_BAD_SLOT, 0, 0);
    const top = xaToNode(head);
    if (nodeShift(top) == NODE_FREED) return fail(CHECK_FREED_NODE, top, 0);
    if (xaNodeShift(head) != nodeShift(top)) return fail(CHECK_NODE_SHIFT, top, 0);
    const r = checkNode(tree, top, 0, 0, nodeShift(top));
    if (r != CHECK_OK) return r;
    for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) {
      if (treeMarked(t, mark) != (getMarks(top, mark) != 0)) return fail(CHECK_ARRAY_MARK, top, mark);
    }
    if (nodeCount(top) == 1 && xaIsNode(getSlot(top, 0))) return fail(CHECK_NOT_SHRUNK, top, 0);
  }
  if (seenNodes != treeNodes(t)) return fail(CHECK_TREE_NODES, 0, seenNodes);
  if (seenEntries != treeCount(t)) return fail(CHECK_TREE_COUNT, 0, seenEntries);
  return CHECK_OK;
}

/** Verifies the node heap: every node is in use or on the free list, and the list is sound. */
export function xaCheckHeap(): i32 {
  const used = load<u32>(hdr(H_HEAP_TOP)) - load<u32>(hdr(H_HEAP_OFFSET));
  const inUse = load<u32>(hdr(H_NODES_IN_USE));
  const free = load<u32>(hdr(H_NODES_FREE));
  if (used != (inUse + free) * NODE_SIZE) return fail(CHECK_HEAP, 0, 0);
  let n: u32 = 0;
  let node = <usize>load<u32>(hdr(H_NODE_FREE_HEAD));
  while (node != 0) {
    if (nodeShift(node) != NODE_FREED || ++n > free) return fail(CHECK_HEAP, node, n);
    node = <usize>load<u32>(node, NODE_NEXT_FREE_OFF);
  }
  return n == free ? CHECK_OK : fail(CHECK_HEAP, 0, n);
}
