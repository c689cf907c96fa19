/**
 * The matrix results as RFC 4180 CSV: a header row, CRLF line ends, fields quoted only when
 * they hold a comma, a double quote or a line break. Columns are listed here rather than
 * taken from Object.keys so the order is fixed whatever built the objects. Floats carry six
 * significant digits (results.json keeps them raw): the emulated figures are no more exact
 * than that, and a spreadsheet reader should not see 1668.1999999941327.
 */
import type { CellResult, FlushCostRow } from '../job/index.js';
import { roundSignificantDigits } from './format.js';

type Field = string | number | boolean;

const CELL_COLUMNS: readonly [string, (c: CellResult) => Field][] = [
  ['workload', (c) => c.workload],
  ['strategy', (c) => c.strategy],
  ['preset', (c) => c.preset],
  ['kernel', (c) => c.kernel],
  ['pageSize', (c) => c.pageSize],
  ['ops', (c) => c.ops],
  ['syncs', (c) => c.syncs],
  ['bytesSynced', (c) => c.bytesSynced],
  ['ns', (c) => c.ns],
  ['nsPerOp', (c) => c.nsPerOp],
  ['nsPerSyncedByte', (c) => c.nsPerSyncedByte],
  ['linesPerSync', (c) => c.linesPerSync],
  ['dirtyLinesPerSync', (c) => c.dirtyLinesPerSync],
  ['cleanLinesPerSync', (c) => c.cleanLinesPerSync],
  ['ntLinesPerSync', (c) => c.ntLinesPerSync],
  ['fencesPerSync', (c) => c.fencesPerSync],
  ['faults_pte', (c) => c.faults.pte],
  ['faults_pmd', (c) => c.faults.pmd],
  ['faults_mkwrite', (c) => c.faults.mkwrite],
  ['faults_needdsync', (c) => c.faults.needdsync],
  ['faults_fallback', (c) => c.faults.fallback],
  ['faults_total', (c) => c.faults.total],
  ['mediaBytesWritten', (c) => c.mediaBytesWritten],
  ['writeAmplification', (c) => c.writeAmplification],
  ['durable', (c) => c.durable],
  ['durabilityChecks', (c) => c.durabilityChecks],
];

/** The columns of a run with shared-CPU cells (daxemu bench --cpus); a run without has none of them. */
const SHARED_CPU_COLUMNS: readonly [string, (c: CellResult) => Field][] = [
  ['cpus', (c) => c.cpus ?? 1],
  ['layout', (c) => c.layout ?? ''],
];

const FLUSH_COST_COLUMNS: readonly [string, (r: FlushCostRow) => Field][] = [
  ['preset', (r) => r.preset],
  ['kernel', (r) => r.kernel],
  ['instruction', (r) => r.instruction],
  ['pageSize', (r) => r.pageSize],
  ['strategy', (r) => r.strategy],
  ['dirtyLines', (r) => r.dirtyLines],
  ['lines', (r) => r.lines],
  ['ns', (r) => r.ns],
  ['refaultNs', (r) => r.refaultNs],
];

/** One field as RFC 4180 wants it; a non-finite number becomes an empty (missing) field, as JSON makes it null. */
export function csvField(value: Field): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return '';
  const text = String(typeof value === 'number' ? roundSignificantDigits(value) : value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function toCsv<T>(columns: readonly [string, (item: T) => Field][], items: readonly T[]): string {
  const lines = [columns.map(([name]) => csvField(name))];
  for (const item of items) lines.push(columns.map(([, get]) => csvField(get(item))));
  return lines.map((fields) => `${fields.join(',')}\r\n`).join('');
}

/** The matrix cells as CSV, one row per cell, `faults` flattened to faults_pte, faults_pmd, .... */
export function cellsToCsv(cells: CellResult[]): string {
  return toCsv(cells.some((c) => (c.cpus ?? 1) > 1) ? [...CELL_COLUMNS, ...SHARED_CPU_COLUMNS] : CELL_COLUMNS, cells);
}

/** The flush-cost table as CSV, one row per measured flush. */
export function flushCostToCsv(rows: FlushCostRow[]): string {
  return toCsv(FLUSH_COST_COLUMNS, rows);
}
