/**
 * DAX writeback, as fs/dax.c's dax_writeback_mapping_range and dax_writeback_one do it in
 * the XArray era (docs/kernel-rules.md §4.4): take the TOWRITE snapshot of the DIRTY entries in the
 * range, then for each TOWRITE entry in ascending order: lock it, clear TOWRITE,
 * write-protect every mapping of the entry's whole index range (pfn_mkclean_range), flush
 * every 64-byte line it covers (64 for a PTE entry, 32768 for a PMD entry), unlock, clear
 * DIRTY. DAX itself issues no fence; the filesystem's device flush does, once per
 * vfs_fsync_range call (docs/kernel-rules.md §4.5), which is where the fence is counted here.
 */
import type { AddressSpace, DaxHost, WritebackReport } from './context.js';

export type { WritebackReport };
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE, PMD_NR, XA_MAX_INDEX, daxIsEmptyEntry, daxIsLocked, daxIsPmdEntry, daxIsZeroEntry, daxLockedEntry, daxToPfn, daxUnlockedEntry, xaIsPointer } from '../core/index.js';
import { entryKey, type EntryKey, type WakeMode } from './wait-queue.js';

export function emptyReport(): WritebackReport {
  return { entries: 0, pteEntries: 0, pmdEntries: 0, lines: 0, dirtyLines: 0, cleanLines: 0, fences: 0, ns: 0 };
}

/** Adds `b` into `a`. */
export function addReport(a: WritebackReport, b: WritebackReport): void {
  a.entries += b.entries;
  a.pteEntries += b.pteEntries;
  a.pmdEntries += b.pmdEntries;
  a.lines += b.lines;
  a.dirtyLines += b.dirtyLines;
  a.cleanLines += b.cleanLines;
  a.fences += b.fences;
  a.ns += b.ns;
}

const LINES_PER_PAGE = 4096 / 64;
/** Entries one find_get_entries_tag batch returns in v4.5 writeback (PAGEVEC_SIZE, recalled as 14). */
const PAGEVEC_SIZE = 14;
/** Hardware counters (assembly/cpu.ts) whose change tells dirty from clean flushed lines. */
const C_CLFLUSH_DIRTY = 9;
const C_CLFLUSHOPT_DIRTY = 11;
const C_CLWB_DIRTY = 13;

function dirtyFlushes(host: DaxHost): number {
  const c = host.core;
  return c.pmCounter(host.cpu, C_CLFLUSH_DIRTY) + c.pmCounter(host.cpu, C_CLFLUSHOPT_DIRTY) + c.pmCounter(host.cpu, C_CLWB_DIRTY);
}

/**
 * linux-4.5's dax_writeback_mapping_range (docs/kernel-rules.md §4.2): nothing at all, fence
 * included, when the file has no DAX entry; otherwise the TOWRITE snapshot (from the PMD
 * index when a PMD entry covers `start`), each TOWRITE entry flushed whole with TOWRITE
 * cleared but DIRTY kept and no mapping write-protected, and one wmb_pmem fence.
 */
function writebackP45(host: DaxHost, file: AddressSpace, start: number, end: number): WritebackReport {
  const report = emptyReport();
  const { core } = host;
  const t0 = core.pmNow(host.cpu);
  if (file.nrexceptional === 0) return report;
  host.trace({ name: 'dax_writeback_range', pgoff: start, start, end });
  const aligned = start - (start % PMD_NR);
  const atAligned = file.entryAt(aligned);
  let next = atAligned !== 0 && !xaIsPointer(atAligned) && daxIsPmdEntry(atAligned) ? aligned : start;
  core.tagTowrite(file.tree, next, end);
  // find_get_entries_tag takes PAGEVEC_SIZE entries a batch. The fixed loop starts each
  // batch after the last; with B3 every batch starts at the range's start again, and finds
  // the next entries only because those written lost TOWRITE (docs/kernel-rules.md §6 B3).
  const first = next;
  let batchStart = next;
  let inBatch = 0;
  for (;;) {
    if (inBatch === PAGEVEC_SIZE) {
      host.counters.writebackScanned += next - batchStart;
      batchStart = host.bugs.rescanFromStart ? first : next;
      inBatch = 0;
    }
    const found = next <= end ? core.findMarked(file.tree, host.bugs.rescanFromStart ? batchStart : next, end, PAGECACHE_TAG_TOWRITE) : null;
    if (!found) break;
    inBatch++;
    next = found.index + 1;
    const pages = daxIsPmdEntry(found.word) ? PMD_NR : 1;
    const before = dirtyFlushes(host);
    if (host.dirtyLinesOnly) core.pmFlushDirty(host.cpu, host.flushKind, daxToPfn(found.word) * 4096, pages * 4096);
    else core.pmFlush(host.cpu, host.flushKind, daxToPfn(found.word) * 4096, pages * 4096);
    core.clearMark(file.tree, found.index, PAGECACHE_TAG_TOWRITE); // DIRTY is not cleared
    host.trace({ name: 'dax_writeback_one', pgoff: found.index, pglen: pages });
    countEntry(report, pages, dirtyFlushes(host) - before, host.dirtyLinesOnly);
  }
  host.counters.writebackScanned += Math.max(0, next - batchStart);
  core.pmFence(host.cpu, false); // wmb_pmem
  report.fences = 1;
  host.trace({ name: 'dax_writeback_range_done', pgoff: next, start: next, end });
  report.ns = core.pmNow(host.cpu) - t0;
  host.counters.writebackEntries += report.entries;
  host.counters.writebackLines += report.lines;
  host.counters.writebackFences += report.fences;
  return report;
}

/**
 * What a writeback (or another concurrent task) tells the scheduler (src/dax/concurrency.ts):
 * 'step' lets another task run; { sleep } puts it on the entry's waitqueue until a wake;
 * { wake } wakes sleepers of an entry it unlocked (the task goes on at once).
 */
export type TaskYield = 'step' | { sleep: EntryKey } | { wake: EntryKey; mode: WakeMode };

/** Runs a task alone to its end; alone, nothing can hold a lock it waits for, nobody sleeps. */
export function runAlone<T>(task: Generator<TaskYield, T>): T {
  for (;;) {
    const r = task.next();
    if (r.done) return r.value;
    if (typeof r.value === 'object' && 'sleep' in r.value) throw new Error('a task running alone waited on an entry lock');
  }
}

/** dax_writeback_mapping_range over file pages [start, end]; no fence (the caller adds it). */
export function daxWritebackRange(host: DaxHost, file: AddressSpace, start: number, end: number): WritebackReport {
  return runAlone(daxWritebackSteps(host, file, start, end));
}

/**
 * dax_writeback_mapping_range as a task that other tasks can interleave with: it gives way
 * after the TOWRITE snapshot, while an entry is locked for its flush, and after each entry;
 * it waits while another task holds the lock of the entry it needs, and skips an entry
 * whose TOWRITE another fsync cleared meanwhile ("Another fsync thread may have already
 * done this entry", fs/dax.c).
 */
export function* daxWritebackSteps(host: DaxHost, file: AddressSpace, start: number, end: number): Generator<TaskYield, WritebackReport> {
  const report = emptyReport();
  const { core } = host;
  const t0 = core.pmNow(host.cpu);
  // "if (mapping_empty(mapping) ...) return 0;" comes before the tracepoint (fs/dax.c v6.1, v6.12).
  if (file.nrpages === 0) return report;
  host.trace({ name: 'dax_writeback_range', pgoff: start, start, end });
  core.tagTowrite(file.tree, start, end);
  yield 'step';
  // xas_for_each_marked: each step walks on from the last entry's node.
  let found = core.findMarked(file.tree, start, end, PAGECACHE_TAG_TOWRITE);
  for (; found; found = core.findNextMarked(file.tree, found.index, end, PAGECACHE_TAG_TOWRITE)) {
    const { index, order } = found;
    const count = 1 << order;
    let word = found.word;
    while (word !== 0 && daxIsLocked(word)) {
      yield { sleep: entryKey(file.tree, index, word) };
      word = file.entryAt(index);
    }
    if (word === 0) continue;
    if (daxToPfn(word) !== daxToPfn(found.word) || !core.getMark(file.tree, index, PAGECACHE_TAG_TOWRITE)) {
      // put_unlocked_entry: a wake this task got but does not use goes to the next sleeper.
      yield { wake: entryKey(file.tree, index, word), mode: 'next' };
      continue;
    }
    if (daxIsZeroEntry(word) || daxIsEmptyEntry(word)) {
      // Only the 6.1 rule dirties these: the kernel then flushes the zero page itself.
      writebackZero(host, file, index, count, report);
      yield { wake: entryKey(file.tree, index, word), mode: 'next' };
      continue;
    }
    // Lock the entry, clear TOWRITE, write-protect every mapping of its pages, flush.
    core.store(file.tree, index, order, daxLockedEntry(word));
    core.clearMark(file.tree, index, PAGECACHE_TAG_TOWRITE);
    writeProtectEntry(host, file, index, count);
    yield 'step';
    const before = dirtyFlushes(host);
    if (host.dirtyLinesOnly) core.pmFlushDirty(host.cpu, host.flushKind, daxToPfn(word) * 4096, count * 4096);
    else core.pmFlush(host.cpu, host.flushKind, daxToPfn(word) * 4096, count * 4096);
    const dirty = dirtyFlushes(host) - before;
    // After the flush the dirty mark can go: the mappings are write-protected, so new
    // stores fault and wait for the entry lock (fs/dax.c).
    core.store(file.tree, index, order, daxUnlockedEntry(word));
    if (!host.bugs.keepDirty) core.clearMark(file.tree, index, PAGECACHE_TAG_DIRTY); // B5 keeps it
    host.trace({ name: 'dax_writeback_one', pgoff: index, pglen: count });
    countEntry(report, count, dirty, host.dirtyLinesOnly);
    yield { wake: entryKey(file.tree, index, word), mode: 'next' }; // dax_unlock_entry
    yield 'step';
  }
  const next = core.lastStopIndex(); // where xas_find_marked left xa_index
  host.trace({ name: 'dax_writeback_range_done', pgoff: next, start: next, end });
  report.ns = core.pmNow(host.cpu) - t0;
  host.counters.writebackEntries += report.entries;
  host.counters.writebackLines += report.lines;
  return report;
}

/**
 * pfn_mkclean_range over every shared mapping of the entry's pages [index, index + count)
 * (fs/dax.c v6.1, v6.12). B7: dax_entry_mkclean visited only the mappings that hold the
 * entry's first index (fs/dax.c before Muchun Song's 2022 fix). B6: the mkclean of v4.10
 * write-protected PTEs only, never a huge PMD (fixed by f729c8c9b24f).
 */
function writeProtectEntry(host: DaxHost, file: AddressSpace, index: number, count: number): void {
  for (const m of file.mappings.overlapping(index, index + count)) {
    if (!m.shared) continue;
    if (host.bugs.mkcleanFirstIndexOnly && (index < m.pgoff || index >= m.pgoff + m.pages)) continue;
    m.writeProtectFile(index, count, host.bugs.pmdStaysWritable);
  }
}

function countEntry(report: WritebackReport, pages: number, dirtyLines: number, onlyDirty = false): void {
  const lines = onlyDirty ? dirtyLines : pages * LINES_PER_PAGE;
  report.entries++;
  if (pages === PMD_NR) report.pmdEntries++;
  else report.pteEntries++;
  report.lines += lines;
  report.dirtyLines += dirtyLines;
  report.cleanLines += lines - dirtyLines;
}

/** A DIRTY zero entry (linux-6.1): the zero page's lines are flushed, all clean, none on the media. */
function writebackZero(host: DaxHost, file: AddressSpace, index: number, pages: number, report: WritebackReport): void {
  host.core.clearMark(file.tree, index, PAGECACHE_TAG_TOWRITE);
  host.core.pmFlushClean(host.cpu, host.flushKind, pages * LINES_PER_PAGE);
  host.core.clearMark(file.tree, index, PAGECACHE_TAG_DIRTY);
  host.trace({ name: 'dax_writeback_one', pgoff: index, pglen: pages });
  countEntry(report, pages, 0);
}

/**
 * Whether any entry of the file carries `mark`: mapping_tagged, which reads the summary
 * bit at the top of the tree.
 */
function mappingTagged(host: DaxHost, file: AddressSpace, mark: number): boolean {
  return host.core.findMarked(file.tree, 0, XA_MAX_INDEX, mark) !== null;
}

/**
 * filemap_write_and_wait_range over file pages [start, end] in the XArray era, as truncate
 * and hole punch call it: the DAX entries written back, no metadata commit, and one fence on
 * this CPU when anything was flushed. Nothing at all when no entry is DIRTY
 * (filemap_fdatawrite_wbc, below).
 *
 * The kernel issues no sfence here, but dax_writeback_one takes the xarray lock again right
 * after dax_flush, and x86 orders CLWB and CLFLUSHOPT before any later locked instruction
 * (Intel SDM, CLWB): the lines are written back before the truncate or punch returns. The
 * model puts that ordering in one fence at the end of the range. Without it a line flushed
 * here stayed pending on this CPU, and an fsync on another CPU, whose flush found the line
 * clean, never made it durable (the fuzz's seed 5013). The hardware model keeps a clean
 * flush from taking over another CPU's pending line, so the fence has to come from here.
 */
export function filemapWriteRange(host: DaxHost, file: AddressSpace, start: number, end: number): WritebackReport {
  if (!mappingTagged(host, file, PAGECACHE_TAG_DIRTY)) return emptyReport();
  const report = daxWritebackRange(host, file, start, end);
  if (report.entries > 0) {
    host.core.pmFence(host.cpu, false);
    report.fences++;
    host.counters.writebackFences++;
  }
  return report;
}

/**
 * vfs_fsync_range(file, start, end, datasync): commits the allocations of the range (the
 * metadata fdatasync must write), writes the DAX entries back, and counts the filesystem's
 * one device-flush fence.
 */
export function vfsFsyncRange(host: DaxHost, file: AddressSpace, start: number, end: number): WritebackReport {
  return runAlone(vfsFsyncSteps(host, file, start, end));
}

/** vfsFsyncRange as an interleavable task (linux-4.5's writeback runs in one step). */
export function* vfsFsyncSteps(host: DaxHost, file: AddressSpace, start: number, end: number): Generator<TaskYield, WritebackReport> {
  const t0 = host.core.pmNow(host.cpu);
  host.counters.writebackCalls++;
  if (!file.dax) {
    // A page-cache file: its pages written back, the journal commit, the device flush.
    const pages = file.writebackPageCache(start, end);
    file.commitMetadata();
    host.core.pmFence(host.cpu, false);
    pages.fences++;
    host.counters.writebackFences++;
    pages.ns = host.core.pmNow(host.cpu) - t0;
    return pages;
  }
  file.commitMetadata();
  if (host.rules.p45) {
    // The fence is DAX's own wmb_pmem, counted by the writeback (none on its early return).
    const early = writebackP45(host, file, start, end);
    early.ns = host.core.pmNow(host.cpu) - t0;
    return early;
  }
  // filemap_fdatawrite_wbc returns before ->writepages when nothing in the mapping is tagged
  // DIRTY (mm/filemap.c v6.1, v6.12; the check came with c3aab9a0bd91 in v5.4): a clean
  // file gets no dax_writeback_range at all. The filesystem's device flush still comes.
  const report = mappingTagged(host, file, PAGECACHE_TAG_DIRTY) ? yield* daxWritebackSteps(host, file, start, end) : emptyReport();
  host.core.pmFence(host.cpu, false);
  report.fences++;
  host.counters.writebackFences++;
  report.ns = host.core.pmNow(host.cpu) - t0;
  return report;
}
