/**
 * A matrix cell on one shared emulator (`daxemu bench --cpus N`): N worker threads, each an
 * emulated CPU attached to the same emulator (docs/threads.md), run the cell's workload at
 * once, each with its own seed, next to the one-CPU cell that runs it alone:
 *   files     each CPU has a file of its own, and syncs it;
 *   one-file  the CPUs share one file, each on a slice of its own, and each sync writes back
 *             the whole file, the other CPUs' dirty pages too (as fdatasync of a shared file).
 * The figures are the slowest CPU's: `ns` is the largest CPU clock, `nsPerOp` that over one
 * CPU's operations, so a cell whose CPUs never meet reads as the one-CPU cell; the lines and
 * fences per sync are the emulator's totals over every CPU's syncs. The durability check is
 * the final one only: a guaranteed crash image must hold every byte each CPU acknowledged
 * (the per-sync-point check of src/job/durability.ts reads the emulator between one CPU's
 * steps, which would race the others). Workloads that truncate are not run this way (a
 * truncate of a shared file would cut the other CPUs' slices).
 */
import { PmemError } from '../base/index.js';
import type { CellSpec } from './cell-spec.js';
import { cellEmulator, cellNames, syncFigures } from './cell-emulator.js';
import type { CellResult } from './matrix-types.js';
import { strategySetup } from './strategies.js';
import type { Workload, WorkloadName } from './workloads/index.js';
import { startWorker, workerFile } from './worker-thread.js';
import { quantumBarrierWords } from './quantum-barrier.js';

const MiB = 1 << 20;
const PMD = 2 * MiB;
/** PTE cells map 4 KiB past a 2 MiB boundary (src/job/cell.ts), each CPU's mapping 1 GiB past the one before. */
const COLOUR_OFF_ADDRESS = 0x7e00_0000_1000;

/** How far apart in emulated time the CPUs may drift: each waits for the others at every multiple (src/job/quantum-barrier.ts). */
const QUANTUM_NS = 20_000;


/** The most CPUs a shared cell may have: the emulator's CPUs less the owner's. */
export const MAX_SHARED_CPUS = 7;

/** What a shared cell's worker is given. */
export interface SharedCellJob {
  spec: CellSpec;
  /** The mapping's address, and where this CPU's slice starts in it. */
  address: number;
  base: number;
}

/** What it answers. */
export interface SharedCellReport {
  ops: number;
  syncs: number;
  bytesSynced: number;
  /** The bytes its slice should read after a guaranteed crash (0: nothing acknowledged). */
  expected: Uint8Array;
}

/** Whether a built-in workload can run on a shared cell: it never truncates (truncate-after-store does). */
export function sharedCellRuns(workload: WorkloadName): boolean {
  return workload !== 'truncate-after-store';
}

/** Runs one cell with spec.cpus workers on one emulator. */
export async function runSharedCell(spec: CellSpec, workload: Workload): Promise<CellResult> {
  const cpus = spec.cpus ?? 1;
  const layout = spec.layout ?? 'files';
  const file = workerFile('shared-cell-worker');
  if (file === null) throw new PmemError('EOPNOTSUPP', 'a shared cell needs its worker file (run the build, or under tsx)');
  const setup = strategySetup(spec.strategy);
  const slice = Math.ceil(workload.fileBytes / PMD) * PMD;
  const emu = await cellEmulator(spec, slice * cpus);
  try {
    const address = (k: number): number | undefined => (spec.pageSize === 'pte' ? COLOUR_OFF_ADDRESS + k * 1024 * MiB : undefined);
    const places: { path: string; address: number; base: number }[] = [];
    if (layout === 'files') {
      for (let k = 0; k < cpus; k++) {
        const f = emu.createFile(`/data-${k + 1}`, { size: workload.fileBytes, dax: setup.dax });
        places.push({ path: f.path, address: emu.mmap(f, { sync: setup.mapSync, address: address(k) }).address, base: 0 });
      }
    } else {
      const f = emu.createFile('/data', { size: slice * cpus, dax: setup.dax });
      const at = emu.mmap(f, { sync: setup.mapSync, address: address(0) }).address;
      for (let k = 0; k < cpus; k++) places.push({ path: f.path, address: at, base: k * slice });
    }
    const handle = emu.share();
    const barrierWords = quantumBarrierWords(cpus);
    const reports = await Promise.all(
      places.map(
        (place, k) =>
          new Promise<SharedCellReport>((resolve, reject) => {
            const job: SharedCellJob = { spec: { ...spec, seed: spec.seed + k }, address: place.address, base: place.base };
            const worker = startWorker(file, { handle, cpu: k + 1, job, cpus, barrierWords, quantumNs: QUANTUM_NS });
            worker.once('message', resolve);
            worker.once('error', reject);
            worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`shared cell CPU ${k + 1} exited with code ${code}`))));
          }),
      ),
    );
    const ops = reports.reduce((n, r) => n + r.ops, 0);
    const syncs = reports.reduce((n, r) => n + r.syncs, 0);
    const bytesSynced = reports.reduce((n, r) => n + r.bytesSynced, 0);
    const figures = syncFigures(emu, syncs);
    const ns = Math.max(...emu.stats().nsPerCpu.slice(1, cpus + 1));
    const image = await emu.crash({ mode: 'guaranteed' });
    let lostBytes = 0;
    try {
      places.forEach((place, k) => {
        const { expected } = reports[k]!;
        const held = image.open(place.path).pread(place.base, expected.length);
        for (let i = 0; i < expected.length; i++) if (expected[i] !== 0 && held[i] !== expected[i]) lostBytes++;
      });
    } finally {
      image.dispose();
    }
    return {
      ...cellNames(spec, workload),
      cpus,
      layout,
      ops,
      syncs,
      bytesSynced,
      ns,
      nsPerOp: ops === 0 ? 0 : (ns * cpus) / ops,
      nsPerSyncedByte: bytesSynced === 0 ? 0 : (ns * cpus) / bytesSynced,
      ...figures,
      durable: lostBytes === 0,
      kernelLoss: false,
      durabilityChecks: 1,
      ...(spec.bugs && spec.bugs.length > 0 ? { bugs: [...spec.bugs], lostBytes } : {}),
    };
  } finally {
    emu.dispose();
  }
}
