/**
 * A file on the emulated DAX filesystem: its size, its block map and its address_space
 * tree, and the read/write/truncate/punch/fsync paths that do not go through a mapping.
 *
 * Block map: per file page a block (pfn), allocated (written) or unwritten (fallocated,
 * reads as zeros until written), and committed or not: an allocation becomes durable
 * metadata only when an fsync, fdatasync or msync of the file (or a MAP_SYNC fault)
 * commits it; a crash image drops uncommitted blocks, so the file shows a hole there.
 * A 2 MiB-aligned run of file pages gets a 2 MiB-aligned extent when the allocator has
 * one; otherwise pages get single 4 KiB blocks.
 *
 * Simplifications, against ext4/xfs: sizes are durable at once; a truncate does not zero
 * the tail of its last page; every allocation is zeroed with non-temporal stores and a
 * fence (counted as zeroing lines, apart from writeback lines).
 */
import type { AddressSpace, DaxHost, MappedRange } from './context.js';
import {
  PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE, PMD_NR, XA_MAX_INDEX, daxEntryOrder, daxIsEmptyEntry, daxIsLocked, daxIsZeroEntry, daxToPfn,
  xaIsPointer,
} from '../core/index.js';
import { PmemError } from '../base/index.js';
import { IntervalIndex } from './interval-index.js';
import { pageCacheRead, pageCacheWrite, pageCacheWriteback } from './page-cache.js';
import { wordPage } from './page-cache-pool.js';
import { isShadow } from './shadow.js';
import { emptyReport, filemapWriteRange, vfsFsyncRange, type WritebackReport } from './writeback.js';

export const PAGE_SIZE = 4096;
/**
 * The largest file: one page per index of the tree, 2^32 pages of 4 KiB (16 TiB), the
 * filesystem's s_maxbytes here. Larger sizes are EFBIG, as the kernel answers.
 */
export const MAX_FILE_BYTES = (XA_MAX_INDEX + 1) * PAGE_SIZE;
/** The most one read(2) or write(2) moves here: the bytes are held in one typed array. */
export const MAX_IO_BYTES = 2 ** 31;

/** EFBIG unless a file may reach `end` bytes. */
export function checkFileEnd(op: string, end: number): void {
  if (end > MAX_FILE_BYTES) throw new PmemError('EFBIG', `${op}: ${end} bytes is past the largest file, ${MAX_FILE_BYTES} bytes (2^32 pages)`);
}
const LINES_PER_PAGE = PAGE_SIZE / 64;

export type Allocate = 'none' | 'unwritten' | 'written';

export interface Block {
  pfn: number;
  unwritten: boolean;
  committed: boolean;
}

/** One entry of f.entries(). */
export interface FileEntry {
  index: number;
  order: number;
  /**
   * 'page': a page-cache page of a non-DAX file (pfn: its DRAM pool pfn); 'shadow': what
   * reclaim left of one (in a DAX tree only under the bug 'v3-shadow', src/dax/bugs.ts).
   */
  kind: 'data' | 'zero' | 'empty' | 'holepage' | 'page' | 'shadow';
  dirty: boolean;
  towrite: boolean;
  locked: boolean;
  pfn: number;
}

export class DaxFile implements AddressSpace {
  readonly path: string;
  /** The address_space tree in the core. */
  readonly tree: number;
  readonly blocks = new Map<number, Block>();
  /** Pages whose block is not committed yet: what the next fsync must commit (kept apart so a clean fsync costs nothing per block). */
  private readonly uncommitted = new Set<number>();
  /** The mappings of the file by the file pages they map (i_mmap). */
  readonly mappings = new IntervalIndex<MappedRange>();
  /**
   * nrpages: in the XArray era, the pages DAX entries cover (1 per PTE entry, 512 per PMD
   * entry); in linux-4.5, the page-cache hole pages only.
   */
  nrpages = 0;
  /** linux-4.5's nrexceptional: DAX entries, one each, PMD included (0 in the XArray era). */
  nrexceptional = 0;
  /** A DAX file; false for a page-cache file (src/dax/page-cache.ts). */
  readonly dax: boolean;
  /** A page-cache file: the emulated ns when a page of it was dirtied while none was (the inode's dirtied_when), else null. */
  dirtiedAt: number | null = null;
  private bytes: number;
  private readonly host: DaxHost;
  private removed = false;

  constructor(host: DaxHost, path: string, size: number, tree: number, dax = true) {
    this.host = host;
    this.path = path;
    this.bytes = size;
    this.tree = tree;
    this.dax = dax;
  }

  get size(): number {
    return this.bytes;
  }

  /** Pages up to the end of the file (max_pgoff). */
  get pages(): number {
    return Math.ceil(this.bytes / PAGE_SIZE);
  }

  get unlinked(): boolean {
    return this.removed;
  }

  private live(op: string): void {
    this.host.core.checkLive(); // EBADF once the emulator is disposed
    if (this.removed && this.mappings.size === 0) throw new PmemError('EBADF', `${op}: ${this.path} was unlinked`);
  }

  // ---- blocks -------------------------------------------------------------------------

  /**
   * Allocates and zeroes blocks for the holes among file pages [first, first + count): a
   * 2 MiB extent when the run is 2 MiB-aligned and whole and one is free, else 4 KiB
   * blocks. Returns whether anything was allocated (IOMAP_F_NEW). ENOSPC leaves nothing
   * allocated.
   */
  allocate(first: number, count: number, extent: boolean): boolean {
    const holes: number[] = [];
    for (let p = first; p < first + count; p++) if (!this.blocks.has(p)) holes.push(p);
    if (holes.length === 0) return false;
    const core = this.host.core;
    if (extent && count === PMD_NR && first % PMD_NR === 0 && holes.length === PMD_NR) {
      const pfn = core.allocate(true);
      this.zero(pfn, PMD_NR);
      for (let i = 0; i < PMD_NR; i++) {
        this.blocks.set(first + i, { pfn: pfn + i, unwritten: false, committed: false });
        this.uncommitted.add(first + i);
      }
      return true;
    }
    const got: number[] = [];
    try {
      for (let i = 0; i < holes.length; i++) got.push(core.allocate(false));
    } catch (err) {
      for (const pfn of got) core.free(pfn, 1);
      throw err;
    }
    holes.forEach((p, i) => {
      this.zero(got[i]!, 1);
      this.blocks.set(p, { pfn: got[i]!, unwritten: false, committed: false });
      this.uncommitted.add(p);
    });
    return true;
  }

  /** Zeroes `count` blocks from `pfn` with non-temporal stores and a fence (zeroing lines). */
  zero(pfn: number, count: number): void {
    this.host.core.pmZeroDurable(this.host.cpu, pfn * PAGE_SIZE, count * PAGE_SIZE);
    this.host.counters.zeroingLines += count * LINES_PER_PAGE;
    this.host.counters.zeroingFences++;
  }

  /** Turns unwritten blocks of [first, first + count) into zeroed, written ones; whether any was. */
  convertUnwritten(first: number, count: number): boolean {
    let any = false;
    for (let p = first; p < first + count; p++) {
      const b = this.blocks.get(p);
      if (b?.unwritten) {
        this.zero(b.pfn, 1);
        b.unwritten = false;
        b.committed = false; // the conversion is metadata, too
        this.uncommitted.add(p);
        any = true;
      }
    }
    return any;
  }

  /**
   * Makes every allocation of the file durable metadata: an fsync or fdatasync, whatever
   * its range, forces the filesystem's journal commit, and that carries all of the inode's
   * allocations (a PMD fault's whole 2 MiB extent with them).
   */
  commitMetadata(): void {
    for (const page of this.uncommitted) this.blocks.get(page)!.committed = true;
    this.uncommitted.clear();
  }

  /** Whether any allocation of the file is not durable metadata yet (IOMAP_F_DIRTY). */
  hasUncommitted(): boolean {
    return this.uncommitted.size > 0;
  }

  // ---- the tree -----------------------------------------------------------------------

  /** The entry covering file page `page`, or 0. */
  entryAt(page: number): number {
    return this.host.core.load(this.tree, page);
  }

  /** The tree order of an entry: linux-4.5 keeps a PMD entry in one slot. */
  private orderOf(word: number): number {
    return this.host.rules.p45 || xaIsPointer(word) ? 0 : daxEntryOrder(word);
  }

  /** The file pages an entry stands for (512 for a PMD entry in either era). */
  pagesOf(word: number): number {
    return xaIsPointer(word) ? 1 : 1 << daxEntryOrder(word);
  }

  /** Counts an entry in or out of nrpages / nrexceptional. */
  private account(word: number, sign: 1 | -1): void {
    // A shadow is no page: uncounted since nrexceptional went (v5.13); linux-4.5 counted it there.
    if (!this.host.rules.p45) this.nrpages += isShadow(word) ? 0 : sign * this.pagesOf(word);
    else if (xaIsPointer(word)) this.nrpages += sign;
    else this.nrexceptional += sign;
  }

  /** Inserts a new entry (it must not be there) and counts it. */
  insertEntry(page: number, word: number): void {
    this.host.core.store(this.tree, page, this.orderOf(word), word);
    this.account(word, 1);
  }

  /** Replaces the word of the entry covering `page` (marks kept). */
  replaceEntry(page: number, word: number): void {
    this.host.core.store(this.tree, page, 0, word);
  }

  /** Deletes the entry covering `page`, unmapping it from every mapping; no shadow is left. */
  deleteEntry(page: number): void {
    const word = this.entryAt(page);
    if (word === 0) return;
    const pages = this.pagesOf(word);
    const first = page - (page % pages);
    for (const m of this.mappings.overlapping(first, first + pages)) m.unmapFile(first, pages);
    this.host.core.erase(this.tree, page);
    this.account(word, -1);
    if (!this.dax && xaIsPointer(word)) {
      this.host.pageCache.free(wordPage(word));
      this.host.pageCache.nodesLeft.add(`${this.tree}:${page >>> 6}`); // the shadow-node shrinker looks at it
    }
  }

  /** Takes the entry covering `page` out of the tree only, leaving mappings alone (v4.5's radix_tree_delete in dax_radix_entry). */
  dropEntry(page: number): void {
    const word = this.entryAt(page);
    if (word === 0) return;
    this.host.core.erase(this.tree, page);
    this.account(word, -1);
  }

  /** dax_delete_mapping_range: every entry covering [first, last] goes, dirty or not. */
  deleteEntries(first: number, last: number): void {
    for (;;) {
      const found = this.host.core.findPresent(this.tree, first, last);
      if (!found) return;
      this.deleteEntry(found.index);
    }
  }

  /**
   * invalidate_inode_pages2_range for DAX: clean entries (no DIRTY, no TOWRITE) go and the
   * range is unmapped; before v4.10 every entry went, dirty ones too (bug B4, docs/kernel-rules.md §5.1).
   */
  invalidateRange(first: number, last: number): void {
    const core = this.host.core;
    let next = first;
    while (next <= last) {
      const found = core.findPresent(this.tree, next, last);
      if (!found) break;
      next = found.index + (1 << found.order);
      const clean = (found.marks & ((1 << PAGECACHE_TAG_DIRTY) | (1 << PAGECACHE_TAG_TOWRITE))) === 0;
      if (clean || this.host.rules.p45 || this.host.bugs.invalidateDirty) this.deleteEntry(found.index);
    }
    for (const m of this.mappings.overlapping(first, last + 1)) m.unmapFile(first, last - first + 1);
  }

  /** The tree in index order: each entry once, at its first index. */
  entries(): FileEntry[] {
    return this.host.core.entries(this.tree).map(({ index, word, marks }) => ({
      index,
      order: xaIsPointer(word) ? 0 : daxEntryOrder(word),
      kind: xaIsPointer(word) ? (this.dax ? 'holepage' : 'page') : isShadow(word) ? 'shadow' : daxIsZeroEntry(word) ? 'zero' : daxIsEmptyEntry(word) ? 'empty' : 'data',
      dirty: (marks & (1 << PAGECACHE_TAG_DIRTY)) !== 0,
      towrite: (marks & (1 << PAGECACHE_TAG_TOWRITE)) !== 0,
      locked: daxIsLocked(word),
      pfn: xaIsPointer(word) ? (this.dax ? 0 : wordPage(word)) : isShadow(word) ? 0 : daxToPfn(word),
    }));
  }

  // ---- read and write -----------------------------------------------------------------

  private checkRange(op: string, offset: number, length: number): void {
    if (!Number.isInteger(offset) || offset < 0) throw new PmemError('EINVAL', `${op}: offset must be a non-negative integer, got ${String(offset)}`);
    if (!Number.isInteger(length) || length < 0) throw new PmemError('EINVAL', `${op}: length must be a non-negative integer, got ${String(length)}`);
    if (length > MAX_IO_BYTES) throw new PmemError('EINVAL', `${op}: length ${length} is more than one call moves (${MAX_IO_BYTES} bytes)`);
    checkFileEnd(op, offset + length);
  }


  /**
   * write(2) through the DAX path: allocates holes (and zeroes them), converts unwritten
   * blocks, copies with non-temporal stores and a fence, so the data is durable when it
   * returns (its allocation is not, until committed). Creates and dirties no tree entry,
   * but deletes the clean entries over newly allocated blocks and unmaps them: a zero page
   * must not keep showing through after the write (docs/kernel-rules.md §7 S15, bug B8).
   */
  pwrite(offset: number, bytes: Uint8Array): number {
    this.live('pwrite');
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', 'pwrite: bytes must be a Uint8Array');
    this.checkRange('pwrite', offset, bytes.length);
    if (bytes.length === 0) return 0;
    if (!this.dax) {
      pageCacheWrite(this.host, this, offset, bytes);
      this.bytes = Math.max(this.bytes, offset + bytes.length);
      return bytes.length;
    }
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.floor((offset + bytes.length - 1) / PAGE_SIZE);
    const fresh = this.allocate(first, last - first + 1, false);
    const converted = this.convertUnwritten(first, last - first + 1);
    // B8 (src/dax/bugs.ts): before the stale-read fix nothing was invalidated here.
    if ((fresh || converted) && !this.host.bugs.noWriteInvalidate) this.invalidateRange(first, last);
    const core = this.host.core;
    let done = 0;
    for (let p = first; p <= last; p++) {
      const from = p === first ? offset % PAGE_SIZE : 0;
      const n = Math.min(PAGE_SIZE - from, bytes.length - done);
      core.pmStore(this.host.cpu, this.blocks.get(p)!.pfn * PAGE_SIZE + from, bytes.subarray(done, done + n), true);
      done += n;
    }
    core.pmFence(this.host.cpu, false);
    this.bytes = Math.max(this.bytes, offset + bytes.length);
    return bytes.length;
  }

  /** read(2) through the DAX path: holes and unwritten blocks read as zeros; stops at EOF. */
  pread(offset: number, length: number): Uint8Array {
    this.live('pread');
    this.checkRange('pread', offset, length);
    const n = Math.max(0, Math.min(length, this.bytes - offset));
    if (!this.dax) return pageCacheRead(this.host, this, offset, n);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const at = offset + done;
      const page = Math.floor(at / PAGE_SIZE);
      const from = at % PAGE_SIZE;
      const len = Math.min(PAGE_SIZE - from, n - done);
      const b = this.blocks.get(page);
      if (b && !b.unwritten) out.set(this.host.core.pmLoad(this.host.cpu, b.pfn * PAGE_SIZE + from, len), done);
      done += len;
    }
    return out;
  }

  // ---- size, holes, sync --------------------------------------------------------------

  /**
   * ftruncate: shrinking deletes the entries past the new end (dirty or not), unmaps them
   * and frees their blocks. An entry is deleted whole, so a dirty PMD entry straddling the
   * new end goes unwritten and the stores below the new size that it covered are not made
   * durable by a later fsync: truncate_inode_pages_range deletes DAX entries through
   * dax_delete_mapping_entry, which never writes back (mm/truncate.c, fs/dax.c v6.1, v6.12).
   * The fix 'truncate-writeback' first writes back the entry holding the new end of file,
   * as xfs_setattr_size does (fs/xfs/xfs_iops.c v6.1).
   */
  truncate(size: number): void {
    this.live('truncate');
    if (!Number.isInteger(size) || size < 0) throw new PmemError('EINVAL', `truncate: size must be a non-negative integer, got ${String(size)}`);
    checkFileEnd('truncate', size);
    const keep = Math.ceil(size / PAGE_SIZE);
    if (keep < this.pages) {
      const eof = Math.floor(size / PAGE_SIZE);
      if (this.host.fixes.truncateWriteback) filemapWriteRange(this.host, this, eof, eof);
      // truncate_pagecache: private copies past the new end go too (even_cows).
      this.release(keep, XA_MAX_INDEX, true);
    }
    this.bytes = size;
  }

  /**
   * fallocate(PUNCH_HOLE | KEEP_SIZE) over whole pages of [offset, offset + length). In the
   * XArray era the filesystem writes the range back first (xfs_flush_unmap_range in
   * fs/xfs/xfs_bmap_util.c, ext4_punch_hole's filemap_write_and_wait_range in
   * fs/ext4/inode.c, v6.1 and v6.12): a dirty entry the hole cuts into, a PMD entry whole,
   * is flushed before it is deleted, so its pages outside the hole stay what the next fsync
   * makes durable. linux-4.5 does not: ext4_punch_hole looked only for dirty page-cache
   * pages until "ext4: allow DAX writeback for hole punch" (v4.9), so a dirty DAX entry the
   * punch deletes loses its stores, the kernel's own loss (docs/kernel-rules.md §5.1).
   */
  punchHole(offset: number, length: number): void {
    this.live('punchHole');
    this.checkRange('punchHole', offset, length);
    const first = Math.ceil(offset / PAGE_SIZE);
    const end = Math.floor((offset + length) / PAGE_SIZE); // exclusive
    if (end <= first) return;
    if (!this.host.rules.p45) filemapWriteRange(this.host, this, first, end - 1);
    // truncate_pagecache_range: "hole-punching should not remove private COWed pages" (mm/truncate.c).
    this.release(first, end - 1, false);
  }

  /** Deletes entries, unmaps, and frees the blocks of file pages [first, last]. */
  private release(first: number, last: number, evenCows: boolean): void {
    this.deleteEntries(first, last);
    for (const m of this.mappings.overlapping(first, last + 1)) m.unmapFile(first, last - first + 1, evenCows);
    for (const [page, b] of [...this.blocks]) {
      if (page < first || page > last) continue;
      this.host.core.free(b.pfn, 1);
      this.blocks.delete(page);
      this.uncommitted.delete(page);
    }
  }

  /** A page-cache file's writeback of file pages [start, end] (src/dax/page-cache.ts); nothing for a DAX file. */
  writebackPageCache(start: number, end: number): WritebackReport {
    return this.dax ? emptyReport() : pageCacheWriteback(this.host, this, start, end);
  }

  /** fsync: the whole file's data and metadata. */
  fsync(): WritebackReport {
    this.live('fsync');
    return vfsFsyncRange(this.host, this, 0, XA_MAX_INDEX);
  }

  /** fdatasync: for DAX the same writeback as fsync. */
  fdatasync(): WritebackReport {
    this.live('fdatasync');
    return vfsFsyncRange(this.host, this, 0, XA_MAX_INDEX);
  }

  /** Called by unlink: the name goes; the entries and blocks go when no mapping is left. */
  markUnlinked(): void {
    this.removed = true;
    this.evictIfUnused();
  }

  /** truncate_inode_pages_final once the file is unlinked and unmapped (S27). */
  evictIfUnused(): void {
    if (!this.removed || this.mappings.size > 0) return;
    this.release(0, XA_MAX_INDEX, true);
  }
}
