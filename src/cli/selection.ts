/**
 * Why a bench selection plans no cell. The matrix leaves out the strategy/kernel pairs
 * that cannot run; when that leaves nothing, the command says which pairs and why.
 */
import type { KernelProfile } from '../dax/index.js';
import { STRATEGY_NAMES, strategyRuns, strategySetup, type StrategyName } from '../job/index.js';

/** The one-line reason, with what to add for a selection that runs. */
export function emptySelectionReason(strategies: readonly StrategyName[], kernels: readonly KernelProfile[]): string {
  const mapSync = strategies.every((s) => strategySetup(s).mapSync);
  const why = mapSync
    ? `${strategies.join(', ')} ${strategies.length === 1 ? 'needs' : 'need'} MAP_SYNC, which ${kernels.join(', ')} ${kernels.length === 1 ? 'predates' : 'predate'}`
    : `none of ${strategies.join(', ')} runs on ${kernels.join(', ')}`;
  const runnable = STRATEGY_NAMES.filter((s) => kernels.some((k) => strategyRuns(s, k)));
  const hint = runnable.length === 0 ? '' : `; on ${kernels.join(', ')} choose from ${runnable.join(', ')}`;
  return `no cell to run: ${why}${hint}`;
}
