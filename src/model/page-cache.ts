/**
 * ModelPageCache: a reference model of page-cache (non-DAX) files (docs/page-cache.md), the
 * specification in code: plain Maps and one LRU array, no tree, no wasm, no cost model.
 * test/page-cache-differential.test.ts runs the emulator against it with DAX files in the
 * same emulator.
 *
 *   pages       per file index a page { bytes, dirty } or a shadow (the eviction counter);
 *               nrpages counts pages only.
 *   LRU         one list over every page of every file, least recently used first; a
 *               read(2) or write(2) of a page, and every fault on it, moves it to the tail;
 *               an access through a present PTE does not.
 *   mappings    one shared mapping per file, whole file: per page a PTE, read-only after a
 *               read fault, writable after a write fault; writeback write-protects it,
 *               eviction and truncation unmap it.
 *   writeback   fsync and msync write every dirty page back (its bytes become the media's),
 *               clean it and write-protect it.
 *   reclaim     up to n clean pages in LRU order, each leaving a shadow with the eviction
 *               counter incremented first; a page read in where a shadow is counts a
 *               refault and adds its distance (evictions since the shadow's, mod 2^27).
 *   drop_caches every clean page no PTE maps goes, leaving no shadow, and every shadow
 *               goes; dirty and mapped pages stay (invalidate_mapping_pages, v6.1).
 *   shrinker    after each reclaim, nodes of 64 indices holding shadows and no page may
 *               number at most the pages / 8; the oldest by their newest shadow go.
 *   truncation  pages and shadows at or past ceil(size / 4096) go, their blocks' media too;
 *               the tail of the last page is not zeroed (as the emulator).
 *   crash       a file reads what writeback put on the media, zeros elsewhere.
 */
import { PmemError } from '../base/index.js';

const PAGE = 4096;
const EVICTION_MASK = (1 << 27) - 1;

/** One entry as the emulator's f.entries() reports it, less the pfn. */
export interface ModelPageEntry {
  index: number;
  kind: 'page' | 'shadow';
  dirty: boolean;
}

interface Page {
  bytes: Uint8Array;
  dirty: boolean;
}

interface ModelFile {
  size: number;
  pages: Map<number, Page>;
  shadows: Map<number, number>;
  /** What writeback put on the media, by page. */
  media: Map<number, Uint8Array>;
  /** The mapping's PTEs: page -> writable. */
  ptes: Map<number, boolean>;
  /** Pages the mapping covers (set when the file is mapped). */
  mapped: number;
}

/** Calls `visit` for each page piece of [offset, offset + length): its page index, offset in the page, length, and bytes done before it. */
function eachPiece(offset: number, length: number, visit: (index: number, from: number, len: number, done: number) => void): void {
  for (let done = 0; done < length; ) {
    const at = offset + done;
    const len = Math.min(PAGE - (at % PAGE), length - done);
    visit(Math.floor(at / PAGE), at % PAGE, len, done);
    done += len;
  }
}

export class ModelPageCache {
  private readonly files = new Map<string, ModelFile>();
  /** [path, index], least recently used first. */
  private lru: [string, number][] = [];
  private evictions = 0;
  refaults = 0;
  refaultDistance = 0;
  shadowNodesReclaimed = 0;

  createFile(path: string, size: number): void {
    this.files.set(path, { size, pages: new Map(), shadows: new Map(), media: new Map(), ptes: new Map(), mapped: 0 });
  }

  mmap(path: string): void {
    const f = this.file(path);
    f.mapped = Math.ceil(f.size / PAGE);
  }

  private file(path: string): ModelFile {
    const f = this.files.get(path);
    if (!f) throw new PmemError('ENOENT', `model: no file ${path}`);
    return f;
  }

  private touch(path: string, index: number): void {
    this.lru = this.lru.filter(([p, i]) => p !== path || i !== index);
    this.lru.push([path, index]);
  }

  /** The page at `index`, read in (or refaulted) when not cached, moved to the LRU's tail. */
  private page(path: string, index: number): Page {
    const f = this.file(path);
    let page = f.pages.get(index);
    if (!page) {
      const shadow = f.shadows.get(index);
      if (shadow !== undefined) {
        this.refaults++;
        this.refaultDistance += (this.evictions - shadow) & EVICTION_MASK;
        f.shadows.delete(index);
      }
      page = { bytes: (f.media.get(index) ?? new Uint8Array(PAGE)).slice(), dirty: false };
      f.pages.set(index, page);
    }
    this.touch(path, index);
    return page;
  }

  pwrite(path: string, offset: number, bytes: Uint8Array): void {
    const f = this.file(path);
    eachPiece(offset, bytes.length, (index, from, len, done) => {
      const page = this.page(path, index);
      page.bytes.set(bytes.subarray(done, done + len), from);
      page.dirty = true;
    });
    f.size = Math.max(f.size, offset + bytes.length);
  }

  pread(path: string, offset: number, length: number): Uint8Array {
    const f = this.file(path);
    const n = Math.max(0, Math.min(length, f.size - offset));
    const out = new Uint8Array(n);
    eachPiece(offset, n, (index, from, len, done) => out.set(this.page(path, index).bytes.subarray(from, from + len), done));
    return out;
  }

  /** A fault of page `index` through the mapping, as the access needs it; SIGBUS past the end. */
  private fault(path: string, index: number, write: boolean): Page {
    const f = this.file(path);
    if (index >= Math.ceil(f.size / PAGE)) throw new PmemError('SIGBUS', `model: page ${index} is beyond the end of ${path}`);
    const pte = f.ptes.get(index);
    if (pte !== undefined && (pte || !write)) return f.pages.get(index)!;
    const page = this.page(path, index);
    if (write) page.dirty = true;
    f.ptes.set(index, write);
    return page;
  }

  store(path: string, offset: number, bytes: Uint8Array): void {
    eachPiece(offset, bytes.length, (index, from, len, done) => this.fault(path, index, true).bytes.set(bytes.subarray(done, done + len), from));
  }

  load(path: string, offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    eachPiece(offset, length, (index, from, len, done) => out.set(this.fault(path, index, false).bytes.subarray(from, from + len), done));
    return out;
  }

  /** fsync (or msync of the whole mapping): the pages written back; how many. */
  fsync(path: string): number {
    const f = this.file(path);
    let written = 0;
    for (const index of [...f.pages.keys()].sort((a, b) => a - b)) {
      const page = f.pages.get(index)!;
      if (!page.dirty) continue;
      f.media.set(index, page.bytes.slice());
      page.dirty = false;
      if (f.ptes.has(index)) f.ptes.set(index, false);
      written++;
    }
    return written;
  }

  reclaim(n: number): number {
    let evicted = 0;
    for (const [path, index] of [...this.lru]) {
      if (evicted === n) break;
      const f = this.file(path);
      if (f.pages.get(index)!.dirty) continue;
      f.pages.delete(index);
      f.ptes.delete(index);
      f.shadows.set(index, ++this.evictions & EVICTION_MASK);
      this.lru = this.lru.filter(([p, i]) => p !== path || i !== index);
      evicted++;
    }
    this.shrinkShadowNodes();
    return evicted;
  }

  /** drop_caches: the entries deleted (clean unmapped pages and every shadow). */
  dropCaches(): number {
    let dropped = 0;
    for (const [path, f] of this.files) {
      dropped += f.shadows.size;
      f.shadows.clear();
      for (const [index, page] of [...f.pages]) {
        if (page.dirty || f.ptes.has(index)) continue;
        f.pages.delete(index);
        this.lru = this.lru.filter(([p, i]) => p !== path || i !== index);
        dropped++;
      }
    }
    return dropped;
  }

  /** Nodes of 64 indices with shadows and no page: at most pages / 8 stay, the oldest (by newest shadow) go. */
  private shrinkShadowNodes(): void {
    const nodes: { f: ModelFile; node: number; newest: number }[] = [];
    let pages = 0;
    for (const f of this.files.values()) {
      pages += f.pages.size;
      const withPages = new Set([...f.pages.keys()].map((i) => Math.floor(i / 64)));
      const newest = new Map<number, number>();
      for (const [i, ev] of f.shadows) newest.set(Math.floor(i / 64), Math.max(newest.get(Math.floor(i / 64)) ?? -1, ev));
      for (const [node, ev] of newest) if (!withPages.has(node)) nodes.push({ f, node, newest: ev });
    }
    const maxNodes = pages >> 3;
    if (nodes.length <= maxNodes) return;
    nodes.sort((a, b) => a.newest - b.newest);
    for (const { f, node } of nodes.slice(0, nodes.length - maxNodes)) {
      for (const i of [...f.shadows.keys()]) if (Math.floor(i / 64) === node) f.shadows.delete(i);
      this.shadowNodesReclaimed++;
    }
  }

  truncate(path: string, size: number): void {
    const f = this.file(path);
    const keep = Math.ceil(size / PAGE);
    for (const map of [f.pages, f.shadows, f.media, f.ptes] as Map<number, unknown>[]) for (const index of [...map.keys()]) if (index >= keep) map.delete(index);
    this.lru = this.lru.filter(([p, i]) => p !== path || i < keep);
    f.size = size;
  }

  size(path: string): number {
    return this.file(path).size;
  }

  nrpages(path: string): number {
    return this.file(path).pages.size;
  }

  entries(path: string): ModelPageEntry[] {
    const f = this.file(path);
    const pages = [...f.pages].map(([index, p]): ModelPageEntry => ({ index, kind: 'page', dirty: p.dirty }));
    const shadows = [...f.shadows.keys()].map((index): ModelPageEntry => ({ index, kind: 'shadow', dirty: false }));
    return [...pages, ...shadows].sort((a, b) => a.index - b.index);
  }

  /** What a crash image of the file reads: the media's pages, zeros elsewhere. */
  crashImage(path: string): Uint8Array {
    const f = this.file(path);
    const out = new Uint8Array(f.size);
    for (const [index, bytes] of f.media) out.set(bytes.subarray(0, Math.max(0, Math.min(PAGE, f.size - index * PAGE))), index * PAGE);
    return out;
  }
}
