/**
 * The strategy matrix: workloads x strategies x presets x kernel profiles x page sizes,
 * one fresh emulator per cell (src/job/cell.ts). Cells run on worker threads when there are
 * several (dist/matrix-worker.js, or its source under tsx); results come back
 * in plan order whatever the threads did, so a seed gives the same report.
 */
import { PmemError } from '../base/index.js';
import { runCell, type CellSpec } from './cell.js';
import { bugRefusal, type BugName, type KernelProfile } from '../dax/index.js';
import type { CellResult } from './matrix-types.js';
import type { PresetName } from '../hw/index.js';
import { strategyRuns, type FlushInstruction, type StrategyName } from './strategies.js';
import type { WorkloadName } from './workloads/index.js';
import { startWorker, workerFile } from './worker-thread.js';
import { CPU_LAYOUTS } from './cell-spec.js';
import { sharedCellRuns } from './shared-cell.js';

export interface MatrixOptions {
  workloads: WorkloadName[];
  strategies: StrategyName[];
  presets: PresetName[];
  kernels: KernelProfile[];
  pageSizes: ('pte' | 'pmd')[];
  instruction: FlushInstruction;
  /** Stores per workload run. */
  ops: number;
  seed: number;
  /** Worker threads; 1 runs every cell here. */
  threads: number;
  /** Run only this shard of the plan. */
  shard?: Shard;
  /**
   * Historical kernel bugs to switch on (src/dax/bugs.ts). Each cell runs with those its
   * kernel profile can host; none by default.
   */
  bugs?: BugName[];
  /**
   * Worker CPUs on one shared emulator (src/job/shared-cell.ts): above 1, every cell whose
   * workload does not truncate is also run with this many CPUs, each on a file of its own
   * and all on one file, right after the one-CPU cell.
   */
  cpus?: number;
}

/** What selects the cells of a run: the options less the threads and the shard they run on. */
export type MatrixSelection = Omit<MatrixOptions, 'threads' | 'shard'>;

/**
 * One shard of a matrix run, the `index`-th (1-based) of `count`, with the convention of
 * vitest, Jest and Playwright: shard K of N runs the K-th of N equal parts of the plan,
 * and each can run anywhere (`daxemu bench --shard K/N`).
 */
export interface Shard {
  index: number;
  count: number;
}

/** "K/N" as a shard; EINVAL for anything else (0/2, 3/2, a/b). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new PmemError('EINVAL', `shard must be K/N with 1 <= K <= N, got '${text}'`);
  }
  return { index, count };
}

/**
 * A rough, fixed estimate of a cell's wall time, for dealing cells out to shards: every
 * shard on every machine must compute the same split, so it cannot be measured. From
 * timing the default matrix: a PMD mapping and the kernel's whole-entry msync each about
 * double a cell's time; sparse updates and page rewrites touch the most lines; linux-4.5
 * re-flushes every entry it ever wrote.
 */
function estimatedCost(c: CellSpec): number {
  return (c.cpus ?? 1) * (c.pageSize === 'pmd' ? 2 : 1) * (c.strategy === 'msync' ? 2 : 1) * (c.workload === 'sparse' || c.workload === 'page-rewrite' ? 1.5 : 1) * (c.kernel === 'linux-4.5' ? 1.3 : 1);
}

/**
 * The cells of the plan that shard `shard` runs, in plan order. The plan is dealt out
 * dearest cell first, each to the shard with the least estimated work so far (ties to the
 * lower shard and the earlier cell), so the shards take about the same time; the deal
 * depends only on the plan.
 */
export function shardCells(cells: readonly CellSpec[], shard: Shard): CellSpec[] {
  const order = cells.map((c, i) => ({ i, cost: estimatedCost(c) })).sort((a, b) => b.cost - a.cost || a.i - b.i);
  const load = new Array<number>(shard.count).fill(0);
  const mine = new Set<number>();
  for (const { i, cost } of order) {
    const to = load.indexOf(Math.min(...load));
    load[to]! += cost;
    if (to === shard.index - 1) mine.add(i);
  }
  return cells.filter((_, i) => mine.has(i));
}



/** Sync points per store of each workload (page rewrites sync every page; truncate-after-store has its own fixed sequence). */
const OPS_PER_SYNC: Record<WorkloadName, number> = { 'log-append': 1, 'kv-update': 8, 'page-rewrite': 1, sparse: 8, 'truncate-after-store': 1024 };

/** The cells to run, in report order; MAP_SYNC strategies are left out on linux-4.5. */
export function planCells(o: MatrixOptions): CellSpec[] {
  const cells: CellSpec[] = [];
  for (const workload of o.workloads)
    for (const strategy of o.strategies)
      for (const preset of o.presets)
        for (const kernel of o.kernels)
          for (const pageSize of o.pageSizes) {
            if (!strategyRuns(strategy, kernel)) continue;
            const cell: CellSpec = { workload, strategy, preset, kernel, pageSize, instruction: o.instruction, size: { ops: o.ops, opsPerSync: OPS_PER_SYNC[workload] }, seed: o.seed };
            const bugs = (o.bugs ?? []).filter((bug) => bugRefusal(bug, kernel) === null);
            if (bugs.length > 0) cell.bugs = bugs;
            cells.push(cell);
            if ((o.cpus ?? 1) > 1 && sharedCellRuns(workload)) for (const layout of CPU_LAYOUTS) cells.push({ ...cell, cpus: o.cpus, layout });
          }
  return cells;
}

/** Runs the matrix; `progress` hears of each finished cell. */
export async function runMatrix(o: MatrixOptions, progress?: (done: number, total: number) => void): Promise<CellResult[]> {
  const cells = o.shard ? shardCells(planCells(o), o.shard) : planCells(o);
  const threads = Math.max(1, Math.min(o.threads, cells.length));
  const worker = threads > 1 ? workerFile('matrix-worker') : null;
  if (worker === null) {
    const results: CellResult[] = [];
    for (const spec of cells) {
      results.push(await runCell(spec));
      progress?.(results.length, cells.length);
    }
    return results;
  }
  const results = new Array<CellResult>(cells.length);
  let done = 0;
  await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const mine = cells.map((spec, index) => ({ spec, index })).filter(({ index }) => index % threads === t);
      return new Promise<void>((resolve, reject) => {
        const thread = startWorker(worker, mine);
        thread.on('message', ({ index, result }: { index: number; result: CellResult }) => {
          results[index] = result;
          progress?.(++done, cells.length);
        });
        thread.on('error', reject);
        thread.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`matrix worker ${t} exited with code ${code}`))));
      });
    }),
  );
  return results;
}
