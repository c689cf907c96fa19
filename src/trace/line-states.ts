/**
 * The analysis's state of every cache line a trace touches, kept in pages of typed arrays
 * (4096 lines a page, found by key) rather than an object per line: a trace of millions of
 * stores makes millions of lines, and objects in a Map would cost more than the replay.
 * A line never touched has no page and reads as clean (state 0).
 */

const PAGE_LINES = 4096;

/** One page: fields of lines [first, first + PAGE_LINES) by index. */
export class LinePage {
  /** The analysis's state code (0 clean). */
  readonly state = new Uint8Array(PAGE_LINES);
  /** The CPU whose fence the line waits for. */
  readonly cpu = new Uint8Array(PAGE_LINES);
  /** Trace line of the oldest store not yet durable. */
  readonly store = new Uint32Array(PAGE_LINES);
  /** Trace line of a store that came after a flush and before its fence. */
  readonly later = new Uint32Array(PAGE_LINES);
  constructor(readonly first: number) {}
}

export class LineStates {
  private readonly pages = new Map<number, LinePage>();
  private last: LinePage | undefined;
  /** The index in its page of the key the last find() or make() looked up. */
  at = 0;

  /** The page of `key` (at set to its index), or undefined when none of its lines was touched. */
  find(key: number): LinePage | undefined {
    const first = key - (key % PAGE_LINES);
    let p = this.last;
    if (p === undefined || p.first !== first) {
      p = this.pages.get(first);
      if (p === undefined) return undefined;
      this.last = p;
    }
    this.at = key - first;
    return p;
  }

  /** The page of `key`, made when missing (at set to its index). */
  make(key: number): LinePage {
    const p = this.find(key);
    if (p !== undefined) return p;
    const first = key - (key % PAGE_LINES);
    const made = new LinePage(first);
    this.pages.set(first, made);
    this.last = made;
    this.at = key - first;
    return made;
  }

  /** Calls `each(page, index)` for every line whose state is not clean. */
  forEachNotClean(each: (page: LinePage, index: number) => void): void {
    for (const p of this.pages.values()) {
      const s = p.state;
      for (let i = 0; i < PAGE_LINES; i++) if (s[i] !== 0) each(p, i);
    }
  }

  clear(): void {
    this.pages.clear();
    this.last = undefined;
  }
}
