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
  | 'cpus'
  | 'time/op'
  | 'lines/sync'
  | 'fences/sync'
  | 'faults'
  | 'fault kinds'
  | 'WA'
  | 'durable';

export interface CellColumnDef {
  header: string;
  /** Text reads from the left, numbers line up on the right. */
  align: 'left' | 'right';
  value: (cell: CellResult) => string;
}

/** Every column, in order: the wide terminal table and the Markdown report. */
export const CELL_COLUMNS: readonly CellColumn[] = [
  'workload',
  'strategy',
  'preset',
  'kernel',
  'page',
  'time/op',
  'lines/sync',
  'fences/sync',
  'faults',
  'fault kinds',
  'WA',
  'durable',
];

/**
 * `columns` for `cells`: with the cpus column after the page column when some cell ran on
 * shared CPUs (daxemu bench --cpus), so that a run without them reads as before.
 */
export function cellColumnsFor(cells: readonly CellResult[], columns: readonly CellColumn[] = CELL_COLUMNS): CellColumn[] {
  if (!cells.some((c) => (c.cpus ?? 1) > 1)) return [...columns];
  return columns.flatMap((c): CellColumn[] => (c === 'page' ? ['page', 'cpus'] : [c]));
}

/** The detail only the wide view and the Markdown report show. */
const DETAIL_COLUMNS: readonly CellColumn[] = ['fences/sync', 'fault kinds', 'WA'];

/** The terminal's default view: what tells the strategies apart, within 100 columns on a default run. */
export const NARROW_CELL_COLUMNS: readonly CellColumn[] = CELL_COLUMNS.filter((c) => !DETAIL_COLUMNS.includes(c));

const FAULT_KINDS = ['pte', 'pmd', 'mkwrite', 'needdsync', 'fallback'] as const;

/** The kinds that happened, with their counts: "pte 1k, mkwrite 24"; "-" for none. */
function describeFaultKinds(faults: CellResult['faults']): string {
  const kinds = FAULT_KINDS.filter((kind) => faults[kind] !== 0).map((kind) => `${kind} ${formatCount(faults[kind])}`);
  return kinds.length === 0 ? '-' : kinds.join(', ');
}

function describeDurability(cell: CellResult): string {
  // A cell whose check looked at no sync point proved nothing; say so rather than "yes".
  if (cell.durabilityChecks === 0) return 'unchecked';
  // A cell run with historical bugs switched on: the loss they caused, named.
  if (cell.bugs && cell.bugs.length > 0 && !cell.durable) return `${(cell.lostBytes ?? 0) > 0 ? `lost ${formatCount(cell.lostBytes!)} B` : 'NO'} (${cell.bugs.join('+')})`;
  return cell.durable ? 'yes' : cell.kernelLoss ? 'kernel loss' : 'NO';
}

export const CELL_COLUMN_DEFS: Readonly<Record<CellColumn, CellColumnDef>> = {
  workload: { header: 'workload', align: 'left', value: (c) => c.workload },
  strategy: { header: 'strategy', align: 'left', value: (c) => c.strategy },
  preset: { header: 'preset', align: 'left', value: (c) => c.preset },
  kernel: { header: 'kernel', align: 'left', value: (c) => c.kernel },
  page: { header: 'page', align: 'left', value: (c) => c.pageSize },
  // Worker CPUs on one emulator (daxemu bench --cpus): "1", "2 files", "2 one-file".
  cpus: { header: 'cpus', align: 'left', value: (c) => ((c.cpus ?? 1) > 1 ? `${c.cpus} ${c.layout}` : '1') },
  // Each cell carries its unit (ns, us, ms), so the header names the quantity, not a unit.
  'time/op': { header: 'time/op', align: 'right', value: (c) => formatNs(c.nsPerOp) },
  'lines/sync': {
    header: 'lines/sync (d/c)',
    align: 'right',
    value: (c) =>
      `${formatCount(c.linesPerSync)} (${formatCount(c.dirtyLinesPerSync)}/${formatCount(c.cleanLinesPerSync)})`,
  },
  'fences/sync': { header: 'fences/sync', align: 'right', value: (c) => formatCount(c.fencesPerSync) },
  faults: { header: 'faults', align: 'right', value: (c) => formatCount(c.faults.total) },
  'fault kinds': { header: 'fault kinds', align: 'left', value: (c) => describeFaultKinds(c.faults) },
  WA: {
    header: 'WA',
    align: 'right',
    value: (c) => (Number.isFinite(c.writeAmplification) ? `${formatSignificant(c.writeAmplification)}x` : '-'),
  },
  durable: { header: 'durable', align: 'left', value: describeDurability },
};
