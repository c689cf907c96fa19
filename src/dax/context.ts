/**
 * What the DAX layer (files, faults, writeback) needs from the emulator: the core, the CPU
 * that runs kernel work, the profile's rules, the writeback flush instruction, counters,
 * the trace, and every mapping of a file (for unmapping and write-protecting).
 */
import type { IntervalIndex } from './interval-index.js';
import type { Core } from '../core/index.js';
import type { KernelBugs } from './bugs.js';
import type { KernelFixes } from './fixes.js';
import type { KernelRules } from './kernel.js';
import type { PageCachePool } from './page-cache-pool.js';
import type { TlbShootdown } from './page-table.js';
import type { TraceEvent } from './trace.js';

/** What one writeback call did. */
export interface WritebackReport {
  /** Entries written back, of which PTE and PMD entries. */
  entries: number;
  pteEntries: number;
  pmdEntries: number;
  /** Cache lines flushed, of which dirty (a write-back) and clean (wasted). */
  lines: number;
  dirtyLines: number;
  cleanLines: number;
  fences: number;
  /** Emulated ns the call took on the calling CPU. */
  ns: number;
}

/** DAX counters, kept on the host. */
export interface DaxCounters {
  faults: number;
  pteFaults: number;
  pmdFaults: number;
  zeroPteFaults: number;
  zeroPmdFaults: number;
  /** Faults whose kind was 'mkwrite': a write-protected PTE or PMD of storage made writable. */
  mkwriteFaults: number;
  needdsyncFaults: number;
  fallbacks: number;
  sigbus: number;
  /** Faults that reported VM_FAULT_MAJOR: PTE faults that allocated (the XArray PMD path never does). */
  majorFaults: number;
  writebackCalls: number;
  writebackEntries: number;
  writebackLines: number;
  writebackFences: number;
  zeroingLines: number;
  /** Fences the zeroing of new blocks issued (apart from writeback's and the application's). */
  zeroingFences: number;
  /**
   * Index positions linux-4.5 writeback's batch lookups passed over, from each lookup's
   * start to the last entry it returned: linear in the entries written, quadratic with B3.
   */
  writebackScanned: number;
  /** Page-cache faults and reads that found a shadow entry, and their refault distances summed. */
  refaults: number;
  refaultDistance: number;
  /** Tree nodes holding only shadows that the shadow-node shrinker freed. */
  shadowNodesReclaimed: number;
}

export function newDaxCounters(): DaxCounters {
  return {
    faults: 0, pteFaults: 0, pmdFaults: 0, zeroPteFaults: 0, zeroPmdFaults: 0, mkwriteFaults: 0, needdsyncFaults: 0, fallbacks: 0,
    sigbus: 0, majorFaults: 0, writebackCalls: 0, writebackEntries: 0, writebackLines: 0, writebackFences: 0, zeroingLines: 0, zeroingFences: 0, writebackScanned: 0, refaults: 0, refaultDistance: 0, shadowNodesReclaimed: 0,
  };
}

/** A mapping as the DAX layer sees it (src/dax/file-mapping.ts implements it). */
export interface MappedRange {
  /** File page of the mapping's first page. */
  readonly pgoff: number;
  /** Pages mapped. */
  readonly pages: number;
  readonly shared: boolean;
  /** Write-protects the mapping's view of file pages [first, first + count); huge PMDs too unless `ptesOnly`. */
  writeProtectFile(first: number, count: number, ptesOnly?: boolean): void;
  /**
   * Unmaps the mapping's view of file pages [first, first + count). Private copy-on-write
   * pages stay unless `evenCows` (unmap_mapping_range's even_cows: truncate, not hole punch).
   */
  unmapFile(first: number, count: number, evenCows?: boolean): void;
  /** Whether a PTE of this mapping maps the page-cache page of file page `page` (a private copy does not). */
  mapsCachePage(page: number): boolean;
}

/**
 * A file's address_space as writeback sees it (src/dax/file.ts implements it): the tree,
 * its page counts, the mappings to write-protect, and the file system's metadata commit.
 * Writeback knows files only through this, so file.ts may call writeback and not the
 * other way round.
 */
export interface AddressSpace {
  /** The tree in the core. */
  readonly tree: number;
  /** A DAX file; false for a page-cache file, whose writeback is its own (src/dax/page-cache.ts). */
  readonly dax: boolean;
  /** A page-cache file's writeback of file pages [start, end], without metadata commit or fence. */
  writebackPageCache(start: number, end: number): WritebackReport;
  /** nrpages and (linux-4.5) nrexceptional, as the kernel counts them. */
  readonly nrpages: number;
  readonly nrexceptional: number;
  /** The file's mappings, by the file pages they map. */
  readonly mappings: IntervalIndex<MappedRange>;
  /** The entry covering file page `page`, or 0. */
  entryAt(page: number): number;
  /** Makes every allocation of the file durable metadata (the journal commit of an fsync). */
  commitMetadata(): void;
}

export interface DaxHost {
  readonly core: Core;
  /** The CPU kernel work runs on (the caller's). */
  readonly cpu: number;
  readonly rules: KernelRules;
  /** The fixes switched on (src/dax/fixes.ts). */
  readonly fixes: KernelFixes;
  /** The historical bugs switched on (src/dax/bugs.ts); all off by default. */
  readonly bugs: KernelBugs;
  /** The writeback flush: 0 clflush, 1 clflushopt, 2 clwb. */
  readonly flushKind: number;
  /** Writeback flushes only the dirty lines of an entry (an ideal kernel), not all of them. */
  readonly dirtyLinesOnly: boolean;
  readonly counters: DaxCounters;
  /** The DRAM pages of the page-cache files. */
  readonly pageCache: PageCachePool;
  /** Announces page-table changes to threads that cache translations (src/dax/page-table.ts). */
  readonly tlb: TlbShootdown;
  /** Records a tracepoint when tracing is on. */
  trace(event: TraceEvent): void;
}
