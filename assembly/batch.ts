// The tree command loop: runs a batch of encoded tree operations in one wasm call. The
// format (records of 4 i32, results of 2 i32) is documented in src/batch.ts, whose
// runBatchByOps is the definition this loop must match op for op.

import { EINVAL } from './errno';
import { xaMkError } from './entry';
import {
  xaClearMark, xaCount, xaErase, xaFindMarked, xaFindPresent, xaFoundOrder, xaFoundWord, xaGetMark, xaLoad, xaSetMark, xaStore, xaTagTowrite,
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

/** Runs `count` records from `ops`, writing 2 words per record to `results`; returns count. */
export function xaRunBatch(ops: usize, count: u32, results: usize): u32 {
  for (let i: u32 = 0; i < count; i++) {
    const rec = ops + (<usize>i << 4);
    const head = load<u32>(rec, 0);
    const tree = load<u32>(rec, 4);
    const a = load<u32>(rec, 8);
    const b = load<u32>(rec, 12);
    const op = head & 0xff;
    const order = (head >> 8) & 0xf;
    const mark = (head >> 12) & 0xf;
    let result: u32 = 0;
    let aux: u32 = 0;
    if (op == OP_LOAD) {
      result = xaLoad(tree, a);
    } else if (op == OP_STORE) {
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
      // Walks every marked entry in [a, b] once, as for_each_marked does.
      let start = <u64>a;
      while (true) {
        const r = xaFindMarked(tree, <u32>start, b, mark);
        if (r < 0) {
          if (r != -1) {
            result = findResult(r);
            aux = 0;
          }
          break;
        }
        result++;
        aux ^= <u32>r;
        start = <u64>r + (<u64>1 << xaFoundOrder);
        if (start > <u64>b) break;
      }
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
