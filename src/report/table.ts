/**
 * The matrix results as aligned plain-text tables for a terminal: two spaces between
 * columns, text left-aligned, numbers right-aligned, a dashed rule under the header, and
 * every line of a table padded to the same width so columns start at the same offset.
 */
import type { CellResult, FlushCostRow } from '../job/index.js';
import { PmemError } from '../base/index.js';
import { CELL_COLUMNS, CELL_COLUMN_DEFS, type CellColumn } from './cell-columns.js';
import { flushCostGrids } from './flush-cost-grid.js';
import { formatNs } from './format.js';

export type { CellColumn } from './cell-columns.js';

export interface CellTableOptions {
  /** Which columns to show, in this order; all of them by default. */
  columns?: readonly CellColumn[];
}

const GAP = '  ';

/** Lays out a header and rows of already formatted strings; `align` gives each column's side. */
export function alignColumns(header: readonly string[], rows: readonly string[][], align: readonly ('left' | 'right')[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (fields: readonly string[]): string =>
    fields.map((f, i) => (align[i] === 'right' ? f.padStart(widths[i]) : f.padEnd(widths[i]))).join(GAP);
  const rule = widths.map((w) => '-'.repeat(w)).join(GAP);
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The matrix cells as an aligned text table, one line per cell in the order given. */
export function formatCellTable(cells: CellResult[], options: CellTableOptions = {}): string {
  const defs = (options.columns ?? CELL_COLUMNS).map((column) => {
    // Columns may come from a command line, so a typo gets a message rather than a TypeError.
    if (!Object.hasOwn(CELL_COLUMN_DEFS, column)) {
      throw new PmemError('EINVAL', `unknown table column ${JSON.stringify(column)}; known: ${CELL_COLUMNS.join(', ')}`);
    }
    return CELL_COLUMN_DEFS[column];
  });
  return alignColumns(
    defs.map((d) => d.header),
    cells.map((cell) => defs.map((d) => d.value(cell))),
    defs.map((d) => d.align),
  );
}

/** The flush-cost rows as one text table per preset/kernel/instruction, a column per dirty-line count. */
export function formatFlushCostTable(rows: FlushCostRow[]): string {
  if (rows.length === 0) return '(no flush-cost rows)';
  return flushCostGrids(rows)
    .map((grid) => {
      const title = `${grid.preset} / ${grid.kernel} / ${grid.instruction}: time of one flush by dirty lines in the entry`;
      const table = alignColumns(
        ['page', 'strategy', ...grid.dirtyLines.map(String)],
        grid.rows.map((r) => [r.pageSize, r.strategy, ...r.ns.map((ns) => (ns === undefined ? '-' : formatNs(ns)))]),
        ['left', 'left', ...grid.dirtyLines.map(() => 'right' as const)],
      );
      return `${title}\n${table}`;
    })
    .join('\n\n');
}
