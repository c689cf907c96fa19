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
import { Rng } from '../base/index.js';
import type { CellSpec } from './cell-spec.js';
import { cellEmulator, cellNames, syncFigures } from './cell-emulator.js';
import { DurabilityCheck } from './durability.js';
import type { CellResult } from './matrix-types.js';
import { runSharedCell } from './shared-cell.js';
import { startStrategy, strategySetup } from './strategies.js';
import { workloadByName, type Workload } from './workloads/index.js';

export type { CellSpec } from './cell-spec.js';

/** A mapping address 4 KiB past a 2 MiB boundary: every PMD attempt falls back, so entries are PTEs. */
const COLOUR_OFF_ADDRESS = 0x7e00_0000_1000;


/** Runs one cell. */
export async function runCell(spec: CellSpec, workload: Workload = workloadByName(spec.workload, spec.size)): Promise<CellResult> {
  if ((spec.cpus ?? 1) > 1) return runSharedCell(spec, workload);
  const setup = strategySetup(spec.strategy);
  const emu = await cellEmulator(spec, workload.fileBytes);
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

  const ns = emu.now();
  return {
    ...cellNames(spec, workload),
    ops,
    syncs,
    bytesSynced,
    ns,
    nsPerOp: ops === 0 ? 0 : ns / ops,
    nsPerSyncedByte: bytesSynced === 0 ? 0 : ns / bytesSynced,
    ...syncFigures(emu, syncs),
    durable: verdict.durable,
    kernelLoss: verdict.kernelLoss,
    durabilityChecks: verdict.checks,
    // Only cells run with bugs carry them, so a run without any reports as before.
    ...(spec.bugs && spec.bugs.length > 0 ? { bugs: [...spec.bugs], lostBytes: verdict.lostBytes } : {}),
  };
}
