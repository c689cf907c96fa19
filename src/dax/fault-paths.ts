/**
 * What a kernel era's fault handler is, to the memory manager (src/dax/fault.ts): a PMD
 * path and a PTE path. The XArray era (src/dax/fault-xarray.ts, fs/dax.c of v4.20 on) and
 * the radix-tree era of linux-4.5 (src/dax/fault-p45.ts) each implement FaultPaths, and the
 * file system picks one when the emulator is created, as PMDK's libpmem picks its flush
 * functions once at init: no fault re-decides which era it is in, and neither era's code
 * calls the other's.
 */
import type { DaxHost } from './context.js';
import type { DaxFile } from './file.js';
import type { PageEntry, PageTable } from './page-table.js';

/**
 * What a fault did. 'pte' and 'pmd' map storage anew (over a zero page too); 'zero-pte' and
 * 'zero-pmd' map the zero page for a hole; 'mkwrite' makes a present read-only entry of the
 * file's storage writable in place, whichever way the kernel gets there (pfn_mkwrite for a
 * PTE, printed W+MKWRITE; huge_fault for a PMD, printed W); 'needdsync' is a MAP_SYNC write
 * that synced metadata first; 'none' found the page mapped already.
 */
export type FaultKind = 'pte' | 'pmd' | 'zero-pte' | 'zero-pmd' | 'mkwrite' | 'needdsync' | 'none';

/** What m.fault() reports: the fault's outcome, and whether a PMD attempt fell back first. */
export interface FaultResult {
  result: FaultKind;
  fallback: boolean;
}

/** The mapping as the fault handler needs it (src/dax/file-mapping.ts). */
export interface FaultingMapping {
  readonly file: DaxFile;
  readonly pt: PageTable;
  readonly shared: boolean;
  readonly sync: boolean;
  /** Virtual page of the mapping's first page, and how many it maps. */
  readonly vfirst: number;
  readonly pages: number;
  readonly pgoff: number;
  /** Private copies made by copy-on-write faults, by virtual page. */
  readonly anon: Map<number, Uint8Array>;
}

/** A PMD path's answer that sends the memory manager down the PTE path (VM_FAULT_FALLBACK). */
export const FALLBACK = Symbol('fallback');

/** One kernel era's fault handler. */
export interface FaultPaths {
  /** The era, for messages. */
  readonly era: 'xarray' | 'linux-4.5' | 'page-cache';
  /**
   * The huge-page fault of virtual page `vpage`'s 2 MiB slot; `pmd` is the slot's present
   * huge entry (a read-only one on a write fault), or undefined.
   */
  pmdFault(host: DaxHost, m: FaultingMapping, vpage: number, write: boolean, pmd: PageEntry | undefined): FaultKind | typeof FALLBACK;
  /** The 4 KiB fault of `vpage`; `mkwrite` when a read-only PTE of real storage is there (pfn_mkwrite). */
  pteFault(host: DaxHost, m: FaultingMapping, vpage: number, write: boolean, mkwrite: boolean): FaultKind;
}
