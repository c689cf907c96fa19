/**
 * The reference model of the tree contract in src/core/tree.ts: the spec in code, written to be
 * obviously right rather than fast. The wasm core (src/core/core.ts) is tested against it.
 *
 * Each tree holds:
 * - `byIndex`: a Map from an entry's first index (its canonical index: an order-9 entry is
 *   keyed by its 512-aligned index) to its order, word and marks. Entries never overlap, so
 *   the entry covering an index is either keyed by that index or is the order-9 entry keyed
 *   by the index rounded down to 512.
 * - `sortedKeys`: the same keys in ascending order, updated on every insert and removal
 *   (binary search + splice), so the ordered queries (finds, tagTowrite, order-9 range
 *   checks) can start near `start` and scan forward instead of sorting the whole tree.
 *
 * The forest holds the open trees by id and a LIFO stack of destroyed ids to hand out again.
 * Every method checks all of its arguments before touching anything, so a call that throws
 * changes nothing. Arguments are checked in parameter order (tree first).
 */
import { runBatchByOps } from '../core/index.js';
import { PmemError, checkInteger } from '../base/index.js';
import {
  PAGECACHE_TAG_DIRTY,
  PAGECACHE_TAG_TOWRITE,
  PMD_NR,
  PMD_ORDER,
  XA_MAX_INDEX,
  XA_MAX_MARKS,
  XA_RETRY_ENTRY,
  xaIsInternal,
} from '../core/index.js';
import type { Forest, FoundEntry, TreeEntry } from '../core/index.js';

/** An entry as the model stores it; its first index is the key it is stored under. */
interface ModelEntry {
  order: number;
  word: number;
  marks: number;
}

/** The first index of the range an index falls in, for an entry of the given order. */
function firstIndexOf(index: number, order: number): number {
  // Plain arithmetic: JS `&` would turn indices >= 2^31 negative.
  return order === PMD_ORDER ? index - (index % PMD_NR) : index;
}

/** The last index an entry keyed at `first` covers. */
function lastIndexOf(first: number, entry: ModelEntry): number {
  return first + 2 ** entry.order - 1;
}

/** The position of the first element of ascending `keys` that is >= `value`. */
function lowerBound(keys: readonly number[], value: number): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keys[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A copy of an entry for callers, so they cannot change the model through it. */
function snapshot(first: number, entry: ModelEntry): TreeEntry {
  return { index: first, order: entry.order, word: entry.word >>> 0, marks: entry.marks };
}

/** One tree: non-overlapping entries by first index, plus those indices in order. */
class ModelTree {
  readonly byIndex = new Map<number, ModelEntry>();
  readonly sortedKeys: number[] = [];

  /** The entry covering `index` and its first index, or undefined. */
  covering(index: number): [number, ModelEntry] | undefined {
    const exact = this.byIndex.get(index);
    if (exact) return [index, exact];
    const pmdFirst = firstIndexOf(index, PMD_ORDER);
    const pmd = this.byIndex.get(pmdFirst);
    if (pmd && pmd.order === PMD_ORDER) return [pmdFirst, pmd];
    return undefined;
  }

  /** Entries covering any index of [first, last], in ascending index order. */
  *overlapping(first: number, last: number): Generator<[number, ModelEntry]> {
    // An entry starting up to 511 below `first` may still reach into the range.
    const from = lowerBound(this.sortedKeys, Math.max(0, first - (PMD_NR - 1)));
    for (let at = from; at < this.sortedKeys.length; at++) {
      const key = this.sortedKeys[at]!;
      if (key > last) return;
      const entry = this.byIndex.get(key)!;
      if (lastIndexOf(key, entry) >= first) yield [key, entry];
    }
  }

  /** Adds a new entry (with no marks) at `first`. */
  insert(first: number, order: number, word: number): void {
    this.byIndex.set(first, { order, word, marks: 0 });
    this.sortedKeys.splice(lowerBound(this.sortedKeys, first), 0, first);
  }

  /** Removes the entry keyed at `first`, marks and all. */
  remove(first: number): void {
    this.byIndex.delete(first);
    this.sortedKeys.splice(lowerBound(this.sortedKeys, first), 1);
  }
}

/** The reference Forest: plain maps and arrays, one ModelTree per open id. */
export class ModelForest implements Forest {
  private readonly trees = new Map<number, ModelTree>();
  /** Destroyed ids, the most recent last: createTree hands them out again first. */
  private readonly freedIds: number[] = [];
  private nextUnusedId = 1;

  /** Opens an empty tree and returns its id (the last destroyed id, else a new one). */
  createTree(): number {
    const id = this.freedIds.pop() ?? this.nextUnusedId++;
    this.trees.set(id, new ModelTree());
    return id;
  }

  /** Drops a tree with all its entries; its id becomes the next one handed out. */
  destroyTree(tree: number): void {
    this.treeOf(tree);
    this.trees.delete(tree);
    this.freedIds.push(tree);
  }

  /** The word of the entry covering `index`, or 0. */
  load(tree: number, index: number): number {
    const t = this.treeOf(tree);
    checkIndex(index, 'index');
    return (t.covering(index)?.[1].word ?? 0) >>> 0;
  }

  /** Stores (or, with word 0, erases) an entry of `order` at `index`; returns the old word. */
  store(tree: number, index: number, order: number, word: number): number {
    const t = this.treeOf(tree);
    checkIndex(index, 'index');
    checkOrder(order);
    checkWord(word);
    if (word === 0) return eraseRange(t, index, order);
    if (order === 0) return storeOrder0(t, index, word);
    return storeOrder9(t, index, word);
  }

  /** Removes the entry covering `index` (all of it); returns its word, or 0. */
  erase(tree: number, index: number): number {
    return this.store(tree, index, 0, 0);
  }

  /** Sets `mark` on the entry covering `index`; false when there is none. */
  setMark(tree: number, index: number, mark: number): boolean {
    const entry = this.markable(tree, index, mark);
    if (entry) entry.marks |= 1 << mark;
    return entry !== undefined;
  }

  /** Clears `mark` on the entry covering `index`; false when there is none. */
  clearMark(tree: number, index: number, mark: number): boolean {
    const entry = this.markable(tree, index, mark);
    if (entry) entry.marks &= ~(1 << mark);
    return entry !== undefined;
  }

  /** Whether the entry covering `index` carries `mark` (false when there is none). */
  getMark(tree: number, index: number, mark: number): boolean {
    const entry = this.markable(tree, index, mark);
    return entry !== undefined && (entry.marks & (1 << mark)) !== 0;
  }

  /** The first entry covering [start, end] that carries `mark`, or null. */
  findMarked(tree: number, start: number, end: number, mark: number): FoundEntry | null {
    const t = this.treeOf(tree);
    checkIndex(start, 'start');
    checkIndex(end, 'end');
    checkMark(mark);
    return findFirst(t, start, end, (entry) => (entry.marks & (1 << mark)) !== 0);
  }

  /** The first entry covering [start, end], or null. */
  findPresent(tree: number, start: number, end: number): FoundEntry | null {
    const t = this.treeOf(tree);
    checkIndex(start, 'start');
    checkIndex(end, 'end');
    return findFirst(t, start, end, () => true);
  }

  /** Sets TOWRITE on every DIRTY entry covering [start, end]; returns how many there were. */
  tagTowrite(tree: number, start: number, end: number): number {
    const t = this.treeOf(tree);
    checkIndex(start, 'start');
    checkIndex(end, 'end');
    if (start > end) return 0;
    let tagged = 0;
    for (const [, entry] of t.overlapping(start, end)) {
      if ((entry.marks & (1 << PAGECACHE_TAG_DIRTY)) === 0) continue;
      entry.marks |= 1 << PAGECACHE_TAG_TOWRITE;
      tagged++;
    }
    return tagged;
  }

  /** The number of entries (an order-9 entry counts once). */
  count(tree: number): number {
    return this.treeOf(tree).byIndex.size;
  }

  /** Every entry in ascending index order, as copies. */
  entries(tree: number): TreeEntry[] {
    const t = this.treeOf(tree);
    return t.sortedKeys.map((key) => snapshot(key, t.byIndex.get(key)!));
  }

  /** Runs an encoded batch op by op (the definition the wasm batch loop must match). */
  runBatch(ops: Int32Array): Int32Array {
    return runBatchByOps(this, ops);
  }

  /** The open tree with this id; EBADF otherwise. */
  private treeOf(tree: number): ModelTree {
    const t = this.trees.get(tree);
    if (!t) throw new PmemError('EBADF', `tree ${String(tree)} is not an open tree`);
    return t;
  }

  /** Checks a mark operation's arguments and returns the entry covering `index`, if any. */
  private markable(tree: number, index: number, mark: number): ModelEntry | undefined {
    const t = this.treeOf(tree);
    checkIndex(index, 'index');
    checkMark(mark);
    return t.covering(index)?.[1];
  }
}

/** Throws EINVAL unless `value` is a valid tree index; `what` names the argument. */
function checkIndex(value: number, what: string): void {
  checkInteger(value, 0, XA_MAX_INDEX, what);
}

/** Throws EINVAL unless `order` is 0 or 9. */
function checkOrder(order: number): void {
  if (order !== 0 && order !== PMD_ORDER) {
    throw new PmemError('EINVAL', `order must be 0 or ${PMD_ORDER}, got ${String(order)}`);
  }
}

/** Throws EINVAL unless `mark` is 0, 1 or 2. */
function checkMark(mark: number): void {
  if (!Number.isInteger(mark) || mark < 0 || mark >= XA_MAX_MARKS) {
    throw new PmemError('EINVAL', `mark must be 0, 1 or 2, got ${String(mark)}`);
  }
}

/** Throws EINVAL unless `word` is a u32 a tree may hold (0 meaning erase). */
function checkWord(word: number): void {
  checkInteger(word, 0, 0xffffffff, 'word');
  if (xaIsInternal(word)) {
    throw new PmemError('EINVAL', `word 0x${word.toString(16)} is an internal entry and cannot be stored`);
  }
}

/** store(index, order, 0): removes every entry covering the range; returns the old word at index. */
function eraseRange(t: ModelTree, index: number, order: number): number {
  const old = t.covering(index)?.[1].word ?? 0;
  const first = firstIndexOf(index, order);
  const last = first + 2 ** order - 1;
  // Collect first: removing while the generator scans sortedKeys would skip keys.
  const doomed = [...t.overlapping(first, last)].map(([key]) => key);
  for (const key of doomed) t.remove(key);
  return old >>> 0;
}

/** store(index, 0, word): replaces the covering entry (even an order-9 one), else inserts. */
function storeOrder0(t: ModelTree, index: number, word: number): number {
  const found = t.covering(index);
  if (!found) {
    t.insert(index, 0, word);
    return 0;
  }
  const entry = found[1];
  const old = entry.word;
  entry.word = word;
  return old >>> 0;
}

/** store(index, 9, word): insert into an empty range, replace a lone order-9 entry, else conflict. */
function storeOrder9(t: ModelTree, index: number, word: number): number {
  const first = firstIndexOf(index, PMD_ORDER);
  const inRange = [...t.overlapping(first, first + PMD_NR - 1)];
  if (inRange.length === 0) {
    t.insert(first, PMD_ORDER, word);
    return 0;
  }
  const only = inRange.length === 1 ? inRange[0]![1] : undefined;
  if (only && only.order === PMD_ORDER) {
    const old = only.word;
    only.word = word;
    return old >>> 0;
  }
  // An order-0 entry sits in the range (xas_find_conflict): refuse, change nothing.
  return XA_RETRY_ENTRY;
}

/** The first entry covering [start, end] that `wanted` accepts, or null (also when start > end). */
function findFirst(t: ModelTree, start: number, end: number, wanted: (entry: ModelEntry) => boolean): FoundEntry | null {
  if (start > end) return null;
  for (const [key, entry] of t.overlapping(start, end)) {
    if (wanted(entry)) return snapshot(key, entry);
  }
  return null;
}
