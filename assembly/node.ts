// Tree nodes and the heap they come from. A node is 320 bytes, five cache lines:
//
//    0        1        2        3        4                8             12
//   +--------+--------+--------+--------+----------------+-------------+-------------+
//   | shift  | offset | count  | nrVals | parent (addr)  | tree id     | next free   |
//   +--------+--------+--------+--------+----------------+-------------+-------------+
//   16: marks[0] DIRTY (u64)   24: marks[1] WRITEBACK (u64)   32: marks[2] TOWRITE (u64)
//   40..63: reserved
//   64: slots[64] (u32 each)                                                     320
//
// shift: index bits below this node's slots (0 for leaves); offset: this node's slot in its
// parent; count: non-empty slots, siblings included; nrVals: value entries (struct
// xa_node's nr_values). A freed node has shift NODE_FREED and sits on a free list that
// links through `next free`; nodes are reused before the heap grows, so a tree that
// empties gives all of its nodes back.

import { HEAP_LIMIT, H_HEAP_TOP, H_NODE_FREE_HEAD, H_NODES_FREE, H_NODES_IN_USE, ensureMemory, hdr } from './layout';

export const NODE_SIZE: u32 = 320;
export const NODE_SHIFT_OFF: u32 = 0;
export const NODE_OFFSET_OFF: u32 = 1;
export const NODE_COUNT_OFF: u32 = 2;
export const NODE_NRVALUES_OFF: u32 = 3;
export const NODE_PARENT_OFF: u32 = 4;
export const NODE_TREE_OFF: u32 = 8;
export const NODE_NEXT_FREE_OFF: u32 = 12;
export const NODE_MARKS_OFF: u32 = 16;
export const NODE_SLOTS_OFF: u32 = 64;
export const NODE_FREED: u32 = 0xff;

@inline export function nodeShift(n: usize): u32 { return load<u8>(n, NODE_SHIFT_OFF); }
@inline export function nodeOffset(n: usize): u32 { return load<u8>(n, NODE_OFFSET_OFF); }
@inline export function nodeCount(n: usize): u32 { return load<u8>(n, NODE_COUNT_OFF); }
@inline export function nodeNrValues(n: usize): u32 { return load<u8>(n, NODE_NRVALUES_OFF); }
@inline export function nodeParent(n: usize): usize { return load<u32>(n, NODE_PARENT_OFF); }
@inline export function nodeTree(n: usize): u32 { return load<u32>(n, NODE_TREE_OFF); }
@inline export function setNodeOffset(n: usize, v: u32): void { store<u8>(n, v, NODE_OFFSET_OFF); }
@inline export function setNodeCount(n: usize, v: u32): void { store<u8>(n, v, NODE_COUNT_OFF); }
@inline export function setNodeNrValues(n: usize, v: u32): void { store<u8>(n, v, NODE_NRVALUES_OFF); }
@inline export function setNodeParent(n: usize, p: usize): void { store<u32>(n, <u32>p, NODE_PARENT_OFF); }

@inline export function getSlot(n: usize, off: u32): u32 { return load<u32>(n + (<usize>off << 2), NODE_SLOTS_OFF); }
@inline export function setSlot(n: usize, off: u32, e: u32): void { store<u32>(n + (<usize>off << 2), e, NODE_SLOTS_OFF); }
@inline export function getMarks(n: usize, mark: u32): u64 { return load<u64>(n + (<usize>mark << 3), NODE_MARKS_OFF); }
@inline export function setMarks(n: usize, mark: u32, bits: u64): void { store<u64>(n + (<usize>mark << 3), bits, NODE_MARKS_OFF); }

/** The last index a node of this shift can cover (it covers 64 << shift indices). */
@inline export function maxIndexOfShift(shift: u32): u64 { return (<u64>64 << shift) - 1; }

/** The first index of the range a node of `shift` covers, given any index inside it. */
@inline export function nodeBase(index: u64, shift: u32): u64 { return (index >> (shift + 6)) << (shift + 6); }

/** Makes room for `n` node allocations that cannot fail; false (nothing changed) otherwise. */
export function heapReserve(n: u32): bool {
  const free = load<u32>(hdr(H_NODES_FREE));
  if (n <= free) return true;
  const end = <u64>load<u32>(hdr(H_HEAP_TOP)) + <u64>(n - free) * NODE_SIZE;
  return end <= <u64>HEAP_LIMIT && ensureMemory(end);
}

/** Allocates a zeroed node of `shift` for `tree`; the caller has reserved it (heapReserve). */
export function nodeAlloc(tree: u32, shift: u32): usize {
  let node = <usize>load<u32>(hdr(H_NODE_FREE_HEAD));
  if (node != 0) {
    store<u32>(hdr(H_NODE_FREE_HEAD), load<u32>(node, NODE_NEXT_FREE_OFF));
    store<u32>(hdr(H_NODES_FREE), load<u32>(hdr(H_NODES_FREE)) - 1);
  } else {
    node = <usize>load<u32>(hdr(H_HEAP_TOP));
    assert(<u64>node + NODE_SIZE <= (<u64>memory.size() << 16)); // heapReserve was skipped
    store<u32>(hdr(H_HEAP_TOP), <u32>(node + NODE_SIZE));
  }
  memory.fill(node, 0, NODE_SIZE);
  store<u8>(node, <u8>shift, NODE_SHIFT_OFF);
  store<u32>(node, tree, NODE_TREE_OFF);
  store<u32>(hdr(H_NODES_IN_USE), load<u32>(hdr(H_NODES_IN_USE)) + 1);
  return node;
}

/** Returns a node to the free list. */
export function nodeFree(node: usize): void {
  store<u8>(node, <u8>NODE_FREED, NODE_SHIFT_OFF);
  store<u32>(node, 0, NODE_TREE_OFF);
  store<u32>(node, load<u32>(hdr(H_NODE_FREE_HEAD)), NODE_NEXT_FREE_OFF);
  store<u32>(hdr(H_NODE_FREE_HEAD), <u32>node);
  store<u32>(hdr(H_NODES_FREE), load<u32>(hdr(H_NODES_FREE)) + 1);
  store<u32>(hdr(H_NODES_IN_USE), load<u32>(hdr(H_NODES_IN_USE)) - 1);
}
