/**
 * The timed loops of the xarray suite, one pair (wasm, model) per case. Both sides of a
 * pair do the same operations in the same order from the same arrays.
 *
 * The wasm and model loops are written out separately rather than through one generic
 * helper taking a Forest: a shared call site would see both classes and go polymorphic,
 * slowing both sides by an amount that belongs to neither.
 */
import { BatchBuilder } from '../src/core/batch.js';
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_WRITEBACK, XA_MAX_INDEX, daxMkEntry } from '../src/core/entry.js';
import type { Sides } from './case.js';
import type { XarrayWorkload } from './xarray-workload.js';

/** Single calls per iteration of a single-call case. */
export const CALLS_PER_ITERATION = 1024;
/** Records per batch of a batch case. */
export const BATCH_OPS = 4096;

/** Every iteration takes the next slice of the pool, wrapping around. */
function checkPool(pool: Uint32Array, slice: number): void {
  if (pool.length === 0 || pool.length % slice !== 0) throw new Error(`index pool of ${pool.length} is not a multiple of ${slice}`);
}

/** Runs prebuilt batches in turn on each side; each batch counts `opsPerBatch` operations. */
function batchSides(w: XarrayWorkload, batches: Int32Array[], opsPerBatch: number): Sides {
  const { core, model } = w;
  let wasmNext = 0;
  let modelNext = 0;
  return {
    opsPerIteration: opsPerBatch,
    wasm: () => {
      const results = core.runBatch(batches[wasmNext]!);
      wasmNext = (wasmNext + 1) % batches.length;
      return results;
    },
    model: () => {
      const results = model.runBatch(batches[modelNext]!);
      modelNext = (modelNext + 1) % batches.length;
      return results;
    },
  };
}

/** Encodes `steps` steps, `stepsPerBatch` to a batch; `encode(batch, k)` appends the records of step k. */
function buildBatches(steps: number, stepsPerBatch: number, encode: (batch: BatchBuilder, step: number) => void): Int32Array[] {
  const batches: Int32Array[] = [];
  for (let from = 0; from < steps; from += stepsPerBatch) {
    const batch = new BatchBuilder(BATCH_OPS);
    for (let step = from; step < Math.min(steps, from + stepsPerBatch); step++) encode(batch, step);
    batches.push(batch.finish().slice());
  }
  return batches;
}

/** The stores' targets: the pool twice, with a word per position no other position stores, so each store changes its entry. */
function storePlan(pool: Uint32Array): { indices: Uint32Array; words: Uint32Array } {
  const indices = new Uint32Array(2 * pool.length);
  const words = new Uint32Array(2 * pool.length);
  for (let p = 0; p < indices.length; p++) {
    indices[p] = pool[p % pool.length]!;
    words[p] = daxMkEntry(1 + p, 0);
  }
  return { indices, words };
}

/** 1024 core.load / model.load calls at pool indices; returns a checksum of the words. */
export function loadSingle(w: XarrayWorkload, pool: Uint32Array): Sides {
  checkPool(pool, CALLS_PER_ITERATION);
  const { core, model, tree } = w;
  let wasmAt = 0;
  let modelAt = 0;
  return {
    opsPerIteration: CALLS_PER_ITERATION,
    wasm: () => {
      let sum = 0;
      const end = wasmAt + CALLS_PER_ITERATION;
      for (let k = wasmAt; k < end; k++) sum = (sum + core.load(tree, pool[k]!)) | 0;
      wasmAt = end % pool.length;
      return sum;
    },
    model: () => {
      let sum = 0;
      const end = modelAt + CALLS_PER_ITERATION;
      for (let k = modelAt; k < end; k++) sum = (sum + model.load(tree, pool[k]!)) | 0;
      modelAt = end % pool.length;
      return sum;
    },
  };
}

/** Batches of 4096 OP_LOAD records at pool indices. */
export function loadBatch(w: XarrayWorkload, pool: Uint32Array): Sides {
  checkPool(pool, BATCH_OPS);
  const batches = buildBatches(pool.length, BATCH_OPS, (b, k) => b.load(w.tree, pool[k]!));
  return batchSides(w, batches, BATCH_OPS);
}

/** 1024 core.store / model.store calls replacing present entries with new words; returns a checksum of the old words. */
export function storeSingle(w: XarrayWorkload, pool: Uint32Array): Sides {
  checkPool(pool, CALLS_PER_ITERATION);
  const { core, model, tree } = w;
  const { indices, words } = storePlan(pool);
  let wasmAt = 0;
  let modelAt = 0;
  return {
    opsPerIteration: CALLS_PER_ITERATION,
    wasm: () => {
      let sum = 0;
      const end = wasmAt + CALLS_PER_ITERATION;
      for (let k = wasmAt; k < end; k++) sum = (sum + core.store(tree, indices[k]!, 0, words[k]!)) | 0;
      wasmAt = end % indices.length;
      return sum;
    },
    model: () => {
      let sum = 0;
      const end = modelAt + CALLS_PER_ITERATION;
      for (let k = modelAt; k < end; k++) sum = (sum + model.store(tree, indices[k]!, 0, words[k]!)) | 0;
      modelAt = end % indices.length;
      return sum;
    },
  };
}

/** Batches of 4096 OP_STORE records replacing present entries with new words. */
export function storeBatch(w: XarrayWorkload, pool: Uint32Array): Sides {
  checkPool(pool, BATCH_OPS);
  const { indices, words } = storePlan(pool);
  const batches = buildBatches(indices.length, BATCH_OPS, (b, k) => b.store(w.tree, indices[k]!, 0, words[k]!));
  return batchSides(w, batches, BATCH_OPS);
}

/** 1024 pairs of setMark + clearMark (WRITEBACK) at pool indices, 2 ops a pair; returns how many calls found an entry. */
export function markSingle(w: XarrayWorkload, pool: Uint32Array): Sides {
  checkPool(pool, CALLS_PER_ITERATION);
  const { core, model, tree } = w;
  const mark = PAGECACHE_TAG_WRITEBACK;
  let wasmAt = 0;
  let modelAt = 0;
  return {
    opsPerIteration: 2 * CALLS_PER_ITERATION,
    wasm: () => {
      let hits = 0;
      const end = wasmAt + CALLS_PER_ITERATION;
      for (let k = wasmAt; k < end; k++) {
        const index = pool[k]!;
        if (core.setMark(tree, index, mark)) hits++;
        if (core.clearMark(tree, index, mark)) hits++;
      }
      wasmAt = end % pool.length;
      return hits;
    },
    model: () => {
      let hits = 0;
      const end = modelAt + CALLS_PER_ITERATION;
      for (let k = modelAt; k < end; k++) {
        const index = pool[k]!;
        if (model.setMark(tree, index, mark)) hits++;
        if (model.clearMark(tree, index, mark)) hits++;
      }
      modelAt = end % pool.length;
      return hits;
    },
  };
}

/** Batches of 2048 setMark + clearMark (WRITEBACK) pairs, 4096 records. */
export function markBatch(w: XarrayWorkload, pool: Uint32Array): Sides {
  checkPool(pool, BATCH_OPS / 2);
  const mark = PAGECACHE_TAG_WRITEBACK;
  const batches = buildBatches(pool.length, BATCH_OPS / 2, (b, k) => b.setMark(w.tree, pool[k]!, mark).clearMark(w.tree, pool[k]!, mark));
  return batchSides(w, batches, BATCH_OPS);
}

/** A host loop of findMarked(DIRTY) calls over the whole tree; returns the entries found (the ops). */
export function findMarkedSingle(w: XarrayWorkload): Sides {
  const { core, model, tree } = w;
  return {
    opsPerIteration: w.dirtyCount,
    wasm: () => {
      let found = 0;
      for (let start = 0; start <= XA_MAX_INDEX; ) {
        const entry = core.findMarked(tree, start, XA_MAX_INDEX, PAGECACHE_TAG_DIRTY);
        if (!entry) break;
        found++;
        start = entry.index + (1 << entry.order);
      }
      return found;
    },
    model: () => {
      let found = 0;
      for (let start = 0; start <= XA_MAX_INDEX; ) {
        const entry = model.findMarked(tree, start, XA_MAX_INDEX, PAGECACHE_TAG_DIRTY);
        if (!entry) break;
        found++;
        start = entry.index + (1 << entry.order);
      }
      return found;
    },
  };
}

/** One OP_WALK_MARKED (DIRTY) record over the whole index space; the ops are the entries it walks. */
export function findMarkedBatch(w: XarrayWorkload): Sides {
  const ops = new BatchBuilder(1).walkMarked(w.tree, 0, XA_MAX_INDEX, PAGECACHE_TAG_DIRTY).finish().slice();
  return batchSides(w, [ops], w.dirtyCount);
}

/** tagTowrite over the whole index space (idempotent, so every call does the same work); ops = DIRTY entries tagged. */
export function towriteSnapshot(w: XarrayWorkload): Sides {
  const { core, model, tree } = w;
  return {
    opsPerIteration: w.dirtyCount,
    wasm: () => core.tagTowrite(tree, 0, XA_MAX_INDEX),
    model: () => model.tagTowrite(tree, 0, XA_MAX_INDEX),
  };
}

/** One OP_TAG_TOWRITE record over the whole index space. */
export function towriteBatch(w: XarrayWorkload): Sides {
  const ops = new BatchBuilder(1).tagTowrite(w.tree, 0, XA_MAX_INDEX).finish().slice();
  return batchSides(w, [ops], w.dirtyCount);
}

/** Does nothing: the plain JS call the interop baseline compares core.nop() with. */
function emptyCall(): void {}

/** 1024 core.nop() calls against 1024 calls of an empty JS function (which V8 may inline away). */
export function interopBaseline(core: XarrayWorkload['core']): Sides {
  return {
    opsPerIteration: CALLS_PER_ITERATION,
    wasm: () => {
      for (let k = 0; k < CALLS_PER_ITERATION; k++) core.nop();
    },
    model: () => {
      for (let k = 0; k < CALLS_PER_ITERATION; k++) emptyCall();
    },
  };
}
