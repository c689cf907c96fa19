/**
 * The content the xarray suite measures: the same N entries in one wasm Core (release
 * build) and in one ModelForest, 10% of them DIRTY, plus seeded pools of present indices
 * that both sides walk in the same order.
 */
import { BatchBuilder, BATCH_RESULT_WORDS } from '../src/core/batch.js';
import { Core } from '../src/core/index.js';
import { DAX_PFN_MAX, PAGECACHE_TAG_DIRTY, XA_MAX_INDEX, daxMkEntry } from '../src/core/entry.js';
import { ModelForest } from '../src/model/xarray.js';
import { Rng } from '../src/base/random.js';

/** dense: indices 0..N-1 (full leaves); sparse: i * SPARSE_STRIDE (about one entry per leaf). */
export type Layout = 'dense' | 'sparse';
export const LAYOUTS: readonly Layout[] = ['dense', 'sparse'];

/** Larger than a leaf's 64 slots and prime, so sparse entries land on ever different offsets. */
export const SPARSE_STRIDE = 1031;
/** Every DIRTY_EVERY-th entry (entry 0, 10, 20, ...) is DIRTY. */
export const DIRTY_EVERY = 10;
/** Operations per set-up batch: one scratch buffer's worth (65536 records of 16 bytes). */
const SETUP_BATCH_OPS = 65536;

/** The index of the i-th entry in a layout. */
export function indexOf(layout: Layout, i: number): number {
  return layout === 'dense' ? i : i * SPARSE_STRIDE;
}

/** The word the i-th entry is built with. */
export function wordOf(i: number): number {
  return daxMkEntry(i + 1, 0);
}

/** Throws unless `size` entries of `layout` fit the index space and the pfn field. */
export function checkWorkloadSize(size: number, layout: Layout): void {
  if (!Number.isSafeInteger(size) || size < 1) throw new Error(`xarray: size ${size} is not a positive integer`);
  if (indexOf(layout, size - 1) > XA_MAX_INDEX) throw new Error(`xarray: ${size} ${layout} entries do not fit below index 2^32`);
  if (size > DAX_PFN_MAX) throw new Error(`xarray: size ${size} exceeds the largest pfn ${DAX_PFN_MAX}`);
}

/** One tree of N entries held in both implementations, under the same tree id. */
export interface XarrayWorkload {
  size: number;
  layout: Layout;
  core: Core;
  model: ModelForest;
  /** The tree id, equal on both sides, so one encoded batch drives both. */
  tree: number;
  /** How many entries carry DIRTY. */
  dirtyCount: number;
}

/** Runs one set-up batch on both sides and checks every result is `expected`. */
function runSetupBatch(w: Omit<XarrayWorkload, 'dirtyCount'>, ops: Int32Array, expected: number, what: string): void {
  for (const [side, results] of [['wasm', w.core.runBatch(ops)], ['model', w.model.runBatch(ops)]] as const) {
    for (let r = 0; r < results.length; r += BATCH_RESULT_WORDS) {
      if (results[r] !== expected) {
        throw new Error(`xarray set-up (${what}, ${w.size} ${w.layout}): ${side} op ${r / BATCH_RESULT_WORDS} gave ${results[r]}, expected ${expected}`);
      }
    }
  }
}

/** Builds N entries of `layout` on a fresh Core and ModelForest with batches, and marks every tenth DIRTY. */
export async function buildWorkload(size: number, layout: Layout): Promise<XarrayWorkload> {
  checkWorkloadSize(size, layout);
  // A fresh Core per workload: its memory goes with it, and no heap left by an earlier
  // size skews the node layout.
  const core = await Core.create({ build: 'release' });
  const model = new ModelForest();
  const tree = core.createTree();
  if (model.createTree() !== tree) throw new Error('xarray set-up: the two forests handed out different tree ids');
  const partial = { size, layout, core, model, tree };

  const batch = new BatchBuilder(SETUP_BATCH_OPS);
  for (let from = 0; from < size; from += SETUP_BATCH_OPS) {
    batch.reset();
    for (let i = from; i < Math.min(size, from + SETUP_BATCH_OPS); i++) batch.store(tree, indexOf(layout, i), 0, wordOf(i));
    runSetupBatch(partial, batch.finish(), 0, 'store');
  }
  let dirtyCount = 0;
  for (let from = 0; from < size; from += SETUP_BATCH_OPS * DIRTY_EVERY) {
    batch.reset();
    for (let i = from; i < Math.min(size, from + SETUP_BATCH_OPS * DIRTY_EVERY); i += DIRTY_EVERY) {
      batch.setMark(tree, indexOf(layout, i), PAGECACHE_TAG_DIRTY);
      dirtyCount++;
    }
    runSetupBatch(partial, batch.finish(), 1, 'mark');
  }
  const wasmCount = core.count(tree);
  const modelCount = model.count(tree);
  if (wasmCount !== size || modelCount !== size) {
    throw new Error(`xarray set-up (${size} ${layout}): counts wasm ${wasmCount}, model ${modelCount}, expected ${size}`);
  }
  return { ...partial, dirtyCount };
}

/** Destroys the workload's trees on both sides, so their memory can be reclaimed. */
export function releaseWorkload(w: XarrayWorkload): void {
  w.core.destroyTree(w.tree);
  w.model.destroyTree(w.tree);
}

/** `count` indices of present entries, uniform over the entries, from a generator seeded by size and layout. */
export function presentIndexPool(w: XarrayWorkload, count: number): Uint32Array {
  const rng = new Rng(0x5eed ^ Math.imul(w.size, 31) ^ (w.layout === 'dense' ? 0 : 0x9e37));
  const pool = new Uint32Array(count);
  for (let k = 0; k < count; k++) pool[k] = indexOf(w.layout, rng.below(w.size));
  return pool;
}

/** Stores the built words back at the pool's indices on both sides (after the store cases changed them). */
export function restoreWords(w: XarrayWorkload, pool: Uint32Array): void {
  const batch = new BatchBuilder(pool.length);
  const ordinal = (index: number): number => (w.layout === 'dense' ? index : index / SPARSE_STRIDE);
  for (const index of pool) batch.store(w.tree, index, 0, wordOf(ordinal(index)));
  const ops = batch.finish();
  w.core.runBatch(ops);
  w.model.runBatch(ops);
}
