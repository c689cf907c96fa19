/**
 * The linux-4.5 fault paths (profile P45, docs/kernel-rules.md §3.1; fs/dax.c of v4.5/4.6):
 * __dax_fault, __dax_pmd_fault, dax_pfn_mkwrite and dax_radix_entry. No entry locks; a
 * PMD entry is one slot at the 2 MiB-aligned index; PTE entries may sit beside it.
 *   - A read of a hole maps a zero-filled page-cache page (a hole page: a pointer entry,
 *     counted in nrpages). A later write unmaps it and deletes it; its slot is left empty.
 *   - A read of an allocated block inserts a clean PTE entry; a write a dirty one.
 *   - dax_radix_entry: when the aligned index holds a PMD entry, a PTE request only dirties
 *     that PMD entry; a PMD request deletes a PTE entry at the aligned index (its marks
 *     go with it) and inserts the PMD entry.
 *   - A PMD read of a hole maps the huge zero page and inserts no entry; a PMD read of a
 *     mapped extent inserts no entry either ("just wait until the write").
 *   - A PMD write that allocates first truncates the page cache of the 2 MiB: hole pages
 *     and DAX PTE entries in the range are deleted.
 */
import type { DaxHost } from './context.js';
import { DAX_PMD, PAGECACHE_TAG_DIRTY, PMD_NR, daxIsPmdEntry, daxMkEntry, xaIsPointer } from '../core/index.js';
import { chargeFault, copyOnWrite, faultFlags, faultSigbus, mapZeroPmd, mapZeroPte, pmdFallback } from './fault-common.js';
import { FALLBACK, type FaultKind, type FaultPaths, type FaultingMapping } from './fault-paths.js';
import type { PageEntry } from './page-table.js';
import { PmemError } from '../base/index.js';
import { isShadow } from './shadow.js';

/** The linux-4.5 fault paths. */
export const P45_FAULT_PATHS: FaultPaths = { era: 'linux-4.5', pmdFault: pmdFaultP45, pteFault: pteFaultP45 };

/** Hole pages are page-cache pages: give each a distinct pointer word (low bits 00). */
let nextHolePage = 1;
function holePageWord(): number {
  nextHolePage = (nextHolePage % 0x3fffffff) + 1;
  return (nextHolePage << 2) >>> 0;
}

/** dax_radix_entry(index, pfn, pmd, dirty): insert or reuse, then maybe tag DIRTY. */
function radixEntry(host: DaxHost, m: FaultingMapping, index: number, pfn: number, pmd: boolean, dirty: boolean): void {
  const file = m.file;
  if (isShadow(file.entryAt(index))) shadowCollision(host, m, index, dirty ? 'W' : 'R');
  const aligned = index - (index % PMD_NR);
  let target = index;
  const atAligned = file.entryAt(aligned);
  if (atAligned !== 0 && !xaIsPointer(atAligned) && daxIsPmdEntry(atAligned)) {
    target = aligned; // a PTE request inside a PMD-covered range only dirties the PMD
  } else {
    const here = file.entryAt(index);
    if (here !== 0 && !xaIsPointer(here) && pmd && !daxIsPmdEntry(here)) {
      file.dropEntry(index); // a PMD request over a PTE entry at the aligned index: its tags are lost, its mappings stay
    }
    if (file.entryAt(index) === 0) file.insertEntry(index, daxMkEntry(pfn, pmd ? DAX_PMD : 0));
  }
  if (dirty) host.core.setMark(file.tree, target, PAGECACHE_TAG_DIRTY);
}

/**
 * A DAX insert meets a shadow entry (only with the bug 'v3-shadow'). dax_radix_entry finds
 * an exceptional entry at the index whose type is neither RADIX_DAX_PTE nor RADIX_DAX_PMD
 * and returns -EIO, which __dax_fault turns into VM_FAULT_SIGBUS (fs/dax.c v4.5, v4.6). The
 * block the fault allocated stays allocated; the shadow stays in the slot.
 */
function shadowCollision(host: DaxHost, m: FaultingMapping, index: number, flags: string): never {
  host.counters.sigbus++;
  host.trace({ name: 'dax_pte_fault_done', pgoff: index, flags, result: 'SIGBUS' });
  throw new PmemError('SIGBUS', `page ${index} of ${m.file.path}: the DAX insert met a shadow entry that reclaim left in the slot (bug v3-shadow): dax_radix_entry returns -EIO for an exceptional entry of neither DAX type`);
}

/** __dax_fault, and dax_pfn_mkwrite for a write to a read-only PTE of allocated storage. */
function pteFaultP45(host: DaxHost, m: FaultingMapping, vpage: number, write: boolean, mkwrite: boolean): FaultKind {
  const file = m.file;
  const pgoff = m.pgoff + (vpage - m.vfirst);
  const flags = faultFlags(write, mkwrite);
  host.trace({ name: 'dax_pte_fault', pgoff, flags, address: vpage * 4096 });
  if (pgoff >= file.pages) faultSigbus(host, 'dax_pte_fault_done', pgoff, m, flags);
  if (write && !m.shared) return copyOnWrite(host, m, vpage, pgoff, flags);
  const pte = m.pt.ptes.get(vpage);
  if (mkwrite && pte && !pte.zero) {
    // dax_pfn_mkwrite: tag the existing entry (or the PMD at the aligned index) DIRTY.
    radixEntry(host, m, pgoff, pte.pfn, false, true);
    pte.writable = true;
    chargeFault(host, false);
    host.counters.mkwriteFaults++;
    host.trace({ name: 'dax_pte_fault_done', pgoff, flags, result: 'NOPAGE' });
    return 'mkwrite';
  }
  const block = file.blocks.get(pgoff);
  if (!write && !block) {
    // dax_load_hole: a zero-filled page-cache page, mapped read-only; no DAX entry.
    host.trace({ name: 'dax_load_hole', pgoff, flags });
    if (isShadow(file.entryAt(pgoff))) {
      // page_cache_tree_insert refuses to replace an exceptional entry of a DAX mapping
      // (WARN_ON, -EINVAL: mm/filemap.c v4.5), so find_or_create_page fails: VM_FAULT_OOM.
      host.trace({ name: 'dax_pte_fault_done', pgoff, flags, result: 'OOM' });
      throw new PmemError('ENOMEM', `page ${pgoff} of ${m.file.path}: the hole page cannot replace the shadow entry in the slot (bug v3-shadow): VM_FAULT_OOM`);
    }
    if (file.entryAt(pgoff) === 0) file.insertEntry(pgoff, holePageWord());
    return mapZeroPte(host, m, vpage, pgoff);
  }
  // A write over a hole page: unmap it and take it out of the page cache (no shadow).
  const here = file.entryAt(pgoff);
  if (here !== 0 && xaIsPointer(here)) file.deleteEntry(pgoff);
  const major = (write && file.allocate(pgoff, 1, false)) || file.convertUnwritten(pgoff, 1);
  const pfn = file.blocks.get(pgoff)!.pfn;
  radixEntry(host, m, pgoff, pfn, false, write);
  m.pt.ptes.set(vpage, { pfn, writable: write, zero: false });
  chargeFault(host, major);
  host.counters.pteFaults++;
  host.trace({ name: 'dax_pte_fault_done', pgoff, flags, result: `${major ? 'MAJOR|' : ''}NOPAGE` });
  return 'pte';
}

/**
 * __dax_pmd_fault; FALLBACK sends the caller down the PTE path. A write over the huge zero
 * page is a first fault here (v4.5 inserts no entry for it), not a mkwrite.
 */
function pmdFaultP45(host: DaxHost, m: FaultingMapping, vpage: number, write: boolean, pmd: PageEntry | undefined): FaultKind | typeof FALLBACK {
  const present = pmd !== undefined && !pmd.zero;
  const file = m.file;
  const vslot = vpage - (vpage % PMD_NR);
  const pgoff = m.pgoff + (vslot - m.vfirst); // the pgoff of the aligned address
  const flags = faultFlags(write, false);
  host.trace({ name: 'dax_pmd_fault', pgoff, flags, address: vpage * 4096 });
  const fallback = (): typeof FALLBACK => pmdFallback(host, pgoff, flags);
  if (write && !m.shared) return fallback();
  if (vslot < m.vfirst || vslot + PMD_NR > m.vfirst + m.pages) return fallback();
  if (pgoff >= file.pages) faultSigbus(host, 'dax_pmd_fault_done', pgoff, m, flags);
  if (pgoff + PMD_NR - 1 >= file.pages) return fallback();
  // v4.5 checks no colour; a misaligned file offset shows up as a block run that cannot
  // be one 2 MiB-aligned extent, which falls back below.
  if (pgoff % PMD_NR !== 0) return fallback();
  const blocks = Array.from({ length: PMD_NR }, (_, i) => file.blocks.get(pgoff + i));
  const holes = blocks.every((b) => b === undefined);
  const extent = blocks.every((b, i) => b !== undefined && b.pfn === blocks[0]!.pfn + i) && blocks[0]!.pfn % PMD_NR === 0;
  // §3.1 step 5: get_block maps one kind of extent, so written and unwritten blocks mixed give a short buffer.
  const oneKind = blocks.every((b) => b?.unwritten === true) || blocks.every((b) => b !== undefined && !b.unwritten);
  if (!holes && (!extent || !oneKind)) return fallback();
  const slot = Math.floor(vpage / PMD_NR);
  if (holes && !write) {
    // The huge zero page, no radix entry.
    host.trace({ name: 'dax_pmd_load_hole', pgoff });
    return mapZeroPmd(host, m, slot, pgoff);
  }
  let major = false;
  if (holes) {
    try {
      file.allocate(pgoff, PMD_NR, true);
    } catch (err) {
      if (err instanceof PmemError && err.code === 'ENOSPC') return fallback();
      throw err;
    }
    if (file.blocks.get(pgoff)!.pfn % PMD_NR !== 0) return fallback();
    major = true;
    // truncate_pagecache_range: hole pages and DAX PTE entries of the 2 MiB go.
    for (let i = 0; i < PMD_NR; i++) {
      const e = file.entryAt(pgoff + i);
      if (e !== 0 && (xaIsPointer(e) || !daxIsPmdEntry(e))) file.deleteEntry(pgoff + i);
    }
    for (const other of file.mappings.overlapping(pgoff, pgoff + PMD_NR)) other.unmapFile(pgoff, PMD_NR);
  } else {
    major = file.convertUnwritten(pgoff, PMD_NR);
  }
  const pfn = file.blocks.get(pgoff)!.pfn;
  if (write) radixEntry(host, m, pgoff, pfn, true, true); // only writes insert PMD entries, dirty
  m.pt.pmds.set(slot, { pfn, writable: write, zero: false });
  chargeFault(host, major);
  if (present) host.counters.mkwriteFaults++;
  else host.counters.pmdFaults++;
  host.trace({ name: 'dax_pmd_fault_done', pgoff, flags, result: `${major ? 'MAJOR|' : ''}NOPAGE` });
  return present ? 'mkwrite' : 'pmd';
}
