/**
 * dax: the Linux DAX file system over the emulated hardware, rule for rule as the kernel
 * profiles have it. It owns files (size, block map, metadata durability, read/write,
 * truncate, punch), the page tables of their mappings, the fault handlers of each kernel era,
 * writeback, the entry waitqueues and concurrent tasks, the fs_dax tracepoints, and
 * checkInvariants. DaxFileSystem is what the emulator holds.
 *
 * May import: base, core, hw.
 */
export { DaxFileSystem, type DaxFsOptions, type DurableFile } from './filesystem.js';
export { DaxFile, PAGE_SIZE, type Allocate, type Block, type FileEntry } from './file.js';
export { FileMapping, checkFlushKind, checkMappedRange } from './file-mapping.js';
export type { FaultKind, FaultResult } from './fault-paths.js';
export type { DaxCounters } from './context.js';
export { BUG_NAMES, bugRefusal, noBugs, resolveBugs, type BugName, type KernelBugs } from './bugs.js';
export { FIX_NAMES, resolveFixes, type FixName, type KernelFixes } from './fixes.js';
export { KERNEL_PROFILES, FAULT_COSTS, kernelRules, type KernelProfile, type KernelRules } from './kernel.js';
export { Trace, Tracepoints, type TraceEvent, type TraceName } from './trace.js';
export { emptyReport, addReport, type WritebackReport } from './writeback.js';
export { runTasks, type ConcurrentTask } from './concurrency.js';
export { DAX_WAIT_TABLE_BITS, EntryWaitTable, entryKey, waitBucket, type EntryKey, type WaitEvent, type WakeMode } from './wait-queue.js';
export type { PageEntry } from './page-table.js';
