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

/**
 * Where a page-table change is announced so that other threads drop the translations they
 * cached (the kernel's TLB shootdown: flush_tlb_range and its IPIs). One per file system;
 * nothing listens until worker threads attach (src/emulator/share-server.ts).
 */
export class TlbShootdown {
  listener: ((firstPage: number, pages: number) => void) | null = null;

  /**
   * Called after the entries of virtual pages [firstPage, firstPage + pages) were replaced,
   * removed or write-protected; returns once no other thread can use the old ones.
   */
  changed(firstPage: number, pages: number): void {
    this.listener?.(firstPage, pages);
  }
}

/**
 * A Map of entries that announces each replaced or removed one: a new entry where there was
 * none needs no shootdown (nobody can have cached it), as on hardware. `pagesPerKey` is 1
 * for PTEs (keyed by virtual page) and 512 for PMDs (keyed by 2 MiB slot).
 */
class EntryMap extends Map<number, PageEntry> {
  constructor(private readonly tlb: TlbShootdown, private readonly pagesPerKey: number) {
    super();
  }

  override set(key: number, value: PageEntry): this {
    const replaced = this.has(key);
    super.set(key, value);
    if (replaced) this.tlb.changed(key * this.pagesPerKey, this.pagesPerKey);
    return this;
  }

  override delete(key: number): boolean {
    const had = super.delete(key);
    if (had) this.tlb.changed(key * this.pagesPerKey, this.pagesPerKey);
    return had;
  }

  /** Removes an entry without announcing it: the caller announces the whole range once. */
  deleteQuietly(key: number): boolean {
    return super.delete(key);
  }

  override clear(): void {
    if (this.size === 0) return;
    let low = Infinity;
    let high = -Infinity;
    for (const key of this.keys()) {
      low = Math.min(low, key);
      high = Math.max(high, key);
    }
    super.clear();
    this.tlb.changed(low * this.pagesPerKey, (high - low + 1) * this.pagesPerKey);
  }
}

export class PageTable {
  /** Virtual page -> PTE. */
  readonly ptes: EntryMap;
  /** Virtual 2 MiB slot -> PMD. */
  readonly pmds: EntryMap;
  private readonly tlb: TlbShootdown;

  constructor(tlb: TlbShootdown = new TlbShootdown()) {
    this.tlb = tlb;
    this.ptes = new EntryMap(tlb, 1);
    this.pmds = new EntryMap(tlb, 512);
  }
  /** Virtual 2 MiB slots that hold a PTE table (created when a PMD attempt falls back). */
  readonly tables = new Set<number>();

  /** The entry mapping virtual page `vpage`, huge or not, with the pfn of that very page. */
  lookup(vpage: number): (PageEntry & { huge: boolean }) | undefined {
    // Object literals, not spreads: V8 copies a spread of these entries on a slow path, at
    // microseconds per access (measured on Node 20), and every load and store comes here.
    const pmd = this.pmds.get(Math.floor(vpage / 512));
    if (pmd) return { pfn: pmd.zero ? 0 : pmd.pfn + (vpage % 512), writable: pmd.writable, zero: pmd.zero, dram: pmd.dram, huge: true };
    const pte = this.ptes.get(vpage);
    return pte ? { pfn: pte.pfn, writable: pte.writable, zero: pte.zero, dram: pte.dram, huge: false } : undefined;
  }

  /** Removes whatever maps virtual pages [first, first + count): PTEs (but those `keep` says), and PMDs overlapping. */
  unmap(first: number, count: number, keep?: (vpage: number) => boolean): void {
    let removed = false;
    for (let v = first; v < first + count; v++) if (!keep?.(v) && this.ptes.deleteQuietly(v)) removed = true;
    const firstSlot = Math.floor(first / 512);
    const lastSlot = Math.floor((first + count - 1) / 512);
    let pmdRemoved = false;
    for (let slot = firstSlot; slot <= lastSlot; slot++) if (this.pmds.deleteQuietly(slot)) pmdRemoved = true;
    // One announcement for the range (flush_tlb_range), widened to the huge pages removed.
    if (pmdRemoved) this.tlb.changed(firstSlot * 512, (lastSlot - firstSlot + 1) * 512);
    else if (removed) this.tlb.changed(first, count);
  }

  /** Write-protects whatever maps virtual pages [first, first + count): PTEs, and PMDs unless `ptesOnly`. */
  writeProtect(first: number, count: number, ptesOnly = false): void {
    let changed = false;
    for (let v = first; v < first + count; v++) {
      const pte = this.ptes.get(v);
      if (pte?.writable) changed = true;
      if (pte) pte.writable = false;
    }
    let from = first;
    let to = first + count;
    if (!ptesOnly) {
      for (let slot = Math.floor(first / 512); slot <= Math.floor((first + count - 1) / 512); slot++) {
        const pmd = this.pmds.get(slot);
        if (pmd?.writable) {
          changed = true;
          from = Math.min(from, slot * 512);
          to = Math.max(to, slot * 512 + 512);
        }
        if (pmd) pmd.writable = false;
      }
    }
    if (changed) this.tlb.changed(from, to - from);
  }

  clear(): void {
    this.ptes.clear();
    this.pmds.clear();
    this.tables.clear();
  }
}
