/**
 * Page-cache (non-DAX) files on the same emulated pmem device, as a filesystem mounted
 * without `dax` sees it: createFile(path, { dax: false }). The file's tree holds page
 * pointers to DRAM pages of the pool (src/dax/page-cache-pool.ts), tagged DIRTY, WRITEBACK
 * and TOWRITE (PAGECACHE_TAG_*, include/linux/fs.h), and the shadow entries that reclaim
 * leaves (src/dax/shadow.ts). read(2), write(2) and mmap faults go through these pages; only
 * writeback puts their bytes on the media, so a crash loses every page-cache page.
 *
 *   - A page is read in from its block with a load from the media (the preset's load cost);
 *     a hole or an unwritten block reads as zeros. A write(2) of a whole page skips the read.
 *   - A write allocates the block first (the emulator does not delay allocation), then
 *     dirties the page: DIRTY in the tree.
 *   - Writeback (write_cache_pages, mm/page-writeback.c): the TOWRITE snapshot of DIRTY, then
 *     per page in index order WRITEBACK set, DIRTY and TOWRITE cleared
 *     (clear_page_dirty_for_io), its PTEs write-protected (page_mkclean), its bytes copied to
 *     the block with non-temporal stores (the pmem driver's write is memcpy_flushcache,
 *     drivers/nvdimm/pmem.c v6.1, v6.12: movnt on x86), WRITEBACK cleared. The copies run
 *     as one batch after the walk (Core.pmNtStorePages), in index order. The caller then
 *     commits the metadata and issues the device flush (one fence), as for DAX.
 *   - A fault or read that finds a shadow is a refault: counted, with its refault distance,
 *     the evictions since the shadow's own (mm/workingset.c workingset_refault, simplified:
 *     no activation decision, one memory node, no memcg).
 */
import type { IntervalIndex } from './interval-index.js';
import type { DaxHost, MappedRange } from './context.js';
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE, PAGECACHE_TAG_WRITEBACK, DAX_PFN_MAX, XA_MAX_INDEX, xaIsPointer } from '../core/index.js';
import { pageWord, wordPage } from './page-cache-pool.js';
import { isShadow, shadowEviction } from './shadow.js';
import { emptyReport, type WritebackReport } from './writeback.js';

const PAGE = 4096;
const LINES_PER_PAGE = PAGE / 64;

/** What the page cache needs of a file (src/dax/file.ts's DaxFile is one). */
export interface PageCacheFile {
  readonly tree: number;
  readonly blocks: ReadonlyMap<number, { readonly pfn: number; readonly unwritten: boolean }>;
  readonly mappings: IntervalIndex<MappedRange>;
  /** The emulated ns when a page was dirtied while none was (the inode's dirtied_when), else null. */
  dirtiedAt: number | null;
  entryAt(page: number): number;
  insertEntry(page: number, word: number): void;
  /** Takes the entry out of the tree, unmapping it and freeing its pool page (no shadow left). */
  deleteEntry(page: number): void;
  dropEntry(page: number): void;
  allocate(first: number, count: number, extent: boolean): boolean;
}

/**
 * The page at file index `index`, read in when it is not cached (a refault when a shadow
 * is there); `read` false skips reading the block (a write covering the whole page). The
 * page moves to the LRU's tail. Returns its pool pfn and whether it was read from the media.
 */
export function findOrReadPage(host: DaxHost, file: PageCacheFile, index: number, read = true): { pfn: number; major: boolean } {
  const pool = host.pageCache;
  const word = file.entryAt(index);
  if (xaIsPointer(word)) {
    pool.touch(wordPage(word));
    return { pfn: wordPage(word), major: false };
  }
  if (isShadow(word)) {
    host.counters.refaults++;
    host.counters.refaultDistance += (pool.evictions - shadowEviction(word)) & DAX_PFN_MAX;
    file.dropEntry(index);
  }
  const pfn = pool.alloc(file.tree, index);
  const block = file.blocks.get(index);
  let major = false;
  if (read && block && !block.unwritten) {
    pool.bytesOf(pfn).set(host.core.pmLoad(host.cpu, block.pfn * PAGE, PAGE));
    major = true;
  }
  file.insertEntry(index, pageWord(pfn));
  return { pfn, major };
}

/** Marks the page at `index` dirty (set_page_dirty), and the inode dirty from now if it was clean. */
export function dirtyPage(host: DaxHost, file: PageCacheFile, index: number): void {
  if (file.dirtiedAt === null) file.dirtiedAt = host.core.pmNow(host.cpu);
  host.core.setMark(file.tree, index, PAGECACHE_TAG_DIRTY);
}

/** read(2) through the page cache of `n` bytes at `offset` (the caller clips to the end of file). */
export function pageCacheRead(host: DaxHost, file: PageCacheFile, offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let done = 0; done < n; ) {
    const at = offset + done;
    const from = at % PAGE;
    const len = Math.min(PAGE - from, n - done);
    const { pfn } = findOrReadPage(host, file, Math.floor(at / PAGE));
    out.set(host.pageCache.bytesOf(pfn).subarray(from, from + len), done);
    done += len;
  }
  return out;
}

/** write(2) through the page cache: each page allocated, read in unless wholly overwritten, copied into and dirtied. */
export function pageCacheWrite(host: DaxHost, file: PageCacheFile, offset: number, bytes: Uint8Array): void {
  const first = Math.floor(offset / PAGE);
  const last = Math.floor((offset + bytes.length - 1) / PAGE);
  file.allocate(first, last - first + 1, false);
  for (let done = 0; done < bytes.length; ) {
    const at = offset + done;
    const from = at % PAGE;
    const len = Math.min(PAGE - from, bytes.length - done);
    const index = Math.floor(at / PAGE);
    const { pfn } = findOrReadPage(host, file, index, len !== PAGE);
    host.pageCache.bytesOf(pfn).set(bytes.subarray(done, done + len), from);
    dirtyPage(host, file, index);
    done += len;
  }
}

/**
 * Writeback of the dirty pages in file pages [start, end] (WB_SYNC_ALL): each copied to its
 * block with non-temporal stores, cleaned and write-protected. No fence: the caller's
 * device flush makes the copies durable.
 */
export function pageCacheWriteback(host: DaxHost, file: PageCacheFile, start: number, end: number): WritebackReport {
  const report = emptyReport();
  const { core } = host;
  const t0 = core.pmNow(host.cpu);
  core.tagTowrite(file.tree, start, end);
  // The copies go in one run after the walk: nothing between them costs emulated time or
  // reads what they write, so they keep the index order, costs and counters of a copy per
  // page. WRITEBACK is cleared once they are done.
  const written: number[] = [];
  const addrs: number[] = [];
  const pages: Uint8Array[] = [];
  for (let found = core.findMarked(file.tree, start, end, PAGECACHE_TAG_TOWRITE); found; found = core.findNextMarked(file.tree, found.index, end, PAGECACHE_TAG_TOWRITE)) {
    const { index, word } = found;
    core.setMark(file.tree, index, PAGECACHE_TAG_WRITEBACK);
    core.clearMark(file.tree, index, PAGECACHE_TAG_TOWRITE);
    core.clearMark(file.tree, index, PAGECACHE_TAG_DIRTY);
    for (const m of file.mappings.overlapping(index, index + 1)) if (m.shared) m.writeProtectFile(index, 1);
    written.push(index);
    addrs.push(file.blocks.get(index)!.pfn * PAGE);
    pages.push(host.pageCache.bytesOf(wordPage(word)));
  }
  core.pmNtStorePages(host.cpu, addrs, pages);
  for (const index of written) core.clearMark(file.tree, index, PAGECACHE_TAG_WRITEBACK);
  report.entries = report.pteEntries = written.length;
  report.lines = report.dirtyLines = written.length * LINES_PER_PAGE;
  if (core.findMarked(file.tree, 0, 0xffffffff, PAGECACHE_TAG_DIRTY) === null) file.dirtiedAt = null;
  report.ns = core.pmNow(host.cpu) - t0;
  host.counters.writebackEntries += report.entries;
  host.counters.writebackLines += report.lines;
  return report;
}

/**
 * drop_caches (echo 1 > /proc/sys/vm/drop_caches) on one page-cache file: drop_pagecache_sb
 * calls invalidate_mapping_pages(mapping, 0, -1) on every inode whose mapping is not empty
 * (fs/drop_caches.c, Linux v6.1). Per entry, in index order (mm/truncate.c v6.1):
 *   - a shadow is deleted (invalidate_exceptional_entry -> clear_shadow_entry);
 *   - a page is evicted only when it is neither dirty nor under writeback and has no extra
 *     reference (mapping_evict_folio): a page a PTE maps holds one, so it stays;
 *   - an evicted page leaves NO shadow: remove_mapping calls __remove_mapping with
 *     reclaimed false, and only reclaim (shrink_folio_list) asks workingset_eviction for one.
 * So unlike reclaim, drop_caches forgets the workingset: a later read is no refault.
 * Simplified: linux-4.5's drop_pagecache_sb skipped inodes with nrpages 0 (only shadows
 * left); every profile here takes v6.1's mapping_empty rule. Returns the entries deleted.
 */
export function pageCacheDropCaches(host: DaxHost, file: PageCacheFile): number {
  const { core } = host;
  let dropped = 0;
  for (let found = core.findPresent(file.tree, 0, XA_MAX_INDEX); found; found = found.index < XA_MAX_INDEX ? core.findPresent(file.tree, found.index + 1, XA_MAX_INDEX) : null) {
    const { index, word } = found;
    if (isShadow(word)) {
      file.dropEntry(index);
      dropped++;
      continue;
    }
    if (!xaIsPointer(word) || core.getMark(file.tree, index, PAGECACHE_TAG_DIRTY) || core.getMark(file.tree, index, PAGECACHE_TAG_WRITEBACK)) continue;
    if (isMapped(file, index)) continue;
    file.deleteEntry(index);
    dropped++;
  }
  return dropped;
}

function isMapped(file: PageCacheFile, index: number): boolean {
  for (const m of file.mappings.overlapping(index, index + 1)) if (m.mapsCachePage(index)) return true;
  return false;
}
