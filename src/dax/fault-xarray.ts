/**
 * The XArray era's DAX fault paths (fs/dax.c from v4.20 on; the linux-6.1 and linux-6.12
 * profiles): dax_iomap_pmd_fault and dax_iomap_pte_fault, docs/kernel-rules.md §3.3 to §3.6. Read
 * faults map read-only (write-notify), so the first store takes a write fault that dirties
 * the entry. Holes read through the zero page (ZERO entries). MAP_SYNC write faults on
 * uncommitted metadata return NEEDDSYNC and run the in-fault fdatasync before mapping the
 * page writable.
 *
 * Entry locks are taken and released within a fault: the emulator runs a fault within one
 * turn, so nobody sleeps on them; waiting on another task's lock, and the wake that the
 * fault's unlock passes on, are modelled around the fault (src/dax/concurrency.ts).
 */
import type { DaxHost } from './context.js';
import {
  DAX_EMPTY, DAX_LOCKED, DAX_PMD, DAX_ZERO_PAGE, PAGECACHE_TAG_DIRTY, PMD_NR, PMD_ORDER, daxIsEmptyEntry, daxIsPmdEntry, daxIsZeroEntry, daxLockedEntry, daxMkEntry,
  daxToPfn, daxUnlockedEntry,
} from '../core/index.js';
import { PmemError } from '../base/index.js';
import { chargeFault, copyOnWrite, faultFlags, faultSigbus, mapZeroPmd, mapZeroPte, pmdFallback } from './fault-common.js';
import { FALLBACK, type FaultKind, type FaultPaths, type FaultingMapping } from './fault-paths.js';
import type { DaxFile } from './file.js';
import type { PageEntry } from './page-table.js';
import { vfsFsyncRange } from './writeback.js';

/** The XArray era's fault paths. */
export const XARRAY_FAULT_PATHS: FaultPaths = { era: 'xarray', pmdFault, pteFault };

/** dax_insert_entry's dirty rule for this profile. */
function dirtyRule(host: DaxHost, write: boolean, sync: boolean): boolean {
  return (write || host.rules.dirtyOnEveryFault) && !sync;
}

/**
 * dax_insert_entry for a data mapping of `pfn` at `index` (`order` 0 for a PTE, 9 for a
 * PMD): a ZERO or EMPTY entry becomes DATA, the zero page unmapped from every mapping
 * first; a DATA entry stays, unlocked; DIRTY by the profile's rule. True when it replaced
 * a ZERO entry.
 */
function insertDataEntry(host: DaxHost, file: DaxFile, index: number, order: number, pfn: number, write: boolean, sync: boolean): boolean {
  const current = file.entryAt(index);
  const wasZero = daxIsZeroEntry(current);
  if (wasZero) for (const other of file.mappings.overlapping(index, index + (1 << order))) other.unmapFile(index, 1 << order);
  file.replaceEntry(index, wasZero || daxIsEmptyEntry(current) ? daxMkEntry(pfn, order === 0 ? 0 : DAX_PMD) : daxUnlockedEntry(current));
  if (dirtyRule(host, write, sync)) host.core.setMark(file.tree, index, PAGECACHE_TAG_DIRTY);
  return wasZero;
}

/**
 * dax_iomap_pte_fault. A write to a present read-only PTE of a shared mapping reaches the
 * file system through page_mkwrite or pfn_mkwrite, and both add FAULT_FLAG_MKWRITE
 * (do_page_mkwrite, wp_pfn_shared, mm/memory.c v6.1, v6.12). The zero page's PTE is one:
 * it has no normal page, so do_wp_page sends a store there to wp_pfn_shared. `mkwrite` (a
 * read-only PTE of the file's storage) only decides the kind: 'mkwrite' for such a PTE made
 * writable in place, 'pte' when the fault maps a new page.
 */
function pteFault(host: DaxHost, m: FaultingMapping, vpage: number, write: boolean, mkwrite: boolean): FaultKind {
  const file = m.file;
  const core = host.core;
  const pgoff = m.pgoff + (vpage - m.vfirst);
  const flags = faultFlags(write, write && m.pt.ptes.has(vpage));
  host.trace({ name: 'dax_pte_fault', pgoff, flags, address: vpage * 4096 });
  if (pgoff >= file.pages) faultSigbus(host, 'dax_pte_fault_done', pgoff, m, flags);

  // grab_mapping_entry(order 0): a ZERO or EMPTY PMD entry is downgraded; a DATA-PMD is kept.
  let entry = file.entryAt(pgoff);
  if (entry !== 0 && daxIsPmdEntry(entry) && (daxIsZeroEntry(entry) || daxIsEmptyEntry(entry))) {
    file.deleteEntry(pgoff);
    entry = 0;
  }
  const inserted = entry === 0;
  if (inserted) file.insertEntry(pgoff, daxMkEntry(0, DAX_EMPTY | DAX_LOCKED));
  else file.replaceEntry(pgoff, daxLockedEntry(entry));
  if (write && !m.shared) {
    // Copy-on-write comes after grab_mapping_entry: the (EMPTY) entry it took stays.
    const r = copyOnWrite(host, m, vpage, pgoff, flags);
    file.replaceEntry(pgoff, daxUnlockedEntry(file.entryAt(pgoff)));
    return r;
  }

  let major = false;
  try {
    if (write) major = file.allocate(pgoff, 1, false) || file.convertUnwritten(pgoff, 1);
  } catch (err) {
    // The fault fails and nothing else changes.
    if (inserted) file.deleteEntry(pgoff);
    else file.replaceEntry(pgoff, entry);
    throw err;
  }
  const block = file.blocks.get(pgoff);

  if (!write && (!block || block.unwritten)) {
    // dax_load_hole: a ZERO entry, the zero page mapped read-only.
    host.trace({ name: 'dax_load_hole', pgoff, flags });
    const zero = daxMkEntry(0, DAX_ZERO_PAGE);
    if (entry === 0 || daxIsEmptyEntry(entry)) file.replaceEntry(pgoff, zero);
    else file.replaceEntry(pgoff, daxUnlockedEntry(entry));
    if (dirtyRule(host, false, false)) core.setMark(file.tree, pgoff, PAGECACHE_TAG_DIRTY);
    return mapZeroPte(host, m, vpage, pgoff);
  }

  const current = file.entryAt(pgoff);
  const pmdKept = daxIsPmdEntry(current) && !daxIsZeroEntry(current) && !daxIsEmptyEntry(current);
  const pfn = pmdKept ? daxToPfn(current) + (pgoff % PMD_NR) : block!.pfn;
  // IOMAP_F_DIRTY: the inode has metadata fdatasync would write (not only this range).
  const sync = m.sync && write && file.hasUncommitted();
  insertDataEntry(host, file, pgoff, 0, pfn, write, sync);
  chargeFault(host, major);
  if (sync) {
    host.counters.needdsyncFaults++;
    host.trace({ name: 'dax_pte_fault_done', pgoff, flags, result: `${major ? 'MAJOR|' : ''}NEEDDSYNC` });
    finishSyncFault(host, m, vpage, pgoff, 0, pfn, flags);
    return 'needdsync';
  }
  m.pt.ptes.set(vpage, { pfn, writable: write, zero: false });
  if (mkwrite) host.counters.mkwriteFaults++;
  else host.counters.pteFaults++;
  host.trace({ name: 'dax_pte_fault_done', pgoff, flags, result: `${major ? 'MAJOR|' : ''}NOPAGE` });
  return mkwrite ? 'mkwrite' : 'pte';
}

/**
 * dax_finish_sync_fault: fdatasync the fault's range (the entry is not DIRTY yet, so only
 * what earlier faults left DIRTY there is flushed), then dax_insert_pfn_mkwrite: DIRTY, and
 * the page mapped writable. Its events print the fault's flags (fs_dax.h: the PTE class).
 */
function finishSyncFault(host: DaxHost, m: FaultingMapping, vpage: number, pgoff: number, order: number, pfn: number, flags: string): void {
  const first = pgoff - (pgoff % (1 << order));
  vfsFsyncRange(host, m.file, first, first + (1 << order) - 1);
  const entry = m.file.entryAt(pgoff);
  // Gone, or a PMD entry where a PTE was expected: NOPAGE, and the access faults again.
  if (entry === 0 || (order === 0 && daxIsPmdEntry(entry))) {
    host.trace({ name: 'dax_insert_pfn_mkwrite_no_entry', pgoff, flags });
    return;
  }
  host.trace({ name: 'dax_insert_pfn_mkwrite', pgoff, flags, result: 'NOPAGE' });
  host.core.setMark(m.file.tree, pgoff, PAGECACHE_TAG_DIRTY);
  if (order === 0) m.pt.ptes.set(vpage, { pfn, writable: true, zero: false });
  else m.pt.pmds.set(Math.floor(vpage / PMD_NR), { pfn, writable: true, zero: false });
}

/**
 * dax_iomap_pmd_fault; FALLBACK sends the caller down the PTE path. A write to a read-only
 * huge PMD (write-protected by writeback, or the huge zero page) reaches it from
 * wp_huge_pmd, which calls the VMA's huge_fault with vmf->flags as they are: FAULT_FLAG_WRITE
 * and no FAULT_FLAG_MKWRITE (mm/memory.c v6.1, v6.12), so its events print 'W'. It still
 * counts as 'mkwrite' when it makes the present PMD of the file's storage writable.
 * Nothing here ORs in VM_FAULT_MAJOR, even when the 2 MiB was allocated (fs/dax.c v6.1,
 * v6.12: only dax_iomap_pte_fault does).
 */
function pmdFault(host: DaxHost, m: FaultingMapping, vpage: number, write: boolean, pmd: PageEntry | undefined): FaultKind | typeof FALLBACK {
  const present = pmd !== undefined;
  const file = m.file;
  const core = host.core;
  const pgoff = m.pgoff + (vpage - m.vfirst);
  const aligned = pgoff - (pgoff % PMD_NR);
  const vslot = vpage - (vpage % PMD_NR);
  const flags = faultFlags(write, false);
  host.trace({ name: 'dax_pmd_fault', pgoff, flags, address: vpage * 4096 });
  const fallback = (): typeof FALLBACK => pmdFallback(host, pgoff, flags);
  if (aligned >= file.pages) faultSigbus(host, 'dax_pmd_fault_done', pgoff, m, flags);
  // dax_fault_check_fallback: colour, COW write, VMA bounds, end of file.
  if (pgoff % PMD_NR !== vpage % PMD_NR) return fallback();
  if (write && !m.shared) return fallback();
  if (vslot < m.vfirst || vslot + PMD_NR > m.vfirst + m.pages) return fallback();
  if (aligned + PMD_NR - 1 >= file.pages) return fallback();

  // grab_mapping_entry(order 9): a PTE entry in the range is a conflict.
  const found = core.findPresent(file.tree, aligned, aligned + PMD_NR - 1);
  // B12 (src/dax/bugs.ts): get_unlocked_entry took the order of a NULL entry, 0, so an empty
  // range counted as a smaller-order conflict too (fs/dax.c v5.3, fixed by 6370740e5f8e).
  if ((found && found.order === 0) || (!found && host.bugs.emptyIsConflict)) return fallback();
  const entry = found ? found.word : 0;
  if (entry === 0) file.insertEntry(aligned, daxMkEntry(0, DAX_EMPTY | DAX_PMD | DAX_LOCKED));
  else file.replaceEntry(aligned, daxLockedEntry(entry));
  const unlock = (): void => {
    const now = file.entryAt(aligned);
    if (now !== 0) file.replaceEntry(aligned, daxUnlockedEntry(now));
  };

  // iomap_begin over the 2 MiB: all holes, all unwritten, or one aligned extent; else short.
  const blocks = Array.from({ length: PMD_NR }, (_, i) => file.blocks.get(aligned + i));
  const holes = blocks.every((b) => b === undefined);
  const unwritten = blocks.every((b) => b?.unwritten === true);
  const extent = blocks.every((b, i) => b !== undefined && b.pfn === blocks[0]!.pfn + i) && blocks[0]!.pfn % PMD_NR === 0;
  // One iomap covers one kind of extent: written and unwritten blocks mixed make it short.
  const oneKind = unwritten || blocks.every((b) => b !== undefined && !b.unwritten);
  if (!holes && (!extent || !oneKind)) {
    unlock(); // the EMPTY-PMD entry stays in the tree, as in the kernel
    return fallback();
  }
  if (!write && (holes || unwritten)) {
    // dax_pmd_load_hole: a ZERO-PMD entry and the huge zero page, read-only.
    host.trace({ name: 'dax_pmd_load_hole', pgoff });
    file.replaceEntry(aligned, daxMkEntry(0, DAX_ZERO_PAGE | DAX_PMD));
    if (dirtyRule(host, false, false)) core.setMark(file.tree, aligned, PAGECACHE_TAG_DIRTY);
    return mapZeroPmd(host, m, Math.floor(vpage / PMD_NR), pgoff);
  }
  let allocated = false;
  if (holes) {
    if (!tryAllocateExtent(file, aligned)) {
      unlock();
      return fallback();
    }
    allocated = true;
  } else if (unwritten) {
    allocated = file.convertUnwritten(aligned, PMD_NR);
  }
  const pfn = file.blocks.get(aligned)!.pfn;
  const sync = m.sync && write && file.hasUncommitted();
  const wasZero = insertDataEntry(host, file, aligned, PMD_ORDER, pfn, write, sync);
  chargeFault(host, allocated, false);
  if (sync) {
    host.counters.needdsyncFaults++;
    host.trace({ name: 'dax_pmd_fault_done', pgoff, flags, result: 'NEEDDSYNC' });
    finishSyncFault(host, m, vpage, pgoff, PMD_ORDER, pfn, flags);
    return 'needdsync';
  }
  m.pt.pmds.set(Math.floor(vpage / PMD_NR), { pfn, writable: write, zero: false });
  // A write over the huge zero page maps storage for the first time: a PMD fault, not a mkwrite.
  const madeWritable = present && !wasZero;
  if (madeWritable) host.counters.mkwriteFaults++;
  else host.counters.pmdFaults++;
  host.trace({ name: 'dax_pmd_fault_done', pgoff, flags, result: 'NOPAGE' });
  return madeWritable ? 'mkwrite' : 'pmd';
}

/** Allocates a whole 2 MiB extent for file pages [aligned, aligned + 511]; false when none is free. */
function tryAllocateExtent(file: DaxFile, aligned: number): boolean {
  try {
    return file.allocate(aligned, PMD_NR, true) && file.blocks.get(aligned)!.pfn % PMD_NR === 0;
  } catch (err) {
    if (err instanceof PmemError && err.code === 'ENOSPC') return false;
    throw err;
  }
}
