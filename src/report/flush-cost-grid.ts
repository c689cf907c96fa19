/**
 * The flush-cost rows pivoted for reading: one grid per preset, kernel and instruction, a
 * row per page size and strategy, a column per dirty-line count. The terminal table and the
 * Markdown report both print these grids.
 */
import type { FlushCostRow } from '../job/index.js';
import { groupBy } from './group.js';

export interface FlushCostGridRow {
  pageSize: FlushCostRow['pageSize'];
  strategy: FlushCostRow['strategy'];
  /** ns of one flush, by position in the grid's `dirtyLines`; undefined where no row was measured. */
  ns: (number | undefined)[];
}

export interface FlushCostGrid {
  preset: string;
  kernel: string;
  instruction: FlushCostRow['instruction'];
  /** The dirty-line counts measured in this group, ascending. */
  dirtyLines: number[];
  rows: FlushCostGridRow[];
}

/** Groups and pivots the rows; groups and grid rows keep the order they first appear in. */
export function flushCostGrids(rows: readonly FlushCostRow[]): FlushCostGrid[] {
  // JSON of the key parts cannot collide, whatever characters the names hold.
  const groups = groupBy(rows, (row) => JSON.stringify([row.preset, row.kernel, row.instruction]));
  return [...groups.values()].map((group) => {
    const dirtyLines = [...new Set(group.map((r) => r.dirtyLines))].sort((a, b) => a - b);
    const gridRows = new Map<string, FlushCostGridRow>();
    for (const r of group) {
      const key = `${r.pageSize}/${r.strategy}`;
      let gridRow = gridRows.get(key);
      if (!gridRow) {
        gridRow = { pageSize: r.pageSize, strategy: r.strategy, ns: dirtyLines.map(() => undefined) };
        gridRows.set(key, gridRow);
      }
      gridRow.ns[dirtyLines.indexOf(r.dirtyLines)] = r.ns;
    }
    const { preset, kernel, instruction } = group[0];
    return { preset, kernel, instruction, dirtyLines, rows: [...gridRows.values()] };
  });
}
