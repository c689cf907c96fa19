/** Shared test helpers: the two wasm builds, and workload generators. */
import { expect } from 'vitest';
import { Core, type WasmBuild } from '../src/core/index.js';
import { PmemError } from '../src/base/errors.js';
import { daxMkEntry, PMD_NR } from '../src/core/entry.js';
import type { Rng } from '../src/base/random.js';

export const BUILDS: WasmBuild[] = ['debug', 'release'];

/** A fresh core on a small memory limit (256 MiB), so that many can live in one process. */
export function makeCore(build: WasmBuild, maximumPages = 4096): Promise<Core> {
  return Core.create({ build, maximumPages });
}

/** The word a test stores at `index`: distinct per index, so a misplaced entry shows. */
export function wordFor(index: number, flags = 0): number {
  return daxMkEntry((index % 0x7ffffff) + 1, flags);
}

// Places where trees change shape: node boundaries, the top of the index space.
const HOT_BASES = [0, 4096, 262144, 1 << 24, 2 ** 30, 0xfffff000, 0xffffffff - 2 * PMD_NR];

/** An index near one of the interesting places, so that operations collide often. */
export function pickIndex(rng: Rng): number {
  if (rng.chance(0.1)) return rng.u32();
  const base = rng.pick(HOT_BASES);
  return Math.min(0xffffffff, base + rng.below(3 * PMD_NR));
}

/** Asserts that `run` throws a PmemError with `code`. */
export function expectCode(run: () => unknown, code: string): void {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a PmemError').toBeInstanceOf(PmemError);
  expect((caught as PmemError).code).toBe(code);
}

/** What an operation gave: its value, or the code of the PmemError it threw (other errors propagate). */
export type Outcome = { value: unknown } | { error: string };

/** Runs `run` and records its outcome, so that two implementations can be compared. */
export function attempt(run: () => unknown): Outcome {
  try {
    return { value: run() };
  } catch (err) {
    if (err instanceof PmemError) return { error: err.code };
    throw err;
  }
}

/**
 * FAST'20 (Yang et al.) Fig. 12, as docs/cost-model.md §5.7 reads it: ns to persist `size`
 * bytes of lines not in the cache, one thread, with store + clwb + sfence and with
 * ntstore + sfence.
 */
export const FIG12_PERSIST_NS = [
  { size: 64, ntstore: 124.7, clwb: 116.4 },
  { size: 128, ntstore: 134.7, clwb: 133.7 },
  { size: 256, ntstore: 212.0, clwb: 192.5 },
  { size: 512, ntstore: 304.7, clwb: 327.9 },
  { size: 1024, ntstore: 484.0, clwb: 601.0 },
  { size: 4096, ntstore: 1550.6, clwb: 1774.2 },
] as const;
