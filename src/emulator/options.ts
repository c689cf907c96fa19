/**
 * The options of createEmulator: their defaults and checks, and the core's memory sizing
 * that follows from them. Resolved once, when the emulator is made; nothing re-decides them.
 */
import { PmemError } from '../base/index.js';
import { residentBytesFor, type CoreOptions, type WasmBuild } from '../core/index.js';
import { resolveCostModel, type CostModel, type CostModelInput, type Persistence, type PresetName } from '../hw/index.js';
import { kernelRules, resolveBugs, resolveFixes, type BugName, type FixName, type KernelProfile } from '../dax/index.js';

const MiB = 1 << 20;
/** Capacity and every region of the media are counted in 2 MiB extents. */
export const CAPACITY_ALIGN = 2 * MiB;
/**
 * The largest capacity: wasm32 addresses 4 GiB; the fixed regions (about 30 MiB), the
 * chunk pool that holds every chunk of the media with its line states (1/64 of it), the
 * undo slots of the default 32 MiB cache (about 46 MiB) and room for the node heap leave
 * 3.75 GiB for the media.
 */
export const MAX_CAPACITY = 3840 * MiB;
export const DEFAULT_CAPACITY = 64 * MiB;
export const DEFAULT_CACHE_BYTES = 32 * MiB;
const WASM_PAGE = 65536;
/** Room the node heap may grow into beyond the laid-out regions, in wasm pages (1 GiB). */
const HEAP_HEADROOM_PAGES = 16384;
/** The writeback flush instructions, in the core's kind numbering (0 clflush, 1 clflushopt, 2 clwb). */
export const FLUSH_KINDS = ['clflush', 'clflushopt', 'clwb'] as const;


export interface EmulatorOptions {
  /** Bytes of pmem: a multiple of 2 MiB, at most MAX_CAPACITY. Default 64 MiB. */
  capacity?: number;
  /** A preset name (src/hw/presets.ts) or a custom CostModel. Default 'optane-g1'. */
  preset?: PresetName | CostModelInput;
  /** The persistence domain; default the preset's. */
  persistence?: Persistence;
  /** Drives every random choice (eviction; crash images default to it). Default 1. */
  seed?: number;
  /** Most bytes of dirty lines the emulated cache holds before it evicts (a multiple of 64). Default 32 MiB, at most the capacity. */
  cacheBytes?: number;
  /**
   * The resident budget: most bytes of memory the media's touched chunks take (the media is
   * sparse: a 2 MiB chunk gets memory, 2 MiB and 32 KiB of line states, on its first write;
   * a chunk only read from takes its 32 KiB of line states). An access that needs more fails
   * with ENOMEM and changes nothing. Default: enough for every chunk of the capacity.
   */
  residentBytes?: number;
  /** Which wasm build runs the core. */
  build?: WasmBuild;
  /** The kernel whose DAX rules apply (src/dax/kernel.ts). Default 'linux-6.12'. */
  kernel?: KernelProfile;
  /** The instruction kernel writeback flushes with. Default 'clwb'. */
  flush?: 'clwb' | 'clflushopt' | 'clflush';
  /**
   * 'kernel' (default): writeback flushes every line of a dirty entry, as the kernel does.
   * 'dirty-lines': an ideal kernel that flushes only the entry's dirty lines (a lower bound).
   */
  writeback?: 'kernel' | 'dirty-lines';
  /**
   * Kernel behaviours changed on purpose, by name (src/dax/fixes.ts): 'truncate-writeback'.
   * Default none. An unknown name, or a fix that makes no sense on the profile, is EINVAL.
   */
  fixes?: readonly FixName[];
  /**
   * Historical kernel bugs switched back on, by name (src/dax/bugs.ts): 'B3', 'B4', 'B5',
   * 'B6', 'B7', 'B8', 'B11', 'B12', 'B14', 'v3-shadow'. Default none. An unknown name, or a
   * bug the profile cannot host, is EINVAL saying why.
   */
  bugs?: readonly BugName[];
}

/** The options an emulator was made with, all filled in. */
export interface ResolvedOptions {
  capacity: number;
  residentBytes: number;
  cost: CostModel;
  persistence: Persistence;
  seed: number;
  cacheBytes: number;
  build: WasmBuild | undefined;
  kernel: KernelProfile;
  flush: 'clwb' | 'clflushopt' | 'clflush';
  writeback: 'kernel' | 'dirty-lines';
  fixes: FixName[];
  bugs: BugName[];
}

/** Every option createEmulator knows: a misspelt one is refused rather than silently left at its default. */
const OPTION_NAMES: readonly (keyof EmulatorOptions)[] = ['capacity', 'residentBytes', 'preset', 'persistence', 'seed', 'cacheBytes', 'build', 'kernel', 'flush', 'writeback', 'fixes', 'bugs'];

/** The resident budget an emulator of `capacity` bytes gets when none is given: every chunk. */
export function defaultResidentBytes(capacity: number): number {
  return residentBytesFor(capacity);
}

/** The options that make an emulator like the one `resolved` describes (a crash image, a reopened pool). */
export function optionsLike(resolved: ResolvedOptions): EmulatorOptions {
  const { capacity, residentBytes, cost, persistence, seed, cacheBytes, build, kernel, flush, writeback, fixes, bugs } = resolved;
  return { capacity, residentBytes, preset: cost, persistence, seed, cacheBytes, build, kernel, flush, writeback, fixes, bugs };
}

/** Checks every option and fills in the defaults; EINVAL names the first bad one. */
export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new PmemError('EINVAL', 'createEmulator: options must be an object');
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new PmemError('EINVAL', `createEmulator: unknown option ${key}; the options are ${OPTION_NAMES.join(', ')}`);
    }
  }
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  if (!Number.isInteger(capacity) || capacity <= 0 || capacity % CAPACITY_ALIGN !== 0 || capacity > MAX_CAPACITY) {
    throw new PmemError('EINVAL', `capacity must be a positive multiple of 2 MiB up to ${MAX_CAPACITY / MiB} MiB, got ${String(capacity)}`);
  }
  const allChunks = residentBytesFor(capacity);
  const residentBytes = options.residentBytes ?? allChunks;
  if (!Number.isSafeInteger(residentBytes) || residentBytes < 0 || residentBytes > allChunks) {
    throw new PmemError('EINVAL', `residentBytes must be an integer in [0, ${allChunks}] (every chunk of the capacity), got ${String(residentBytes)}`);
  }
  const cost = resolveCostModel(options.preset ?? 'optane-g1', options.persistence);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new PmemError('EINVAL', `seed must be an integer in [0, 2^32), got ${String(seed)}`);
  const cacheBytes = options.cacheBytes ?? Math.min(DEFAULT_CACHE_BYTES, capacity);
  if (!Number.isInteger(cacheBytes) || cacheBytes < 64 || cacheBytes % 64 !== 0 || cacheBytes > capacity) {
    throw new PmemError('EINVAL', `cacheBytes must be a multiple of 64 in [64, capacity], got ${String(cacheBytes)}`);
  }
  if (options.build !== undefined && options.build !== 'debug' && options.build !== 'release') {
    throw new PmemError('EINVAL', `build must be 'debug' or 'release', got ${String(options.build)}`);
  }
  const kernel = kernelRules(options.kernel ?? 'linux-6.12').profile;
  const flush = options.flush ?? 'clwb';
  if (!FLUSH_KINDS.includes(flush)) throw new PmemError('EINVAL', `flush must be one of ${FLUSH_KINDS.join(', ')}, got ${String(flush)}`);
  const writeback = options.writeback ?? 'kernel';
  if (writeback !== 'kernel' && writeback !== 'dirty-lines') throw new PmemError('EINVAL', `writeback must be 'kernel' or 'dirty-lines', got ${String(writeback)}`);
  const fixes = resolveFixes(kernel, options.fixes ?? []).names;
  const bugs = resolveBugs(kernel, options.bugs ?? []).names;
  return { capacity, residentBytes, cost, persistence: cost.persistence, seed, cacheBytes, build: options.build, kernel, flush, writeback, fixes, bugs };
}

/**
 * The core's layout for these options: the media, one undo slot per 64 bytes of cache, the
 * chunk pool of the resident budget, and a memory that may grow past the laid-out regions
 * by the heap's headroom, never past 4 GiB.
 */
export function coreOptionsFor(resolved: ResolvedOptions): CoreOptions {
  const undoSlots = resolved.cacheBytes / 64;
  const tables = (resolved.capacity / CAPACITY_ALIGN) * 8 + resolved.capacity / 4096 / 8;
  const estimate = Math.ceil((resolved.residentBytes + tables + undoSlots * 100 + 64 * MiB) / WASM_PAGE);
  const maximumPages = Math.min(65536, estimate + HEAP_HEADROOM_PAGES);
  return { build: resolved.build, mediaBytes: resolved.capacity, undoSlots, maximumPages, residentBytes: resolved.residentBytes };
}
