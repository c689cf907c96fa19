/** What every benchmark suite is given and gives back; suites.ts lists them by name. */
import type { BenchCase, MetricCase } from './case.js';
import type { Timing } from './measure.js';

export interface SuiteOptions {
  /** --quick: a short smoke run (smallest size only, short timing). */
  quick: boolean;
  /** --sizes: replaces the suite's own sizes when given. */
  sizes?: number[];
  /** How long each side of each case is timed. */
  timing: Timing;
  /** Reports progress (to stderr, never to stdout). */
  progress(line: string): void;
}

/** Runs a suite's cases in order and returns them. */
export type SuiteRunner = (options: SuiteOptions) => Promise<(BenchCase | MetricCase)[]>;
