// daxemu's public exports (an export list only). The emulator itself (createEmulator,
// mmap, faults, writeback) is built on these by the issues that follow the foundation.
export { Core, InvariantError } from './core.js';
export type { CoreLayout, CoreOptions, CoreStats, WasmBuild } from './core.js';
export { PmemError, ERRNO } from './errors.js';
export type { ErrnoName, PmemErrorCode } from './errors.js';
export * from './entry.js';
export { BatchBuilder, runBatchByOps } from './batch.js';
export * as batchOps from './batch.js';
export type { Forest, TreeEntry, FoundEntry } from './tree.js';
export { ModelForest } from './model/xarray.js';
export { Rng } from './random.js';
