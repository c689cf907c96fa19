// xaDump: a tree written out as fixed records, preorder, for the host to print
// (src/core/core.ts formats them). Records are DUMP_RECORD_WORDS u32 each:
//
//   node : [ DUMP_NODE  | depth << 8 | offset << 16, shift, first index, count | nrValues << 8,
//            address, 0, marks[0] lo, hi, marks[1] lo, hi, marks[2] lo, hi ]
//   entry: [ DUMP_ENTRY | depth << 8 | offset << 16, order, first index, word, marks (bit m), 0 ... ]

import { EBADF, ENOSPC } from './errno';
import { XA_CHUNK_SIZE, XA_MAX_MARKS, xaIsNode, xaIsSibling, xaToNode } from './entry';
import { getMarks, getSlot, nodeCount, nodeNrValues, nodeShift } from './node';
import { liveTree, treeHead } from './tree';
import { xasEntryOrder } from './xas';

export const DUMP_NODE: u32 = 1;
export const DUMP_ENTRY: u32 = 2;
export const DUMP_RECORD_WORDS: u32 = 12;

let out: usize = 0;
let room: u32 = 0;
let written: u32 = 0;

function record(): usize {
  if (written == room) return 0;
  const rec = out + <usize>written * DUMP_RECORD_WORDS * 4;
  memory.fill(rec, 0, DUMP_RECORD_WORDS * 4);
  written++;
  return rec;
}

function dumpNode(node: usize, depth: u32, offset: u32, base: u64): bool {
  const rec = record();
  if (rec == 0) return false;
  const shift = nodeShift(node);
  store<u32>(rec, DUMP_NODE | (depth << 8) | (offset << 16), 0);
  store<u32>(rec, shift, 4);
  store<u32>(rec, <u32>base, 8);
  store<u32>(rec, nodeCount(node) | (nodeNrValues(node) << 8), 12);
  store<u32>(rec, <u32>node, 16);
  for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) store<u64>(rec + (<usize>mark << 3), getMarks(node, mark), 24);
  for (let off: u32 = 0; off < XA_CHUNK_SIZE; off++) {
    const e = getSlot(node, off);
    if (e == 0 || xaIsSibling(e)) continue;
    const index = base + (<u64>off << shift);
    if (xaIsNode(e)) {
      if (!dumpNode(xaToNode(e), depth + 1, off, index)) return false;
      continue;
    }
    const entry = record();
    if (entry == 0) return false;
    let marks: u32 = 0;
    for (let mark: u32 = 0; mark < XA_MAX_MARKS; mark++) marks |= (<u32>(getMarks(node, mark) >> off) & 1) << mark;
    store<u32>(entry, DUMP_ENTRY | ((depth + 1) << 8) | (off << 16), 0);
    store<u32>(entry, xasEntryOrder(node), 4);
    store<u32>(entry, <u32>index, 8);
    store<u32>(entry, e, 12);
    store<u32>(entry, marks, 16);
  }
  return true;
}

/** Writes the tree's records to `dst` (room for `maxRecords`); the count, or -ENOSPC / -EBADF. */
export function xaDump(tree: u32, dst: usize, maxRecords: u32): i32 {
  const t = liveTree(tree);
  if (t == 0) return -EBADF;
  out = dst;
  room = maxRecords;
  written = 0;
  const head = treeHead(t);
  if (head != 0 && !dumpNode(xaToNode(head), 0, 0, 0)) return -ENOSPC;
  return <i32>written;
}
