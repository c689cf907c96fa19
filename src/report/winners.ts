/**
 * The cell that wins each workload: the lowest emulated time per operation among the
 * cells that passed a durability check (a strategy that loses data wins nothing). Cells
 * whose times print the same are a tie, since that is all a reader can tell apart.
 */
import type { CellResult } from '../job/index.js';
import { formatNs } from './format.js';
import { groupBy } from './group.js';

export interface WorkloadWinner {
  workload: string;
  /** The cheapest cells, in matrix order; empty when no cell of the workload was proved durable. */
  cells: CellResult[];
}

/** One entry per workload, in the order the workloads first appear. */
export function cheapestPerWorkload(cells: readonly CellResult[]): WorkloadWinner[] {
  return [...groupBy(cells, (c) => c.workload)].map(([workload, group]) => {
    const proved = group.filter((c) => c.durable && c.durabilityChecks > 0 && Number.isFinite(c.nsPerOp));
    if (proved.length === 0) return { workload, cells: [] };
    const best = Math.min(...proved.map((c) => c.nsPerOp));
    const shown = formatNs(best);
    return { workload, cells: proved.filter((c) => formatNs(c.nsPerOp) === shown) };
  });
}
