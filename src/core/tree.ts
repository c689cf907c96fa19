/**
 * The tree contract shared by the wasm core (src/core/core.ts, over assembly/xarray.ts) and
 * the reference model (src/model/xarray.ts). Both implement `Forest`: many trees, one per
 * file, addressed by a small integer id. Differential tests run the same operations on both.
 *
 * Semantics (the XArray's, include/linux/xarray.h and Documentation/core-api/xarray.rst):
 * - A slot word is a u32 (src/core/entry.ts). 0 is empty. Stored words must be value entries
 *   or non-zero pointers; internal words (siblings, nodes, retry, errors) are refused.
 * - Orders are 0 (one index) or 9 (512 indices aligned to 512, one canonical entry).
 * - store(i, 0, w): if i lies inside an order-9 entry, that entry's word is replaced and it
 *   stays order 9 (the kernel's xas_store through any index of a multi-index entry);
 *   otherwise slot i gets w. Replacing keeps marks; a new entry starts with none.
 * - store(i, 9, w): range R = [i & ~511, (i & ~511) + 511]. If R is empty, insert; if R is
 *   exactly one order-9 entry, replace it (marks kept); otherwise R holds an order-0 entry:
 *   return XA_RETRY_ENTRY and change nothing (xas_find_conflict, dax_is_conflict).
 * - store(i, order, 0) erases: every entry that covers any index of the range is removed
 *   with its marks (storing NULL into any index of a multi-index entry dissolves it).
 * - store returns the old word of the entry it replaced (0 when it inserted).
 * - Marks 0, 1, 2 (DIRTY, WRITEBACK, TOWRITE) belong to entries; on a multi-index entry a
 *   mark set or cleared through any index applies to the whole entry. Marking an absent
 *   index does nothing and returns false.
 * - findMarked / findPresent return the first index (for an order-9 entry, its first
 *   index, even when that is below `start`) of the first entry that covers an index in
 *   [start, end], in ascending order; each entry is found once when iteration continues
 *   at foundIndex + (1 << foundOrder).
 * - tagTowrite(start, end): TOWRITE |= DIRTY over entries covering [start, end]; never
 *   clears; returns how many entries carry DIRTY there (tag_pages_for_writeback).
 * - Tree ids: createTree reuses the most recently destroyed id, else takes the next unused
 *   one starting at 1 (so both implementations hand out the same ids).
 */

/** One entry as listed by entries(): its first index, order, word and marks (bit m = mark m). */
export interface TreeEntry {
  index: number;
  order: number;
  word: number;
  marks: number;
}

/** What a find returns besides the index. */
export interface FoundEntry extends TreeEntry {}

export interface Forest {
  createTree(): number;
  destroyTree(tree: number): void;
  load(tree: number, index: number): number;
  store(tree: number, index: number, order: number, word: number): number;
  erase(tree: number, index: number): number;
  setMark(tree: number, index: number, mark: number): boolean;
  clearMark(tree: number, index: number, mark: number): boolean;
  getMark(tree: number, index: number, mark: number): boolean;
  /** The first marked entry covering [start, end], or null. */
  findMarked(tree: number, start: number, end: number, mark: number): FoundEntry | null;
  /** The first entry covering [start, end], or null. */
  findPresent(tree: number, start: number, end: number): FoundEntry | null;
  tagTowrite(tree: number, start: number, end: number): number;
  /** Entries counted once each (an order-9 entry is one). */
  count(tree: number): number;
  /** Every entry in index order. */
  entries(tree: number): TreeEntry[];
  /** Runs an encoded batch (src/core/batch.ts) and returns one result word per operation. */
  runBatch(ops: Int32Array): Int32Array;
}
