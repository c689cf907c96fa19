/**
 * One cell of the strategy matrix: a workload run under one strategy, preset, kernel
 * profile and page size on a fresh emulator, with its counters turned into per-operation
 * and per-sync figures, and its durability checked (src/job/durability.ts):
 *   - at every sync point, nothing the workload stored may still be non-durable and no
 *     block allocation may be uncommitted;
 *   - at the last sync point, a guaranteed crash image must hold every acknowledged byte;
 *   - a byte lost to a documented kernel behaviour (a truncate deleting a dirty PMD entry)
 *     is reported as the kernel's loss, not as a failure.
 */
import { createEmulator } from '../emulator/index.js';
import type { BugName, FixName, KernelProfile } from '../dax/index.js';
import { DurabilityCheck } from './durability.js';
import type { CellResult } from './matrix-types.js';
import type { PresetName } from '../hw/index.js';
import { Rng } from '../base/index.js';
import { startStrategy, strategySetup, type FlushInstruction, type StrategyName } from './strategies.js';
import { workloadByName, type Workload, type WorkloadName, type WorkloadSize } from './workloads/index.js';

const MiB = 1 << 20;
/** A mapping address 4 KiB past a 2 MiB boundary: every PMD attempt falls back, so entries are PTEs. */
const COLOUR_OFF_ADDRESS = 0x7e00_0000_1000;

export interface CellSpec {
  workload: WorkloadName;
  strategy: StrategyName;
  preset: PresetName;
  kernel: KernelProfile;
  pageSize: 'pte' | 'pmd';
  instruction: FlushInstruction;
  size: WorkloadSize;
  seed: number;
  /** Kernel fixes to run with (src/dax/fixes.ts); none by default. */
  fixes?: FixName[];
  /** Historical kernel bugs to run with (src/dax/bugs.ts); none by default. */
  bugs?: BugName[];
}

/** Runs one cell. */
export async function runCell(spec: CellSpec, workload: Workload = workloadByName(spec.workload, spec.size)): Promise<CellResult> {
  const setup = strategySetup(spec.strategy);
  const capacity = Math.ceil((workload.fileBytes + 8 * MiB) / (2 * MiB)) * 2 * MiB;
  const emu = await createEmulator({
    capacity,
    preset: spec.preset,
    kernel: spec.kernel,
    flush: spec.instruction,
    seed: spec.seed,
    cacheBytes: 8 * MiB,
    fixes: spec.fixes,
    bugs: spec.bugs,
    ...setup.emulator,
  });
  const file = emu.createFile('/data', { size: workload.fileBytes, dax: setup.dax });
  const m = emu.mmap(file, { sync: setup.mapSync, address: spec.pageSize === 'pte' ? COLOUR_OFF_ADDRESS : undefined });
  const run = startStrategy(spec.strategy, emu, m, spec.instruction);
  const rng = new Rng(spec.seed);
  const steps = workload.steps(rng);
  const check = new DurabilityCheck(emu, file, workload.fileBytes);
  let ops = 0;
  let syncs = 0;
  let bytesSynced = 0;
  let pending = 0;
  for (const step of steps) {
    if (step.kind === 'store') {
      const value = (ops % 255) + 1;
      run.store(step.offset, new Uint8Array(step.length).fill(value));
      check.stored(step.offset, step.length, value);
      pending += step.length;
      ops++;
      continue;
    }
    if (step.kind === 'truncate') {
      check.truncating(step.size);
      run.truncate(step.size);
      check.truncated(step.size);
      continue;
    }
    run.sync();
    syncs++;
    bytesSynced += pending;
    pending = 0;
    check.syncPoint();
  }
  const verdict = await check.finish();

  const s = emu.stats();
  const ns = emu.now();
  const per = (n: number): number => (syncs === 0 ? 0 : n / syncs);
  const d = s.dax;
  return {
    workload: workload.name,
    strategy: spec.strategy,
    preset: spec.preset,
    kernel: spec.kernel,
    pageSize: spec.pageSize,
    ops,
    syncs,
    bytesSynced,
    ns,
    nsPerOp: ops === 0 ? 0 : ns / ops,
    nsPerSyncedByte: bytesSynced === 0 ? 0 : ns / bytesSynced,
    linesPerSync: per(s.linesFlushed),
    dirtyLinesPerSync: per(s.dirtyLinesFlushed),
    cleanLinesPerSync: per(s.cleanLinesFlushed),
    ntLinesPerSync: per(s.ntLines - d.zeroingLines),
    fencesPerSync: per(s.fences - d.zeroingFences),
    faults: { pte: d.pteFaults + d.zeroPteFaults, pmd: d.pmdFaults + d.zeroPmdFaults, mkwrite: d.mkwriteFaults, needdsync: d.needdsyncFaults, fallback: d.fallbacks, total: d.faults },
    mediaBytesWritten: s.mediaBytesWritten,
    writeAmplification: s.writeAmplification,
    durable: verdict.durable,
    kernelLoss: verdict.kernelLoss,
    durabilityChecks: verdict.checks,
    // Only cells run with bugs carry them, so a run without any reports as before.
    ...(spec.bugs && spec.bugs.length > 0 ? { bugs: [...spec.bugs], lostBytes: verdict.lostBytes } : {}),
  };
}
