/**
 * The DRAM page pool of the page cache: the pages non-DAX files cache their blocks in. A
 * page is 4 KiB of host memory with a pool pfn (DRAM, not media: a crash loses it), kept in
 * chunks of 256 pages. Its metadata is 16 bytes in four Int32Arrays: the owning tree, the
 * file index, and the LRU's previous and next links (the free list reuses the next link).
 *
 * The LRU is one list over every page-cache page, least recently used first: a fault or a
 * read(2)/write(2) of a page moves it to the tail. The kernel's two-list (inactive, active)
 * LRU with second chances is simplified to this one list.
 */

const PAGE = 4096;
const CHUNK_PAGES = 256;
const NONE = -1;

export class PageCachePool {
  private readonly chunks: Uint8Array[] = [];
  private tree = new Int32Array(0);
  private index = new Int32Array(0);
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private capacity = 0;
  private freeHead = NONE;
  private lruHead = NONE;
  private lruTail = NONE;
  private used = 0;
  /** The workingset eviction counter (a node's nonresident age): one more for each eviction that leaves a shadow. */
  evictions = 0;
  /** Tree nodes ("tree:node", 64 indices each) a page left since the shadow-node shrinker last looked. */
  readonly nodesLeft = new Set<string>();

  /** Pages in use. */
  get pages(): number {
    return this.used;
  }

  /** Host bytes the pool holds: the page chunks and the 16 bytes of metadata per page slot. */
  get bytes(): number {
    return this.chunks.length * CHUNK_PAGES * PAGE + this.capacity * 16;
  }

  /** Takes a zeroed page for `tree` at file index `index`, at the LRU's tail; its pool pfn. */
  alloc(tree: number, index: number): number {
    if (this.freeHead === NONE) this.grow();
    const pfn = this.freeHead;
    this.freeHead = this.next[pfn]!;
    this.tree[pfn] = tree;
    this.index[pfn] = index;
    this.bytesOf(pfn).fill(0);
    this.link(pfn);
    this.used++;
    return pfn;
  }

  /** Gives a page back to the pool. */
  free(pfn: number): void {
    this.unlink(pfn);
    this.tree[pfn] = NONE;
    this.next[pfn] = this.freeHead;
    this.freeHead = pfn;
    this.used--;
  }

  /** The page's 4 KiB, a view on the pool (stores through it change the page). */
  bytesOf(pfn: number): Uint8Array {
    const chunk = this.chunks[Math.floor(pfn / CHUNK_PAGES)]!;
    const at = (pfn % CHUNK_PAGES) * PAGE;
    return chunk.subarray(at, at + PAGE);
  }

  /** The tree and file index a page in use belongs to. */
  owner(pfn: number): { tree: number; index: number } {
    return { tree: this.tree[pfn]!, index: this.index[pfn]! };
  }

  /** Moves a page to the LRU's tail (mark_page_accessed, simplified). */
  touch(pfn: number): void {
    this.unlink(pfn);
    this.link(pfn);
  }

  /** The pages in use, least recently used first. */
  *lru(): Generator<number> {
    for (let p = this.lruHead; p !== NONE; ) {
      const after = this.next[p]!; // the caller may free p
      yield p;
      p = after;
    }
  }

  private link(pfn: number): void {
    this.prev[pfn] = this.lruTail;
    this.next[pfn] = NONE;
    if (this.lruTail === NONE) this.lruHead = pfn;
    else this.next[this.lruTail] = pfn;
    this.lruTail = pfn;
  }

  private unlink(pfn: number): void {
    const p = this.prev[pfn]!;
    const n = this.next[pfn]!;
    if (p === NONE) this.lruHead = n;
    else this.next[p] = n;
    if (n === NONE) this.lruTail = p;
    else this.prev[n] = p;
  }

  private grow(): void {
    const old = this.capacity;
    this.capacity += CHUNK_PAGES;
    this.chunks.push(new Uint8Array(CHUNK_PAGES * PAGE));
    const widen = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(this.capacity);
      b.set(a);
      return b;
    };
    this.tree = widen(this.tree);
    this.index = widen(this.index);
    this.prev = widen(this.prev);
    this.next = widen(this.next);
    for (let pfn = this.capacity - 1; pfn >= old; pfn--) {
      this.tree[pfn] = NONE;
      this.next[pfn] = this.freeHead;
      this.freeHead = pfn;
    }
  }
}

/** The tree word of pool page `pfn`: a page pointer (low bits 00, never 0). */
export function pageWord(pfn: number): number {
  return ((pfn + 1) << 2) >>> 0;
}

/** The pool pfn of a page word. */
export function wordPage(word: number): number {
  return (word >>> 2) - 1;
}
