/**
 * ModelDax: a reference model of the DAX layer (files, mappings, faults, writeback), the
 * specification in code. No wasm, no cost model, no cache-line states: plain Maps, written
 * to be obviously right rather than fast. test/dax-differential.test.ts runs the emulator
 * (src/emulator/emulator.ts) against it.
 *
 * What follows which section of docs/kernel-rules.md:
 *
 *   entries      §1.5 canonical states (DATA, ZERO, EMPTY, and P45's HOLEPAGE) as records
 *                { kind, order, pfn, dirty, towrite }; no lock bit (§3.5: one fault at a
 *                time, so every entry is unlocked between operations).
 *   tree         §2.3: a PMOD PMD entry is one record keyed by its 512-aligned index that
 *                covers 512 indices; §2.2 (end): a P45 PMD entry is one slot at the aligned
 *                index, and PTE entries may sit in the other slots of its range.
 *   counters     §1.1 (P45: nrexceptional = DAX entries, nrpages = hole pages) and §1.4
 *                (PMOD: nrpages = 1 << order per entry), computed from the tree.
 *   page tables  §3.0: per mapping, PTEs and PMDs (RO/RW, zero page or not) and the 2 MiB
 *                slots holding a PTE table; read faults of shared mappings map read-only.
 *   faults       §3.1 (P45 __dax_fault, dax_pfn_mkwrite, __dax_pmd_fault, dax_radix_entry),
 *                §3.3 (PMOD dax_iomap_pte_fault, grab_mapping_entry, dax_insert_entry),
 *                §3.4 (dax_iomap_pmd_fault and its fallback list), §3.6 (MAP_SYNC).
 *   tracepoints  the fs_dax events, named, flagged and resulted as the kernel prints them
 *                and emitted where the emulator emits them (drainTrace): done events carry
 *                the fault flags; only the XArray PTE path reports MAJOR; a write to a
 *                read-only huge PMD prints W, a store to a read-only PTE (zero page
 *                included) W+MKWRITE; no writeback events when nothing is DIRTY.
 *   writeback    §2.4 (tag_pages_for_writeback), §4.1 (msync, fsync, sync), §4.2 (P45),
 *                §4.4 (PMOD), §4.5 (lines: 64 per PTE entry, 32768 per PMD entry; fences:
 *                P45 one wmb_pmem per call past the early return, PMOD one per
 *                vfs_fsync_range).
 *   truncation   §5.1 (P45: deletes regardless of tags, invalidation too, bug B4), §5.2
 *                (PMOD: truncate and punch delete, invalidation only when clean; drop_caches
 *                does nothing), §5.3 (reclaim: P45 hole pages only, no shadow), S15 (write(2)
 *                over new blocks invalidates).
 *   profiles     'linux-4.5' is P45; 'linux-6.12' is PMOD; 'linux-6.1' is PMOD with the
 *                dirty rule of src/dax/kernel.ts (`dirty = !sync`: every fault that is not
 *                synchronous marks its entry DIRTY), the kernel's rule before v6.2 (§3.3).
 *
 * Where the spec is silent the model decides as the emulator does; those places say
 * SPEC-SILENT: a PTE table takes a 2 MiB slot when a PMD attempt there falls back (even if
 * the PTE fault then fails); deleting an entry unmaps its whole range (a PMD entry only
 * partly truncated included, §5.2); a failed allocation (ENOSPC) undoes the fault's new
 * EMPTY entry; files are created extent by extent; sync(2) is one vfs_fsync_range per file
 * (PMOD: one fence each); v4.5 checks no PMD colour (an unaligned file offset falls back),
 * and its reads map unwritten blocks zeroed (§3.1 step 7) and written from then on; reclaim
 * takes hole pages file by file in index order; drop_caches unmaps what it deletes. The
 * block allocator follows assembly/media.ts (same pfns in the same order), so that PMD
 * faults find or miss whole free extents exactly when the emulator does.
 *
 * The model follows the spec. Eight disagreements its first runs found were emulator bugs,
 * fixed there (commit 685e84b).
 */
import { PmemError } from '../base/index.js';
import type { FixName, KernelProfile } from '../dax/index.js';

export const PAGE_SIZE = 4096;
export const PMD_NR = 512;
const LINES_PER_PAGE = PAGE_SIZE / 64;
/** The last file page index writeback ranges may name (fsync covers [0, MAX_INDEX]). */
export const MAX_INDEX = 0xffffffff;

/** 'page' and 'shadow' belong to page-cache files and the bug 'v3-shadow', which the model does not run. */
export type EntryKind = 'data' | 'zero' | 'empty' | 'holepage' | 'page' | 'shadow';

/** A tree entry. Its first index is the key it is stored under. */
interface Entry {
  kind: EntryKind;
  /** 9 for a PMD entry (in P45 too: it stands for 512 pages though it takes one slot). */
  order: 0 | 9;
  /** The first block's pfn for DATA entries; 0 otherwise. */
  pfn: number;
  dirty: boolean;
  towrite: boolean;
}

/** One entry as entries() lists it: the emulator's f.entries() shape. */
export interface ModelEntry {
  index: number;
  order: number;
  kind: EntryKind;
  dirty: boolean;
  towrite: boolean;
  locked: boolean;
  pfn: number;
}

/** What a fault did (the emulator's FaultResult). */
export type FaultKind = 'pte' | 'pmd' | 'zero-pte' | 'zero-pmd' | 'mkwrite' | 'needdsync' | 'none';
export interface FaultResult {
  result: FaultKind;
  fallback: boolean;
}

/** What a writeback call did, in the units of §4.5. */
export interface ModelReport {
  entries: number;
  pteEntries: number;
  pmdEntries: number;
  lines: number;
  fences: number;
}

export interface ModelCounters {
  /** Every writeback's entries, lines and fences, in-fault MAP_SYNC fsyncs included. */
  writebackEntries: number;
  writebackLines: number;
  writebackFences: number;
}

interface Block {
  pfn: number;
  /** Fallocated and not yet written: reads as zeros. */
  unwritten: boolean;
  /** The allocation (or conversion) is durable metadata. */
  committed: boolean;
}

/** A page-table entry: what a virtual page (PTE) or a 2 MiB virtual slot (PMD) maps. */
interface Pte {
  /** The media pfn mapped (the first one, for a PMD). */
  pfn: number;
  writable: boolean;
  /** The zero page, or the huge zero page, or a P45 hole page: reads give zeros. */
  zero: boolean;
  /** A private copy made by a copy-on-write fault: the bytes the mapping sees. */
  anon?: Uint8Array;
}

const FALLBACK = Symbol('fallback');
type PmdOutcome = FaultKind | typeof FALLBACK;

/**
 * An fs_dax tracepoint as the model emits it: the emulator's TraceEvent without the
 * faulting address. The model does not walk a tree, so where dax_writeback_range_done says
 * the walk stopped it cannot know: its pgoff there is the range's end.
 */
export interface ModelTraceEvent {
  name: string;
  pgoff: number;
  flags?: string;
  result?: string;
  pglen?: number;
  start?: number;
  end?: number;
}

/** The fault flags the fs_dax fault events print, start and done alike: R, W, or W+MKWRITE through pfn_mkwrite. */
const flagsOf = (write: boolean, mkwrite: boolean): string => (write ? (mkwrite ? 'W+MKWRITE' : 'W') : 'R');
const majorIf = (major: boolean, result: string): string => (major ? `MAJOR|${result}` : result);

const align = (index: number): number => index - (index % PMD_NR);
const emptyReport = (): ModelReport => ({ entries: 0, pteEntries: 0, pmdEntries: 0, lines: 0, fences: 0 });

function addReport(a: ModelReport, b: ModelReport): void {
  a.entries += b.entries;
  a.pteEntries += b.pteEntries;
  a.pmdEntries += b.pmdEntries;
  a.lines += b.lines;
  a.fences += b.fences;
}

// ---- the media ----------------------------------------------------------------------

/**
 * The block allocator of assembly/media.ts, restated: 4 KiB blocks and 2 MiB-aligned
 * extents. A single block comes from the extent the last one came from while it is partly
 * used, else from the first partly used extent, else from the first whole free one; an
 * extent is the first wholly free one. Also holds the bytes of written blocks.
 */
export class ModelMedia {
  readonly extents: number;
  private readonly used: boolean[];
  private readonly freeInExtent: number[];
  private partialHint = 0;
  freeBlocks: number;
  /** Block contents by pfn; a block not here reads as zeros. */
  private readonly bytes = new Map<number, Uint8Array>();

  constructor(capacity: number) {
    this.extents = capacity / (PMD_NR * PAGE_SIZE);
    this.used = new Array<boolean>(this.extents * PMD_NR).fill(false);
    this.freeInExtent = new Array<number>(this.extents).fill(PMD_NR);
    this.freeBlocks = this.extents * PMD_NR;
  }

  /** A whole free 2 MiB extent's first pfn (ENOSPC when none is whole). */
  allocExtent(): number {
    for (let e = 0; e < this.extents; e++) {
      if (this.freeInExtent[e] !== PMD_NR) continue;
      for (let pfn = e * PMD_NR; pfn < (e + 1) * PMD_NR; pfn++) this.used[pfn] = true;
      this.freeInExtent[e] = 0;
      this.freeBlocks -= PMD_NR;
      return e * PMD_NR;
    }
    throw new PmemError('ENOSPC', 'no free 2 MiB-aligned extent is left on the media');
  }

  /** One 4 KiB block's pfn, from a partly used extent when there is one (ENOSPC when none). */
  allocBlock(): number {
    if (this.freeBlocks === 0) throw new PmemError('ENOSPC', 'the media has no free block left');
    const partial = (e: number): boolean => this.freeInExtent[e]! > 0 && this.freeInExtent[e]! < PMD_NR;
    let chosen = -1;
    if (this.partialHint < this.extents && partial(this.partialHint)) chosen = this.partialHint;
    for (let e = 0; chosen < 0 && e < this.extents; e++) if (partial(e)) chosen = e;
    for (let e = 0; chosen < 0 && e < this.extents; e++) if (this.freeInExtent[e] === PMD_NR) chosen = e;
    for (let pfn = chosen * PMD_NR; ; pfn++) {
      if (this.used[pfn]) continue;
      this.used[pfn] = true;
      this.freeInExtent[chosen]!--;
      this.freeBlocks--;
      this.partialHint = chosen;
      return pfn;
    }
  }

  free(pfn: number): void {
    this.used[pfn] = false;
    this.freeInExtent[Math.floor(pfn / PMD_NR)]!++;
    this.freeBlocks++;
  }

  /** Zeroes `count` blocks from `pfn` (fresh allocations and unwritten conversions). */
  zero(pfn: number, count: number): void {
    for (let i = 0; i < count; i++) this.bytes.delete(pfn + i);
  }

  read(pfn: number, from: number, n: number): Uint8Array {
    const block = this.bytes.get(pfn);
    return block ? block.slice(from, from + n) : new Uint8Array(n);
  }

  write(pfn: number, from: number, data: Uint8Array): void {
    let block = this.bytes.get(pfn);
    if (!block) this.bytes.set(pfn, (block = new Uint8Array(PAGE_SIZE)));
    block.set(data, from);
  }
}

// ---- files and mappings -------------------------------------------------------------

export class ModelFile {
  readonly path: string;
  size: number;
  readonly blocks = new Map<number, Block>();
  /** The address_space tree: entries by first index. */
  readonly tree = new Map<number, Entry>();
  readonly mappings = new Set<ModelMapping>();

  constructor(path: string, size: number) {
    this.path = path;
    this.size = size;
  }

  /** max_pgoff: pages up to the end of the file. */
  get pages(): number {
    return Math.ceil(this.size / PAGE_SIZE);
  }
}

export class ModelMapping {
  readonly file: ModelFile;
  /** File page of the first mapped page, and how many pages are mapped. */
  readonly pgoff: number;
  readonly pages: number;
  readonly shared: boolean;
  readonly sync: boolean;
  /** Virtual page number of the first page: its PMD colour is vfirst % 512. */
  readonly vfirst: number;
  readonly ptes = new Map<number, Pte>();
  readonly pmds = new Map<number, Pte>();
  /** 2 MiB virtual slots holding a PTE table (a PMD attempt fell back there). */
  readonly tables = new Set<number>();
  mapped = true;

  constructor(file: ModelFile, o: { pgoff: number; pages: number; shared: boolean; sync: boolean; vfirst: number }) {
    this.file = file;
    this.pgoff = o.pgoff;
    this.pages = o.pages;
    this.shared = o.shared;
    this.sync = o.sync;
    this.vfirst = o.vfirst;
  }

  get length(): number {
    return this.pages * PAGE_SIZE;
  }
}

export interface ModelOptions {
  kernel: KernelProfile;
  capacityPages: number;
  /** Kernel fixes switched on (src/dax/fixes.ts); the model does not re-check them. */
  fixes?: readonly FixName[];
}

// ---- the model ----------------------------------------------------------------------

export class ModelDax {
  readonly kernel: KernelProfile;
  readonly p45: boolean;
  /** The fix 'truncate-writeback': truncate writes back the entry holding the new end first. */
  readonly truncateWriteback: boolean;
  readonly media: ModelMedia;
  readonly counters: ModelCounters = { writebackEntries: 0, writebackLines: 0, writebackFences: 0 };
  private readonly files = new Map<string, ModelFile>();
  private readonly events: ModelTraceEvent[] = [];
  /** The next free 2 MiB virtual slot for a mapping. */
  private nextSlot = 1;

  constructor(options: ModelOptions) {
    this.kernel = options.kernel;
    this.p45 = options.kernel === 'linux-4.5';
    this.truncateWriteback = options.fixes?.includes('truncate-writeback') ?? false;
    this.media = new ModelMedia(options.capacityPages * PAGE_SIZE);
  }


  /** The tracepoints emitted since the last call, in order. */
  drainTrace(): ModelTraceEvent[] {
    return this.events.splice(0);
  }

  private emit(event: ModelTraceEvent): void {
    this.events.push(event);
  }

  /** Emits a fault's _done event with SIGBUS and throws it. */
  private sigbus(name: 'dax_pte_fault_done' | 'dax_pmd_fault_done', pgoff: number, flags: string, f: ModelFile): never {
    this.emit({ name, pgoff, flags, result: 'SIGBUS' });
    throw new PmemError('SIGBUS', `page ${pgoff} is beyond the end of ${f.path}`);
  }

  open(path: string): ModelFile {
    const f = this.files.get(path);
    if (!f) throw new PmemError('ENOENT', `open: no file ${path}`);
    return f;
  }

  // ---- the tree -----------------------------------------------------------------------

  /** The entry in slot `index` only (P45 lookups; a PMOD PMD entry's own key). */
  private slot(f: ModelFile, index: number): Entry | undefined {
    return f.tree.get(index);
  }

  /** PMOD: the entry covering `index`, keyed there or a PMD entry keyed at its aligned index. */
  private covering(f: ModelFile, index: number): Entry | undefined {
    const here = f.tree.get(index);
    if (here) return here;
    const pmd = f.tree.get(align(index));
    return pmd && pmd.order === 9 ? pmd : undefined;
  }

  /** How many indices an entry's tree item spans: a P45 PMD entry takes one slot. */
  private span(e: Entry): number {
    return this.p45 || e.order === 0 ? 1 : PMD_NR;
  }

  /** Entries whose items touch [first, last], ascending by first index. */
  private entriesIn(f: ModelFile, first: number, last: number): [number, Entry][] {
    return [...f.tree]
      .filter(([key, e]) => key <= last && key + this.span(e) - 1 >= first)
      .sort((a, b) => a[0] - b[0]);
  }

  private newEntry(kind: EntryKind, order: 0 | 9, pfn = 0): Entry {
    return { kind, order, pfn, dirty: false, towrite: false };
  }

  /** Deletes the entry keyed at `key`. `unmap` is what the kernel unmaps with it (null: nothing). */
  private deleteEntry(f: ModelFile, key: number, unmap: { first: number; count: number; evenCows: boolean } | null): void {
    const e = f.tree.get(key);
    if (!e) return;
    if (unmap) this.unmap(f, unmap.first, unmap.count, unmap.evenCows);
    f.tree.delete(key);
  }

  /**
   * Truncation deletes an entry and unmaps its whole range; private copies go only inside
   * the released range (release: even_cows is truncate_pagecache's, from holebegin on).
   * SPEC-SILENT for a PMD entry only partly inside the truncated range (§5.2 says not to rely
   * on it): like the emulator, the whole 2 MiB goes, so no page stays mapped without an entry.
   */
  private truncateEntry(f: ModelFile, key: number): void {
    const e = f.tree.get(key)!;
    this.deleteEntry(f, key, { first: key, count: e.order ? PMD_NR : 1, evenCows: false });
  }

  nrpages(path: string): number {
    const f = this.open(path);
    let n = 0;
    for (const e of f.tree.values()) {
      if (this.p45) n += e.kind === 'holepage' ? 1 : 0;
      else n += 1 << e.order;
    }
    return n;
  }

  nrexceptional(path: string): number {
    if (!this.p45) return 0;
    return [...this.open(path).tree.values()].filter((e) => e.kind !== 'holepage').length;
  }

  /** The tree in index order, in the shape of the emulator's f.entries(). */
  entries(path: string): ModelEntry[] {
    return [...this.open(path).tree]
      .sort((a, b) => a[0] - b[0])
      .map(([index, e]) => ({ index, order: e.order, kind: e.kind, dirty: e.dirty, towrite: e.towrite, locked: false, pfn: e.pfn }));
  }

  // ---- page tables --------------------------------------------------------------------

  /** The virtual pages of `m` that show file pages [first, first + count), or null. */
  private clip(m: ModelMapping, first: number, count: number): [number, number] | null {
    const lo = Math.max(first, m.pgoff);
    const hi = Math.min(first + count, m.pgoff + m.pages);
    return hi > lo ? [m.vfirst + (lo - m.pgoff), hi - lo] : null;
  }

  /**
   * unmap_mapping_pages(first, count, even_cows) over every mapping of the file: PTEs in the
   * range and PMDs overlapping it. Private copies stay unless `evenCows`.
   */
  private unmap(f: ModelFile, first: number, count: number, evenCows: boolean): void {
    for (const m of f.mappings) {
      const r = this.clip(m, first, count);
      if (!r) continue;
      const [v0, n] = r;
      for (let v = v0; v < v0 + n; v++) {
        const pte = m.ptes.get(v);
        if (pte && (!pte.anon || evenCows)) m.ptes.delete(v);
      }
      for (let slot = Math.floor(v0 / PMD_NR); slot <= Math.floor((v0 + n - 1) / PMD_NR); slot++) m.pmds.delete(slot);
    }
  }


  /** pfn_mkclean_range: write-protect the shared mappings' view of [first, first + count). */
  private writeProtect(f: ModelFile, first: number, count: number): void {
    for (const m of f.mappings) {
      if (!m.shared) continue;
      const r = this.clip(m, first, count);
      if (!r) continue;
      const [v0, n] = r;
      for (let v = v0; v < v0 + n; v++) {
        const pte = m.ptes.get(v);
        if (pte) pte.writable = false;
      }
      for (let slot = Math.floor(v0 / PMD_NR); slot <= Math.floor((v0 + n - 1) / PMD_NR); slot++) {
        const pmd = m.pmds.get(slot);
        if (pmd) pmd.writable = false;
      }
    }
  }

  // ---- blocks -------------------------------------------------------------------------

  /**
   * Allocates zeroed blocks for the holes among file pages [first, first + count): one 2 MiB
   * extent when `extent` and the run is a whole aligned hole, else 4 KiB blocks in page
   * order. ENOSPC leaves no block allocated. Returns whether anything was allocated.
   */
  private allocate(f: ModelFile, first: number, count: number, extent: boolean): boolean {
    const holes: number[] = [];
    for (let p = first; p < first + count; p++) if (!f.blocks.has(p)) holes.push(p);
    if (holes.length === 0) return false;
    if (extent && count === PMD_NR && first % PMD_NR === 0 && holes.length === PMD_NR) {
      const pfn = this.media.allocExtent();
      this.media.zero(pfn, PMD_NR);
      for (let i = 0; i < PMD_NR; i++) f.blocks.set(first + i, { pfn: pfn + i, unwritten: false, committed: false });
      return true;
    }
    const got: number[] = [];
    try {
      for (const _ of holes) got.push(this.media.allocBlock());
    } catch (err) {
      for (const pfn of got) this.media.free(pfn);
      throw err;
    }
    holes.forEach((p, i) => {
      this.media.zero(got[i]!, 1);
      f.blocks.set(p, { pfn: got[i]!, unwritten: false, committed: false });
    });
    return true;
  }

  /** Converts the unwritten blocks of [first, first + count) to zeroed written ones; whether any was. */
  private convertUnwritten(f: ModelFile, first: number, count: number): boolean {
    let any = false;
    for (let p = first; p < first + count; p++) {
      const b = f.blocks.get(p);
      if (!b?.unwritten) continue;
      this.media.zero(b.pfn, 1);
      b.unwritten = false;
      b.committed = false;
      any = true;
    }
    return any;
  }

  /** IOMAP_F_DIRTY: the inode has metadata an fdatasync would write (§3.6). */
  private metadataDirty(f: ModelFile): boolean {
    for (const b of f.blocks.values()) if (!b.committed) return true;
    return false;
  }

  /** The metadata commit of vfs_fsync_range, whatever its range: the inode's whole metadata (§3.6, §4.1). */
  private commit(f: ModelFile): void {
    for (const b of f.blocks.values()) b.committed = true;
  }

  /** What iomap_begin finds over the 2 MiB from `aligned`: holes, unwritten, mapped, or a shorter mapping. */
  private iomap2M(f: ModelFile, aligned: number): 'hole' | 'unwritten' | 'mapped' | 'short' {
    const run = Array.from({ length: PMD_NR }, (_, i) => f.blocks.get(aligned + i));
    if (run.every((b) => b === undefined)) return 'hole';
    const first = run[0];
    const oneExtent = first !== undefined && first.pfn % PMD_NR === 0 && run.every((b, i) => b !== undefined && b.pfn === first.pfn + i);
    if (!oneExtent) return 'short';
    if (run.every((b) => b!.unwritten)) return 'unwritten';
    if (run.every((b) => !b!.unwritten)) return 'mapped';
    // One physical extent, part unwritten: two kinds of extent, so the mapping is shorter.
    return 'short';
  }

  // ---- files and mappings -------------------------------------------------------------

  /** A file of `size` bytes: sparse ('none'), fallocated ('unwritten') or written; ENOSPC creates nothing. */
  createFile(path: string, size: number, allocate: 'none' | 'unwritten' | 'written' = 'none'): ModelFile {
    if (this.files.has(path)) throw new PmemError('EEXIST', `createFile: ${path} exists`);
    const f = new ModelFile(path, size);
    if (allocate !== 'none') {
      try {
        // SPEC-SILENT (the emulator's setup): extent by extent, a whole aligned 2 MiB run as one extent.
        for (let first = 0; first < f.pages; first += PMD_NR) this.allocate(f, first, Math.min(PMD_NR, f.pages - first), true);
      } catch (err) {
        for (const b of f.blocks.values()) this.media.free(b.pfn);
        throw err;
      }
      for (const b of f.blocks.values()) {
        b.unwritten = allocate === 'unwritten';
        b.committed = true;
      }
    }
    this.files.set(path, f);
    return f;
  }

  /**
   * mmap of [offset, offset + length) of a file. `colourOff`: the address is one page off
   * the offset's PMD colour, so PMD faults fall back on colour (§3.4 condition 1). MAP_SYNC
   * needs a shared mapping, and a kernel that has it (v4.15+, §3.6).
   */
  mmap(path: string, o: { offset?: number; length?: number; shared?: boolean; sync?: boolean; colourOff?: boolean } = {}): ModelMapping {
    const f = this.open(path);
    const offset = o.offset ?? 0;
    const length = o.length ?? f.pages * PAGE_SIZE - offset;
    const shared = o.shared ?? true;
    const sync = o.sync ?? false;
    if (!Number.isInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0) throw new PmemError('EINVAL', 'mmap: offset must be page-aligned');
    if (!Number.isInteger(length) || length <= 0 || length % PAGE_SIZE !== 0) throw new PmemError('EINVAL', 'mmap: length must be a positive multiple of 4096');
    if (sync && !shared) throw new PmemError('EOPNOTSUPP', 'mmap: MAP_SYNC needs a shared mapping');
    if (sync && this.p45) throw new PmemError('EOPNOTSUPP', 'mmap: linux-4.5 has no MAP_SYNC');
    const pgoff = offset / PAGE_SIZE;
    const pages = length / PAGE_SIZE;
    const colour = (pgoff + (o.colourOff ? 1 : 0)) % PMD_NR;
    const vfirst = this.nextSlot * PMD_NR + colour;
    this.nextSlot += Math.ceil((colour + pages) / PMD_NR) + 1;
    const m = new ModelMapping(f, { pgoff, pages, shared, sync, vfirst });
    f.mappings.add(m);
    return m;
  }

  munmap(m: ModelMapping): void {
    if (!m.mapped) throw new PmemError('EINVAL', 'munmap: the mapping was unmapped already');
    m.mapped = false;
    m.ptes.clear();
    m.pmds.clear();
    m.tables.clear();
    m.file.mappings.delete(m);
  }

  private check(op: string, m: ModelMapping, off: number, len: number): void {
    if (!m.mapped) throw new PmemError('EINVAL', `${op}: the mapping was unmapped`);
    if (!Number.isInteger(off) || off < 0 || !Number.isInteger(len) || len < 0) throw new PmemError('EINVAL', `${op}: bad range`);
    if (off + len > m.length) throw new PmemError('EFAULT', `${op}: outside the mapping`);
  }

  // ---- faults: the memory manager (SPEC-SILENT beyond §3.0: as the emulator) ------------

  /** m.fault(): fault the page holding `off` for a read or a write. */
  fault(m: ModelMapping, off: number, kind: 'read' | 'write'): FaultResult {
    this.check('fault', m, off, 1);
    return this.handleFault(m, m.vfirst + Math.floor(off / PAGE_SIZE), kind === 'write');
  }

  /**
   * handle_mm_fault for one virtual page. A PMD fault is tried while the 2 MiB slot holds no
   * PTE table; on FALLBACK the huge entry is split (dropped) and a PTE table takes the slot,
   * and the PTE fault runs.
   */
  private handleFault(m: ModelMapping, vpage: number, write: boolean): FaultResult {
    const slot = Math.floor(vpage / PMD_NR);
    const pmd = m.pmds.get(slot);
    let fallback = false;
    if (pmd || !m.tables.has(slot)) {
      if (pmd && (!write || pmd.writable)) return { result: 'none', fallback };
      const r = this.p45 ? this.pmdFaultP45(m, vpage, write, pmd !== undefined && !pmd.zero) : this.pmdFault(m, vpage, write, pmd !== undefined);
      if (r !== FALLBACK) return { result: r, fallback };
      fallback = true;
      m.pmds.delete(slot);
      m.tables.add(slot);
    }
    const pte = m.ptes.get(vpage);
    if (pte && (!write || pte.writable)) return { result: 'none', fallback };
    const mkwrite = pte !== undefined && !pte.zero;
    return { result: this.p45 ? this.pteFaultP45(m, vpage, write, mkwrite) : this.pteFault(m, vpage, write, mkwrite), fallback };
  }

  /** The page-table entry for `vpage`, faulting as an access would (and again while the kernel asks to retry). */
  private translate(m: ModelMapping, vpage: number, write: boolean): Pte & { pfnHere: number } {
    for (let attempt = 0; ; attempt++) {
      const pmd = m.pmds.get(Math.floor(vpage / PMD_NR));
      const e = pmd ? { ...pmd, pfnHere: pmd.zero ? 0 : pmd.pfn + (vpage % PMD_NR) } : m.ptes.has(vpage) ? { ...m.ptes.get(vpage)!, pfnHere: m.ptes.get(vpage)!.pfn } : undefined;
      if (e && (!write || e.writable)) return e;
      if (attempt === 3) throw new PmemError('EFAULT', `the faults at virtual page ${vpage} did not map it`);
      this.handleFault(m, vpage, write);
    }
  }

  /** Each page piece of [off, off + len): its virtual page, offset in the page, length, bytes before it. */
  private eachPage(m: ModelMapping, off: number, len: number, visit: (vpage: number, from: number, n: number, done: number) => void): void {
    for (let done = 0; done < len; ) {
      const at = off + done;
      const from = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - from, len - done);
      visit(m.vfirst + Math.floor(at / PAGE_SIZE), from, n, done);
      done += n;
    }
  }

  load(m: ModelMapping, off: number, len: number): Uint8Array {
    this.check('load', m, off, len);
    const out = new Uint8Array(len);
    this.eachPage(m, off, len, (vpage, from, n, done) => {
      const e = this.translate(m, vpage, false);
      if (e.anon) out.set(e.anon.subarray(from, from + n), done);
      else if (!e.zero) out.set(this.media.read(e.pfnHere, from, n), done);
    });
    return out;
  }

  store(m: ModelMapping, off: number, bytes: Uint8Array): void {
    this.check('store', m, off, bytes.length);
    this.eachPage(m, off, bytes.length, (vpage, from, n, done) => {
      const e = this.translate(m, vpage, true);
      if (e.anon) e.anon.set(bytes.subarray(done, done + n), from);
      else this.media.write(e.pfnHere, from, bytes.subarray(done, done + n));
    });
  }

  /** Copy-on-write into a private page (§3.3 dax_fault_cow_page, §3.1 step 5): the tree is not touched. */
  private cowPage(m: ModelMapping, vpage: number, pgoff: number): void {
    const b = m.file.blocks.get(pgoff);
    const copy = b && !b.unwritten ? this.media.read(b.pfn, 0, PAGE_SIZE) : new Uint8Array(PAGE_SIZE);
    m.ptes.set(vpage, { pfn: 0, writable: true, zero: false, anon: copy });
  }

  /** dax_insert_entry's dirty rule (§3.3): `write && !sync`; linux-6.1: `!sync`. */
  private dirtyRule(write: boolean, sync: boolean): boolean {
    return (write || this.kernel === 'linux-6.1') && !sync;
  }

  // ---- PMOD faults (§3.3, §3.4, §3.6) ---------------------------------------------------

  /**
   * grab_mapping_entry(order 0), §3.3 steps 3-5: a ZERO or EMPTY PMD entry over the page is
   * downgraded (a ZERO one unmapped over its 2 MiB first), then the entry found is kept, or
   * a new EMPTY-PTE entry takes the slot. Returns the entry and whether it is new.
   */
  private grabPte(f: ModelFile, pgoff: number): { entry: Entry; inserted: boolean } {
    const e = this.covering(f, pgoff);
    if (e && e.order === 9 && (e.kind === 'zero' || e.kind === 'empty')) {
      const key = align(pgoff);
      this.deleteEntry(f, key, e.kind === 'zero' ? { first: key, count: PMD_NR, evenCows: false } : null);
    } else if (e) {
      return { entry: e, inserted: false };
    }
    const entry = this.newEntry('empty', 0);
    f.tree.set(pgoff, entry);
    return { entry, inserted: true };
  }

  /**
   * dax_iomap_pte_fault (§3.3). A write to a present read-only PTE, of storage or of the zero
   * page, comes through page_mkwrite or pfn_mkwrite and prints W+MKWRITE (do_page_mkwrite,
   * wp_pfn_shared, mm/memory.c); the fault reports MAJOR when it allocated or converted its
   * block.
   */
  private pteFault(m: ModelMapping, vpage: number, write: boolean, mkwrite: boolean): FaultKind {
    const f = m.file;
    const pgoff = m.pgoff + (vpage - m.vfirst);
    const flags = flagsOf(write, write && m.ptes.has(vpage));
    this.emit({ name: 'dax_pte_fault', pgoff, flags });
    if (pgoff >= f.pages) this.sigbus('dax_pte_fault_done', pgoff, flags, f);
    const cow = write && !m.shared;
    const { entry, inserted } = this.grabPte(f, pgoff);
    if (cow) {
      // DONE_COW: the entry grabbed (maybe a new EMPTY one) is unlocked and stays.
      this.cowPage(m, vpage, pgoff);
      this.emit({ name: 'dax_pte_fault_done', pgoff, flags, result: 'NOPAGE' });
      return 'pte';
    }
    // iomap_begin: a write allocates the hole or converts the unwritten block.
    let major = false;
    if (write) {
      try {
        major = this.allocate(f, pgoff, 1, false) || this.convertUnwritten(f, pgoff, 1);
      } catch (err) {
        // SPEC-SILENT (ENOSPC): as the emulator, the fault fails and the new EMPTY entry goes.
        if (inserted) this.deleteEntry(f, pgoff, null);
        throw err;
      }
    }
    const block = f.blocks.get(pgoff);
    if (!write && (!block || block.unwritten)) {
      // dax_load_hole: ZERO-PTE (a ZERO or EMPTY entry is replaced, marks kept), the zero page RO.
      if (entry.kind === 'empty' || entry.kind === 'zero') entry.kind = 'zero';
      if (this.dirtyRule(false, false)) entry.dirty = true;
      m.ptes.set(vpage, { pfn: 0, writable: false, zero: true });
      this.emit({ name: 'dax_load_hole', pgoff, flags });
      this.emit({ name: 'dax_pte_fault_done', pgoff, flags, result: 'NOPAGE' });
      return 'zero-pte';
    }
    // A DATA-PMD entry covering the page is kept: "PTE writes will simply dirty the entire PMD entry".
    const pmdKept = entry.order === 9 && entry.kind === 'data';
    const pfn = pmdKept ? entry.pfn + (pgoff % PMD_NR) : block!.pfn;
    const sync = m.sync && write && this.metadataDirty(f);
    // dax_insert_entry: a ZERO entry is unmapped (4 KiB) and, like EMPTY, replaced by DATA; DATA stays.
    if (entry.kind === 'zero') this.unmap(f, pgoff, 1, false);
    if (entry.kind === 'zero' || entry.kind === 'empty') {
      entry.kind = 'data';
      entry.pfn = pfn;
    }
    if (this.dirtyRule(write, sync)) entry.dirty = true;
    if (sync) {
      this.emit({ name: 'dax_pte_fault_done', pgoff, flags, result: majorIf(major, 'NEEDDSYNC') });
      this.finishSyncFault(m, vpage, pgoff, 0, pfn, flags);
      return 'needdsync';
    }
    m.ptes.set(vpage, { pfn, writable: write, zero: false });
    this.emit({ name: 'dax_pte_fault_done', pgoff, flags, result: majorIf(major, 'NOPAGE') });
    return mkwrite ? 'mkwrite' : 'pte';
  }

  /**
   * dax_finish_sync_fault (§3.6): vfs_fsync_range over the fault's range (the entry is not
   * DIRTY yet), then dax_insert_pfn_mkwrite: NOPAGE if the entry is gone or is a PMD entry
   * where a PTE was asked for; otherwise DIRTY and a writable PTE or PMD.
   */
  private finishSyncFault(m: ModelMapping, vpage: number, pgoff: number, order: 0 | 9, pfn: number, flags: string): void {
    const first = order ? align(pgoff) : pgoff;
    this.vfsFsyncRange(m.file, first, first + (1 << order) - 1);
    const e = this.covering(m.file, pgoff);
    if (!e || (order === 0 && e.order === 9)) {
      this.emit({ name: 'dax_insert_pfn_mkwrite_no_entry', pgoff, flags });
      return;
    }
    this.emit({ name: 'dax_insert_pfn_mkwrite', pgoff, flags, result: 'NOPAGE' });
    e.dirty = true;
    if (order === 0) m.ptes.set(vpage, { pfn, writable: true, zero: false });
    else m.pmds.set(Math.floor(vpage / PMD_NR), { pfn, writable: true, zero: false });
  }

  /**
   * dax_iomap_pmd_fault (§3.4); FALLBACK sends the caller down the PTE path. A write to a
   * read-only huge PMD comes from wp_huge_pmd with the write flag only (mm/memory.c): W. The
   * PMD path never reports MAJOR (fs/dax.c: only the PTE path ORs it in).
   */
  private pmdFault(m: ModelMapping, vpage: number, write: boolean, present: boolean): PmdOutcome {
    const f = m.file;
    const pgoff = m.pgoff + (vpage - m.vfirst);
    const aligned = align(pgoff);
    const vslot = align(vpage);
    const flags = flagsOf(write, false);
    this.emit({ name: 'dax_pmd_fault', pgoff, flags });
    const fallback = (): typeof FALLBACK => {
      this.emit({ name: 'dax_pmd_fault_done', pgoff, flags, result: 'FALLBACK' });
      return FALLBACK;
    };
    if (aligned >= f.pages) this.sigbus('dax_pmd_fault_done', pgoff, flags, f);
    // dax_fault_check_fallback: colour, COW write, VMA bounds, end of file.
    if (pgoff % PMD_NR !== vpage % PMD_NR) return fallback();
    if (write && !m.shared) return fallback();
    if (vslot < m.vfirst || vslot + PMD_NR > m.vfirst + m.pages) return fallback();
    if (aligned + PMD_NR - 1 >= f.pages) return fallback();
    // grab_mapping_entry(order 9): a PTE entry in the range is a conflict.
    const found = this.entriesIn(f, aligned, aligned + PMD_NR - 1);
    if (found.some(([, e]) => e.order === 0)) return fallback();
    let entry = found[0]?.[1];
    if (!entry) f.tree.set(aligned, (entry = this.newEntry('empty', 9)));
    // iomap_begin over the 2 MiB; a shorter mapping falls back and leaves the EMPTY-PMD entry.
    const map = this.iomap2M(f, aligned);
    if (map === 'short') return fallback();
    if (!write && (map === 'hole' || map === 'unwritten')) {
      // dax_pmd_load_hole: a ZERO-PMD entry, the huge zero page read-only.
      if (entry.kind === 'empty' || entry.kind === 'zero') entry.kind = 'zero';
      if (this.dirtyRule(false, false)) entry.dirty = true;
      m.pmds.set(Math.floor(vpage / PMD_NR), { pfn: 0, writable: false, zero: true });
      this.emit({ name: 'dax_pmd_load_hole', pgoff });
      this.emit({ name: 'dax_pmd_fault_done', pgoff, flags, result: 'NOPAGE' });
      return 'zero-pmd';
    }
    if (map === 'hole') {
      // The filesystem allocates; without a whole aligned free extent the mapping is short.
      try {
        this.allocate(f, aligned, PMD_NR, true);
      } catch (err) {
        if (err instanceof PmemError && err.code === 'ENOSPC') return fallback();
        throw err;
      }
    } else if (map === 'unwritten') {
      this.convertUnwritten(f, aligned, PMD_NR);
    }
    const pfn = f.blocks.get(aligned)!.pfn;
    const sync = m.sync && write && this.metadataDirty(f);
    const wasZero = entry.kind === 'zero';
    if (wasZero) this.unmap(f, aligned, PMD_NR, false);
    if (entry.kind === 'zero' || entry.kind === 'empty') {
      entry.kind = 'data';
      entry.pfn = pfn;
    }
    if (this.dirtyRule(write, sync)) entry.dirty = true;
    if (sync) {
      this.emit({ name: 'dax_pmd_fault_done', pgoff, flags, result: 'NEEDDSYNC' });
      this.finishSyncFault(m, vpage, pgoff, 9, pfn, flags);
      return 'needdsync';
    }
    m.pmds.set(Math.floor(vpage / PMD_NR), { pfn, writable: write, zero: false });
    this.emit({ name: 'dax_pmd_fault_done', pgoff, flags, result: 'NOPAGE' });
    return present && !wasZero ? 'mkwrite' : 'pmd';
  }

  // ---- P45 faults (§3.1) ----------------------------------------------------------------

  /**
   * dax_radix_entry(index, pfn, pmd, dirty) (§3.1): a PMD entry at the aligned index takes a
   * PTE request; a PMD request deletes a PTE entry at the aligned index (its tags are lost);
   * an empty slot gets a new entry unless this is pfn_mkwrite finding nothing (NO_SECTOR);
   * then DIRTY if asked.
   */
  private radixEntry(f: ModelFile, index: number, pfn: number | null, pmd: boolean, dirty: boolean): void {
    const aligned = align(index);
    const atAligned = this.slot(f, aligned);
    let target: Entry | undefined;
    if (atAligned && atAligned.kind === 'data' && atAligned.order === 9) {
      target = atAligned;
    } else {
      let here = this.slot(f, index);
      if (here && here.kind === 'data' && pmd && here.order === 0) {
        this.deleteEntry(f, index, null);
        here = undefined;
      }
      if (!here) {
        if (pfn === null) return; // NO_SECTOR: return 0, the CPU retries
        f.tree.set(index, (here = this.newEntry('data', pmd ? 9 : 0, pfn)));
      }
      target = here;
    }
    if (dirty) target.dirty = true;
  }

  /** __dax_fault, and dax_pfn_mkwrite for a store to a read-only PTE of a block (§3.1). */
  private pteFaultP45(m: ModelMapping, vpage: number, write: boolean, mkwrite: boolean): FaultKind {
    const f = m.file;
    const pgoff = m.pgoff + (vpage - m.vfirst);
    const flags = flagsOf(write, mkwrite);
    this.emit({ name: 'dax_pte_fault', pgoff, flags });
    if (pgoff >= f.pages) this.sigbus('dax_pte_fault_done', pgoff, flags, f);
    const done = (result: string): void => this.emit({ name: 'dax_pte_fault_done', pgoff, flags, result });
    if (write && !m.shared) {
      this.cowPage(m, vpage, pgoff);
      done('NOPAGE');
      return 'pte';
    }
    if (mkwrite) {
      // dax_pfn_mkwrite: dax_radix_entry(NO_SECTOR, dirty); the PTE is made writable whatever it found.
      this.radixEntry(f, pgoff, null, false, true);
      m.ptes.get(vpage)!.writable = true;
      done('NOPAGE');
      return 'mkwrite';
    }
    const block = f.blocks.get(pgoff);
    if (!write && !block) {
      // dax_load_hole: a zero-filled page-cache page (no DAX entry), mapped read-only.
      if (!this.slot(f, pgoff)) f.tree.set(pgoff, this.newEntry('holepage', 0));
      m.ptes.set(vpage, { pfn: 0, writable: false, zero: true });
      this.emit({ name: 'dax_load_hole', pgoff, flags });
      done('NOPAGE');
      return 'zero-pte';
    }
    // A write over a hole page: unmap it and delete it from the page cache; no shadow is left.
    if (this.slot(f, pgoff)?.kind === 'holepage') this.deleteEntry(f, pgoff, { first: pgoff, count: 1, evenCows: false });
    // get_block(create) for a write; an unwritten block is mapped and zeroed (clear_pmem).
    const allocated = write && this.allocate(f, pgoff, 1, false);
    const converted = this.convertUnwritten(f, pgoff, 1);
    const pfn = f.blocks.get(pgoff)!.pfn;
    this.radixEntry(f, pgoff, pfn, false, write);
    m.ptes.set(vpage, { pfn, writable: write, zero: false });
    done(majorIf(allocated || converted, 'NOPAGE'));
    return 'pte';
  }

  /** __dax_pmd_fault (§3.1); FALLBACK sends the caller down the PTE path. */
  private pmdFaultP45(m: ModelMapping, vpage: number, write: boolean, present: boolean): PmdOutcome {
    const f = m.file;
    const vslot = align(vpage);
    const pgoff = m.pgoff + (vslot - m.vfirst); // the file page of the aligned address
    const flags = flagsOf(write, false);
    this.emit({ name: 'dax_pmd_fault', pgoff, flags });
    const done = (result: string): void => this.emit({ name: 'dax_pmd_fault_done', pgoff, flags, result });
    const fallback = (): typeof FALLBACK => {
      done('FALLBACK');
      return FALLBACK;
    };
    if (write && !m.shared) return fallback();
    if (vslot < m.vfirst || vslot + PMD_NR > m.vfirst + m.pages) return fallback();
    if (pgoff >= f.pages) this.sigbus('dax_pmd_fault_done', pgoff, flags, f);
    if (pgoff + PMD_NR - 1 >= f.pages) return fallback();
    // SPEC-SILENT: v4.5 checks no colour; as the emulator, an unaligned file offset cannot be
    // one aligned extent of the file, so it falls back.
    if (pgoff % PMD_NR !== 0) return fallback();
    const map = this.iomap2M(f, pgoff);
    if (map === 'short') return fallback();
    const slot = Math.floor(vpage / PMD_NR);
    if (map === 'hole' && !write) {
      // The huge zero page, and no radix entry at all.
      m.pmds.set(slot, { pfn: 0, writable: false, zero: true });
      this.emit({ name: 'dax_pmd_load_hole', pgoff });
      done('NOPAGE');
      return 'zero-pmd';
    }
    let major = true;
    if (map === 'hole') {
      try {
        this.allocate(f, pgoff, PMD_NR, true);
      } catch (err) {
        if (err instanceof PmemError && err.code === 'ENOSPC') return fallback();
        throw err;
      }
      // truncate_pagecache_range over the 2 MiB (§3.1 step 6): hole pages and DAX PTE entries
      // go, all unmapped; without even_cows, so private copies stay.
      for (const [key, e] of this.entriesIn(f, pgoff, pgoff + PMD_NR - 1)) {
        if (e.kind === 'holepage' || e.order === 0) this.deleteEntry(f, key, null);
      }
      this.unmap(f, pgoff, PMD_NR, false);
    } else {
      major = this.convertUnwritten(f, pgoff, PMD_NR); // clear_pmem of new or unwritten blocks
    }
    const pfn = f.blocks.get(pgoff)!.pfn;
    if (write) this.radixEntry(f, pgoff, pfn, true, true); // only writes insert PMD entries, always dirty
    m.pmds.set(slot, { pfn, writable: write, zero: false });
    done(majorIf(major, 'NOPAGE')); // v4.5's __dax_pmd_fault did report MAJOR
    return present ? 'mkwrite' : 'pmd';
  }

  // ---- writeback (§2.4, §4) -------------------------------------------------------------

  /** vfs_fsync_range(file, start, end): commit the metadata, write the DAX entries back, fence. */
  private vfsFsyncRange(f: ModelFile, start: number, end: number): ModelReport {
    this.commit(f);
    const r = this.p45 ? this.writebackP45(f, start, end) : this.writebackPmod(f, start, end);
    if (!this.p45) r.fences = 1; // the filesystem's device flush (§4.5, PMOD)
    this.counters.writebackEntries += r.entries;
    this.counters.writebackLines += r.lines;
    this.counters.writebackFences += r.fences;
    return r;
  }

  private countEntry(r: ModelReport, e: Entry): void {
    r.entries++;
    if (e.order === 9) r.pmdEntries++;
    else r.pteEntries++;
    r.lines += (1 << e.order) * LINES_PER_PAGE;
  }

  /**
   * §4.4: nothing unless some entry of the file is DIRTY (filemap_fdatawrite_wbc returns
   * before ->writepages otherwise, mm/filemap.c from v5.4 on); TOWRITE |= DIRTY over the
   * range; then each TOWRITE entry in ascending order: clear TOWRITE, write-protect its whole
   * index range in every shared mapping, flush it whole, clear DIRTY.
   */
  private writebackPmod(f: ModelFile, start: number, end: number): ModelReport {
    const r = emptyReport();
    if (![...f.tree.values()].some((e) => e.dirty)) return r;
    this.emit({ name: 'dax_writeback_range', pgoff: start, start, end });
    for (const [, e] of this.entriesIn(f, start, end)) if (e.dirty) e.towrite = true;
    for (const [key, e] of this.entriesIn(f, start, end)) {
      if (!e.towrite) continue;
      e.towrite = false;
      this.writeProtect(f, key, 1 << e.order);
      this.countEntry(r, e);
      e.dirty = false;
      this.emit({ name: 'dax_writeback_one', pgoff: key, pglen: 1 << e.order });
    }
    this.emit({ name: 'dax_writeback_range_done', pgoff: end, end });
    return r;
  }

  /**
   * §4.2: nothing at all, not even the fence, when the file has no DAX entry; start moves
   * to the aligned index when a PMD entry sits there; TOWRITE |= DIRTY over the range; each
   * TOWRITE entry is flushed whole and loses TOWRITE but keeps DIRTY; nothing is
   * write-protected; one wmb_pmem.
   */
  private writebackP45(f: ModelFile, start: number, end: number): ModelReport {
    const r = emptyReport();
    if (this.nrexceptional(f.path) === 0) return r;
    this.emit({ name: 'dax_writeback_range', pgoff: start, start, end });
    const atAligned = this.slot(f, align(start));
    const from = atAligned && atAligned.kind === 'data' && atAligned.order === 9 ? align(start) : start;
    for (const [, e] of this.entriesIn(f, from, end)) if (e.dirty) e.towrite = true;
    for (const [key, e] of this.entriesIn(f, from, end)) {
      if (!e.towrite) continue;
      e.towrite = false;
      this.countEntry(r, e);
      this.emit({ name: 'dax_writeback_one', pgoff: key, pglen: 1 << e.order });
    }
    this.emit({ name: 'dax_writeback_range_done', pgoff: end, end });
    r.fences = 1;
    return r;
  }

  /** msync(MS_SYNC) over [off, off + len) of one mapping: one vfs_fsync_range if it is shared (§4.1). */
  msync(m: ModelMapping, off: number, len: number): ModelReport {
    this.check('msync', m, off, len);
    if (!m.shared || len === 0) return emptyReport();
    const first = m.pgoff + Math.floor(off / PAGE_SIZE);
    const last = m.pgoff + Math.floor((off + len - 1) / PAGE_SIZE);
    return this.vfsFsyncRange(m.file, first, last);
  }

  fsync(path: string): ModelReport {
    return this.vfsFsyncRange(this.open(path), 0, MAX_INDEX);
  }

  /** sync(2): the WB_SYNC_ALL pass over every file (SPEC-SILENT for PMOD fences: one per file, as the emulator). */
  sync(): ModelReport {
    const r = emptyReport();
    for (const f of this.files.values()) addReport(r, this.vfsFsyncRange(f, 0, MAX_INDEX));
    return r;
  }

  // ---- read, write, truncate, punch, reclaim (§4.5, §5) -------------------------------------

  /**
   * write(2) (§4.5, S15): allocates holes, converts unwritten blocks, copies the data; no
   * entry is created or dirtied. When it allocated, invalidate_inode_pages2_range over the
   * pages written: PMOD deletes the clean entries (§5.2), P45 deletes every entry and hole
   * page (§5.1, B4); then the range is unmapped (private copies stay).
   */
  pwrite(path: string, offset: number, bytes: Uint8Array): number {
    const f = this.open(path);
    if (bytes.length === 0) return 0;
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.floor((offset + bytes.length - 1) / PAGE_SIZE);
    const fresh = this.allocate(f, first, last - first + 1, false);
    const converted = this.convertUnwritten(f, first, last - first + 1);
    if (fresh || converted) {
      const keepDirty = !this.p45;
      for (const [key, e] of this.entriesIn(f, first, last)) {
        if (keepDirty && (e.dirty || e.towrite)) continue;
        // SPEC-SILENT: as the emulator, the deleted entry's whole range is unmapped.
        this.deleteEntry(f, key, { first: key, count: e.order ? PMD_NR : 1, evenCows: false });
      }
      this.unmap(f, first, last - first + 1, false);
    }
    for (let done = 0, p = first; p <= last; p++) {
      const from = p === first ? offset % PAGE_SIZE : 0;
      const n = Math.min(PAGE_SIZE - from, bytes.length - done);
      this.media.write(f.blocks.get(p)!.pfn, from, bytes.subarray(done, done + n));
      done += n;
    }
    f.size = Math.max(f.size, offset + bytes.length);
    return bytes.length;
  }

  /** read(2): holes and unwritten blocks read as zeros; stops at the end of the file. */
  pread(path: string, offset: number, length: number): Uint8Array {
    const f = this.open(path);
    const n = Math.max(0, Math.min(length, f.size - offset));
    const out = new Uint8Array(n);
    for (let done = 0; done < n; ) {
      const at = offset + done;
      const from = at % PAGE_SIZE;
      const len = Math.min(PAGE_SIZE - from, n - done);
      const b = f.blocks.get(Math.floor(at / PAGE_SIZE));
      if (b && !b.unwritten) out.set(this.media.read(b.pfn, from, len), done);
      done += len;
    }
    return out;
  }

  /** Truncate and punch (§5.1, §5.2): entries of [first, last] go whatever their tags, the range is unmapped, blocks freed. */
  private release(f: ModelFile, first: number, last: number, evenCows: boolean): void {
    for (const [key] of this.entriesIn(f, first, last)) this.truncateEntry(f, key);
    this.unmap(f, first, Math.min(last, MAX_INDEX) - first + 1, evenCows);
    for (const [page, b] of [...f.blocks]) {
      if (page < first || page > last) continue;
      this.media.free(b.pfn);
      f.blocks.delete(page);
    }
  }

  /**
   * filemap_write_and_wait_range (PMOD) for truncate and punch: the writeback of §4.4, no
   * metadata commit, and one fence when an entry was written (the emulator's stand-in for
   * the locked instructions that follow dax_flush and order it, src/dax/writeback.ts).
   */
  private writeAndWait(f: ModelFile, first: number, last: number): void {
    const r = this.writebackPmod(f, first, last);
    this.counters.writebackEntries += r.entries;
    this.counters.writebackLines += r.lines;
    if (r.entries > 0) this.counters.writebackFences++;
  }

  /**
   * ftruncate: shrinking deletes the entries past the new end (S11), whole and unwritten, a
   * dirty PMD entry straddling the new end included; growing changes no entry. With the fix
   * 'truncate-writeback' the entry holding the new end is written back first
   * (filemap_write_and_wait_range(newsize, newsize): no metadata commit, a fence if it wrote).
   */
  truncate(path: string, size: number): void {
    const f = this.open(path);
    if (!Number.isInteger(size) || size < 0) throw new PmemError('EINVAL', 'truncate: bad size');
    const keep = Math.ceil(size / PAGE_SIZE);
    if (keep < f.pages) {
      if (this.truncateWriteback) this.writeAndWait(f, Math.floor(size / PAGE_SIZE), Math.floor(size / PAGE_SIZE));
      this.release(f, keep, MAX_INDEX, true); // truncate_pagecache: even_cows
    }
    f.size = size;
  }

  /**
   * fallocate(PUNCH_HOLE | KEEP_SIZE) over the whole pages of [offset, offset + length) (S12).
   * PMOD writes the range back first (the filesystem's filemap_write_and_wait_range: no
   * metadata commit, a fence if it wrote), so a dirty entry cut by the hole is flushed whole; P45 does
   * not (ext4 looked only for dirty page-cache pages before v4.9).
   */
  punchHole(path: string, offset: number, length: number): void {
    const f = this.open(path);
    const first = Math.ceil(offset / PAGE_SIZE);
    const end = Math.floor((offset + length) / PAGE_SIZE);
    if (end <= first) return;
    if (!this.p45) this.writeAndWait(f, first, end - 1);
    this.release(f, first, end - 1, false); // punching keeps private copies (mm/truncate.c)
  }

  /**
   * Memory pressure (§5.3, S14): P45 evicts up to `pages` hole pages (unmapped, no shadow
   * left; SPEC-SILENT order: files in creation order, ascending index); PMOD evicts nothing.
   */
  reclaim(pages: number): number {
    let evicted = 0;
    if (!this.p45) return 0;
    for (const f of this.files.values()) {
      for (const [key, e] of [...f.tree].sort((a, b) => a[0] - b[0])) {
        if (evicted === pages) return evicted;
        if (e.kind !== 'holepage') continue;
        this.deleteEntry(f, key, { first: key, count: 1, evenCows: false });
        evicted++;
      }
    }
    return evicted;
  }

  /**
   * drop_caches (§5.1, §5.2, S13): P45 deletes every entry, dirty ones included (B4), and
   * every hole page; PMOD does nothing. SPEC-SILENT: as the emulator, what is deleted is
   * unmapped (the spec's clear_exceptional_entry touches only the tree).
   */
  dropCaches(): number {
    let dropped = 0;
    if (!this.p45) return 0;
    for (const f of this.files.values()) {
      for (const [key, e] of [...f.tree].sort((a, b) => a[0] - b[0])) {
        this.deleteEntry(f, key, { first: key, count: e.order ? PMD_NR : 1, evenCows: false });
        dropped++;
      }
    }
    return dropped;
  }

  /** Free 4 KiB blocks of the media. */
  freeBlocks(): number {
    return this.media.freeBlocks;
  }
}
