/**
 * An interval index: items keyed by a half-open range [start, end), found by the ranges
 * they overlap in O(log n + k). It is what the kernel's i_mmap interval tree is to a file's
 * mappings (an augmented rbtree keyed by pgoff, mm/interval_tree.c): writeback and
 * invalidation visit only the mappings that overlap an entry, and mmap finds an overlap in
 * the address space without walking every mapping.
 *
 * A treap whose nodes carry the largest end below them. Priorities come from a fixed-seed
 * generator: they shape the tree only, never what a query returns or in which order
 * (rising start, then insertion order).
 */

interface Node<T> {
  item: T;
  start: number;
  end: number;
  /** Insertion order, the tie-break among equal starts. */
  seq: number;
  priority: number;
  /** The largest end in this subtree. */
  maxEnd: number;
  left: Node<T> | null;
  right: Node<T> | null;
}

const before = <T>(a: Node<T>, b: Node<T>): boolean => a.start < b.start || (a.start === b.start && a.seq < b.seq);

function update<T>(n: Node<T>): Node<T> {
  n.maxEnd = Math.max(n.end, n.left?.maxEnd ?? -Infinity, n.right?.maxEnd ?? -Infinity);
  return n;
}

/** Splits `n` into the nodes before `key` and the rest. */
function split<T>(n: Node<T> | null, key: Node<T>): [Node<T> | null, Node<T> | null] {
  if (!n) return [null, null];
  if (before(n, key)) {
    const [l, r] = split(n.right, key);
    n.right = l;
    return [update(n), r];
  }
  const [l, r] = split(n.left, key);
  n.left = r;
  return [l, update(n)];
}

/** Joins two treaps, every node of `a` before every node of `b`. */
function merge<T>(a: Node<T> | null, b: Node<T> | null): Node<T> | null {
  if (!a) return b;
  if (!b) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return update(a);
  }
  b.left = merge(a, b.left);
  return update(b);
}

export class IntervalIndex<T> implements Iterable<T> {
  private root: Node<T> | null = null;
  private readonly nodes = new Map<T, Node<T>>();
  private seq = 0;
  private rng = 0x9e3779b9;

  get size(): number {
    return this.nodes.size;
  }

  has(item: T): boolean {
    return this.nodes.has(item);
  }

  /** Adds `item` over [start, end); an item already there is moved to the new range. */
  add(item: T, start: number, end: number): void {
    this.delete(item);
    // xorshift32: a fixed sequence, so the same inserts build the same tree.
    this.rng ^= this.rng << 13;
    this.rng ^= this.rng >>> 17;
    this.rng ^= this.rng << 5;
    const node: Node<T> = { item, start, end, seq: this.seq++, priority: this.rng >>> 0, maxEnd: end, left: null, right: null };
    const [l, r] = split(this.root, node);
    this.root = merge(merge(l, node), r);
    this.nodes.set(item, node);
  }

  /** Removes `item`; whether it was there. */
  delete(item: T): boolean {
    const node = this.nodes.get(item);
    if (!node) return false;
    const [l, rest] = split(this.root, node);
    // `node` is the first of `rest`: cut it off by splitting just after it.
    const [, r] = split(rest, { ...node, seq: node.seq + 0.5 });
    this.root = merge(l, r);
    this.nodes.delete(item);
    return true;
  }

  /** The items whose ranges overlap [start, end), in rising start order; none for an empty range. */
  *overlapping(start: number, end: number): Generator<T> {
    if (end <= start) return;
    const stack: Node<T>[] = [];
    let n = this.root;
    // An in-order walk that skips subtrees ending at or before `start` and stops at `end`.
    while (n || stack.length > 0) {
      while (n && n.maxEnd > start) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop();
      if (!top) return;
      if (top.start >= end) return;
      if (top.end > start) yield top.item;
      n = top.right;
    }
  }

  /** Every item, in rising start order. */
  *[Symbol.iterator](): Generator<T> {
    yield* this.overlapping(-Infinity, Infinity);
  }
}
