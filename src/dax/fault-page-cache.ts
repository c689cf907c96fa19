/**
 * The fault paths of a page-cache (non-DAX) file (filemap_fault and filemap_page_mkwrite,
 * mm/filemap.c): a fault maps the file's page-cache page, read in from the media when it is
 * not cached. A read fault of a shared mapping maps it read-only (the VMA has page_mkwrite,
 * so it wants write-notification); a write fault, or the first store to a read-only page
 * (page_mkwrite), allocates the block, dirties the page and maps it writable. A private
 * write copies the page. There is no huge-page path: every PMD attempt falls back, as a VMA
 * without huge_fault does. No fs_dax tracepoint is emitted (these are not DAX faults).
 */
import type { DaxHost } from './context.js';
import { PmemError } from '../base/index.js';
import { chargeFault } from './fault-common.js';
import { FALLBACK, type FaultKind, type FaultPaths, type FaultingMapping } from './fault-paths.js';
import { dirtyPage, findOrReadPage } from './page-cache.js';

/** The page-cache fault paths, the same in every profile. */
export const PAGE_CACHE_FAULT_PATHS: FaultPaths = { era: 'page-cache', pmdFault: () => FALLBACK, pteFault: pageCacheFault };

function pageCacheFault(host: DaxHost, m: FaultingMapping, vpage: number, write: boolean, mkwrite: boolean): FaultKind {
  const file = m.file;
  const pgoff = m.pgoff + (vpage - m.vfirst);
  if (pgoff >= file.pages) {
    host.counters.sigbus++;
    throw new PmemError('SIGBUS', `page ${pgoff} is beyond the end of ${file.path} (${file.size} bytes)`);
  }
  if (write && !m.shared) {
    const { pfn, major } = findOrReadPage(host, file, pgoff);
    m.anon.set(vpage, host.pageCache.bytesOf(pfn).slice());
    m.pt.ptes.set(vpage, { pfn: 0, writable: true, zero: false });
    chargeFault(host, false, major);
    host.counters.pteFaults++;
    return 'pte';
  }
  const allocated = write && file.allocate(pgoff, 1, false);
  if (write) file.convertUnwritten(pgoff, 1);
  const { pfn, major } = findOrReadPage(host, file, pgoff, !allocated); // a new block holds zeros: nothing to read
  if (write) dirtyPage(host, file, pgoff);
  m.pt.ptes.set(vpage, { pfn, writable: write, zero: false, dram: host.pageCache.bytesOf(pfn) });
  chargeFault(host, allocated, major);
  if (mkwrite) host.counters.mkwriteFaults++;
  else host.counters.pteFaults++;
  return mkwrite ? 'mkwrite' : 'pte';
}
