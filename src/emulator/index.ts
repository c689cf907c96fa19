/**
 * emulator: the public façade. createEmulator resolves the options once and makes the
 * parts (the hardware, the DAX file system, the traces); Emulator hands each call to the
 * part that owns it, and saves its durable state to pool files and opens them. The pool
 * files' code runs under Node only and is loaded on first need (pool-loader.ts), so that
 * nothing here imports a Node module.
 *
 * May import: base, core, hw, dax.
 */
export { createEmulator, Emulator } from './emulator.js';
export { attachEmulator, AttachedEmulator, AttachedFile, AttachedMapping } from './attached-emulator.js';
export type { ShareHandle, SharedFileInfo, SharedMappingInfo } from './share-server.js';
export { CAPACITY_ALIGN, defaultResidentBytes, DEFAULT_CACHE_BYTES, DEFAULT_CAPACITY, MAX_CAPACITY, type EmulatorOptions, type ResolvedOptions } from './options.js';
export type { RunResult } from '../hw/index.js';
export { openEmulator, checkPool } from './pool-open.js';
export type { PoolInfo } from './pool.js';
export { POOL_FORMAT_VERSION, type PoolSaveReport, type PoolHeader } from './pool-format.js';
