/**
 * One mapping's page tables: per 4 KiB virtual page a PTE, per 2 MiB virtual slot either a
 * huge entry (PMD) or a PTE table. The memory manager tries a PMD fault only while a slot
 * holds neither; once a PTE table exists there, faults in that slot take the PTE path.
 */

/** What a present entry maps. */
export interface PageEntry {
  /** Media pfn of the first 4 KiB page mapped (ignored for the zero page). */
  pfn: number;
  writable: boolean;
  /** The (huge) zero page: reads give zeros, never the media. */
  zero: boolean;
  /** A page-cache page: loads and stores go to these DRAM bytes, not the media (src/dax/page-cache.ts). */
  dram?: Uint8Array;
}

export class PageTable {
  /** Virtual page -> PTE. */
  readonly ptes = new Map<number, PageEntry>();
  /** Virtual 2 MiB slot -> PMD. */
  readonly pmds = new Map<number, PageEntry>();
  /** Virtual 2 MiB slots that hold a PTE table (created when a PMD attempt falls back). */
  readonly tables = new Set<number>();

  /** The entry mapping virtual page `vpage`, huge or not, with the pfn of that very page. */
  lookup(vpage: number): (PageEntry & { huge: boolean }) | undefined {
    const pmd = this.pmds.get(Math.floor(vpage / 512));
    if (pmd) return { ...pmd, pfn: pmd.zero ? 0 : pmd.pfn + (vpage % 512), huge: true };
    const pte = this.ptes.get(vpage);
    return pte ? { ...pte, huge: false } : undefined;
  }

  /** Removes whatever maps virtual pages [first, first + count): PTEs (but those `keep` says), and PMDs overlapping. */
  unmap(first: number, count: number, keep?: (vpage: number) => boolean): void {
    for (let v = first; v < first + count; v++) if (!keep?.(v)) this.ptes.delete(v);
    for (let slot = Math.floor(first / 512); slot <= Math.floor((first + count - 1) / 512); slot++) this.pmds.delete(slot);
  }

  /** Write-protects whatever maps virtual pages [first, first + count): PTEs, and PMDs unless `ptesOnly`. */
  writeProtect(first: number, count: number, ptesOnly = false): void {
    for (let v = first; v < first + count; v++) {
      const pte = this.ptes.get(v);
      if (pte) pte.writable = false;
    }
    if (ptesOnly) return;
    for (let slot = Math.floor(first / 512); slot <= Math.floor((first + count - 1) / 512); slot++) {
      const pmd = this.pmds.get(slot);
      if (pmd) pmd.writable = false;
    }
  }

  clear(): void {
    this.ptes.clear();
    this.pmds.clear();
    this.tables.clear();
  }
}
