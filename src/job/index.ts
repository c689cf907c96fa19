/**
 * job: the main job, the writeback-strategy matrix. It owns the workloads, the writeback
 * strategies, one matrix cell with its durability checks, the matrix on worker threads,
 * the flush cost of one PTE or PMD entry, and the result types the reports read.
 *
 * May import: base, core, hw, dax, emulator.
 *
 * @module daxemu/bench
 */
export { runMatrix, planCells, parseShard, shardCells, type MatrixOptions, type MatrixSelection, type Shard } from './matrix.js';
export { mergeShards } from './merge.js';
export { runCell, type CellSpec } from './cell.js';
export { CPU_LAYOUTS, type CpuLayout } from './cell-spec.js';
export { MAX_SHARED_CPUS } from './shared-cell.js';
export { runFlushCost, DEFAULT_DIRTY_COUNTS, FLUSH_COST_STRATEGIES, type FlushCostOptions, type FlushCostStrategy } from './flush-cost.js';
export {
  STRATEGY_NAMES, OPT_IN_STRATEGIES, MOVNT_THRESHOLD, strategyRuns, strategySetup, startStrategy, type StrategyName, type FlushInstruction, type StrategyRun, type StrategySetup, type StrategyCpu, type StrategyMapping,
} from './strategies.js';
export { WORKLOAD_NAMES, workloadByName, parseTrace, traceWorkload, type WorkloadName, type Workload, type WorkloadSize, type WorkloadStep } from './workloads/index.js';
export type { CellResult, FlushCostRow, MatrixReport } from './matrix-types.js';
