/**
 * Merging the reports of a sharded matrix run (`daxemu merge DIR...`; the shards themselves
 * are planned in src/job/matrix.ts). Cells are deterministic, so the merged report holds,
 * cell for cell, what one run of the whole plan gives. The flush-cost rows are shard 1's.
 */
import { PmemError } from '../base/index.js';
import { planCells, type MatrixOptions, type MatrixSelection } from './matrix.js';
import type { CellSpec } from './cell.js';
import type { CellResult, MatrixReport } from './matrix-types.js';

/** What a cell is named by in a plan: its place in the matrix. */
const cellKey = (c: Pick<CellResult, 'workload' | 'strategy' | 'preset' | 'kernel' | 'pageSize' | 'cpus' | 'layout'>): string =>
  `${c.workload}|${c.strategy}|${c.preset}|${c.kernel}|${c.pageSize}${(c.cpus ?? 1) > 1 ? `|${c.cpus} ${c.layout}` : ''}`;

/** The cells a report's selection plans; EINVAL when the selection is not one (a damaged report). */
function planOf(selection: Readonly<Record<string, unknown>>): CellSpec[] {
  try {
    const options: MatrixOptions = { ...(selection as unknown as MatrixSelection), threads: 1 };
    return planCells(options);
  } catch {
    throw new PmemError('EINVAL', 'merge: the reports\' selection does not plan a matrix (a damaged results.json?)');
  }
}

/**
 * Merges the reports of the N shards of one matrix run into the report one run would give:
 * the cells in plan order, the flush-cost rows of shard 1, the longest wall time. Refused
 * (EINVAL, naming the difference) unless every report is a shard of the same version,
 * seed and selection, and together they are shards 1..N once each.
 */
export function mergeShards(reports: readonly MatrixReport[]): MatrixReport {
  if (reports.length === 0) throw new PmemError('EINVAL', 'merge: no report to merge');
  const first = reports[0]!;
  const describe = (r: MatrixReport, i: number): string => `report ${i + 1}${r.shard ? ` (shard ${r.shard.index}/${r.shard.count})` : ''}`;
  reports.forEach((r, i) => {
    if (!r.shard || !r.selection) throw new PmemError('EINVAL', `merge: ${describe(r, i)} is not a shard of a matrix run (run bench with --shard K/N)`);
    if (r.version !== first.version) throw new PmemError('EINVAL', `merge: ${describe(r, i)} is from daxemu ${r.version}, ${describe(first, 0)} from ${first.version}`);
    if (r.seed !== first.seed) throw new PmemError('EINVAL', `merge: ${describe(r, i)} ran with seed ${r.seed}, ${describe(first, 0)} with seed ${first.seed}`);
    if (JSON.stringify(r.selection) !== JSON.stringify(first.selection)) {
      const fields = [...new Set([...Object.keys(r.selection), ...Object.keys(first.selection!)])];
      const field = fields.find((k) => JSON.stringify(r.selection![k]) !== JSON.stringify(first.selection![k]))!;
      throw new PmemError('EINVAL', `merge: ${describe(r, i)} selects other cells than ${describe(first, 0)} (${field}: ${JSON.stringify(r.selection[field])} against ${JSON.stringify(first.selection![field])})`);
    }
    if (r.shard.count !== first.shard!.count) throw new PmemError('EINVAL', `merge: ${describe(r, i)} is one of ${r.shard.count} shards, ${describe(first, 0)} one of ${first.shard!.count}`);
  });
  const count = first.shard!.count;
  const seen = new Set(reports.map((r) => r.shard!.index));
  if (seen.size !== reports.length) throw new PmemError('EINVAL', 'merge: a shard is given twice');
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !seen.has(k));
  if (missing.length > 0) throw new PmemError('EINVAL', `merge: shard${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${count}`).join(', ')} missing`);
  const byKey = new Map<string, CellResult>();
  for (const r of reports) for (const c of r.cells) byKey.set(cellKey(c), c);
  const plan = planOf(first.selection!);
  const cells = plan.map((spec) => {
    const cell = byKey.get(cellKey({ ...spec, pageSize: spec.pageSize }));
    if (!cell) throw new PmemError('EINVAL', `merge: no shard holds the cell ${cellKey(spec)}`);
    return cell;
  });
  if (byKey.size !== plan.length) throw new PmemError('EINVAL', `merge: the shards hold ${byKey.size} cells, the selection plans ${plan.length}`);
  const flushCost = reports.find((r) => r.shard!.index === 1)!.flushCost;
  const { shard: _shard, ...rest } = first;
  return { ...rest, cells, flushCost, wallMs: Math.max(...reports.map((r) => r.wallMs)) };
}
