/**
 * What a matrix cell on one CPU (src/job/cell.ts) and on shared CPUs (src/job/shared-cell.ts)
 * have alike: the emulator a cell runs on, its names, and the per-sync figures read from its stats.
 */
import { createEmulator, type Emulator } from '../emulator/index.js';
import type { CellSpec } from './cell-spec.js';
import type { CellResult } from './matrix-types.js';
import { strategySetup } from './strategies.js';

const MiB = 1 << 20;

/** A fresh emulator for `spec` with room for `dataBytes` of files. */
export function cellEmulator(spec: CellSpec, dataBytes: number): Promise<Emulator> {
  return createEmulator({
    capacity: Math.ceil((dataBytes + 8 * MiB) / (2 * MiB)) * 2 * MiB,
    preset: spec.preset,
    kernel: spec.kernel,
    flush: spec.instruction,
    seed: spec.seed,
    cacheBytes: 8 * MiB,
    fixes: spec.fixes,
    bugs: spec.bugs,
    ...strategySetup(spec.strategy).emulator,
  });
}

/** What names a cell in its result: the workload run, and the spec's choices. */
export function cellNames(spec: CellSpec, workload: { name: string }): Pick<CellResult, 'workload' | 'strategy' | 'preset' | 'kernel' | 'pageSize'> {
  return { workload: workload.name, strategy: spec.strategy, preset: spec.preset, kernel: spec.kernel, pageSize: spec.pageSize };
}

type SyncFigures = Pick<
  CellResult,
  'linesPerSync' | 'dirtyLinesPerSync' | 'cleanLinesPerSync' | 'ntLinesPerSync' | 'fencesPerSync' | 'faults' | 'mediaBytesWritten' | 'writeAmplification'
>;

/** The flushes, fences and faults of `emu` over `syncs` sync points, and its media figures. */
export function syncFigures(emu: Emulator, syncs: number): SyncFigures {
  const s = emu.stats();
  const per = (n: number): number => (syncs === 0 ? 0 : n / syncs);
  const d = s.dax;
  return {
    linesPerSync: per(s.linesFlushed),
    dirtyLinesPerSync: per(s.dirtyLinesFlushed),
    cleanLinesPerSync: per(s.cleanLinesFlushed),
    ntLinesPerSync: per(s.ntLines - d.zeroingLines),
    fencesPerSync: per(s.fences - d.zeroingFences),
    faults: { pte: d.pteFaults + d.zeroPteFaults, pmd: d.pmdFaults + d.zeroPmdFaults, mkwrite: d.mkwriteFaults, needdsync: d.needdsyncFaults, fallback: d.fallbacks, total: d.faults },
    mediaBytesWritten: s.mediaBytesWritten,
    writeAmplification: s.writeAmplification,
  };
}
