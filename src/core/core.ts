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
import { ERRNO, PmemError } from '../base/errors.js';
import { XA_MAX_INDEX, xaIsErr, xaIsInternal, xaToErrno } from './entry.js';
import type { FoundEntry, Forest, TreeEntry } from './tree.js';

export type WasmBuild = 'debug' | 'release';

/** The wasm exports, typed (assembly/index.ts is the list). */
interface CoreExports {
  readonly [global: string]: unknown;
  nop(): void;
  layoutInit(mediaBytes: number, undoSlots: number): number;
  layoutAttach(): number;
  scratchCommands(cpu: number): number;
  scratchResults(cpu: number): number;
  scratchData(cpu: number): number;
  costSet(index: number, value: number): void;
  pmInit(seed: number): void;
  pmAttach(): void;
  pmStore(cpu: number, addr: number, src: number, len: number, more: number): number;
  pmLoad(cpu: number, addr: number, dst: number, len: number, more: number): number;
  pmNtStore(cpu: number, addr: number, src: number, len: number, more: number): number;
  pmFlush(cpu: number, kind: number, addr: number, len: number): number;
  pmFence(cpu: number, full: number): number;
  pmFlushClean(cpu: number, kind: number, lines: number): number;
  pmAdvance(cpu: number, ns: number): number;
  pmZeroDurable(cpu: number, addr: number, len: number): number;
  pmFlushDirty(cpu: number, kind: number, addr: number, len: number): number;
  pmNow(cpu: number): number;
  pmCounter(cpu: number, index: number): number;
  pmMediaCounter(index: number): number;
  pmUndoList(dst: number, max: number, fromSlot: number): number;
  pmUndoUsed(): number;
  pmLineState(line: number): number;
  pmRun(cpu: number, ops: number, count: number, data: number): number;
  mediaAllocBlock(): number;
  mediaAllocExtent(): number;
  mediaFree(pfn: number, count: number): number;
  mediaFreeBlocks(): number;
  mediaBlockUsed(pfn: number): number;
  mediaReserve(pfn: number, count: number): number;
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
  xaFindNextMarked(tree: number, prev: number, end: number, mark: number): number;
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
  undoSlots: number;
  scratchDataSize: number;
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
  /** Bytes of media to lay out (a multiple of 2 MiB). */
  mediaBytes?: number;
  /** Undo slots: how many 64-byte lines may be non-durable at once (the emulated cache's dirty room). */
  undoSlots?: number;
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
    module = readFile(new URL(`../../build/${build}.wasm`, import.meta.url)).then(
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
  /** Where pmSnapshot reads, in f64 units (from the core's exported layout). */
  private readonly snapshotMap: {
    cpus: number; perCpu: number; cpusAt: number; cpuStride: number; nowAt: number; countersAt: number; mediaAt: number; media: number;
  };

  private constructor(build: WasmBuild, memory: WebAssembly.Memory, instance: WebAssembly.Instance, cpu: number) {
    this.build = build;
    this.memory = memory;
    this.cpu = cpu;
    this.x = instance.exports as unknown as CoreExports;
    // Layout globals are u32: offsets and sizes past 2 GiB come out of wasm negative.
    const g = (name: string): number => ((this.x[name] as WebAssembly.Global).value as number) >>> 0;
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
      undoSlots: g('UNDO_SLOTS'),
      scratchDataSize: g('SCRATCH_DATA_SIZE'),
      heapOffset: g('HEAP_OFFSET'),
      heapLimit: g('HEAP_LIMIT'),
      nodeSize: g('NODE_SIZE'),
    };
    this.u32view = new Uint32Array(memory.buffer);
    this.i32view = new Int32Array(memory.buffer);
    this.snapshotMap = {
      cpus: this.layout.maxCpus,
      perCpu: 1 + g('CPU_COUNTERS'),
      cpusAt: g('CPUS_OFFSET') / 8,
      cpuStride: g('CPU_STATE_SIZE') / 8,
      nowAt: g('CPU_NOW') / 8,
      countersAt: g('CPU_COUNTERS_OFF') / 8,
      mediaAt: (g('DIMMS_OFFSET') + g('COSTS_COUNTERS')) / 8,
      media: g('MEDIA_COUNTERS'),
    };
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
    const undoSlots = options.undoSlots ?? (mediaBytes === 0 ? 0 : 1024);
    if (!Number.isInteger(undoSlots) || undoSlots < (mediaBytes === 0 ? 0 : 1) || undoSlots > 1 << 26) {
      throw new PmemError('EINVAL', `undoSlots must be an integer in [1, 2^26] when there is media, got ${undoSlots}`);
    }
    const memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
    const instance = await Core.instantiate(build, memory);
    const x = instance.exports as unknown as CoreExports;
    const rc = x.layoutInit(mediaBytes, undoSlots);
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
    x.pmAttach();
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

  // ---- the hardware: media, lines, instructions, costs --------------------------------

  /** Sets the cost parameters (in COST_FIELDS order, then the flags) and resets the hardware. */
  initHardware(params: readonly number[], seed: number): void {
    params.forEach((value, index) => this.x.costSet(index, value));
    this.x.pmInit(seed >>> 0);
  }

  private pm(rc: number, op: string, detail: () => string): void {
    if (rc < 0) throw PmemError.fromErrno(-rc, `${op}: ${detail()}`);
  }

  /** A live view of the media (remade after the memory grows; do not keep it across calls). */
  mediaView(): Uint8Array {
    this.words();
    return new Uint8Array(this.memory.buffer, this.layout.mediaOffset, this.layout.mediaSize);
  }

  /** Copies bytes out of the wasm memory (undo copies for crash images). */
  readMemory(address: number, length: number): Uint8Array {
    this.words();
    return new Uint8Array(this.memory.buffer, address, length).slice();
  }

  /**
   * Checks what the wasm boundary would silently wrap (a CPU of 1.5, an address of 2^32 + 64)
   * and the whole range, before any piece of a split access runs.
   */
  private pmCheck(op: string, cpu: number, addr: number, length: number): void {
    if ((cpu >>> 0) !== cpu || cpu >= this.layout.maxCpus) throw new PmemError('EINVAL', `${op}: cpu must be an integer in [0, ${this.layout.maxCpus - 1}], got ${cpu}`);
    if ((addr >>> 0) !== addr) throw new PmemError('ERANGE', `${op}: address ${addr} is outside the media`);
    if ((length >>> 0) !== length) throw new PmemError('EINVAL', `${op}: length must be a u32 integer, got ${length}`);
    if (addr + length > this.layout.mediaSize) throw new PmemError('ERANGE', `${op}: [${addr}, ${addr + length}) is outside the ${this.layout.mediaSize}-byte media`);
  }

  /**
   * Stores `bytes` at media address `addr` through CPU `cpu`. A store longer than the data
   * buffer goes in pieces, charged and counted as one access.
   */
  pmStore(cpu: number, addr: number, bytes: Uint8Array, nontemporal = false): void {
    const op = nontemporal ? 'ntstore' : 'store';
    this.pmCheck(op, cpu, addr, bytes.length);
    const at = this.x.scratchData(this.cpu);
    const room = this.layout.scratchDataSize;
    let done = 0;
    do {
      const n = Math.min(room, bytes.length - done);
      this.words();
      new Uint8Array(this.memory.buffer, at, n).set(bytes.subarray(done, done + n));
      const more = done > 0 ? 1 : 0;
      const rc = nontemporal ? this.x.pmNtStore(cpu, addr + done, at, n, more) : this.x.pmStore(cpu, addr + done, at, n, more);
      this.pm(rc, op, () => `[${addr}, ${addr + bytes.length}) is outside the media`);
      done += n;
    } while (done < bytes.length);
  }

  /** Loads `length` bytes at media address `addr` through CPU `cpu` (one access, in pieces if long). */
  pmLoad(cpu: number, addr: number, length: number): Uint8Array {
    this.pmCheck('load', cpu, addr, length);
    const out = new Uint8Array(length);
    const at = this.x.scratchData(this.cpu);
    const room = this.layout.scratchDataSize;
    let done = 0;
    do {
      const n = Math.min(room, length - done);
      this.pm(this.x.pmLoad(cpu, addr + done, at, n, done > 0 ? 1 : 0), 'load', () => `[${addr}, ${addr + length}) is outside the media`);
      this.words();
      out.set(new Uint8Array(this.memory.buffer, at, n), done);
      done += n;
    } while (done < length);
    return out;
  }

  /** Flushes the lines of [addr, addr + length): kind 0 clflush, 1 clflushopt, 2 clwb. */
  pmFlush(cpu: number, kind: number, addr: number, length: number): void {
    this.pmCheck('flush', cpu, addr, length);
    if (kind !== 0 && kind !== 1 && kind !== 2) throw new PmemError('EINVAL', `flush: kind must be 0 (clflush), 1 (clflushopt) or 2 (clwb), got ${kind}`);
    this.pm(this.x.pmFlush(cpu, kind, addr, length), 'flush', () => `[${addr}, ${addr + length}) is outside the media`);
  }

  /** Flushes only the dirty lines of [addr, addr + length) (an ideal, line-tracking writeback). */
  pmFlushDirty(cpu: number, kind: number, addr: number, length: number): void {
    this.pmCheck('flush', cpu, addr, length);
    this.pm(this.x.pmFlushDirty(cpu, kind, addr, length), 'flush', () => `flush kind ${kind} is invalid`);
  }

  /** sfence, or mfence when `full`. */
  pmFence(cpu: number, full: boolean): void {
    if ((cpu >>> 0) !== cpu) throw new PmemError('EINVAL', `fence: cpu must be an integer in [0, ${this.layout.maxCpus - 1}], got ${cpu}`);
    this.pm(this.x.pmFence(cpu, full ? 1 : 0), 'fence', () => `cpu ${cpu} does not exist`);
  }

  /** Charges flushes of `lines` clean lines that are not on the media (the kernel's zero page). */
  pmFlushClean(cpu: number, kind: number, lines: number): void {
    this.pm(this.x.pmFlushClean(cpu, kind, lines), 'flush', () => `cpu ${cpu} or flush kind ${kind} is invalid`);
  }

  /** Zeroes [addr, addr + length) as NT stores of zeros and an sfence would, in one pass (fresh blocks). */
  pmZeroDurable(cpu: number, addr: number, length: number): void {
    this.pmCheck('zero', cpu, addr, length);
    this.pm(this.x.pmZeroDurable(cpu, addr, length), 'zero', () => `[${addr}, ${addr + length}) is outside the media`);
  }

  /** Advances CPU `cpu`'s clock by `ns` (kernel work such as a page fault). */
  pmAdvance(cpu: number, ns: number): void {
    this.pm(this.x.pmAdvance(cpu, ns), 'advance', () => `cpu ${cpu} or ${ns} ns is invalid`);
  }

  /** CPU `cpu`'s emulated clock, ns. */
  pmNow(cpu: number): number {
    return this.x.pmNow(cpu);
  }

  /**
   * Every CPU's clock and counters and the shared media counters, read straight from the
   * shared memory in one go: [cpu 0: now, C_* ...], [cpu 1: ...], ..., then the M_* counters.
   */
  pmSnapshot(): Float64Array {
    const { cpus, perCpu, cpusAt, cpuStride, nowAt, countersAt, mediaAt, media } = this.snapshotMap;
    const out = new Float64Array(cpus * perCpu + media);
    this.words();
    const f64 = new Float64Array(this.memory.buffer);
    for (let cpu = 0; cpu < cpus; cpu++) {
      const base = cpusAt + cpu * cpuStride;
      out[cpu * perCpu] = f64[base + nowAt]!;
      out.set(f64.subarray(base + countersAt, base + countersAt + perCpu - 1), cpu * perCpu + 1);
    }
    out.set(f64.subarray(mediaAt, mediaAt + media), cpus * perCpu);
    return out;
  }

  /** Per-CPU counter `index` (assembly/cpu.ts C_*). */
  pmCounter(cpu: number, index: number): number {
    return this.x.pmCounter(cpu, index);
  }

  /** Shared media counter `index` (assembly/cost.ts M_*). */
  pmMediaCounter(index: number): number {
    return this.x.pmMediaCounter(index);
  }

  /** Lines that are not durable now: not counted in any crash image until written back. */
  pmUndoUsed(): number {
    return this.x.pmUndoUsed();
  }

  /** A line's state byte (assembly/lines.ts LINE_*). */
  pmLineState(line: number): number {
    const s = this.x.pmLineState(line);
    if (s < 0) throw new PmemError('EINVAL', `line ${line} is outside the media`);
    return s;
  }

  /** Every non-durable line: its number, the address of its durable copy, its state, the CPU it waits on. */
  pmUndoList(): { line: number; data: number; state: number; cpu: number }[] {
    const out: { line: number; data: number; state: number; cpu: number }[] = [];
    const at = this.x.scratchResults(this.cpu);
    const room = Math.floor(this.layout.scratchResultSize / 16);
    const next = this.x.pmUndoNext as WebAssembly.Global;
    for (let from = 0; from < this.layout.undoSlots; from = next.value as number) {
      const n = this.x.pmUndoList(at, room, from);
      const words = this.words();
      for (let i = 0; i < n; i++) {
        const r = (at >>> 2) + 4 * i;
        out.push({ line: words[r], data: words[r + 1], state: words[r + 2], cpu: words[r + 3] });
      }
    }
    return out;
  }

  /**
   * Runs hardware command records (Uint32 x 4 each) with their data buffer for CPU `cpu`;
   * the data comes back (loaded bytes) unless `readBack` is false.
   */
  pmRun(cpu: number, records: Uint32Array, data: Uint8Array, readBack = true): { failed: number; errno: number } | null {
    const cmdAt = this.x.scratchCommands(this.cpu);
    const dataAt = this.x.scratchData(this.cpu);
    this.words();
    new Uint32Array(this.memory.buffer, cmdAt, records.length).set(records);
    new Uint8Array(this.memory.buffer, dataAt, data.length).set(data);
    const rc = this.x.pmRun(cpu, cmdAt, records.length / 4, dataAt);
    this.words();
    if (rc < 0) return { failed: (this.x.pmRunFailed as WebAssembly.Global).value as number, errno: -rc };
    if (readBack) data.set(new Uint8Array(this.memory.buffer, dataAt, data.length));
    return null;
  }

  /** Allocates a 4 KiB block (`extent` false) or a 2 MiB-aligned 2 MiB extent; its first pfn. */
  allocate(extent: boolean): number {
    const pfn = extent ? this.x.mediaAllocExtent() : this.x.mediaAllocBlock();
    if (pfn < 0) {
      throw new PmemError('ENOSPC', extent ? 'no free 2 MiB-aligned extent is left on the media' : 'the media has no free block left');
    }
    return pfn;
  }

  /** Frees `count` blocks from `pfn`; EINVAL if any is out of range or free already. */
  free(pfn: number, count: number): void {
    if ((pfn >>> 0) !== pfn || (count >>> 0) !== count) throw new PmemError('EINVAL', `free: pfn and count must be u32 integers, got ${pfn}, ${count}`);
    this.pm(this.x.mediaFree(pfn, count), 'free', () => `blocks [${pfn}, ${pfn + count}) are not all allocated media blocks`);
  }

  /** Marks `count` free blocks from `pfn` allocated; EINVAL if any is taken already. */
  reserve(pfn: number, count: number): void {
    if ((pfn >>> 0) !== pfn || (count >>> 0) !== count) throw new PmemError('EINVAL', `reserve: pfn and count must be u32 integers, got ${pfn}, ${count}`);
    this.pm(this.x.mediaReserve(pfn, count), 'reserve', () => `blocks [${pfn}, ${pfn + count}) are not all free media blocks`);
  }

  /** Free 4 KiB blocks left. */
  freeBlocks(): number {
    return this.x.mediaFreeBlocks();
  }

  /** Whether block `pfn` is allocated. */
  blockUsed(pfn: number): boolean {
    const r = this.x.mediaBlockUsed(pfn);
    if (r < 0) throw new PmemError('EINVAL', `pfn ${pfn} is outside the media`);
    return r === 1;
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
