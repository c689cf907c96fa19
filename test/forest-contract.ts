/**
 * The Forest contract (src/core/tree.ts) as a shared vitest suite: every implementation (the
 * reference model, the wasm core) runs it through forestContract(label, makeForest).
 * One `it` per rule, titled by the rule. Words are distinct per index (like the kernel's
 * xa_mk_index in lib/test_xarray.c) so an entry stored or found at the wrong index shows.
 */
import { describe, expect, it } from 'vitest';
import { BatchBuilder } from '../src/core/batch.js';
import {
  DAX_PFN_MAX,
  DAX_PMD,
  DAX_ZERO_PAGE,
  PAGECACHE_TAG_DIRTY as DIRTY,
  PAGECACHE_TAG_TOWRITE as TOWRITE,
  PAGECACHE_TAG_WRITEBACK as WRITEBACK,
  XA_RETRY_ENTRY,
  XA_ZERO_ENTRY,
  daxLockedEntry,
  daxMkEntry,
  daxUnlockedEntry,
  xaMkError,
  xaMkInternal,
  xaMkSibling,
} from '../src/core/entry.js';
import { PmemError, type PmemErrorCode } from '../src/base/errors.js';
import type { Forest, TreeEntry } from '../src/core/tree.js';

/** Indices on both sides of node boundaries (64, 4096, 262144 = 64^3, ...) and the extremes. */
const SPREAD_INDICES = [0, 63, 64, 4095, 4096, 262143, 262144, 2 ** 24, 2 ** 30, 0xffffffff];
/** 512-aligned bases for order-9 entries, including the last one below 2^32. */
const PMD_BASES = [0, 512, 4096 - 512, 262144, 2 ** 30, 0xfffffe00];
const MAX_INDEX = 0xffffffff;
const NO_TREE = 999_999;

/** A DAX PTE entry unique to `index` (for the indices these tests use). */
function wordFor(index: number): number {
  return daxMkEntry(1 + (index % DAX_PFN_MAX), 0);
}

/** A second word for `index`, different from wordFor(index), to show replacement. */
function otherWordFor(index: number): number {
  return daxMkEntry(1 + (index % DAX_PFN_MAX), DAX_ZERO_PAGE);
}

/** A DAX PMD entry unique to the 512-range starting at `base`. */
function pmdWordFor(base: number): number {
  return daxMkEntry(1 + (base % DAX_PFN_MAX), DAX_PMD);
}

/** The marks bit set of an entry carrying `marks`. */
function bits(...marks: number[]): number {
  return marks.reduce((set, mark) => set | (1 << mark), 0);
}

/** Asserts `call` throws a PmemError with `code`. */
function expectPmemError(call: () => unknown, code: PmemErrorCode): void {
  let caught: unknown = undefined;
  try {
    call();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a PmemError').toBeInstanceOf(PmemError);
  expect((caught as PmemError).code).toBe(code);
}

/** Asserts `call` throws a PmemError with `code` and leaves `tree` exactly as it was. */
function expectRefused(forest: Forest, tree: number, call: () => unknown, code: PmemErrorCode): void {
  const before = forest.entries(tree);
  expectPmemError(call, code);
  expect(forest.entries(tree)).toEqual(before);
}

/** Indices of the entries carrying `mark` in [start, end], one find per entry as DAX walks. */
function walkMarked(forest: Forest, tree: number, start: number, end: number, mark: number): number[] {
  const found: number[] = [];
  // Always one find, even when start > end, as the batch's WALK_MARKED does (it may throw).
  for (let at = start; ; ) {
    const entry = forest.findMarked(tree, at, end, mark);
    if (!entry) break;
    found.push(entry.index);
    at = entry.index + 2 ** entry.order;
    if (at > end) break;
  }
  return found;
}

/** Indices of the entries present in [start, end], one find per entry. */
function walkPresent(forest: Forest, tree: number, start: number, end: number): number[] {
  const found: number[] = [];
  for (let at = start; ; ) {
    const entry = forest.findPresent(tree, at, end);
    if (!entry) break;
    found.push(entry.index);
    at = entry.index + 2 ** entry.order;
    if (at > end) break;
  }
  return found;
}

/** One batch operation, with its arguments in the order of the Forest method. */
type BatchOp =
  | { op: 'load' | 'erase'; tree: number; index: number }
  | { op: 'store'; tree: number; index: number; order: number; word: number }
  | { op: 'setMark' | 'clearMark' | 'getMark'; tree: number; index: number; mark: number }
  | { op: 'findMarked' | 'walkMarked'; tree: number; start: number; end: number; mark: number }
  | { op: 'findPresent' | 'tagTowrite'; tree: number; start: number; end: number }
  | { op: 'count'; tree: number };

/** Appends `op` to a batch through BatchBuilder's named helpers. */
function addToBatch(builder: BatchBuilder, op: BatchOp): void {
  switch (op.op) {
    case 'load': builder.load(op.tree, op.index); break;
    case 'erase': builder.erase(op.tree, op.index); break;
    case 'store': builder.store(op.tree, op.index, op.order, op.word); break;
    case 'setMark': builder.setMark(op.tree, op.index, op.mark); break;
    case 'clearMark': builder.clearMark(op.tree, op.index, op.mark); break;
    case 'getMark': builder.getMark(op.tree, op.index, op.mark); break;
    case 'findMarked': builder.findMarked(op.tree, op.start, op.end, op.mark); break;
    case 'walkMarked': builder.walkMarked(op.tree, op.start, op.end, op.mark); break;
    case 'findPresent': builder.findPresent(op.tree, op.start, op.end); break;
    case 'tagTowrite': builder.tagTowrite(op.tree, op.start, op.end); break;
    case 'count': builder.count(op.tree); break;
  }
}

/** What the batch must give for `op`: [result, aux] as i32, computed with the single methods. */
function callSingle(forest: Forest, op: BatchOp): [number, number] {
  try {
    switch (op.op) {
      case 'load': return [forest.load(op.tree, op.index) | 0, 0];
      case 'erase': return [forest.erase(op.tree, op.index) | 0, 0];
      case 'store': return [forest.store(op.tree, op.index, op.order, op.word) | 0, 0];
      case 'setMark': return [forest.setMark(op.tree, op.index, op.mark) ? 1 : 0, 0];
      case 'clearMark': return [forest.clearMark(op.tree, op.index, op.mark) ? 1 : 0, 0];
      case 'getMark': return [forest.getMark(op.tree, op.index, op.mark) ? 1 : 0, 0];
      case 'findMarked':
      case 'findPresent': {
        const found = op.op === 'findMarked'
          ? forest.findMarked(op.tree, op.start, op.end, op.mark)
          : forest.findPresent(op.tree, op.start, op.end);
        return found ? [found.index | 0, found.word | 0] : [-1, 0];
      }
      case 'walkMarked': {
        // WALK_MARKED: how many marked entries, and the XOR of their first indices.
        const indices = walkMarked(forest, op.tree, op.start, op.end, op.mark);
        return [indices.length, indices.reduce((xor, index) => xor ^ index, 0)];
      }
      case 'tagTowrite': return [forest.tagTowrite(op.tree, op.start, op.end), 0];
      case 'count': return [forest.count(op.tree), 0];
    }
  } catch (err) {
    if (!(err instanceof PmemError)) throw err;
    return [xaMkError(err.errno) | 0, 0];
  }
}

/** Runs `ops` as one batch and returns [result, aux] per op. */
function runAsBatch(forest: Forest, ops: readonly BatchOp[]): [number, number][] {
  const builder = new BatchBuilder(4);
  for (const op of ops) addToBatch(builder, op);
  const out = forest.runBatch(builder.finish());
  expect(out.length).toBe(ops.length * 2);
  return ops.map((_, i) => [out[2 * i]!, out[2 * i + 1]!]);
}

/** A small deterministic PRNG (LCG) so a failing random batch can be replayed. */
function lcg(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * below);
  };
}

/** Declares the contract suite for one Forest implementation. */
export function forestContract(label: string, makeForest: () => Promise<Forest> | Forest): void {
  /** A fresh forest with one open tree. */
  async function openTree(): Promise<{ forest: Forest; tree: number }> {
    const forest = await makeForest();
    return { forest, tree: forest.createTree() };
  }

  describe(label, () => {
    describe('load, store and erase', () => {
      it('a new tree is empty: loads give 0, count is 0, entries is []', async () => {
        const { forest, tree } = await openTree();
        for (const index of SPREAD_INDICES) expect(forest.load(tree, index)).toBe(0);
        expect(forest.count(tree)).toBe(0);
        expect(forest.entries(tree)).toEqual([]);
        expect(forest.findPresent(tree, 0, MAX_INDEX)).toBeNull();
      });

      it('entries stored across node boundaries load back at their own index only, and erase back to empty', async () => {
        const { forest, tree } = await openTree();
        expect(new Set(SPREAD_INDICES.map(wordFor)).size).toBe(SPREAD_INDICES.length);
        for (const index of SPREAD_INDICES) expect(forest.store(tree, index, 0, wordFor(index))).toBe(0);
        for (const index of SPREAD_INDICES) expect(forest.load(tree, index)).toBe(wordFor(index));
        // Neighbours that were never stored stay empty.
        for (const index of [1, 62, 65, 4094, 4097, 262142, 262145, 2 ** 24 - 1, 2 ** 24 + 1, 2 ** 30 + 1, 0xfffffffe]) {
          expect(forest.load(tree, index)).toBe(0);
        }
        expect(forest.count(tree)).toBe(SPREAD_INDICES.length);
        for (const index of SPREAD_INDICES) expect(forest.erase(tree, index)).toBe(wordFor(index));
        for (const index of SPREAD_INDICES) expect(forest.load(tree, index)).toBe(0);
        expect(forest.count(tree)).toBe(0);
        expect(forest.entries(tree)).toEqual([]);
      });

      it('store returns the old word when it replaces and 0 when it inserts', async () => {
        const { forest, tree } = await openTree();
        for (const index of SPREAD_INDICES) {
          expect(forest.store(tree, index, 0, wordFor(index))).toBe(0);
          expect(forest.store(tree, index, 0, otherWordFor(index))).toBe(wordFor(index));
          expect(forest.load(tree, index)).toBe(otherWordFor(index));
        }
        expect(forest.count(tree)).toBe(SPREAD_INDICES.length);
      });

      it('words with the top bit set come back unsigned', async () => {
        const { forest, tree } = await openTree();
        const high = 0xfffffff1; // a value entry (low bit 1) above 2^31
        const pointer = 0x80000000; // a pointer (low bits 00) above 2^31
        expect(forest.store(tree, 7, 0, high)).toBe(0);
        expect(forest.store(tree, 8, 0, pointer)).toBe(0);
        expect(forest.load(tree, 7)).toBe(high);
        expect(forest.store(tree, 8, 0, wordFor(8))).toBe(pointer);
        expect(forest.erase(tree, 7)).toBe(high);
        expect(forest.store(tree, 512, 9, pointer)).toBe(0);
        expect(forest.findPresent(tree, 9, MAX_INDEX)?.word).toBe(pointer);
        expect(forest.entries(tree)[1]?.word).toBe(pointer);
      });

      it('erase and store of 0 at an empty index return 0 and change nothing', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 10, 0, wordFor(10));
        const before = forest.entries(tree);
        expect(forest.erase(tree, 11)).toBe(0);
        expect(forest.store(tree, 9, 0, 0)).toBe(0);
        expect(forest.store(tree, 4096, 9, 0)).toBe(0);
        expect(forest.entries(tree)).toEqual(before);
      });

      it('erase(index) is store(index, 0, 0)', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 3, 0, wordFor(3));
        forest.store(tree, 1024, 9, pmdWordFor(1024));
        expect(forest.store(tree, 3, 0, 0)).toBe(wordFor(3));
        expect(forest.store(tree, 1024 + 9, 0, 0)).toBe(pmdWordFor(1024));
        expect(forest.count(tree)).toBe(0);
      });
    });

    describe('multi-index (order-9) entries', () => {
      it('an order-9 entry loads its canonical word at every index of its 512 range and nowhere else', async () => {
        const { forest, tree } = await openTree();
        for (const base of PMD_BASES) expect(forest.store(tree, base, 9, pmdWordFor(base))).toBe(0);
        for (const base of PMD_BASES) {
          for (let offset = 0; offset < 512; offset++) expect(forest.load(tree, base + offset)).toBe(pmdWordFor(base));
          if (base + 512 <= MAX_INDEX && !PMD_BASES.includes(base + 512)) expect(forest.load(tree, base + 512)).toBe(0);
          if (base > 0 && !PMD_BASES.includes(base - 512)) expect(forest.load(tree, base - 1)).toBe(0);
        }
        expect(forest.count(tree)).toBe(PMD_BASES.length);
        expect(forest.entries(tree)).toEqual(
          PMD_BASES.map((base) => ({ index: base, order: 9, word: pmdWordFor(base), marks: 0 })),
        );
      });

      it('an order-9 store through an unaligned index inserts at the 512-aligned base', async () => {
        const { forest, tree } = await openTree();
        expect(forest.store(tree, 4096 + 77, 9, pmdWordFor(4096))).toBe(0);
        expect(forest.entries(tree)).toEqual([{ index: 4096, order: 9, word: pmdWordFor(4096), marks: 0 }]);
        expect(forest.load(tree, 4096)).toBe(pmdWordFor(4096));
        expect(forest.load(tree, 4096 + 511)).toBe(pmdWordFor(4096));
      });

      it('a mark set through base+300 is seen at base and base+511, not at base+512', async () => {
        const { forest, tree } = await openTree();
        // Bases 1024 apart or more, so the order-0 entry at base+512 never sits in another base's range.
        for (const base of [0, 4096 - 512, 262144, 2 ** 30]) {
          forest.store(tree, base, 9, pmdWordFor(base));
          forest.store(tree, base + 512, 0, wordFor(base + 512)); // present but unmarked
          expect(forest.setMark(tree, base + 300, DIRTY)).toBe(true);
          expect(forest.getMark(tree, base, DIRTY)).toBe(true);
          expect(forest.getMark(tree, base + 511, DIRTY)).toBe(true);
          expect(forest.getMark(tree, base + 512, DIRTY)).toBe(false);
          expect(forest.getMark(tree, base + 300, WRITEBACK)).toBe(false);
          // Clearing through yet another index clears it for the whole entry.
          expect(forest.clearMark(tree, base + 1, DIRTY)).toBe(true);
          expect(forest.getMark(tree, base + 300, DIRTY)).toBe(false);
          expect(forest.getMark(tree, base + 511, DIRTY)).toBe(false);
        }
      });

      it('storing order 0 through any index of an order-9 entry replaces its word and keeps order and marks', async () => {
        const { forest, tree } = await openTree();
        const base = 262144;
        forest.store(tree, base, 9, pmdWordFor(base));
        forest.setMark(tree, base, DIRTY);
        forest.setMark(tree, base + 511, TOWRITE);
        let current = pmdWordFor(base);
        for (const offset of [0, 1, 300, 511]) {
          const next = daxMkEntry(1000 + offset, DAX_PMD);
          expect(forest.store(tree, base + offset, 0, next)).toBe(current);
          current = next;
          expect(forest.entries(tree)).toEqual([{ index: base, order: 9, word: next, marks: bits(DIRTY, TOWRITE) }]);
          expect(forest.load(tree, base + 511 - offset)).toBe(next);
        }
        expect(forest.count(tree)).toBe(1);
      });

      it('storing order 9 over the same order-9 entry replaces it and keeps its marks', async () => {
        const { forest, tree } = await openTree();
        const base = 2 ** 30;
        forest.store(tree, base, 9, pmdWordFor(base));
        forest.setMark(tree, base + 5, DIRTY);
        forest.setMark(tree, base + 6, WRITEBACK);
        const locked = daxLockedEntry(pmdWordFor(base));
        expect(forest.store(tree, base + 400, 9, locked)).toBe(pmdWordFor(base));
        expect(forest.store(tree, base, 9, pmdWordFor(base))).toBe(locked);
        expect(forest.entries(tree)).toEqual([{ index: base, order: 9, word: pmdWordFor(base), marks: bits(DIRTY, WRITEBACK) }]);
      });

      it('storing an order-9 entry over an order-0 entry reports a conflict and changes nothing', async () => {
        for (const offset of [0, 7, 511]) {
          const { forest, tree } = await openTree();
          const base = 4096;
          forest.store(tree, base + offset, 0, wordFor(base + offset));
          forest.setMark(tree, base + offset, DIRTY);
          forest.store(tree, base + 512, 9, pmdWordFor(base + 512)); // a neighbour that must not matter
          const before = forest.entries(tree);
          expect(forest.store(tree, base, 9, pmdWordFor(base))).toBe(XA_RETRY_ENTRY);
          expect(forest.store(tree, base + 100, 9, pmdWordFor(base))).toBe(XA_RETRY_ENTRY);
          expect(forest.entries(tree)).toEqual(before);
          expect(forest.load(tree, base + (offset === 0 ? 1 : 0))).toBe(0);
        }
      });

      it('storing order 9 where several order-0 entries sit reports a conflict and changes nothing', async () => {
        const { forest, tree } = await openTree();
        for (const index of [0xfffffe00, 0xfffffe01, MAX_INDEX]) forest.store(tree, index, 0, wordFor(index));
        const before = forest.entries(tree);
        expect(forest.store(tree, MAX_INDEX, 9, pmdWordFor(0xfffffe00))).toBe(XA_RETRY_ENTRY);
        expect(forest.entries(tree)).toEqual(before);
      });

      it('erasing through any index of an order-9 entry dissolves all 512 indices and its marks', async () => {
        for (const offset of [0, 1, 255, 511]) {
          const { forest, tree } = await openTree();
          const base = 512;
          forest.store(tree, base, 9, pmdWordFor(base));
          forest.setMark(tree, base, DIRTY);
          forest.store(tree, base - 1, 0, wordFor(base - 1));
          forest.store(tree, base + 512, 0, wordFor(base + 512));
          expect(forest.erase(tree, base + offset)).toBe(pmdWordFor(base));
          for (let i = 0; i < 512; i++) expect(forest.load(tree, base + i)).toBe(0);
          expect(forest.getMark(tree, base, DIRTY)).toBe(false);
          expect(forest.entries(tree).map((e) => e.index)).toEqual([base - 1, base + 512]);
          // Re-storing starts afresh, with no marks.
          expect(forest.store(tree, base, 9, pmdWordFor(base))).toBe(0);
          expect(forest.getMark(tree, base + offset, DIRTY)).toBe(false);
        }
      });

      it('storing 0 with order 9 erases every entry in the 512 range and nothing outside it', async () => {
        const { forest, tree } = await openTree();
        const base = 8192;
        const inside = [base, base + 1, base + 300, base + 511];
        const outside = [base - 1, base + 512];
        for (const index of [...inside, ...outside]) forest.store(tree, index, 0, wordFor(index));
        forest.setMark(tree, base + 300, DIRTY);
        expect(forest.store(tree, base + 300, 9, 0)).toBe(wordFor(base + 300));
        for (const index of inside) expect(forest.load(tree, index)).toBe(0);
        for (const index of outside) expect(forest.load(tree, index)).toBe(wordFor(index));
        expect(forest.count(tree)).toBe(outside.length);
        // The returned word is the one at `index`, 0 when that index was empty.
        forest.store(tree, base + 5, 0, wordFor(base + 5));
        expect(forest.store(tree, base + 6, 9, 0)).toBe(0);
        expect(forest.load(tree, base + 5)).toBe(0);
      });

      it('storing 0 with order 9 through an order-9 entry erases it and returns its word', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 0xfffffe00, 9, pmdWordFor(0xfffffe00));
        expect(forest.store(tree, MAX_INDEX, 9, 0)).toBe(pmdWordFor(0xfffffe00));
        expect(forest.count(tree)).toBe(0);
      });
    });

    describe('marks', () => {
      it('each of the three marks is set, read and cleared independently', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 4096, 0, wordFor(4096));
        for (const mark of [DIRTY, WRITEBACK, TOWRITE]) {
          expect(forest.setMark(tree, 4096, mark)).toBe(true);
          for (const other of [DIRTY, WRITEBACK, TOWRITE]) expect(forest.getMark(tree, 4096, other)).toBe(other === mark);
          expect(forest.entries(tree)[0]?.marks).toBe(bits(mark));
          expect(forest.clearMark(tree, 4096, mark)).toBe(true);
          expect(forest.getMark(tree, 4096, mark)).toBe(false);
        }
        forest.setMark(tree, 4096, DIRTY);
        forest.setMark(tree, 4096, TOWRITE);
        expect(forest.entries(tree)[0]?.marks).toBe(bits(DIRTY, TOWRITE));
      });

      it('setMark and clearMark on a present entry return true whether or not the mark changes', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 64, 0, wordFor(64));
        expect(forest.clearMark(tree, 64, DIRTY)).toBe(true);
        expect(forest.setMark(tree, 64, DIRTY)).toBe(true);
        expect(forest.setMark(tree, 64, DIRTY)).toBe(true);
        expect(forest.getMark(tree, 64, DIRTY)).toBe(true);
      });

      it('marks only belong to the entry they were set on', async () => {
        const { forest, tree } = await openTree();
        for (const index of SPREAD_INDICES) forest.store(tree, index, 0, wordFor(index));
        forest.setMark(tree, 4095, DIRTY);
        for (const index of SPREAD_INDICES) expect(forest.getMark(tree, index, DIRTY)).toBe(index === 4095);
      });

      it('marking an absent index returns false and creates nothing', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 63, 0, wordFor(63));
        const before = forest.entries(tree);
        for (const index of [0, 62, 64, 4096, MAX_INDEX]) {
          for (const mark of [DIRTY, WRITEBACK, TOWRITE]) {
            expect(forest.setMark(tree, index, mark)).toBe(false);
            expect(forest.clearMark(tree, index, mark)).toBe(false);
            expect(forest.getMark(tree, index, mark)).toBe(false);
          }
        }
        expect(forest.entries(tree)).toEqual(before);
        expect(forest.findMarked(tree, 0, MAX_INDEX, DIRTY)).toBeNull();
      });

      it('marks survive replacing the word, as DAX lock and unlock do', async () => {
        const { forest, tree } = await openTree();
        const pte = daxMkEntry(42, 0);
        forest.store(tree, 4096, 0, pte);
        forest.setMark(tree, 4096, DIRTY);
        expect(forest.store(tree, 4096, 0, daxLockedEntry(pte))).toBe(pte);
        expect(forest.getMark(tree, 4096, DIRTY)).toBe(true);
        expect(forest.store(tree, 4096, 0, daxUnlockedEntry(daxLockedEntry(pte)))).toBe(daxLockedEntry(pte));
        expect(forest.getMark(tree, 4096, DIRTY)).toBe(true);

        const pmd = daxMkEntry(512, DAX_PMD);
        forest.store(tree, 8192, 9, pmd);
        forest.setMark(tree, 8192 + 17, TOWRITE);
        expect(forest.store(tree, 8192, 9, daxLockedEntry(pmd))).toBe(pmd);
        expect(forest.store(tree, 8192, 9, pmd)).toBe(daxLockedEntry(pmd));
        expect(forest.entries(tree)).toEqual([
          { index: 4096, order: 0, word: pte, marks: bits(DIRTY) },
          { index: 8192, order: 9, word: pmd, marks: bits(TOWRITE) },
        ]);
      });

      it('an erased entry loses its marks and a re-stored entry starts with none', async () => {
        const { forest, tree } = await openTree();
        for (const index of [0, 262144, MAX_INDEX]) {
          forest.store(tree, index, 0, wordFor(index));
          for (const mark of [DIRTY, WRITEBACK, TOWRITE]) forest.setMark(tree, index, mark);
          forest.erase(tree, index);
          for (const mark of [DIRTY, WRITEBACK, TOWRITE]) expect(forest.getMark(tree, index, mark)).toBe(false);
          forest.store(tree, index, 0, wordFor(index));
          for (const mark of [DIRTY, WRITEBACK, TOWRITE]) expect(forest.getMark(tree, index, mark)).toBe(false);
        }
        expect(forest.entries(tree).map((e) => e.marks)).toEqual([0, 0, 0]);
        expect(forest.findMarked(tree, 0, MAX_INDEX, DIRTY)).toBeNull();
      });
    });

    describe('finds', () => {
      it('findPresent returns the first entry in [start, end] with its index, order, word and marks', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 100, 0, wordFor(100));
        forest.store(tree, 1024, 9, pmdWordFor(1024));
        forest.setMark(tree, 1024, WRITEBACK);
        expect(forest.findPresent(tree, 0, MAX_INDEX)).toEqual({ index: 100, order: 0, word: wordFor(100), marks: 0 });
        expect(forest.findPresent(tree, 100, 100)).toEqual({ index: 100, order: 0, word: wordFor(100), marks: 0 });
        expect(forest.findPresent(tree, 101, MAX_INDEX)).toEqual({ index: 1024, order: 9, word: pmdWordFor(1024), marks: bits(WRITEBACK) });
        expect(forest.findPresent(tree, 0, 99)).toBeNull();
        expect(forest.findPresent(tree, 101, 1023)).toBeNull();
        expect(forest.findPresent(tree, 1536, MAX_INDEX)).toBeNull();
      });

      it('findMarked walks marked entries in ascending order, each multi-index entry once', async () => {
        const { forest, tree } = await openTree();
        const pmdBase = 4096;
        for (const index of SPREAD_INDICES.filter((i) => i < pmdBase || i >= pmdBase + 512)) forest.store(tree, index, 0, wordFor(index));
        forest.store(tree, pmdBase, 9, pmdWordFor(pmdBase));
        forest.store(tree, 0xfffffe00, 9, 0); // clears room for an order-9 entry at the top
        forest.store(tree, 0xfffffe00, 9, pmdWordFor(0xfffffe00));
        const marked = [0, 64, pmdBase, 262143, 2 ** 30, 0xfffffe00];
        // Set in descending order, through inner indices of the order-9 entries.
        for (const index of [...marked].reverse()) forest.setMark(tree, index === pmdBase || index === 0xfffffe00 ? index + 200 : index, DIRTY);
        expect(walkMarked(forest, tree, 0, MAX_INDEX, DIRTY)).toEqual(marked);
        expect(walkMarked(forest, tree, 65, 2 ** 30, DIRTY)).toEqual([pmdBase, 262143, 2 ** 30]);
        expect(walkMarked(forest, tree, 0, MAX_INDEX, WRITEBACK)).toEqual([]);
        // findPresent walks every entry, each order-9 entry once.
        expect(walkPresent(forest, tree, 0, MAX_INDEX)).toEqual(forest.entries(tree).map((e) => e.index));
      });

      it('a find starting inside an order-9 entry returns its first index, below start', async () => {
        const { forest, tree } = await openTree();
        for (const base of [512, 0xfffffe00]) {
          forest.store(tree, base, 9, pmdWordFor(base));
          forest.setMark(tree, base + 3, TOWRITE);
          const expected = { index: base, order: 9, word: pmdWordFor(base), marks: bits(TOWRITE) };
          expect(forest.findPresent(tree, base + 300, MAX_INDEX)).toEqual(expected);
          expect(forest.findPresent(tree, base + 511, base + 511)).toEqual(expected);
          expect(forest.findMarked(tree, base + 300, base + 300, TOWRITE)).toEqual(expected);
          expect(forest.findMarked(tree, base + 300, MAX_INDEX, DIRTY)).toBeNull();
        }
      });

      it('a find whose end reaches into an order-9 entry finds it', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 1024, 9, pmdWordFor(1024));
        forest.setMark(tree, 1024, DIRTY);
        expect(forest.findPresent(tree, 0, 1024)?.index).toBe(1024);
        expect(forest.findMarked(tree, 1000, 1024, DIRTY)?.index).toBe(1024);
        expect(forest.findPresent(tree, 0, 1023)).toBeNull();
      });

      it('a find with start > end returns null even where entries are', async () => {
        const { forest, tree } = await openTree();
        for (const index of [5, 10]) {
          forest.store(tree, index, 0, wordFor(index));
          forest.setMark(tree, index, DIRTY);
        }
        forest.store(tree, 512, 9, pmdWordFor(512));
        forest.setMark(tree, 512, DIRTY);
        expect(forest.findPresent(tree, 10, 5)).toBeNull();
        expect(forest.findMarked(tree, 10, 5, DIRTY)).toBeNull();
        expect(forest.findPresent(tree, 600, 520)).toBeNull();
        expect(forest.findMarked(tree, MAX_INDEX, 0, DIRTY)).toBeNull();
      });
    });

    describe('tagTowrite', () => {
      it('tags only DIRTY entries covering [start, end], clears nothing, and returns how many were DIRTY', async () => {
        const { forest, tree } = await openTree();
        for (let index = 0; index < 10; index++) forest.store(tree, index, 0, wordFor(index));
        for (const index of [0, 2, 4, 6, 8]) forest.setMark(tree, index, DIRTY);
        forest.setMark(tree, 3, WRITEBACK);
        forest.setMark(tree, 5, TOWRITE); // TOWRITE without DIRTY, inside the range: kept
        forest.store(tree, 100, 0, wordFor(100));
        forest.setMark(tree, 100, TOWRITE); // already TOWRITE, outside the range, not DIRTY

        expect(forest.tagTowrite(tree, 2, 7)).toBe(3);
        for (let index = 0; index < 10; index++) {
          expect(forest.getMark(tree, index, TOWRITE)).toBe([2, 4, 5, 6].includes(index));
          expect(forest.getMark(tree, index, DIRTY)).toBe(index % 2 === 0);
        }
        expect(forest.getMark(tree, 3, WRITEBACK)).toBe(true);
        expect(forest.getMark(tree, 100, TOWRITE)).toBe(true);

        // Tagging again counts the DIRTY entries again (the count is of DIRTY, not of changes).
        expect(forest.tagTowrite(tree, 2, 7)).toBe(3);
        expect(forest.tagTowrite(tree, 8, 8)).toBe(1);
        expect(forest.tagTowrite(tree, 9, 99)).toBe(0);
        expect(forest.getMark(tree, 100, TOWRITE)).toBe(true);
        expect(forest.getMark(tree, 0, TOWRITE)).toBe(false);
      });

      it('tags an order-9 entry once when the range reaches any of its indices', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 512, 9, pmdWordFor(512));
        forest.setMark(tree, 512, DIRTY);
        forest.store(tree, 1024, 9, pmdWordFor(1024));
        forest.setMark(tree, 1024, DIRTY);
        expect(forest.tagTowrite(tree, 600, 700)).toBe(1);
        expect(forest.getMark(tree, 1023, TOWRITE)).toBe(true);
        expect(forest.getMark(tree, 1024, TOWRITE)).toBe(false);
        expect(forest.tagTowrite(tree, 1000, 1024)).toBe(2);
        expect(forest.entries(tree).map((e) => e.marks)).toEqual([bits(DIRTY, TOWRITE), bits(DIRTY, TOWRITE)]);
      });

      it('tagTowrite with start > end returns 0 and tags nothing', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 5, 0, wordFor(5));
        forest.setMark(tree, 5, DIRTY);
        forest.store(tree, 512, 9, pmdWordFor(512));
        forest.setMark(tree, 512, DIRTY);
        expect(forest.tagTowrite(tree, 6, 4)).toBe(0);
        // Both ends inside one order-9 entry, reversed: still nothing.
        expect(forest.tagTowrite(tree, 600, 520)).toBe(0);
        expect(forest.getMark(tree, 5, TOWRITE)).toBe(false);
        expect(forest.getMark(tree, 512, TOWRITE)).toBe(false);
      });

      it('tagTowrite over the whole index space reaches the last index', async () => {
        const { forest, tree } = await openTree();
        for (const index of SPREAD_INDICES) {
          forest.store(tree, index, 0, wordFor(index));
          forest.setMark(tree, index, DIRTY);
        }
        expect(forest.tagTowrite(tree, 0, MAX_INDEX)).toBe(SPREAD_INDICES.length);
        expect(walkMarked(forest, tree, 0, MAX_INDEX, TOWRITE)).toEqual(SPREAD_INDICES);
      });
    });

    describe('count and entries', () => {
      it('count counts entries, an order-9 entry once; entries lists them in index order', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 2 ** 30, 0, wordFor(2 ** 30));
        forest.store(tree, 4096 + 9, 9, pmdWordFor(4096));
        forest.store(tree, 3, 0, wordFor(3));
        forest.setMark(tree, 3, WRITEBACK);
        expect(forest.count(tree)).toBe(3);
        expect(forest.entries(tree)).toEqual<TreeEntry[]>([
          { index: 3, order: 0, word: wordFor(3), marks: bits(WRITEBACK) },
          { index: 4096, order: 9, word: pmdWordFor(4096), marks: 0 },
          { index: 2 ** 30, order: 0, word: wordFor(2 ** 30), marks: 0 },
        ]);
      });

      it('entries returns a snapshot: changing it does not change the tree', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 3, 0, wordFor(3));
        const listed = forest.entries(tree);
        listed[0]!.word = 0;
        listed[0]!.marks = 7;
        listed.pop();
        expect(forest.entries(tree)).toEqual([{ index: 3, order: 0, word: wordFor(3), marks: 0 }]);
        const found = forest.findPresent(tree, 0, 10)!;
        found.marks = 7;
        expect(forest.getMark(tree, 3, DIRTY)).toBe(false);
      });
    });

    describe('trees', () => {
      it('tree ids start at 1 and a destroyed id is handed out again, most recent first', async () => {
        const forest = await makeForest();
        expect([forest.createTree(), forest.createTree(), forest.createTree()]).toEqual([1, 2, 3]);
        forest.destroyTree(1);
        forest.destroyTree(3);
        expect(forest.createTree()).toBe(3);
        expect(forest.createTree()).toBe(1);
        expect(forest.createTree()).toBe(4);
      });

      it('a reused tree id starts empty, without the old entries or marks', async () => {
        const forest = await makeForest();
        const tree = forest.createTree();
        forest.store(tree, 7, 0, wordFor(7));
        forest.store(tree, 512, 9, pmdWordFor(512));
        forest.setMark(tree, 7, DIRTY);
        forest.destroyTree(tree);
        expect(forest.createTree()).toBe(tree);
        expect(forest.count(tree)).toBe(0);
        expect(forest.load(tree, 7)).toBe(0);
        expect(forest.load(tree, 600)).toBe(0);
        expect(forest.getMark(tree, 7, DIRTY)).toBe(false);
        expect(forest.findMarked(tree, 0, MAX_INDEX, DIRTY)).toBeNull();
        expect(forest.entries(tree)).toEqual([]);
      });

      it('trees are independent: entries and marks in one do not show in another', async () => {
        const forest = await makeForest();
        const a = forest.createTree();
        const b = forest.createTree();
        forest.store(a, 5, 0, wordFor(5));
        forest.setMark(a, 5, DIRTY);
        forest.store(a, 1024, 9, pmdWordFor(1024));
        expect(forest.load(b, 5)).toBe(0);
        expect(forest.getMark(b, 5, DIRTY)).toBe(false);
        expect(forest.setMark(b, 5, DIRTY)).toBe(false);
        expect(forest.count(b)).toBe(0);
        expect(forest.findPresent(b, 0, MAX_INDEX)).toBeNull();
        expect(forest.tagTowrite(b, 0, MAX_INDEX)).toBe(0);
        // An order-0 entry in b does not conflict with a's order-9 entry, nor replace it.
        expect(forest.store(b, 1030, 0, wordFor(1030))).toBe(0);
        forest.store(b, 5, 0, otherWordFor(5));
        expect(forest.load(a, 5)).toBe(wordFor(5));
        expect(forest.load(a, 1030)).toBe(pmdWordFor(1024));
        expect(forest.getMark(a, 5, TOWRITE)).toBe(false);
        forest.destroyTree(b);
        expect(forest.entries(a)).toEqual([
          { index: 5, order: 0, word: wordFor(5), marks: bits(DIRTY) },
          { index: 1024, order: 9, word: pmdWordFor(1024), marks: 0 },
        ]);
      });
    });

    describe('bad input', () => {
      it('an unknown or destroyed tree id is refused with EBADF by every method', async () => {
        const forest = await makeForest();
        const kept = forest.createTree();
        forest.store(kept, 5, 0, wordFor(5));
        const destroyed = forest.createTree();
        forest.destroyTree(destroyed);
        for (const bad of [0, -1, destroyed, NO_TREE, 1.5, NaN]) {
          expectRefused(forest, kept, () => forest.load(bad, 5), 'EBADF');
          expectRefused(forest, kept, () => forest.store(bad, 5, 0, wordFor(5)), 'EBADF');
          expectRefused(forest, kept, () => forest.erase(bad, 5), 'EBADF');
          expectRefused(forest, kept, () => forest.setMark(bad, 5, DIRTY), 'EBADF');
          expectRefused(forest, kept, () => forest.clearMark(bad, 5, DIRTY), 'EBADF');
          expectRefused(forest, kept, () => forest.getMark(bad, 5, DIRTY), 'EBADF');
          expectRefused(forest, kept, () => forest.findMarked(bad, 0, 10, DIRTY), 'EBADF');
          expectRefused(forest, kept, () => forest.findPresent(bad, 0, 10), 'EBADF');
          expectRefused(forest, kept, () => forest.tagTowrite(bad, 0, 10), 'EBADF');
          expectRefused(forest, kept, () => forest.count(bad), 'EBADF');
          expectRefused(forest, kept, () => forest.entries(bad), 'EBADF');
          expectRefused(forest, kept, () => forest.destroyTree(bad), 'EBADF');
        }
        // The failed destroys freed nothing: the next id is the one destroyed above.
        expect(forest.createTree()).toBe(destroyed);
      });

      it('an index, start or end that is not an integer in [0, 0xFFFFFFFF] is refused with EINVAL', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 5, 0, wordFor(5));
        forest.setMark(tree, 5, DIRTY);
        for (const bad of [-1, 2 ** 32, 1.5, NaN, Infinity, -Infinity]) {
          expectRefused(forest, tree, () => forest.load(tree, bad), 'EINVAL');
          expectRefused(forest, tree, () => forest.store(tree, bad, 0, wordFor(5)), 'EINVAL');
          expectRefused(forest, tree, () => forest.store(tree, bad, 9, 0), 'EINVAL');
          expectRefused(forest, tree, () => forest.erase(tree, bad), 'EINVAL');
          expectRefused(forest, tree, () => forest.setMark(tree, bad, TOWRITE), 'EINVAL');
          expectRefused(forest, tree, () => forest.clearMark(tree, bad, DIRTY), 'EINVAL');
          expectRefused(forest, tree, () => forest.getMark(tree, bad, DIRTY), 'EINVAL');
          // A bad start or end is refused, not taken as start > end.
          expectRefused(forest, tree, () => forest.findMarked(tree, bad, 10, DIRTY), 'EINVAL');
          expectRefused(forest, tree, () => forest.findMarked(tree, 0, bad, DIRTY), 'EINVAL');
          expectRefused(forest, tree, () => forest.findPresent(tree, bad, 10), 'EINVAL');
          expectRefused(forest, tree, () => forest.findPresent(tree, 0, bad), 'EINVAL');
          expectRefused(forest, tree, () => forest.tagTowrite(tree, bad, 10), 'EINVAL');
          expectRefused(forest, tree, () => forest.tagTowrite(tree, 0, bad), 'EINVAL');
        }
        expect(forest.getMark(tree, 5, TOWRITE)).toBe(false);
      });

      it('an order other than 0 or 9 is refused with EINVAL', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 512, 9, pmdWordFor(512));
        for (const bad of [1, 3, 8, 10, 6, -1, 0.5, NaN]) {
          expectRefused(forest, tree, () => forest.store(tree, 512, bad, daxMkEntry(9, DAX_PMD)), 'EINVAL');
          expectRefused(forest, tree, () => forest.store(tree, 2048, bad, wordFor(2048)), 'EINVAL');
          expectRefused(forest, tree, () => forest.store(tree, 512, bad, 0), 'EINVAL');
        }
      });

      it('a mark other than 0, 1 or 2 is refused with EINVAL, also at an absent index', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 5, 0, wordFor(5));
        for (const bad of [3, 4, -1, 0.5, NaN]) {
          for (const index of [5, 6]) {
            expectRefused(forest, tree, () => forest.setMark(tree, index, bad), 'EINVAL');
            expectRefused(forest, tree, () => forest.clearMark(tree, index, bad), 'EINVAL');
            expectRefused(forest, tree, () => forest.getMark(tree, index, bad), 'EINVAL');
          }
          expectRefused(forest, tree, () => forest.findMarked(tree, 0, MAX_INDEX, bad), 'EINVAL');
          expectRefused(forest, tree, () => forest.findMarked(tree, 10, 0, bad), 'EINVAL');
        }
      });

      it('a word that is not a u32, or is an internal entry, is refused with EINVAL', async () => {
        const { forest, tree } = await openTree();
        forest.store(tree, 5, 0, wordFor(5));
        forest.store(tree, 512, 9, pmdWordFor(512));
        const nodeWord = xaMkInternal(0x10000); // what a node pointer looks like
        const badWords = [-1, 2 ** 32, 1.5, NaN, XA_RETRY_ENTRY, XA_ZERO_ENTRY, xaMkSibling(0), xaMkSibling(7), nodeWord, xaMkError(22), xaMkError(4095)];
        for (const bad of badWords) {
          const targets: [number, number][] = [[5, 0], [6, 0], [512, 0], [512, 9], [4096, 9]];
          for (const [index, order] of targets) {
            expectRefused(forest, tree, () => forest.store(tree, index, order, bad), 'EINVAL');
          }
        }
      });
    });

    describe('batches', () => {
      it('a batch gives the results of the single methods; a failing op gives XA_ERROR and the batch goes on', async () => {
        const forest = await makeForest();
        const t = forest.createTree();
        const w5 = wordFor(5);
        const pmd = pmdWordFor(1024);
        const top = 0xfffffff1; // negative as an i32
        const table: [BatchOp, number, number][] = [
          [{ op: 'store', tree: t, index: 5, order: 0, word: w5 }, 0, 0],
          [{ op: 'store', tree: t, index: 5, order: 0, word: otherWordFor(5) }, w5, 0],
          [{ op: 'load', tree: t, index: 5 }, otherWordFor(5), 0],
          [{ op: 'store', tree: t, index: 1024 + 3, order: 9, word: pmd }, 0, 0],
          [{ op: 'setMark', tree: t, index: 1024 + 511, mark: DIRTY }, 1, 0],
          [{ op: 'getMark', tree: t, index: 1024, mark: DIRTY }, 1, 0],
          [{ op: 'setMark', tree: t, index: 6, mark: DIRTY }, 0, 0],
          [{ op: 'store', tree: t, index: 0, order: 9, word: pmdWordFor(0) }, XA_RETRY_ENTRY | 0, 0],
          // Failing ops in the middle: bad order, bad mark, bad tree, internal word.
          [{ op: 'store', tree: t, index: 7, order: 3, word: wordFor(7) }, xaMkError(22) | 0, 0],
          [{ op: 'setMark', tree: t, index: 5, mark: 7 }, xaMkError(22) | 0, 0],
          [{ op: 'load', tree: NO_TREE, index: 0 }, xaMkError(9) | 0, 0],
          [{ op: 'store', tree: t, index: 8, order: 0, word: XA_ZERO_ENTRY }, xaMkError(22) | 0, 0],
          // ... and the batch goes on, with nothing changed by them.
          [{ op: 'load', tree: t, index: 7 }, 0, 0],
          [{ op: 'getMark', tree: t, index: 5, mark: DIRTY }, 0, 0],
          [{ op: 'findMarked', tree: t, start: 1100, end: 5000, mark: DIRTY }, 1024, pmd | 0],
          [{ op: 'findPresent', tree: t, start: 6, end: 1000 }, -1, 0],
          [{ op: 'tagTowrite', tree: t, start: 0, end: MAX_INDEX }, 1, 0],
          [{ op: 'walkMarked', tree: t, start: 0, end: MAX_INDEX, mark: TOWRITE }, 1, 1024],
          [{ op: 'store', tree: t, index: MAX_INDEX, order: 0, word: top }, 0, 0],
          [{ op: 'load', tree: t, index: MAX_INDEX }, top | 0, 0],
          [{ op: 'setMark', tree: t, index: MAX_INDEX, mark: TOWRITE }, 1, 0],
          [{ op: 'walkMarked', tree: t, start: 0, end: MAX_INDEX, mark: TOWRITE }, 2, 1024 ^ (MAX_INDEX | 0)],
          [{ op: 'count', tree: t }, 3, 0],
          [{ op: 'erase', tree: t, index: 1500 }, pmd, 0],
          [{ op: 'clearMark', tree: t, index: 1500, mark: DIRTY }, 0, 0],
          [{ op: 'count', tree: t }, 2, 0],
        ];
        const ops = table.map(([op]) => op);
        expect(runAsBatch(forest, ops)).toEqual(table.map(([, result, aux]) => [result, aux]));

        // The same ops through the single methods on a second forest end in the same state.
        const twin = await makeForest();
        expect(twin.createTree()).toBe(t);
        expect(ops.map((op) => callSingle(twin, op))).toEqual(table.map(([, result, aux]) => [result, aux]));
        expect(forest.entries(t)).toEqual(twin.entries(t));
      });

      it('a random batch matches the single methods op by op on a twin forest', async () => {
        const forest = await makeForest();
        const twin = await makeForest();
        const trees = [forest.createTree(), forest.createTree()];
        expect([twin.createTree(), twin.createTree()]).toEqual(trees);
        const random = lcg(0x5eed);
        const indexAround = (): number => {
          const regions = [0, 4096 - 600, 262144 - 600, 0xffffffff - 1200];
          return regions[random(regions.length)]! + random(1200);
        };
        const ops: BatchOp[] = [];
        for (let i = 0; i < 3000; i++) {
          const tree = random(50) === 0 ? NO_TREE : trees[random(trees.length)]!;
          const mark = random(40) === 0 ? 3 : random(3);
          const start = indexAround();
          const end = random(10) === 0 ? Math.max(0, start - 1) : Math.min(MAX_INDEX, start + random(2000));
          switch (random(10)) {
            case 0: ops.push({ op: 'load', tree, index: indexAround() }); break;
            case 1: ops.push({ op: 'erase', tree, index: indexAround() }); break;
            case 2:
            case 3: {
              const index = indexAround();
              const order = random(30) === 0 ? 3 : random(3) === 0 ? 9 : 0;
              const roll = random(20);
              const word = roll === 0 ? 0 : roll === 1 ? XA_RETRY_ENTRY : order === 9 ? pmdWordFor(index) : wordFor(index);
              ops.push({ op: 'store', tree, index, order, word });
              break;
            }
            case 4: ops.push({ op: 'setMark', tree, index: indexAround(), mark }); break;
            case 5: ops.push({ op: random(2) ? 'clearMark' : 'getMark', tree, index: indexAround(), mark }); break;
            case 6: ops.push({ op: random(2) ? 'findMarked' : 'walkMarked', tree, start, end, mark }); break;
            case 7: ops.push({ op: random(2) ? 'findPresent' : 'tagTowrite', tree, start, end }); break;
            case 8: ops.push({ op: 'count', tree }); break;
            default: ops.push({ op: 'setMark', tree, index: indexAround(), mark: DIRTY }); break;
          }
        }
        const batched = runAsBatch(forest, ops);
        const single = ops.map((op) => callSingle(twin, op));
        for (let i = 0; i < ops.length; i++) expect(batched[i], `op ${i}: ${JSON.stringify(ops[i])}`).toEqual(single[i]);
        for (const tree of trees) expect(forest.entries(tree)).toEqual(twin.entries(tree));
      });
    });
  });
}
