/**
 * Timing: one benchmark.js Benchmark per side of a comparison (not a Suite, so each side
 * is timed on its own with bounded sampling), reported as operations per second.
 */
import Benchmark from 'benchmark';

/** How long and how often benchmark.js samples one side. */
export interface Timing {
  /** Seconds a side is sampled for, at least (benchmark.js maxTime). */
  maxTime: number;
  /** Seconds one sample must last, so the clock's resolution is negligible. */
  minTime: number;
  /** Samples taken at least, even when maxTime has passed. */
  minSamples: number;
}

/** The timing of a normal run. */
export const NORMAL_TIMING: Timing = { maxTime: 0.4, minTime: 0.05, minSamples: 5 };

/** The timing of a --quick smoke run: numbers are rough, the code paths are all exercised. */
export const QUICK_TIMING: Timing = { maxTime: 0.05, minTime: 0.01, minSamples: 2 };

/** The timing to use for a run, --quick or not. */
export function timingFor(quick: boolean): Timing {
  return quick ? QUICK_TIMING : NORMAL_TIMING;
}

/** Operations per second of `iteration`, one call of which performs `opsPerIteration` operations. */
export function opsPerSecond(name: string, iteration: () => unknown, opsPerIteration: number, timing: Timing): number {
  // No setup/teardown: benchmark.js then calls `iteration` as is instead of recompiling its
  // source text, so closures keep working.
  const bench = new Benchmark(name, iteration, {
    maxTime: timing.maxTime,
    minTime: timing.minTime,
    minSamples: timing.minSamples,
  });
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  if (!(bench.hz > 0) || !Number.isFinite(bench.hz)) throw new Error(`benchmark "${name}" measured no rate (hz ${bench.hz})`);
  return bench.hz * opsPerIteration;
}

/** The best of `runs` wall-clock timings of `work`, in ms (for cases too slow for benchmark.js's sampling). */
export async function bestWallMs(runs: number, work: () => Promise<unknown>): Promise<number> {
  let ms = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    ms = Math.min(ms, performance.now() - start);
  }
  return ms;
}
