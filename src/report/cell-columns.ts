/**
 * The columns a person reads about one matrix cell, shared by the terminal table and the
 * Markdown report so the two always show the same thing the same way.
 */
import type { CellResult } from '../job/index.js';
import { formatCount, formatNs, formatSignificant } from './format.js';

export type CellColumn =
  | 'workload'
  | 'strategy'
  | 'preset'
  | 'kernel'
  | 'page'
  | 'ns/op'
  | 'lines/sync'
  | 'fences/sync'
  | 'faults'
  | 'WA'
  | 'durable';

export interface CellColumnDef {
  header: string;
  /** Text reads from the left, numbers line up on the right. */
  align: 'left' | 'right';
  value: (cell: CellResult) => string;
}

/** Every column, in the order the tables show them by default. */
export const CELL_COLUMNS: readonly CellColumn[] = [
  'workload',
  'strategy',
  'preset',
  'kernel',
  'page',
  'ns/op',
  'lines/sync',
  'fences/sync',
  'faults',
  'WA',
  'durable',
];

const FAULT_KINDS = ['pte', 'pmd', 'mkwrite', 'needdsync', 'fallback'] as const;

/** The total, then the kinds that happened: "1.03k (pte 1k, mkwrite 24)". */
function describeFaults(faults: CellResult['faults']): string {
  const kinds = FAULT_KINDS.filter((kind) => faults[kind] !== 0).map((kind) => `${kind} ${formatCount(faults[kind])}`);
  return kinds.length === 0 ? formatCount(faults.total) : `${formatCount(faults.total)} (${kinds.join(', ')})`;
}

function describeDurability(cell: CellResult): string {
  // A cell whose check looked at no sync point proved nothing; say so rather than "yes".
  if (cell.durabilityChecks === 0) return 'unchecked';
  return cell.durable ? 'yes' : cell.kernelLoss ? 'kernel loss' : 'NO';
}

export const CELL_COLUMN_DEFS: Readonly<Record<CellColumn, CellColumnDef>> = {
  workload: { header: 'workload', align: 'left', value: (c) => c.workload },
  strategy: { header: 'strategy', align: 'left', value: (c) => c.strategy },
  preset: { header: 'preset', align: 'left', value: (c) => c.preset },
  kernel: { header: 'kernel', align: 'left', value: (c) => c.kernel },
  page: { header: 'page', align: 'left', value: (c) => c.pageSize },
  'ns/op': { header: 'ns/op', align: 'right', value: (c) => formatNs(c.nsPerOp) },
  'lines/sync': {
    header: 'lines/sync (dirty/clean)',
    align: 'right',
    value: (c) =>
      `${formatCount(c.linesPerSync)} (${formatCount(c.dirtyLinesPerSync)}/${formatCount(c.cleanLinesPerSync)})`,
  },
  'fences/sync': { header: 'fences/sync', align: 'right', value: (c) => formatCount(c.fencesPerSync) },
  faults: { header: 'faults', align: 'left', value: (c) => describeFaults(c.faults) },
  WA: {
    header: 'WA',
    align: 'right',
    value: (c) => (Number.isFinite(c.writeAmplification) ? `${formatSignificant(c.writeAmplification)}x` : '-'),
  },
  durable: { header: 'durable', align: 'left', value: describeDurability },
};
