/**
 * The host's twin of assembly/xarray.ts (with check.ts, dump.ts and batch.ts): the
 * packed radix trees, one per address_space, as the checked Forest API. Arguments the
 * wasm boundary would silently wrap are refused here; the core's error words become
 * PmemErrors naming the argument at fault.
 */
import { BATCH_RECORD_WORDS, BATCH_RESULT_WORDS } from './batch.js';
import { ERRNO, PmemError } from '../base/index.js';
import { XA_MAX_INDEX, xaIsErr, xaIsInternal, xaToErrno } from './entry.js';
import { CoreMemory } from './layout.js';
import type { FoundEntry, Forest, TreeEntry } from './tree.js';
import type { CoreExports, WasmBuild } from './wasm.js';

/** Heap and tree counters read from the shared header. */
export interface CoreStats {
  treesInUse: number;
  nodesInUse: number;
  nodesFree: number;
  heapBytes: number;
  memoryBytes: number;
}

const CHECK_MESSAGES = [
  'ok', 'a freed node is reachable', 'a node belongs to another tree', 'a node has the wrong parent or offset',
  'a node has the wrong shift', 'an empty node was kept', 'a node count is wrong', 'a node nr_values is wrong',
  'an entry sits at a level or offset its order forbids', 'a sibling slot is wrong', 'a slot holds a bad internal word',
  'a mark summary bit disagrees with its child', 'an empty or sibling slot carries a mark', 'an array-level mark is wrong',
  'the tree record counts the wrong number of nodes', 'the tree record counts the wrong number of entries',
  'the top node could shrink but did not', 'the node heap accounting is wrong',
];

/** Thrown by check(): a broken internal invariant, never a caller's mistake. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

const MARK_NAMES = ['DIRTY', 'WRITEBACK', 'TOWRITE'];
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** The trees of one core instance. */
export class CoreTrees extends CoreMemory implements Forest {
  private foundWord: WebAssembly.Global;
  private foundOrder: WebAssembly.Global;
  private foundMarks: WebAssembly.Global;

  protected constructor(build: WasmBuild, memory: WebAssembly.Memory, x: CoreExports, cpu: number) {
    super(build, memory, x, cpu);
    this.foundWord = x.xaFoundWord as WebAssembly.Global;
    this.foundOrder = x.xaFoundOrder as WebAssembly.Global;
    this.foundMarks = x.xaFoundMarks as WebAssembly.Global;
  }

  /** Also lets go of the instance's globals, which keep the instance (and its memory) alive. */
  override release(what: string): void {
    super.release(what);
    this.foundWord = this.foundOrder = this.foundMarks = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  }

  // ---- errors ------------------------------------------------------------------------

  /** Turns an XA_ERROR word into a PmemError naming the argument at fault. */
  private failure(errno: number, op: string, tree: number, detail: () => string): PmemError {
    switch (errno) {
      case ERRNO.EBADF: return new PmemError('EBADF', `${op}: tree ${tree} does not exist`);
      case ERRNO.ENOMEM: return new PmemError('ENOMEM', `${op}: the node heap cannot grow (memory limit ${this.memory.buffer.byteLength} bytes reached)`);
      case ERRNO.ENOSPC: return new PmemError('ENOSPC', `${op}: all ${this.layout.maxTrees - 1} tree ids are in use`);
      default: return PmemError.fromErrno(errno, `${op}: ${detail()}`);
    }
  }

  private word(w: number, op: string, tree: number, detail: () => string): number {
    const u = w >>> 0;
    if (u > 0xffffc000 && xaIsErr(u)) throw this.failure(xaToErrno(u), op, tree, detail);
    return u;
  }

  private status(rc: number, op: string, tree: number, detail: () => string): number {
    if (rc < 0) throw this.failure(-rc, op, tree, detail);
    return rc;
  }

  /** The core's own dax_make_entry, so tests can hold it equal to src/core/entry.ts. */
  daxMkEntry(pfn: number, flags: number): number {
    if ((pfn >>> 0) !== pfn || (flags >>> 0) !== flags) throw new PmemError('EINVAL', `daxMkEntry: pfn and flags must be u32 integers, got ${pfn}, ${flags}`);
    return this.word(this.x.daxMkEntry(pfn, flags), 'daxMkEntry', 0, () => `pfn ${pfn} or flags ${flags} do not fit a 32-bit slot`);
  }

  // ---- trees -------------------------------------------------------------------------

  createTree(): number {
    return this.status(this.x.xaCreateTree(), 'createTree', 0, () => '');
  }

  destroyTree(tree: number): void {
    checkTree('destroyTree', tree);
    this.status(this.x.xaDestroyTree(tree), 'destroyTree', tree, () => '');
  }

  load(tree: number, index: number): number {
    checkTree('load', tree);
    if ((index >>> 0) !== index) throw badIndex('load', 'index', index);
    return this.word(this.x.xaLoad(tree, index), 'load', tree, () => '');
  }

  store(tree: number, index: number, order: number, word: number): number {
    checkTree('store', tree);
    if ((index >>> 0) !== index) throw badIndex('store', 'index', index);
    if ((order >>> 0) !== order) throw new PmemError('EINVAL', `store: ${storeDetail(order, word)}`);
    if ((word >>> 0) !== word) throw new PmemError('EINVAL', `store: entry must be a u32 word, got ${word}`);
    return this.word(this.x.xaStore(tree, index, order, word), 'store', tree, () => storeDetail(order, word));
  }

  erase(tree: number, index: number): number {
    checkTree('erase', tree);
    if ((index >>> 0) !== index) throw badIndex('erase', 'index', index);
    return this.word(this.x.xaErase(tree, index), 'erase', tree, () => '');
  }

  setMark(tree: number, index: number, mark: number): boolean {
    checkTree('setMark', tree);
    if ((index >>> 0) !== index) throw badIndex('setMark', 'index', index);
    checkMark('setMark', mark);
    return this.word(this.x.xaSetMark(tree, index, mark), 'setMark', tree, () => markDetail(mark)) === 1;
  }

  clearMark(tree: number, index: number, mark: number): boolean {
    checkTree('clearMark', tree);
    if ((index >>> 0) !== index) throw badIndex('clearMark', 'index', index);
    checkMark('clearMark', mark);
    return this.word(this.x.xaClearMark(tree, index, mark), 'clearMark', tree, () => markDetail(mark)) === 1;
  }

  getMark(tree: number, index: number, mark: number): boolean {
    checkTree('getMark', tree);
    if ((index >>> 0) !== index) throw badIndex('getMark', 'index', index);
    checkMark('getMark', mark);
    return this.word(this.x.xaGetMark(tree, index, mark), 'getMark', tree, () => markDetail(mark)) === 1;
  }

  private found(r: number, op: string, tree: number, mark: number): FoundEntry | null {
    if (r < 0) {
      if (r === -1) return null;
      throw this.failure(-1 - r, op, tree, () => markDetail(mark));
    }
    return {
      index: r,
      order: this.foundOrder.value as number,
      word: (this.foundWord.value as number) >>> 0,
      marks: this.foundMarks.value as number,
    };
  }

  findMarked(tree: number, start: number, end: number, mark: number): FoundEntry | null {
    checkTree('findMarked', tree);
    checkRange('findMarked', start, end);
    checkMark('findMarked', mark);
    return this.found(this.x.xaFindMarked(tree, start, end, mark), 'findMarked', tree, mark);
  }

  /**
   * The next entry with `mark` after the entry covering `prev`, up to `end`, continuing the
   * walk from that entry's node as xas_for_each_marked does; null when none (see
   * lastStopIndex for where the walk stopped).
   */
  findNextMarked(tree: number, prev: number, end: number, mark: number): FoundEntry | null {
    checkTree('findNextMarked', tree);
    checkRange('findNextMarked', prev, end);
    checkMark('findNextMarked', mark);
    return this.found(this.x.xaFindNextMarked(tree, prev, end, mark), 'findNextMarked', tree, mark);
  }

  /**
   * Where the last findMarked / findPresent that found nothing stopped: the end of the last
   * node it walked off, or the first index past `end` it reached (xas_find_marked's
   * xa_index, which dax_writeback_range_done prints).
   */
  lastStopIndex(): number {
    return (this.x.xaStopIndex as WebAssembly.Global).value as number;
  }

  findPresent(tree: number, start: number, end: number): FoundEntry | null {
    checkTree('findPresent', tree);
    checkRange('findPresent', start, end);
    return this.found(this.x.xaFindPresent(tree, start, end), 'findPresent', tree, 0);
  }

  tagTowrite(tree: number, start: number, end: number): number {
    checkTree('tagTowrite', tree);
    checkRange('tagTowrite', start, end);
    return this.status(this.x.xaTagTowrite(tree, start, end), 'tagTowrite', tree, () => '');
  }

  count(tree: number): number {
    checkTree('count', tree);
    return this.status(this.x.xaCount(tree), 'count', tree, () => '');
  }

  /** Nodes the tree holds. */
  treeNodes(tree: number): number {
    checkTree('treeNodes', tree);
    return this.status(this.x.xaTreeNodes(tree), 'treeNodes', tree, () => '');
  }

  entries(tree: number): TreeEntry[] {
    const list: TreeEntry[] = [];
    let start = 0;
    for (;;) {
      const found = this.findPresent(tree, start, XA_MAX_INDEX);
      if (!found) return list;
      list.push(found);
      start = found.index + 2 ** found.order;
      if (start > XA_MAX_INDEX) return list;
    }
  }

  /** Runs an encoded batch (src/core/batch.ts) through the scratch buffers, in chunks. */
  runBatch(ops: Int32Array): Int32Array {
    const total = Math.floor(ops.length / BATCH_RECORD_WORDS);
    const out = new Int32Array(total * BATCH_RESULT_WORDS);
    const cmdAt = this.x.scratchCommands(this.cpu);
    const resAt = this.x.scratchResults(this.cpu);
    const chunk = Math.min(this.layout.scratchCmdSize / (4 * BATCH_RECORD_WORDS), this.layout.scratchResultSize / (4 * BATCH_RESULT_WORDS));
    for (let done = 0; done < total; done += chunk) {
      const n = Math.min(chunk, total - done);
      this.words();
      this.i32view.set(ops.subarray(done * BATCH_RECORD_WORDS, (done + n) * BATCH_RECORD_WORDS), cmdAt >>> 2);
      this.x.xaRunBatch(cmdAt, n, resAt);
      this.words();
      out.set(this.i32view.subarray(resAt >>> 2, (resAt >>> 2) + n * BATCH_RESULT_WORDS), done * BATCH_RESULT_WORDS);
    }
    return out;
  }

  // ---- checks and introspection -------------------------------------------------------

  /** Verifies every invariant of a tree (and the node heap); throws InvariantError. */
  check(tree: number): void {
    const rc = this.status(this.x.xaCheck(tree), 'check', tree, () => '');
    if (rc !== 0) this.invariantFailure(`tree ${tree}`, rc);
    const heap = this.x.xaCheckHeap();
    if (heap !== 0) this.invariantFailure('node heap', heap);
  }

  private invariantFailure(what: string, code: number): never {
    const node = ((this.x.xaCheckNode as WebAssembly.Global).value as number) >>> 0;
    const slot = (this.x.xaCheckSlot as WebAssembly.Global).value as number;
    throw new InvariantError(`${what}: ${CHECK_MESSAGES[code] ?? `check ${code}`} (node ${hex(node)}, slot ${slot})`);
  }

  /** The tree as text: one line per node and entry, indented by depth (xaDump). */
  dump(tree: number): string {
    const recordWords = (this.x.DUMP_RECORD_WORDS as WebAssembly.Global).value as number;
    const at = this.x.scratchResults(this.cpu);
    const room = Math.floor(this.layout.scratchResultSize / (4 * recordWords));
    const n = this.x.xaDump(tree, at, room);
    if (n === -ERRNO.EBADF) throw this.failure(ERRNO.EBADF, 'dump', tree, () => '');
    const words = this.words();
    const count = n < 0 ? room : n;
    const lines = [`tree ${tree}: ${this.count(tree)} entries, ${this.treeNodes(tree)} nodes`];
    for (let i = 0; i < count; i++) {
      const r = (at >>> 2) + i * recordWords;
      const head = words[r];
      const depth = (head >>> 8) & 0xff;
      const offset = (head >>> 16) & 0xff;
      const pad = '  '.repeat(depth);
      if ((head & 0xff) === 1) {
        const marks = MARK_NAMES.map((name, m) => {
          const bits = BigInt(words[r + 6 + 2 * m]) | (BigInt(words[r + 7 + 2 * m]) << 32n);
          return bits === 0n ? '' : ` ${name}:${hex(bits)}`;
        }).join('');
        lines.push(`${pad}[${offset}] node shift ${words[r + 1]} from ${hex(words[r + 2])} count ${words[r + 3] & 0xff} values ${words[r + 3] >>> 8}${marks}`);
      } else {
        const marks = MARK_NAMES.filter((_, m) => (words[r + 4] >>> m) & 1).join(' ');
        lines.push(`${pad}[${offset}] ${hex(words[r + 2])} order ${words[r + 1]} word ${hex(words[r + 3])}${marks ? ` ${marks}` : ''}`);
      }
    }
    if (n < 0) lines.push(`... (dump cut at ${room} records)`);
    return lines.join('\n');
  }

  /** Heap and tree counters, from the shared header. */
  stats(): CoreStats {
    const words = this.words();
    const h = (name: string): number => words[(this.layout.headerOffset + ((this.x[name] as WebAssembly.Global).value as number)) >>> 2];
    return {
      treesInUse: h('H_TREES_IN_USE'),
      nodesInUse: h('H_NODES_IN_USE'),
      nodesFree: h('H_NODES_FREE'),
      heapBytes: h('H_HEAP_TOP') - this.layout.heapOffset,
      memoryBytes: this.memory.buffer.byteLength,
    };
  }
}

function badIndex(op: string, what: string, value: number): PmemError {
  return new PmemError('EINVAL', `${op}: ${what} must be an integer in [0, ${XA_MAX_INDEX}], got ${value}`);
}

// The host checks that ids, marks and orders are u32 integers: wasm would silently turn
// 1.5 into 1 or NaN into 0. The core checks what only it can (a live tree, mark < 3).
function checkTree(op: string, tree: number): void {
  if ((tree >>> 0) !== tree) throw new PmemError('EBADF', `${op}: tree ${tree} does not exist`);
}

function checkMark(op: string, mark: number): void {
  if ((mark >>> 0) !== mark) throw new PmemError('EINVAL', `${op}: ${markDetail(mark)}`);
}

function checkRange(op: string, start: number, end: number): void {
  if ((start >>> 0) !== start) throw badIndex(op, 'start', start);
  if ((end >>> 0) !== end) throw badIndex(op, 'end', end);
}

function storeDetail(order: number, word: number): string {
  if (order !== 0 && order !== 9) return `order must be 0 or 9, got ${order}`;
  if (xaIsInternal(word)) return `entry ${hex(word)} is an internal word (sibling, node, retry or error), not storable`;
  return `bad arguments (order ${order}, entry ${hex(word)})`;
}

function markDetail(mark: number): string {
  return `mark must be 0 (DIRTY), 1 (WRITEBACK) or 2 (TOWRITE), got ${mark}`;
}

