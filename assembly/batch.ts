// The tree command loop: runs a batch of encoded tree operations in one wasm call. The
// format (records of 4 i32, results of 2 i32) is documented in src/core/batch.ts, whose
// runBatchByOps is the definition this loop must match op for op.

import { EBADF, EINVAL } from './errno';
import { XA_CHUNK_MASK, xaIsNode, xaIsSibling, xaMkError, xaNodeShift, xaToInternal, xaToNode } from './entry';
import { getSlot, maxIndexOfShift } from './node';
import { liveTree, treeHead } from './tree';
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

/**
 * Runs `n` consecutive OP_LOAD records, their walks interleaved level by level: the
 * lookups are independent, so their cache misses overlap instead of queueing one after
 * another (group prefetching, in effect). Each lane's state is its own result word: the
 * node word it stands on while walking, then the entry it found. Same results as xaLoad.
 */
function loadGroup(recs: usize, n: u32, out: usize): void {
  let active: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const rec = recs + (<usize>k << 4);
    const res = out + (<usize>k << 3);
    const t = liveTree(load<u32>(rec, 4));
    const index = load<u32>(rec, 8);
    store<u32>(res, 0, 4);
    if (t == 0) {
      store<u32>(res, xaMkError(EBADF), 0);
      continue;
    }
    const head = treeHead(t);
    if (head == 0 || <u64>index > maxIndexOfShift(xaNodeShift(head))) {
      store<u32>(res, 0, 0);
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
      let e = getSlot(node, (index >> xaNodeShift(word)) & XA_CHUNK_MASK);
      if (xaIsNode(e)) {
        store<u32>(res, e, 0);
        continue;
      }
      if (xaIsSibling(e)) e = getSlot(node, <u32>xaToInternal(e));
      store<u32>(res, e, 0);
      active &= ~(1 << k);
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
