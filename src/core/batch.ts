/**
 * The tree command batch: many operations encoded in an Int32Array and run in one wasm
 * call (assembly/batch.ts decodes the same format), or op by op by the reference model.
 *
 *   record (4 x i32):  [ op | order << 8 | mark << 12,  tree,  index or start,  word or end ]
 *   result (2 x i32):  [ result, aux ]
 *
 * Results per op: LOAD the word; STORE and ERASE the old word (STORE may give
 * XA_RETRY_ENTRY); SET/CLEAR/GET_MARK 1 or 0; FIND_MARKED and FIND_PRESENT the index
 * found (aux = its word; none: -1 with aux 0); TAG_TOWRITE the count tagged; WALK_MARKED
 * the number of marked entries in [start, end] (aux = XOR of their first indices);
 * COUNT the entry count. An op that fails gives an XA_ERROR word (xaMkError(errno)) and
 * aux 0, and changes nothing; the batch goes on with the next op.
 */
import { ERRNO, PmemError } from '../base/index.js';
import { xaMkError } from './entry.js';
import type { Forest } from './tree.js';

export const OP_LOAD = 1;
export const OP_STORE = 2;
export const OP_ERASE = 3;
export const OP_SET_MARK = 4;
export const OP_CLEAR_MARK = 5;
export const OP_GET_MARK = 6;
export const OP_FIND_MARKED = 7;
export const OP_FIND_PRESENT = 8;
export const OP_TAG_TOWRITE = 9;
export const OP_WALK_MARKED = 10;
export const OP_COUNT = 11;

export const BATCH_RECORD_WORDS = 4;
export const BATCH_RESULT_WORDS = 2;

/** Appends encoded operations to a growable Int32Array. */
export class BatchBuilder {
  private words: Int32Array;
  private used = 0;

  constructor(capacityOps = 1024) {
    this.words = new Int32Array(capacityOps * BATCH_RECORD_WORDS);
  }

  get length(): number {
    return this.used / BATCH_RECORD_WORDS;
  }

  /** Appends one raw record; the named helpers below call it. */
  push(op: number, order: number, mark: number, tree: number, a: number, b: number): this {
    if (this.used === this.words.length) {
      const bigger = new Int32Array(this.words.length * 2);
      bigger.set(this.words);
      this.words = bigger;
    }
    const w = this.words;
    const at = this.used;
    w[at] = op | (order << 8) | (mark << 12);
    w[at + 1] = tree;
    w[at + 2] = a;
    w[at + 3] = b;
    this.used = at + BATCH_RECORD_WORDS;
    return this;
  }

  load(tree: number, index: number): this { return this.push(OP_LOAD, 0, 0, tree, index, 0); }
  store(tree: number, index: number, order: number, word: number): this { return this.push(OP_STORE, order, 0, tree, index, word); }
  erase(tree: number, index: number): this { return this.push(OP_ERASE, 0, 0, tree, index, 0); }
  setMark(tree: number, index: number, mark: number): this { return this.push(OP_SET_MARK, 0, mark, tree, index, 0); }
  clearMark(tree: number, index: number, mark: number): this { return this.push(OP_CLEAR_MARK, 0, mark, tree, index, 0); }
  getMark(tree: number, index: number, mark: number): this { return this.push(OP_GET_MARK, 0, mark, tree, index, 0); }
  findMarked(tree: number, start: number, end: number, mark: number): this { return this.push(OP_FIND_MARKED, 0, mark, tree, start, end); }
  findPresent(tree: number, start: number, end: number): this { return this.push(OP_FIND_PRESENT, 0, 0, tree, start, end); }
  tagTowrite(tree: number, start: number, end: number): this { return this.push(OP_TAG_TOWRITE, 0, 0, tree, start, end); }
  walkMarked(tree: number, start: number, end: number, mark: number): this { return this.push(OP_WALK_MARKED, 0, mark, tree, start, end); }
  count(tree: number): this { return this.push(OP_COUNT, 0, 0, tree, 0, 0); }

  /** The encoded records (a view, valid until the next push). */
  finish(): Int32Array {
    return this.words.subarray(0, this.used);
  }

  reset(): void {
    this.used = 0;
  }
}

/**
 * Runs a batch op by op through a Forest's single-operation methods: the reference
 * model's batch path, and the definition the wasm batch loop must match.
 */
export function runBatchByOps(forest: Forest, ops: Int32Array): Int32Array {
  const n = Math.floor(ops.length / BATCH_RECORD_WORDS);
  const out = new Int32Array(n * BATCH_RESULT_WORDS);
  for (let i = 0; i < n; i++) {
    const at = i * BATCH_RECORD_WORDS;
    const head = ops[at];
    const op = head & 0xff;
    const order = (head >>> 8) & 0xf;
    const mark = (head >>> 12) & 0xf;
    const tree = ops[at + 1];
    const a = ops[at + 2] >>> 0;
    const b = ops[at + 3] >>> 0;
    let result = 0;
    let aux = 0;
    try {
      switch (op) {
        case OP_LOAD: result = forest.load(tree, a); break;
        case OP_STORE: result = forest.store(tree, a, order, b); break;
        case OP_ERASE: result = forest.erase(tree, a); break;
        case OP_SET_MARK: result = forest.setMark(tree, a, mark) ? 1 : 0; break;
        case OP_CLEAR_MARK: result = forest.clearMark(tree, a, mark) ? 1 : 0; break;
        case OP_GET_MARK: result = forest.getMark(tree, a, mark) ? 1 : 0; break;
        case OP_FIND_MARKED:
        case OP_FIND_PRESENT: {
          const found = op === OP_FIND_MARKED ? forest.findMarked(tree, a, b, mark) : forest.findPresent(tree, a, b);
          if (found) { result = found.index; aux = found.word; } else { result = -1; }
          break;
        }
        case OP_TAG_TOWRITE: result = forest.tagTowrite(tree, a, b); break;
        case OP_WALK_MARKED: {
          let start = a;
          for (;;) {
            const found = forest.findMarked(tree, start, b, mark);
            if (!found) break;
            result++;
            aux ^= found.index;
            start = found.index + (1 << found.order);
            if (start > b) break;
          }
          break;
        }
        case OP_COUNT: result = forest.count(tree); break;
        default: throw new PmemError('EINVAL', `unknown batch opcode ${op}`);
      }
    } catch (err) {
      if (!(err instanceof PmemError)) throw err;
      result = xaMkError(err.errno || ERRNO.EINVAL);
      aux = 0;
    }
    out[i * BATCH_RESULT_WORDS] = result;
    out[i * BATCH_RESULT_WORDS + 1] = aux;
  }
  return out;
}
