/**
 * The xarray suite: the wasm tree against the reference model, per operation, as single
 * calls and as batches, on dense and sparse trees of 1e3, 1e5 and 1e6 entries.
 */
import { Core } from '../src/core/index.js';
import { compareSides, checkSidesAgree, type BenchCase, type Sides } from './case.js';
import type { SuiteOptions } from './suite.js';
import {
  findMarkedBatch, findMarkedSingle, interopBaseline, loadBatch, loadSingle, markBatch, markSingle, storeBatch, storeSingle, towriteBatch,
  towriteSnapshot,
} from './xarray-sides.js';
import {
  LAYOUTS, buildWorkload, checkWorkloadSize, presentIndexPool, releaseWorkload, restoreWords, type XarrayWorkload,
} from './xarray-workload.js';

/** Tree sizes of a normal run; --quick keeps the first. */
export const XARRAY_SIZES: readonly number[] = [1e3, 1e5, 1e6];
/** Goals apply from this size up: below it a tree is small enough for the model to keep up. */
const GOAL_FROM_SIZE = 1e5;
/** Random present indices each workload's cases walk: many iterations' worth, so no single path stays hot. */
const POOL_SIZE = 65536;

/** One kind of case: how to make its sides, and its goal at sizes >= GOAL_FROM_SIZE. */
interface CaseKind {
  name: string;
  sides(w: XarrayWorkload, pool: Uint32Array): Sides;
  goal?: number;
  /** The case's first result is the number of DIRTY entries (checked against the workload). */
  countsDirty?: boolean;
  /** The case replaces words, which are put back afterwards so both trees stay as built. */
  changesWords?: boolean;
}

const SINGLE_GOAL = 0.8;
const BATCH_GOAL = 2;
const SCAN_GOAL = 5;

const CASE_KINDS: readonly CaseKind[] = [
  { name: 'load single', sides: loadSingle, goal: SINGLE_GOAL },
  { name: 'load batch', sides: loadBatch, goal: BATCH_GOAL },
  { name: 'store single', sides: storeSingle, goal: SINGLE_GOAL, changesWords: true },
  { name: 'store batch', sides: storeBatch, goal: BATCH_GOAL, changesWords: true },
  { name: 'mark single', sides: markSingle, goal: SINGLE_GOAL },
  { name: 'mark batch', sides: markBatch, goal: BATCH_GOAL },
  { name: 'find-marked single', sides: findMarkedSingle, goal: SINGLE_GOAL, countsDirty: true },
  { name: 'find-marked batch', sides: findMarkedBatch, goal: SCAN_GOAL, countsDirty: true },
  { name: 'towrite snapshot', sides: towriteSnapshot, goal: SCAN_GOAL, countsDirty: true },
  { name: 'towrite batch', sides: towriteBatch, goal: SCAN_GOAL, countsDirty: true },
];

/** 1000 as "1e3", 100000 as "1e5"; other sizes as plain numbers. */
export function sizeLabel(size: number): string {
  const exponent = Math.floor(Math.log10(size));
  const mantissa = size / 10 ** exponent;
  return exponent >= 3 && Number.isInteger(mantissa) ? `${mantissa}e${exponent}` : String(size);
}

/** The count a find or towrite case reported: a call's return, or a batch's first result word. */
function reportedCount(result: unknown): number {
  return result instanceof Int32Array ? result[0]! : Number(result);
}

/** Checks, times and reports one case. */
function measureCase(name: string, sides: Sides, options: SuiteOptions, goal: number | undefined, expectedCount?: number): BenchCase {
  const first = checkSidesAgree(name, sides);
  if (expectedCount !== undefined && reportedCount(first) !== expectedCount) {
    throw new Error(`${name}: both sides report ${reportedCount(first)} entries, expected ${expectedCount}`);
  }
  const result = compareSides(name, sides, options.timing, goal);
  const goalNote = result.goal === undefined ? '' : ` (goal ${result.goal}: ${result.met ? 'met' : 'MISSED'})`;
  options.progress(`${name}: wasm ${result.wasmOpsPerSec.toExponential(3)}, model ${result.modelOpsPerSec.toExponential(3)} ops/s, ratio ${result.ratio.toFixed(2)}${goalNote}`);
  return result;
}

/** Every case kind on one workload, in order. */
function measureWorkload(w: XarrayWorkload, options: SuiteOptions): BenchCase[] {
  const pool = presentIndexPool(w, POOL_SIZE);
  const cases: BenchCase[] = [];
  for (const kind of CASE_KINDS) {
    const name = `${kind.name} ${sizeLabel(w.size)} ${w.layout}`;
    const goal = w.size >= GOAL_FROM_SIZE ? kind.goal : undefined;
    cases.push(measureCase(name, kind.sides(w, pool), options, goal, kind.countsDirty ? w.dirtyCount : undefined));
    if (kind.changesWords) restoreWords(w, pool);
  }
  return cases;
}

/** Runs the xarray suite: the interop baseline, then every case on every size and layout. */
export async function runXarraySuite(options: SuiteOptions): Promise<BenchCase[]> {
  const sizes = options.sizes ?? (options.quick ? XARRAY_SIZES.slice(0, 1) : XARRAY_SIZES);
  // Fail before any timing when a size cannot be built.
  for (const size of sizes) for (const layout of LAYOUTS) checkWorkloadSize(size, layout);

  const cases: BenchCase[] = [];
  const baselineCore = await Core.create({ build: 'release' });
  cases.push(measureCase('interop baseline', interopBaseline(baselineCore), options, undefined));

  for (const size of sizes) {
    for (const layout of LAYOUTS) {
      const started = performance.now();
      const workload = await buildWorkload(size, layout);
      options.progress(`built ${sizeLabel(size)} ${layout} in ${((performance.now() - started) / 1000).toFixed(2)} s`);
      cases.push(...measureWorkload(workload, options));
      // Destroy the trees; the Core and its memory go with the last reference to `workload`.
      releaseWorkload(workload);
    }
  }
  return cases;
}
