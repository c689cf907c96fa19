/** One measured comparison of the wasm core against the reference model, and its goal. */
import { opsPerSecond, type Timing } from './measure.js';

/** A case as reported (the JSON shape of one entry of `cases`). */
export interface BenchCase {
  name: string;
  wasmOpsPerSec: number;
  modelOpsPerSec: number;
  /** wasmOpsPerSec / modelOpsPerSec. */
  ratio: number;
  /** The ratio the wasm side should reach, when the case has one. */
  goal?: number;
  /** ratio >= goal; present exactly when goal is. */
  met?: boolean;
  /** What the second side is when it is not the reference model (e.g. "typed array"). */
  baseline?: string;
}

/** A measured quantity that is not a comparison (a rate on its own, a memory overhead). */
export interface MetricCase {
  name: string;
  value: number;
  unit: string;
  /** The bound the value should respect: at least (higherIsBetter) or at most. */
  goal?: number;
  higherIsBetter?: boolean;
  met?: boolean;
}

/** A metric, checked against its goal when it has one. */
export function metric(name: string, value: number, unit: string, goal?: { atLeast?: number; atMost?: number }): MetricCase {
  const result: MetricCase = { name, value, unit };
  if (goal?.atLeast !== undefined) Object.assign(result, { goal: goal.atLeast, higherIsBetter: true, met: value >= goal.atLeast });
  if (goal?.atMost !== undefined) Object.assign(result, { goal: goal.atMost, higherIsBetter: false, met: value <= goal.atMost });
  return result;
}

/** The two sides of a case: each call does the same `opsPerIteration` operations. */
export interface Sides {
  wasm: () => unknown;
  model: () => unknown;
  opsPerIteration: number;
}

/** Times both sides one after the other in this process and compares them. */
export function compareSides(name: string, sides: Sides, timing: Timing, goal?: number, baseline?: string): BenchCase {
  const wasmOpsPerSec = opsPerSecond(`${name} [wasm]`, sides.wasm, sides.opsPerIteration, timing);
  const modelOpsPerSec = opsPerSecond(`${name} [model]`, sides.model, sides.opsPerIteration, timing);
  const ratio = wasmOpsPerSec / modelOpsPerSec;
  const result: BenchCase = { name, wasmOpsPerSec, modelOpsPerSec, ratio };
  if (baseline !== undefined) result.baseline = baseline;
  if (goal !== undefined) {
    result.goal = goal;
    result.met = ratio >= goal;
  }
  return result;
}

/** Whether two results of a side are the same: equal numbers, or equal Int32Arrays word for word. */
function sameResult(a: unknown, b: unknown): boolean {
  if (a instanceof Int32Array && b instanceof Int32Array) {
    return a.length === b.length && a.every((word, i) => word === b[i]);
  }
  return a === b;
}

/**
 * Calls each side once, untimed, from the same state and throws unless both give the same
 * result: a case whose sides disagree measures two different things. Returns that result.
 */
export function checkSidesAgree(name: string, sides: Sides): unknown {
  const wasm = sides.wasm();
  const model = sides.model();
  if (!sameResult(wasm, model)) {
    const show = (r: unknown): string => (r instanceof Int32Array ? `[${r.subarray(0, 8).join(', ')}${r.length > 8 ? ', ...' : ''}]` : String(r));
    throw new Error(`${name}: wasm and model disagree (wasm ${show(wasm)}, model ${show(model)})`);
  }
  return wasm;
}
