/**
 * What `daxemu bench` prints: the cell table, then a line for any column left out because
 * it never changes, a two-line guide, and the cheapest cell per workload. The default view
 * keeps to 100 columns on a default run; the wide one has every column.
 */
import type { CellResult } from '../job/index.js';
import { CELL_COLUMNS, CELL_COLUMN_DEFS, NARROW_CELL_COLUMNS, cellColumnsFor, type CellColumn } from './cell-columns.js';
import { formatNs } from './format.js';
import { formatCellTable } from './table.js';
import { cheapestPerWorkload } from './winners.js';

export interface BenchTextOptions {
  /** Every column, none dropped. */
  wide?: boolean;
}

/**
 * Columns the narrow view drops when every row has the same value, said once under the
 * table instead; workload and strategy always stay. A failed or unchecked durability
 * check makes the durable column differ, so it always shows.
 */
const DROPPABLE: readonly CellColumn[] = ['preset', 'kernel', 'page', 'durable'];

const GUIDE = [
  'How to read: time/op is the emulated time per workload operation (lower is better); lines/sync',
  '(d/c) is the lines flushed per sync, dirty (useful) / clean (wasted). --wide: faults, fences, WA.',
];

/** The terminal width the default view keeps to. */
const NARROW_WIDTH = 100;
/** Columns the default view gives up, in this order, when a selection's names make it wider than that. */
const WIDTH_DROPPABLE: readonly CellColumn[] = ['faults'];

function widest(text: string): number {
  return Math.max(...text.split('\n').map((line) => line.length));
}

/** The text for a terminal; `cells` must not be empty (the command refuses such a selection). */
export function formatBenchText(cells: readonly CellResult[], options: BenchTextOptions = {}): string {
  const value = (column: CellColumn, cell: CellResult): string => CELL_COLUMN_DEFS[column].value(cell);
  const constant = (column: CellColumn): boolean => new Set(cells.map((c) => value(column, c))).size === 1;
  const dropped = options.wide ? [] : DROPPABLE.filter(constant);
  let columns = cellColumnsFor(cells, options.wide ? CELL_COLUMNS : NARROW_CELL_COLUMNS).filter((c) => !dropped.includes(c));
  let table = formatCellTable([...cells], { columns });
  const narrowed: CellColumn[] = [];
  for (const column of options.wide ? [] : WIDTH_DROPPABLE) {
    if (widest(table) <= NARROW_WIDTH) break;
    columns = columns.filter((c) => c !== column);
    narrowed.push(column);
    table = formatCellTable([...cells], { columns });
  }
  const parts = [table, ''];
  if (dropped.length > 0) parts.push(`Same in every row: ${dropped.map((c) => `${c} ${value(c, cells[0]!)}`).join(', ')}.`);
  if (narrowed.length > 0) parts.push(`Left out to fit ${NARROW_WIDTH} columns: ${narrowed.join(', ')} (--wide shows every column).`);
  parts.push(...GUIDE, '', 'Cheapest durable cell per workload:');
  // A winner is named by the columns that tell cells apart, the workload aside.
  const naming = cellColumnsFor(cells, ['strategy', 'preset', 'kernel', 'page']).filter((c) => !constant(c) || c === 'strategy');
  const width = Math.max(...cells.map((c) => c.workload.length));
  for (const { workload, cells: best } of cheapestPerWorkload(cells)) {
    const what =
      best.length === 0
        ? 'no cell passed the durability check'
        : `${best.map((c) => naming.map((col) => value(col, c)).join(', ')).join(' = ')}: ${formatNs(best[0]!.nsPerOp)} per op`;
    parts.push(`  ${workload.padEnd(width)}  ${what}`);
  }
  return parts.join('\n');
}
