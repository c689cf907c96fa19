/**
 * The matrix suite: the wall time of the default `daxemu bench` matrix (goal: under 60 s
 * on this 2-core machine) and the workload operations it emulates per second of wall time.
 */
import { availableParallelism } from 'node:os';
import { runMatrix, type MatrixOptions } from '../src/job/matrix.js';
import { STRATEGY_NAMES } from '../src/job/strategies.js';
import { WORKLOAD_NAMES } from '../src/job/workloads/index.js';
import { metric, type MetricCase } from './case.js';
import type { SuiteOptions } from './suite.js';

/** The defaults of `daxemu bench` (src/cli/cli.ts), or its --quick variant. */
function defaults(quick: boolean): MatrixOptions {
  return {
    workloads: [...WORKLOAD_NAMES],
    strategies: [...STRATEGY_NAMES],
    presets: ['optane-g1'],
    kernels: quick ? ['linux-6.12'] : ['linux-6.12', 'linux-4.5'],
    pageSizes: ['pte', 'pmd'],
    instruction: 'clwb',
    ops: quick ? 200 : 1000,
    seed: 1,
    threads: availableParallelism(),
  };
}

export async function runMatrixSuite(options: SuiteOptions): Promise<MetricCase[]> {
  const o = defaults(options.quick);
  const start = performance.now();
  const cells = await runMatrix(o, (done, total) => options.progress(`cell ${done}/${total}`));
  const seconds = (performance.now() - start) / 1000;
  const ops = cells.reduce((sum, c) => sum + c.ops, 0);
  return [
    metric(`default matrix wall time (${cells.length} cells, ${o.threads} threads)`, seconds, 's', { atMost: 60 }),
    metric('workload operations emulated per second of wall time', ops / seconds, 'ops/s'),
  ];
}
