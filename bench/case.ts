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
}

/** The two sides of a case: each call does the same `opsPerIteration` operations. */
export interface Sides {
  wasm: () => unknown;
  model: () => unknown;
  opsPerIteration: number;
}

/** Times both sides one after the other in this process and compares them. */
export function compareSides(name: string, sides: Sides, timing: Timing, goal?: number): BenchCase {
  const wasmOpsPerSec = opsPerSecond(`${name} [wasm]`, sides.wasm, sides.opsPerIteration, timing);
  const modelOpsPerSec = opsPerSecond(`${name} [model]`, sides.model, sides.opsPerIteration, timing);
  const ratio = wasmOpsPerSec / modelOpsPerSec;
  const result: BenchCase = { name, wasmOpsPerSec, modelOpsPerSec, ratio };
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
