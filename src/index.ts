/**
 * daxemu's public exports (an export list only): the emulator, its hardware and DAX types,
 * the core and its encodings. The main job's API is the `daxemu/bench` entry
 * (src/job/index.ts), the reports' the `daxemu/report` entry (src/report/index.ts).
 *
 * @module daxemu
 */
export { createEmulator, Emulator, MAX_CAPACITY, DEFAULT_CAPACITY, DEFAULT_CACHE_BYTES } from './emulator/index.js';
export type { EmulatorOptions, ResolvedOptions, RunResult } from './emulator/index.js';
export { openEmulator, checkPool, POOL_FORMAT_VERSION } from './emulator/index.js';
export type { PoolInfo, PoolSaveReport, PoolHeader } from './emulator/index.js';
export { attachEmulator } from './emulator/attached-emulator.js';
export type { AttachedEmulator, AttachedFile, AttachedMapping } from './emulator/attached-emulator.js';
export type { ShareHandle } from './emulator/share-server.js';
export { DeviceMapping } from './hw/device-mapping.js';
export { CommandBuilder } from './hw/commands.js';
export type { CrashMode } from './hw/crash.js';
export type { EmulatorStats, FlushCounts } from './hw/stats.js';
export type { CostModel, CostModelInput } from './hw/cost-model.js';
export { PRESETS, PRESET_NAMES, resolveCostModel, describePresets } from './hw/presets.js';
export type { PresetName, Persistence } from './hw/presets.js';
export { Core, InvariantError } from './core/index.js';
export type { CoreLayout, CoreOptions, CoreStats, WasmBuild } from './core/index.js';
export { setWasmSource } from './core/index.js';
export type { WasmSource } from './core/index.js';
export { PmemError, ERRNO } from './base/errors.js';
export type { ErrnoName, PmemErrorCode } from './base/errors.js';
export * from './core/entry.js';
export { BatchBuilder, runBatchByOps } from './core/batch.js';
export * as batchOps from './core/batch.js';
export type { Forest, TreeEntry, FoundEntry } from './core/tree.js';
export { ModelForest } from './model/xarray.js';
export { Rng } from './base/random.js';
export type { ConcurrentTask } from './dax/concurrency.js';
// What the emulator hands out, to be named by its users (made only through the emulator).
export type { DaxFile, FileEntry, Allocate } from './dax/file.js';
export type { FileMapping } from './dax/file-mapping.js';
export type { FaultKind, FaultResult } from './dax/fault-paths.js';
export type { WritebackReport } from './dax/writeback.js';
export type { Trace, TraceEvent, TraceName } from './dax/trace.js';
export type { DaxCounters } from './dax/context.js';
export { KERNEL_PROFILES } from './dax/kernel.js';
export type { KernelProfile } from './dax/kernel.js';
export { CRASH_MODES } from './hw/crash.js';
export { DAX_WAIT_TABLE_BITS, entryKey, waitBucket } from './dax/wait-queue.js';
export type { EntryKey, WaitEvent, WakeMode } from './dax/wait-queue.js';
