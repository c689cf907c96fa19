/**
 * Writeback strategies (docs/cost-model.md §9): how a workload makes its stores
 * durable. Each is decided once per run and carried out by a small object with two verbs,
 * store and sync.
 *   msync              kernel writeback of the profile (every line of each dirty entry)
 *   msync-dirty-lines  an ideal kernel that flushes only dirty lines (a lower bound)
 *   user-flush         MAP_SYNC; the application flushes exactly the lines it wrote, then
 *                      fences (PMDK's pmem_persist); clflush needs no fence
 *   user-ntstore       MAP_SYNC; copies of 256 bytes or more go non-temporal, smaller ones
 *                      are stored and flushed (PMDK's memcpy threshold), then one fence
 *   eadr               MAP_SYNC on an eADR platform: stores are durable when visible; the
 *                      sync point keeps PMDK's sfence
 * MAP_SYNC came with Linux 4.15, so the three MAP_SYNC strategies do not run on linux-4.5.
 * Opt-in (not in the default selection, so a default run reports as before):
 *   page-cache         the same stores and msyncs on a non-DAX file (src/dax/page-cache.ts):
 *                      stores go to DRAM pages, msync copies the dirty pages to the media
 *                      with non-temporal stores and a device flush; the DAX it replaced
 */
import type { EmulatorOptions } from '../emulator/index.js';
import type { KernelProfile } from '../dax/index.js';

/** The strategies a matrix runs by default. */
export const STRATEGY_NAMES = ['msync', 'msync-dirty-lines', 'user-flush', 'user-ntstore', 'eadr'] as const;
/** Strategies run only when named (daxemu bench --strategies page-cache). */
export const OPT_IN_STRATEGIES = ['page-cache'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number] | (typeof OPT_IN_STRATEGIES)[number];
export type FlushInstruction = 'clwb' | 'clflushopt' | 'clflush';

/** PMDK's MOVNT_THRESHOLD: copies this long or longer use non-temporal stores. */
export const MOVNT_THRESHOLD = 256;
const FLUSH_KIND: Record<FlushInstruction, 0 | 1 | 2> = { clflush: 0, clflushopt: 1, clwb: 2 };

/** What a strategy needs from the emulator and the mapping. */
export interface StrategySetup {
  emulator: Pick<EmulatorOptions, 'persistence' | 'writeback'>;
  mapSync: boolean;
  /** false: the workload's file is a page-cache file (createFile's `dax: false`). */
  dax: boolean;
}

/**
 * What a strategy drives: a file mapping and the CPU it runs on, on the emulator's thread
 * (Emulator, FileMapping) or on a worker's (AttachedEmulator, AttachedMapping).
 */
export interface StrategyCpu {
  sfence(): void;
}

export interface StrategyMapping {
  readonly length: number;
  readonly file: { truncate(size: number): void };
  store(offset: number, bytes: Uint8Array): void;
  ntstore(offset: number, bytes: Uint8Array): void;
  flush(offset: number, length: number, kind: 0 | 1 | 2): void;
  msync(offset: number, length: number, options: { sync?: boolean }): unknown;
}

/** Carries a workload's stores, sync points and truncates out. */
export interface StrategyRun {
  store(offset: number, bytes: Uint8Array): void;
  sync(): void;
  /** ftruncate of the mapped file; an application flushing itself forgets what lies past the new end. */
  truncate(size: number): void;
}

/** Whether the strategy can run on this kernel profile. */
export function strategyRuns(strategy: StrategyName, kernel: KernelProfile): boolean {
  return kernel !== 'linux-4.5' || !strategySetup(strategy).mapSync;
}

/** The emulator options and mapping a strategy needs. */
export function strategySetup(strategy: StrategyName): StrategySetup {
  return {
    emulator: { persistence: strategy === 'eadr' ? 'eadr' : undefined, writeback: strategy === 'msync-dirty-lines' ? 'dirty-lines' : 'kernel' },
    mapSync: strategy === 'user-flush' || strategy === 'user-ntstore' || strategy === 'eadr',
    dax: strategy !== 'page-cache',
  };
}

/** The store/sync pair of a strategy on a mapping. */
export function startStrategy(strategy: StrategyName, emu: StrategyCpu, m: StrategyMapping, instruction: FlushInstruction): StrategyRun {
  // Written ranges since the last sync point, merged when they touch.
  const ranges: [number, number][] = [];
  const remember = (offset: number, length: number): void => {
    const last = ranges[ranges.length - 1];
    if (last && offset >= last[0] && offset <= last[1]) last[1] = Math.max(last[1], offset + length);
    else ranges.push([offset, offset + length]);
  };
  const truncate = (size: number): void => {
    m.file.truncate(size);
    const kept = ranges.filter(([a]) => a < size).map(([a, b]): [number, number] => [a, Math.min(b, size)]);
    ranges.splice(0, ranges.length, ...kept);
  };
  const kind = FLUSH_KIND[instruction];
  const fence = (): void => {
    if (instruction !== 'clflush') emu.sfence();
  };
  switch (strategy) {
    case 'msync':
    case 'msync-dirty-lines':
    case 'page-cache':
      // msync of the whole mapping, as an application that calls fdatasync does: the
      // profile decides what gets flushed (linux-4.5 re-flushes every entry ever written).
      return {
        store: (offset, bytes) => m.store(offset, bytes),
        sync: () => {
          m.msync(0, m.length, { sync: true });
        },
        truncate,
      };
    case 'user-flush':
      return {
        store: (offset, bytes) => {
          m.store(offset, bytes);
          remember(offset, bytes.length);
        },
        sync: () => {
          for (const [a, b] of ranges) m.flush(a, b - a, kind);
          ranges.length = 0;
          fence();
        },
        truncate,
      };
    case 'user-ntstore':
      return {
        store: (offset, bytes) => {
          if (bytes.length >= MOVNT_THRESHOLD) {
            m.ntstore(offset, bytes);
          } else {
            m.store(offset, bytes);
            remember(offset, bytes.length);
          }
        },
        sync: () => {
          for (const [a, b] of ranges) m.flush(a, b - a, kind);
          ranges.length = 0;
          emu.sfence(); // non-temporal stores need the fence whatever the flush instruction
        },
        truncate,
      };
    case 'eadr':
      return {
        store: (offset, bytes) => m.store(offset, bytes),
        sync: () => emu.sfence(),
        truncate,
      };
  }
}
