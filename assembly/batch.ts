// The tree command loop: runs a batch of encoded tree operations in one wasm call. The
// format (records of 4 i32, results of 2 i32) is documented in src/core/batch.ts, whose
// runBatchByOps is the definition this loop must match op for op.

import { EBADF, EINVAL } from './errno';
import { XA_CHUNK_MASK, XA_MAX_MARKS, xaIsNode, xaIsSibling, xaMkError, xaNodeShift, xaToInternal, xaToNode } from './entry';
import { getMarks, getSlot, maxIndexOfShift } from './node';
import { liveTree, treeHead } from './tree';
import { xasClearMarkAt, xasSetMarkAt, xasTouched } from './xas';
import {
  xaClearMark, xaCount, xaErase, xaWalkMarked, xaWalkXor, xaFindMarked, xaFindPresent, xaFoundWord, xaGetMark, xaSetMark, xaStore, xaTagTowrite,
} from './xarray';

export const OP_LOAD: u32 = 1;
export const OP_STORE: u32 = 2;
export const OP_ERASE: u32 = 3;
export const OP_SET_MARK: u32 = 4;
export const OP_CLEAR_MARK: u32 = 5;
export const OP_GET_MARK: u32 = 6;
export const OP_FIND_MARKED: u32 = 7;
export const OP_FIND_PRESENT: u32 = 8;
export const OP_TAG_TOWRITE: u32 = 9;
export const OP_WALK_MARKED: u32 = 10;
export const OP_COUNT: u32 = 11;

/** A find's f64 result as a batch result word: the index, -1, or an XA_ERROR word. */
@inline function findResult(r: f64): u32 {
  if (r >= 0) return <u32>r;
  return r == -1 ? <u32>-1 : xaMkError(<i32>(-1 - r));
}

/** A -errno count result as a batch word. */
@inline function countResult(r: i32): u32 {
  return r < 0 ? xaMkError(-r) : <u32>r;
}

/** How many loads walk side by side (see loadGroup). */
const LOAD_GROUP: u32 = 8;
/** How many mark records walk side by side before they run (see markGroup). */
const MARK_GROUP: u32 = 32;

/**
 * Runs `n` consecutive OP_LOAD records, their walks interleaved level by level: the
 * lookups are independent, so their cache misses overlap instead of queueing one after
 * another (group prefetching, in effect). Each lane's state is its own result word: the
 * node word it stands on while walking, then the entry it found. Same results as xaLoad.
 */
function loadGroup(recs: usize, n: u32, out: usize): void {
  groupWalk(recs, n, out, false);
}

/** A mark lane's second result word: its walk found no live tree. */
const LANE_NO_TREE: u32 = 0xffffffff;
/** A mark lane's second result word once its walk found the entry: FOUND | canonical slot. */
const LANE_FOUND: u32 = 0x100;
/** A mark lane's second result word while it waits for the walk of the record before. */
const LANE_SAME: u32 = 0x200;

/**
 * The walks of loadGroup. For loads (`forMarks` false) a lane ends with its result: the
 * entry, 0, or EBADF. For marks it also reads the first line of every node it passes (the
 * header and the marks, as xasWalkTouching does) and ends with the entry's node in its
 * first result word and LANE_FOUND | slot in the second; 0 and 0 when there is no entry,
 * LANE_NO_TREE in the second when the tree does not exist. A mark lane with the tree and
 * index of the one before takes that lane's ending instead of walking.
 */
@inline function groupWalk(recs: usize, n: u32, out: usize, forMarks: bool): void {
  let active: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const rec = recs + (<usize>k << 4);
    const res = out + (<usize>k << 3);
    const t = liveTree(load<u32>(rec, 4));
    const index = load<u32>(rec, 8);
    store<u32>(res, 0, 4);
    if (t == 0) {
      if (forMarks) store<u32>(res, LANE_NO_TREE, 4);
      store<u32>(res, forMarks ? 0 : xaMkError(EBADF), 0);
      continue;
    }
    const head = treeHead(t);
    if (head == 0 || <u64>index > maxIndexOfShift(xaNodeShift(head))) {
      store<u32>(res, 0, 0);
      continue;
    }
    if (forMarks && k > 0 && load<u64>(rec - 16, 4) == load<u64>(rec, 4)) {
      // The same tree and index as the record before (a set and a clear of one entry, say):
      // its walk will do for both, since marks move no slot (copied once it has ended).
      store<u32>(res, LANE_SAME, 4);
      continue;
    }
    store<u32>(res, head, 0);
    active |= 1 << k;
  }
  while (active != 0) {
    let lanes = active;
    while (lanes != 0) {
      const k = <u32>ctz(lanes);
      lanes &= lanes - 1;
      const res = out + (<usize>k << 3);
      const word = load<u32>(res, 0);
      const index = load<u32>(recs + (<usize>k << 4), 8);
      const node = xaToNode(word);
      if (forMarks) xasTouched += load<u32>(node, 16);
      let off = (index >> xaNodeShift(word)) & XA_CHUNK_MASK;
      const e = getSlot(node, off);
      if (xaIsNode(e)) {
        store<u32>(res, e, 0);
        continue;
      }
      active &= ~(1 << k);
      if (xaIsSibling(e)) off = <u32>xaToInternal(e);
      if (!forMarks) {
        store<u32>(res, xaIsSibling(e) ? getSlot(node, off) : e, 0);
      } else if (e != 0) {
        store<u32>(res, <u32>node, 0);
        store<u32>(res, LANE_FOUND | off, 4);
      } else {
        store<u32>(res, 0, 0);
      }
    }
  }
  if (forMarks) {
    for (let k: u32 = 1; k < n; k++) {
      const res = out + (<usize>k << 3);
      if (load<u32>(res, 4) == LANE_SAME) store<u64>(res, load<u64>(res - 8));
    }
  }
}

/**
 * Before a run of `n` OP_STORE records executes, walks their paths side by side (as
 * loadGroup does) so that the stores, which must run one after another, find their
 * nodes in the cache. The walk leaves its words in the results, which the stores
 * overwrite.
 */
function prefetchStores(recs: usize, n: u32, out: usize): void {
  loadGroup(recs, n, out);
}

/** Whether `op` sets, clears or reads a mark on the entry at one index. */
@inline function isMarkOp(op: u32): bool {
  return op >= OP_SET_MARK && op <= OP_GET_MARK;
}

/**
 * Runs `n` consecutive mark records (set, clear, get). On a sparse tree each one walks down
 * to a leaf that is rarely in the cache and, to update, climbs back through the headers
 * above it, so records run one by one wait for one miss after another. Here their walks go
 * first, side by side as in loadGroup, reading each node's header line on the way (as
 * xasWalkTouching does) so that those misses overlap, and each walk leaves the node and
 * slot of its entry in its record's result words. Then the records run in order, each from
 * the slot its walk found: a mark update changes no slot and frees no node, so what the
 * walks found holds for the whole run. Same results as xaSetMark, xaClearMark, xaGetMark.
 */
function markGroup(recs: usize, n: u32, out: usize): void {
  groupWalk(recs, n, out, true);
  for (let k: u32 = 0; k < n; k++) {
    const rec = recs + (<usize>k << 4);
    const res = out + (<usize>k << 3);
    const lane = load<u32>(res, 4);
    const op = load<u32>(rec, 0) & 0xff;
    const mark = (load<u32>(rec, 0) >> 12) & 0xf;
    let result: u32 = 0;
    if (lane == LANE_NO_TREE) {
      result = xaMkError(EBADF);
    } else if (mark >= XA_MAX_MARKS) {
      result = xaMkError(EINVAL);
    } else if ((lane & LANE_FOUND) != 0) {
      const node = <usize>load<u32>(res, 0);
      const off = lane & XA_CHUNK_MASK;
      if (op == OP_GET_MARK) {
        result = <u32>(getMarks(node, mark) >> off) & 1;
      } else {
        const t = liveTree(load<u32>(rec, 4));
        if (op == OP_SET_MARK) xasSetMarkAt(t, node, off, mark);
        else xasClearMarkAt(t, node, off, mark);
        result = 1;
      }
    }
    store<u32>(res, result, 0);
    store<u32>(res, 0, 4);
  }
}

/** Runs `count` records from `ops`, writing 2 words per record to `results`; returns count. */
export function xaRunBatch(ops: usize, count: u32, results: usize): u32 {
  let prefetchedUntil: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const rec = ops + (<usize>i << 4);
    const head = load<u32>(rec, 0);
    if ((head & 0xff) == OP_LOAD) {
      let n: u32 = 1;
      while (n < LOAD_GROUP && i + n < count && (load<u32>(rec + (<usize>n << 4), 0) & 0xff) == OP_LOAD) n++;
      loadGroup(rec, n, results + (<usize>i << 3));
      i += n - 1;
      continue;
    }
    if ((head & 0xff) == OP_STORE && i >= prefetchedUntil) {
      let n: u32 = 1;
      while (n < LOAD_GROUP && i + n < count && (load<u32>(rec + (<usize>n << 4), 0) & 0xff) == OP_STORE) n++;
      if (n > 1) prefetchStores(rec, n, results + (<usize>i << 3));
      prefetchedUntil = i + n;
    }
    if (isMarkOp(head & 0xff)) {
      let n: u32 = 1;
      while (n < MARK_GROUP && i + n < count && isMarkOp(load<u32>(rec + (<usize>n << 4), 0) & 0xff)) n++;
      markGroup(rec, n, results + (<usize>i << 3));
      i += n - 1;
      continue;
    }
    const tree = load<u32>(rec, 4);
    const a = load<u32>(rec, 8);
    const b = load<u32>(rec, 12);
    const op = head & 0xff;
    const order = (head >> 8) & 0xf;
    const mark = (head >> 12) & 0xf;
    let result: u32 = 0;
    let aux: u32 = 0;
    if (op == OP_STORE) {
      result = xaStore(tree, a, order, b);
    } else if (op == OP_ERASE) {
      result = xaErase(tree, a);
    } else if (op == OP_SET_MARK) {
      result = xaSetMark(tree, a, mark);
    } else if (op == OP_CLEAR_MARK) {
      result = xaClearMark(tree, a, mark);
    } else if (op == OP_GET_MARK) {
      result = xaGetMark(tree, a, mark);
    } else if (op == OP_FIND_MARKED || op == OP_FIND_PRESENT) {
      const r = op == OP_FIND_MARKED ? xaFindMarked(tree, a, b, mark) : xaFindPresent(tree, a, b);
      result = findResult(r);
      if (r >= 0) aux = xaFoundWord;
    } else if (op == OP_TAG_TOWRITE) {
      result = countResult(xaTagTowrite(tree, a, b));
    } else if (op == OP_WALK_MARKED) {
      // Walks every marked entry in [a, b] once, as xas_for_each_marked does: each step
      // resumes from the node the last one stopped in.
      const r = xaWalkMarked(tree, a, b, mark);
      result = r < 0 ? xaMkError(<i32>-r) : <u32>r;
      aux = r < 0 ? 0 : xaWalkXor;
    } else if (op == OP_COUNT) {
      result = countResult(xaCount(tree));
    } else {
      result = xaMkError(EINVAL);
    }
    const out = results + (<usize>i << 3);
    store<u32>(out, result, 0);
    store<u32>(out, aux, 4);
  }
  return count;
}
