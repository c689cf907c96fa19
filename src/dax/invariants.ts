/**
 * checkInvariants: every tree is sound (the core's xaCheck); a DAX tree holds DAX entries
 * only, never a shadow entry (linux-4.5's hole pages aside); nrpages and nrexceptional
 * match the tree; and every page-table entry agrees with the tree: the zero page over a
 * zero entry (or hole page), a pfn the entry gives, a writable page over a DIRTY entry.
 * First of all the hardware's own books: line states against undo slots (core.checkLines).
 */
import type { Core } from '../core/index.js';
import { PAGECACHE_TAG_DIRTY, PMD_NR, daxIsEmptyEntry, daxIsPmdEntry, daxIsZeroEntry, daxToPfn, xaIsPointer, xaIsValue } from '../core/index.js';
import { PmemError } from '../base/index.js';
import type { DaxFile } from './file.js';
import type { FileMapping } from './file-mapping.js';
import type { KernelRules } from './kernel.js';
import { isShadow, shadowEviction } from './shadow.js';
import { wordPage, type PageCachePool } from './page-cache-pool.js';

/** Checks the files' trees and the mappings' page tables; throws PmemError EFAULT naming the first broken invariant. */
export function checkDaxInvariants(core: Core, rules: KernelRules, files: Set<DaxFile>, mappings: Set<FileMapping>, pool: PageCachePool): void {
  const fail = (why: string): never => {
    throw new PmemError('EFAULT', `checkInvariants: ${why}`);
  };
  const p45 = rules.p45;
  core.checkLines();
  for (const file of files) {
    core.check(file.tree);
    if (!file.dax) {
      checkPageCacheTree(core, file, pool, fail);
      continue;
    }
    let pages = 0;
    let holePages = 0;
    let entries = 0;
    for (const e of core.entries(file.tree)) {
      if (xaIsPointer(e.word)) {
        // A page in the tree: only linux-4.5's hole pages may be there.
        if (!p45) fail(`${file.path} index ${e.index} holds a page, not a DAX entry`);
        if (e.marks !== 0) fail(`${file.path} index ${e.index}: a hole page carries marks`);
        holePages++;
        continue;
      }
      if (!xaIsValue(e.word)) fail(`${file.path} index ${e.index} holds a non-DAX entry ${e.word}`);
      if (isShadow(e.word)) fail(`${file.path} index ${e.index} holds a shadow entry (eviction ${shadowEviction(e.word)}): a DAX tree must never hold one (docs/kernel-rules.md §5.4)`);
      if (!p45 && (e.order === 9) !== daxIsPmdEntry(e.word)) fail(`${file.path} index ${e.index}: order ${e.order} against the entry's PMD flag`);
      if (p45 && (daxIsZeroEntry(e.word) || daxIsEmptyEntry(e.word))) fail(`${file.path} index ${e.index}: linux-4.5 has no ZERO or EMPTY entries`);
      pages += 1 << e.order;
      entries++;
    }
    if (p45 ? holePages !== file.nrpages || entries !== file.nrexceptional : pages !== file.nrpages) {
      fail(`${file.path}: counted nrpages ${file.nrpages} / nrexceptional ${file.nrexceptional}, the tree holds ${p45 ? `${holePages} / ${entries}` : pages}`);
    }
  }
  for (const m of mappings) {
    if (!m.isMapped) continue;
    if (!m.file.dax) {
      checkPageCacheMapping(core, m, pool, fail);
      continue;
    }
    const check = (vpage: number, pfn: number, writable: boolean, zero: boolean, huge: boolean): void => {
      if (m.anon.has(vpage)) return;
      const pgoff = m.pgoff + (vpage - m.vfirst);
      const { word, index } = coveringEntry(m.file, pgoff, p45);
      // linux-4.5 maps the huge zero page, and reads PMDs, with no entry at all. Its huge
      // zero page can also outlive an allocation under it (a stale mapping the v4.5 code
      // did not unmap), so in that profile it is not held against the tree.
      if (p45 && huge && (zero || (!writable && word === 0))) return;
      // linux-4.5: a zero PTE is a hole page in its own slot, whatever PMD entry sits at the
      // aligned index (one a hole punched inside it left behind, §5.1).
      if (p45 && zero && !huge) {
        if (!xaIsPointer(m.file.entryAt(pgoff))) fail(`${m.file.path} page ${pgoff}: a zero page with no hole page`);
        return;
      }
      if (word === 0) fail(`${m.file.path} page ${pgoff} is mapped with no entry`);
      const zeroEntry = p45 ? xaIsPointer(word) : daxIsZeroEntry(word);
      if (zero !== zeroEntry) fail(`${m.file.path} page ${pgoff}: zero page against a ${zeroEntry ? 'zero' : 'data'} entry`);
      if (!zero) {
        const base = daxToPfn(word) + (daxIsPmdEntry(word) ? pgoff - index : 0);
        // linux-4.5: a hole punched inside a PMD entry leaves the single-slot entry in place
        // while the page is allocated afresh; the stale entry is that era's hazard.
        const staleP45Pmd = p45 && daxIsPmdEntry(word) && index !== pgoff;
        if (pfn !== base && !staleP45Pmd) fail(`${m.file.path} page ${pgoff} maps pfn ${pfn}, the entry ${base}`);
        if (daxIsEmptyEntry(word)) fail(`${m.file.path} page ${pgoff} is mapped over an EMPTY entry`);
      }
      if (writable && m.shared && !core.getMark(m.file.tree, index, PAGECACHE_TAG_DIRTY)) fail(`${m.file.path} page ${pgoff} is writable but its entry is clean`);
    };
    for (const [vpage, e] of m.pt.ptes) check(vpage, e.pfn, e.writable, e.zero, false);
    for (const [slot, e] of m.pt.pmds) check(slot * PMD_NR, e.pfn, e.writable, e.zero, true);
  }
}

/**
 * A page-cache file's tree: page pointers to pool pages it owns at that index, or shadow
 * entries without marks; never a DAX entry; nrpages the pages.
 */
function checkPageCacheTree(core: Core, file: DaxFile, pool: PageCachePool, fail: (why: string) => never): void {
  let pages = 0;
  for (const e of core.entries(file.tree)) {
    if (xaIsPointer(e.word)) {
      const owner = pool.owner(wordPage(e.word));
      if (owner.tree !== file.tree || owner.index !== e.index) fail(`${file.path} index ${e.index} points at a pool page owned by index ${owner.index} of tree ${owner.tree}`);
      pages++;
      continue;
    }
    if (!isShadow(e.word)) fail(`${file.path} index ${e.index} holds a DAX entry ${e.word} in a page-cache tree`);
    if (e.marks !== 0) fail(`${file.path} index ${e.index}: a shadow entry carries marks`);
  }
  if (pages !== file.nrpages) fail(`${file.path}: counted nrpages ${file.nrpages}, the tree holds ${pages} pages`);
}

/** A page-cache mapping: each PTE shows the DRAM page of its file index (or a private copy); writable ones are DIRTY; no PMD. */
function checkPageCacheMapping(core: Core, m: FileMapping, pool: PageCachePool, fail: (why: string) => never): void {
  if (m.pt.pmds.size > 0) fail(`${m.file.path}: a page-cache mapping holds a huge PMD`);
  for (const [vpage, e] of m.pt.ptes) {
    if (m.anon.has(vpage)) continue;
    const pgoff = m.pgoff + (vpage - m.vfirst);
    const word = m.file.entryAt(pgoff);
    if (!xaIsPointer(word) || e.dram === undefined || e.pfn !== wordPage(word)) fail(`${m.file.path} page ${pgoff} is mapped without its page-cache page`);
    const page = pool.bytesOf(wordPage(word));
    if (e.dram!.buffer !== page.buffer || e.dram!.byteOffset !== page.byteOffset) fail(`${m.file.path} page ${pgoff} maps other DRAM than its page`);
    if (e.writable && m.shared && !core.getMark(m.file.tree, pgoff, PAGECACHE_TAG_DIRTY)) fail(`${m.file.path} page ${pgoff} is writable but its page is clean`);
  }
}

/**
 * The entry standing for file page `pgoff`, and its index. linux-4.5 keeps a PMD entry at
 * the aligned index only, and dax_radix_entry looks there first: a PMD entry speaks for
 * its whole range even where PTE entries sit beside it.
 */
function coveringEntry(file: DaxFile, pgoff: number, p45: boolean): { word: number; index: number } {
  const word = file.entryAt(pgoff);
  if (!p45) return { word, index: pgoff - (daxIsPmdEntry(word) && word !== 0 ? pgoff % PMD_NR : 0) };
  const aligned = pgoff - (pgoff % PMD_NR);
  const pmd = file.entryAt(aligned);
  if (pmd !== 0 && !xaIsPointer(pmd) && daxIsPmdEntry(pmd)) return { word: pmd, index: aligned };
  return { word, index: pgoff };
}
