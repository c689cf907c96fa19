/**
 * Flush cost per PTE and per PMD entry (docs/cost-model.md §2.8 and §9): what one msync of one
 * entry costs when 1, 8, 64, ... up to all of its lines are dirty, per preset, flush
 * instruction and kernel profile; and, to compare, the same under the ideal line-tracking
 * kernel (msync-dirty-lines) and with user-space flushing of exactly the dirty lines
 * (user-flush, MAP_SYNC). After each sync, re-dirtying the entry costs a write-protect
 * fault where the kernel write-protected it (the XArray-era profiles); that is refaultNs.
 * On request (`strategies`), 'page-cache': the same range of a page-cache file, whose msync
 * copies each dirty 4 KiB page whole to the media whatever its dirty lines (docs/page-cache.md).
 */
import { createEmulator } from '../emulator/index.js';
import type { KernelProfile } from '../dax/index.js';
import type { FlushCostRow } from './matrix-types.js';
import type { PresetName } from '../hw/index.js';
import { strategyRuns, strategySetup, type FlushInstruction, type StrategyName } from './strategies.js';

const MiB = 1 << 20;
const LINES = { pte: 64, pmd: 32768 } as const;
const COLOUR_OFF_ADDRESS = 0x7e00_0000_1000;

export interface FlushCostOptions {
  presets: PresetName[];
  kernels: KernelProfile[];
  instructions: FlushInstruction[];
  /** Dirty-line counts to measure; those above an entry's 64 or 32768 lines are skipped. */
  dirtyCounts?: number[];
  seed?: number;
  /** The strategies to measure: msync, msync-dirty-lines and user-flush by default; 'page-cache' on request. */
  strategies?: FlushCostStrategy[];
}

/** The strategies a flush-cost row can measure. */
export type FlushCostStrategy = FlushCostRow['strategy'];

export const DEFAULT_DIRTY_COUNTS = [1, 8, 64, 512, 4096, 32768];
/** The strategies measured unless others are asked for. */
export const FLUSH_COST_STRATEGIES: readonly FlushCostStrategy[] = ['msync', 'msync-dirty-lines', 'user-flush'];

/** Measures every combination; rows in a fixed order. */
export async function runFlushCost(options: FlushCostOptions, progress?: (done: number, total: number) => void): Promise<FlushCostRow[]> {
  const rows: FlushCostRow[] = [];
  const counts = options.dirtyCounts ?? DEFAULT_DIRTY_COUNTS;
  const combos: [PresetName, KernelProfile, FlushInstruction, 'pte' | 'pmd', StrategyName][] = [];
  for (const preset of options.presets)
    for (const kernel of options.kernels)
      for (const instruction of options.instructions)
        for (const pageSize of ['pte', 'pmd'] as const)
          for (const strategy of options.strategies ?? FLUSH_COST_STRATEGIES) if (strategyRuns(strategy, kernel)) combos.push([preset, kernel, instruction, pageSize, strategy]);
  let done = 0;
  for (const [preset, kernel, instruction, pageSize, strategy] of combos) {
    rows.push(...(await measure(preset, kernel, instruction, pageSize, strategy, counts, options.seed ?? 1)));
    progress?.(++done, combos.length);
  }
  return rows;
}

async function measure(
  preset: PresetName, kernel: KernelProfile, instruction: FlushInstruction, pageSize: 'pte' | 'pmd', strategy: StrategyName, counts: number[], seed: number,
): Promise<FlushCostRow[]> {
  const setup = strategySetup(strategy);
  const emu = await createEmulator({ capacity: 8 * MiB, preset, kernel, flush: instruction, seed, cacheBytes: 4 * MiB, ...setup.emulator });
  const f = emu.createFile('/entry', { size: 4 * MiB, allocate: 'written', dax: setup.dax });
  const m = emu.mmap(f, { sync: setup.mapSync, address: pageSize === 'pte' ? COLOUR_OFF_ADDRESS : undefined });
  const entryBytes = LINES[pageSize] * 64;
  const kind = instruction === 'clflush' ? 0 : instruction === 'clflushopt' ? 1 : 2;
  const byte = new Uint8Array([1]);
  const sync = (dirtyOffsets: number[]): number => {
    if (strategy === 'user-flush') {
      for (const off of dirtyOffsets) m.flush(off, 1, kind);
      if (instruction !== 'clflush') emu.sfence();
      return dirtyOffsets.length;
    }
    return m.msync(0, entryBytes, { sync: true }).lines;
  };
  // Fault the entry in and make it clean.
  m.store(0, byte);
  sync([0]);
  const rows: FlushCostRow[] = [];
  for (const dirtyLines of counts) {
    if (dirtyLines > LINES[pageSize]) continue;
    const stride = Math.floor(LINES[pageSize] / dirtyLines);
    const offsets = Array.from({ length: dirtyLines }, (_, i) => i * stride * 64);
    // The first store may take the write-protect fault; the sync is what is measured.
    const t0 = emu.now();
    m.store(offsets[0]!, byte);
    const refaultNs = emu.now() - t0;
    for (const off of offsets.slice(1)) m.store(off, byte);
    const t1 = emu.now();
    const lines = sync(offsets);
    rows.push({ preset, kernel, instruction, pageSize, strategy: strategy as FlushCostRow['strategy'], dirtyLines, lines, ns: emu.now() - t1, refaultNs });
  }
  return rows;
}
