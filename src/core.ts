/**
 * The host's only door into the wasm core: it compiles and instantiates the module on a
 * shared WebAssembly.Memory, reads the memory map from the core's exported globals, and
 * turns the core's error words into PmemErrors. Nothing else in the host touches wasm
 * exports or `memory.buffer`.
 *
 * Two builds exist (asconfig.json): `release` (optimised, no asserts) and `debug` (asserts
 * on, names kept). Tests run both; DAXEMU_WASM=debug selects the debug build by default.
 */
import { readFile } from 'node:fs/promises';
import { BATCH_RECORD_WORDS, BATCH_RESULT_WORDS } from './batch.js';
import { ERRNO, PmemError } from './errors.js';
import { XA_MAX_INDEX, xaIsErr, xaIsInternal, xaToErrno } from './entry.js';
import type { FoundEntry, Forest, TreeEntry } from './tree.js';

export type WasmBuild = 'debug' | 'release';

/** The wasm exports, typed (assembly/index.ts is the list). */
interface CoreExports {
  readonly [global: string]: unknown;
  nop(): void;
  layoutInit(mediaBytes: number, linesBytes: number): number;
  layoutAttach(): number;
  scratchCommands(cpu: number): number;
  scratchResults(cpu: number): number;
  daxMkEntry(pfn: number, flags: number): number;
  xaCreateTree(): number;
  xaDestroyTree(tree: number): number;
  xaLoad(tree: number, index: number): number;
  xaStore(tree: number, index: number, order: number, entry: number): number;
  xaErase(tree: number, index: number): number;
  xaSetMark(tree: number, index: number, mark: number): number;
  xaClearMark(tree: number, index: number, mark: number): number;
  xaGetMark(tree: number, index: number, mark: number): number;
  xaFindMarked(tree: number, start: number, end: number, mark: number): number;
  xaFindPresent(tree: number, start: number, end: number): number;
  xaTagTowrite(tree: number, start: number, end: number): number;
  xaCount(tree: number): number;
  xaTreeNodes(tree: number): number;
  xaRunBatch(ops: number, count: number, results: number): number;
  xaCheck(tree: number): number;
  xaCheckHeap(): number;
  xaDump(tree: number, dst: number, maxRecords: number): number;
}

/** The memory map as the core exports it (assembly/layout.ts). */
export interface CoreLayout {
  headerOffset: number;
  treesOffset: number;
  maxTrees: number;
  scratchOffset: number;
  scratchCmdSize: number;
  scratchResultSize: number;
  maxCpus: number;
  mediaOffset: number;
  mediaSize: number;
  linesOffset: number;
  linesSize: number;
  heapOffset: number;
  heapLimit: number;
  nodeSize: number;
}

/** Heap and tree counters read from the shared header. */
export interface CoreStats {
  treesInUse: number;
  nodesInUse: number;
  nodesFree: number;
  heapBytes: number;
  memoryBytes: number;
}

export interface CoreOptions {
  /** Which wasm build to run; default DAXEMU_WASM or 'release'. */
  build?: WasmBuild;
  /** Bytes of media to lay out (a multiple of 2 MiB); the hardware issue fills it. */
  mediaBytes?: number;
  /** Upper bound on the memory in 64 KiB pages (at most 65536, the wasm32 limit). */
  maximumPages?: number;
}

const WASM32_MAX_PAGES = 65536;
const modules = new Map<WasmBuild, Promise<WebAssembly.Module>>();

function defaultBuild(): WasmBuild {
  return process.env.DAXEMU_WASM === 'debug' ? 'debug' : 'release';
}

/** Compiles a build once per process. */
function compileBuild(build: WasmBuild): Promise<WebAssembly.Module> {
  let module = modules.get(build);
  if (!module) {
    module = readFile(new URL(`../build/${build}.wasm`, import.meta.url)).then(
      (bytes) => WebAssembly.compile(bytes),
      (err: NodeJS.ErrnoException) => {
        throw new Error(`daxemu: build/${build}.wasm is missing (${err.code}); run "npm run asbuild" first`);
      },
    );
    modules.set(build, module);
  }
  return module;
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

export class Core implements Forest {
  readonly build: WasmBuild;
  readonly memory: WebAssembly.Memory;
  readonly layout: CoreLayout;
  /** Which scratch area (command and result buffers) this thread uses. */
  readonly cpu: number;
  private readonly x: CoreExports;
  private readonly foundWord: WebAssembly.Global;
  private readonly foundOrder: WebAssembly.Global;
  private readonly foundMarks: WebAssembly.Global;
  private u32view: Uint32Array;
  private i32view: Int32Array;

  private constructor(build: WasmBuild, memory: WebAssembly.Memory, instance: WebAssembly.Instance, cpu: number) {
    this.build = build;
    this.memory = memory;
    this.cpu = cpu;
    this.x = instance.exports as unknown as CoreExports;
    const g = (name: string): number => (this.x[name] as WebAssembly.Global).value as number;
    this.foundWord = this.x.xaFoundWord as WebAssembly.Global;
    this.foundOrder = this.x.xaFoundOrder as WebAssembly.Global;
    this.foundMarks = this.x.xaFoundMarks as WebAssembly.Global;
    this.layout = {
      headerOffset: g('HEADER_OFFSET'),
      treesOffset: g('TREES_OFFSET'),
      maxTrees: g('MAX_TREES'),
      scratchOffset: g('SCRATCH_OFFSET'),
      scratchCmdSize: g('SCRATCH_CMD_SIZE'),
      scratchResultSize: g('SCRATCH_RESULT_SIZE'),
      maxCpus: g('MAX_CPUS'),
      mediaOffset: g('MEDIA_OFFSET'),
      mediaSize: g('MEDIA_SIZE'),
      linesOffset: g('LINES_OFFSET'),
      linesSize: g('LINES_SIZE'),
      heapOffset: g('HEAP_OFFSET'),
      heapLimit: g('HEAP_LIMIT') >>> 0,
      nodeSize: g('NODE_SIZE'),
    };
    this.u32view = new Uint32Array(memory.buffer);
    this.i32view = new Int32Array(memory.buffer);
  }

  /** Creates a fresh shared memory, lays it out and instantiates the core on it. */
  static async create(options: CoreOptions = {}): Promise<Core> {
    const build = options.build ?? defaultBuild();
    const maximum = options.maximumPages ?? WASM32_MAX_PAGES;
    if (!Number.isInteger(maximum) || maximum < 1 || maximum > WASM32_MAX_PAGES) {
      throw new PmemError('EINVAL', `maximumPages must be an integer in [1, ${WASM32_MAX_PAGES}], got ${maximum}`);
    }
    const mediaBytes = options.mediaBytes ?? 0;
    if (!Number.isInteger(mediaBytes) || mediaBytes < 0 || mediaBytes % (2 << 20) !== 0 || mediaBytes > 0xffe00000) {
      throw new PmemError('EINVAL', `mediaBytes must be a multiple of 2 MiB below 4 GiB, got ${mediaBytes}`);
    }
    const memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
    const instance = await Core.instantiate(build, memory);
    const x = instance.exports as unknown as CoreExports;
    const rc = x.layoutInit(mediaBytes, 0);
    if (rc < 0) {
      throw PmemError.fromErrno(-rc, `cannot lay out ${mediaBytes} bytes of media in ${maximum} pages of memory`);
    }
    return new Core(build, memory, instance, 0);
  }

  /** Instantiates the core on a memory another thread laid out (a worker's view of it). */
  static async attach(memory: WebAssembly.Memory, cpu: number, build: WasmBuild = defaultBuild()): Promise<Core> {
    const instance = await Core.instantiate(build, memory);
    const x = instance.exports as unknown as CoreExports;
    if (x.layoutAttach() < 0) throw new PmemError('EINVAL', 'the memory holds no daxemu layout to attach to');
    const core = new Core(build, memory, instance, cpu);
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= core.layout.maxCpus) {
      throw new PmemError('EINVAL', `cpu must be an integer in [0, ${core.layout.maxCpus - 1}], got ${cpu}`);
    }
    return core;
  }

  private static async instantiate(build: WasmBuild, memory: WebAssembly.Memory): Promise<WebAssembly.Instance> {
    const module = await compileBuild(build);
    let instance: WebAssembly.Instance | undefined;
    const abort = (msg: number, file: number, line: number, col: number): never => {
      throw new Error(`daxemu core (${build}) aborted at ${readAsString(memory, file)}:${line}:${col}: ${readAsString(memory, msg)}`);
    };
    instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
    return instance;
  }

  /** The empty call: what one host-to-wasm crossing costs. */
  nop(): void {
    this.x.nop();
  }

  /** Views of the whole memory, remade when the memory has grown. */
  private words(): Uint32Array {
    if (this.u32view.byteLength !== this.memory.buffer.byteLength) {
      this.u32view = new Uint32Array(this.memory.buffer);
      this.i32view = new Int32Array(this.memory.buffer);
    }
    return this.u32view;
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

  /** The core's own dax_make_entry, so tests can hold it equal to src/entry.ts. */
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

  /** Runs an encoded batch (src/batch.ts) through the scratch buffers, in chunks. */
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

/** Reads an AssemblyScript string (UTF-16, length before it) for abort messages. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint8Array(memory.buffer);
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1;
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(bytes[ptr + 2 * i] | (bytes[ptr + 2 * i + 1] << 8));
  return s;
}
