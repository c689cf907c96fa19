// Tree records: the root of one XArray (one file's address_space), 32 bytes each.
//
//    0             4             8             12            16            20           32
//   +-------------+-------------+-------------+-------------+-------------+-----------+
//   | head        | flags       | lock        | nodes       | count       | next free |
//   +-------------+-------------+-------------+-------------+-------------+-----------+
//
// head: 0 or (top node | 2). Unlike the kernel, a lone entry at index 0 is not kept in
// the head itself but in a shift-0 node: that saves the kernel a node, and changes nothing
// anyone can observe through the API. flags: TREE_IN_USE, and the array-level marks
// (xa_flags' XA_FLAGS_MARK bits) at TREE_MARK_SHIFT. lock: reserved for worker threads,
// one lock word beside each tree. nodes: nodes this tree owns. count: entries, an order-9
// entry counted once. Ids start at 1; destroyed ids are reused last-in first-out.

import { H_TREES_IN_USE, H_TREE_FREE_HEAD, H_TREE_NEXT_ID, MAX_TREES, TREES_OFFSET, TREE_SHIFT, hdr } from './layout';

export const TREE_HEAD_OFF: u32 = 0;
export const TREE_FLAGS_OFF: u32 = 4;
export const TREE_LOCK_OFF: u32 = 8;
export const TREE_NODES_OFF: u32 = 12;
export const TREE_COUNT_OFF: u32 = 16;
export const TREE_NEXT_FREE_OFF: u32 = 20;

export const TREE_IN_USE: u32 = 1;
export const TREE_MARK_SHIFT: u32 = 8;

@inline export function treeRecord(tree: u32): usize { return <usize>TREES_OFFSET + (<usize>tree << TREE_SHIFT); }
@inline export function treeHead(t: usize): u32 { return load<u32>(t, TREE_HEAD_OFF); }
@inline export function setTreeHead(t: usize, e: u32): void { store<u32>(t, e, TREE_HEAD_OFF); }
@inline export function treeFlags(t: usize): u32 { return load<u32>(t, TREE_FLAGS_OFF); }
@inline export function treeNodes(t: usize): u32 { return load<u32>(t, TREE_NODES_OFF); }
@inline export function addTreeNodes(t: usize, d: i32): void { store<u32>(t, load<u32>(t, TREE_NODES_OFF) + d, TREE_NODES_OFF); }
@inline export function treeCount(t: usize): u32 { return load<u32>(t, TREE_COUNT_OFF); }
@inline export function addTreeCount(t: usize, d: i32): void { store<u32>(t, load<u32>(t, TREE_COUNT_OFF) + d, TREE_COUNT_OFF); }

@inline export function treeMarked(t: usize, mark: u32): bool {
  return (treeFlags(t) & (1 << (TREE_MARK_SHIFT + mark))) != 0;
}
@inline export function setTreeMark(t: usize, mark: u32): void {
  store<u32>(t, treeFlags(t) | (1 << (TREE_MARK_SHIFT + mark)), TREE_FLAGS_OFF);
}
@inline export function clearTreeMark(t: usize, mark: u32): void {
  store<u32>(t, treeFlags(t) & ~(1 << (TREE_MARK_SHIFT + mark)), TREE_FLAGS_OFF);
}

/** The record of a live tree, or 0 when `tree` names none. */
export function liveTree(tree: u32): usize {
  if (tree == 0 || tree >= MAX_TREES) return 0;
  const t = treeRecord(tree);
  return (treeFlags(t) & TREE_IN_USE) != 0 ? t : 0;
}

/** Creates an empty tree; returns its id, or 0 when all MAX_TREES - 1 ids are in use. */
export function treeCreate(): u32 {
  let id = load<u32>(hdr(H_TREE_FREE_HEAD));
  if (id != 0) {
    store<u32>(hdr(H_TREE_FREE_HEAD), load<u32>(treeRecord(id), TREE_NEXT_FREE_OFF));
  } else {
    id = load<u32>(hdr(H_TREE_NEXT_ID));
    if (id >= MAX_TREES) return 0;
    store<u32>(hdr(H_TREE_NEXT_ID), id + 1);
  }
  const t = treeRecord(id);
  memory.fill(t, 0, 1 << TREE_SHIFT);
  store<u32>(t, TREE_IN_USE, TREE_FLAGS_OFF);
  store<u32>(hdr(H_TREES_IN_USE), load<u32>(hdr(H_TREES_IN_USE)) + 1);
  return id;
}

/** Marks a tree record free (its nodes must be gone) and stacks its id for reuse. */
export function treeRelease(tree: u32): void {
  const t = treeRecord(tree);
  store<u32>(t, 0, TREE_FLAGS_OFF);
  store<u32>(t, load<u32>(hdr(H_TREE_FREE_HEAD)), TREE_NEXT_FREE_OFF);
  store<u32>(hdr(H_TREE_FREE_HEAD), tree);
  store<u32>(hdr(H_TREES_IN_USE), load<u32>(hdr(H_TREES_IN_USE)) - 1);
}
