/**
 * The host's twin of assembly/layout.ts: the memory map as the core exports it, and the
 * typed-array views over the shared memory that the other core files read and write
 * through. CoreMemory is the base of the Core class chain (layout, then xarray.ts, then
 * pmem.ts, then core.ts): only this chain touches the wasm exports and `memory.buffer`.
 */
import { PmemError } from '../base/index.js';
import type { CoreExports, WasmBuild } from './wasm.js';

/** The memory map as the core exports it (assembly/layout.ts). */
export interface CoreLayout {
  headerOffset: number;
  treesOffset: number;
  maxTrees: number;
  scratchOffset: number;
  scratchCmdSize: number;
  scratchResultSize: number;
  maxCpus: number;
  /** Bytes of media: the device's size. */
  mediaSize: number;
  /** Lines of the media: the bytes of line state if every chunk had memory. */
  linesSize: number;
  /** The sparse media's chunk size (2 MiB) and tables: a data and a line-state address per chunk. */
  chunkBytes: number;
  tablesOffset: number;
  undoOffset: number;
  undoSlots: number;
  /** The zero chunk, which every chunk without memory of its own reads. */
  zeroOffset: number;
  /** The chunk pool: the memory the touched chunks take, the resident budget. */
  poolOffset: number;
  poolSize: number;
  scratchDataSize: number;
  heapOffset: number;
  heapLimit: number;
  nodeSize: number;
  /** The memory map's version (assembly/layout.ts LAYOUT_VERSION): pool files record it. */
  version: number;
}

/** A layout global: u32 in the core, so offsets and sizes past 2 GiB come out of wasm negative. */
export function layoutGlobal(x: CoreExports, name: string): number {
  return ((x[name] as WebAssembly.Global).value as number) >>> 0;
}

function readLayout(x: CoreExports): CoreLayout {
  const g = (name: string): number => layoutGlobal(x, name);
  return {
    headerOffset: g('HEADER_OFFSET'),
    treesOffset: g('TREES_OFFSET'),
    maxTrees: g('MAX_TREES'),
    scratchOffset: g('SCRATCH_OFFSET'),
    scratchCmdSize: g('SCRATCH_CMD_SIZE'),
    scratchResultSize: g('SCRATCH_RESULT_SIZE'),
    maxCpus: g('MAX_CPUS'),
    mediaSize: g('MEDIA_SIZE'),
    linesSize: g('LINES_SIZE'),
    chunkBytes: 2 ** g('CHUNK_SHIFT'),
    tablesOffset: g('TABLES_OFFSET'),
    undoOffset: g('UNDO_OFFSET'),
    undoSlots: g('UNDO_SLOTS'),
    zeroOffset: g('ZERO_OFFSET'),
    poolOffset: g('POOL_OFFSET'),
    poolSize: g('POOL_SIZE'),
    scratchDataSize: g('SCRATCH_DATA_SIZE'),
    heapOffset: g('HEAP_OFFSET'),
    heapLimit: g('HEAP_LIMIT'),
    nodeSize: g('NODE_SIZE'),
    version: g('LAYOUT_VERSION'),
  };
}

/** Whether every byte of `bytes` is 0. */
function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The error of every call on a released core, naming `what` the caller released. */
function releasedError(what: string): PmemError {
  return new PmemError('EBADF', `${what} was disposed: its memory is released and it can no longer be used`);
}

/** Exports that refuse every use: what a released core calls instead of the instance. */
function releasedExports(what: string): CoreExports {
  return new Proxy({} as CoreExports, {
    get: () => {
      throw releasedError(what);
    },
  });
}

/** The instance, its memory and the views over it. */
export class CoreMemory {
  readonly build: WasmBuild;
  readonly layout: CoreLayout;
  /** Which scratch area (command and result buffers) this thread uses. */
  readonly cpu: number;
  protected x: CoreExports;
  private u32view: Uint32Array;
  protected i32view: Int32Array;
  private u8view: Uint8Array;
  private liveMemory: WebAssembly.Memory | null;
  private releasedAs: string | null = null;

  protected constructor(build: WasmBuild, memory: WebAssembly.Memory, x: CoreExports, cpu: number) {
    this.build = build;
    this.liveMemory = memory;
    this.cpu = cpu;
    this.x = x;
    this.layout = readLayout(x);
    this.u32view = new Uint32Array(memory.buffer);
    this.i32view = new Int32Array(memory.buffer);
    this.u8view = new Uint8Array(this.u32view.buffer);
  }

  /** The shared memory (EBADF once released). */
  get memory(): WebAssembly.Memory {
    this.checkLive();
    return this.liveMemory!;
  }

  /** Throws the EBADF of a released core; nothing while it is live. */
  checkLive(): void {
    if (this.liveMemory === null) throw releasedError(this.releasedAs ?? 'the core');
  }

  /** Whether release() was called. */
  get released(): boolean {
    return this.liveMemory === null;
  }

  /**
   * Drops the instance, the memory and every view of it, so that nothing here keeps them
   * reachable and the garbage collector can return them; from then on every call is a
   * PmemError EBADF saying that `what` was disposed. Releasing twice does nothing.
   */
  release(what: string): void {
    if (this.liveMemory === null) return;
    this.releasedAs = what;
    this.liveMemory = null;
    this.x = releasedExports(what);
    this.u32view = new Uint32Array(0);
    this.i32view = new Int32Array(0);
    this.u8view = new Uint8Array(0);
  }

  /** Views of the whole memory, remade when the memory has grown. */
  protected words(): Uint32Array {
    if (this.u32view.byteLength !== this.memory.buffer.byteLength) {
      this.u32view = new Uint32Array(this.memory.buffer);
      this.i32view = new Int32Array(this.memory.buffer);
      this.u8view = new Uint8Array(this.u32view.buffer);
    }
    return this.u32view;
  }

  /** A byte view of the whole memory, remade after it grows (do not keep it across calls). */
  protected bytes(): Uint8Array {
    this.words();
    return this.u8view;
  }

  /**
   * A live view of chunk `chunk`'s 2 MiB of data, or null when it has none of its own (it
   * reads as zeros) and `write` is false; with `write` it is given memory first (ENOMEM when
   * the resident budget is spent). Remade after the memory grows: do not keep it across calls.
   */
  mediaChunk(chunk: number, write: boolean): Uint8Array | null {
    if (!write && this.x.mediaChunkResident(chunk) !== 1) return null;
    const at = this.x.mediaChunkData(chunk, write ? 1 : 0);
    if (at < 0) throw PmemError.fromErrno(-at, `media chunk ${chunk}: ${this.budgetSpent()}`);
    if (at === 0) throw new PmemError('ERANGE', `media chunk ${chunk} is outside the ${this.layout.mediaSize}-byte media`);
    this.words();
    return new Uint8Array(this.memory.buffer, at, this.layout.chunkBytes);
  }

  /** Why a chunk could not have memory: the budget, named, and what holds it. */
  protected budgetSpent(): string {
    const { poolSize } = this.layout;
    return `the media's touched chunks need more memory than the resident budget of ${poolSize} bytes (${(poolSize / 2 ** 20).toFixed(1)} MiB, the residentBytes option) holds: ${this.x.mediaDataChunks()} chunks hold data, ${this.x.mediaStateChunks()} line states, ${this.x.mediaPoolUsed()} bytes in all; nothing was done`;
  }

  /** Each chunk with data of its own, in media order, as its media offset and a live view (do not keep it past the next core call). */
  *mediaChunks(): Generator<{ offset: number; bytes: Uint8Array }> {
    const size = this.layout.chunkBytes;
    for (let c = 0; c * size < this.layout.mediaSize; c++) {
      const bytes = this.mediaChunk(c, false);
      if (bytes) yield { offset: c * size, bytes };
    }
  }

  /** A copy of [offset, offset + length) of the media; chunks without data read as zeros. */
  readMedia(offset: number, length: number): Uint8Array {
    this.checkMediaRange('readMedia', offset, length);
    const out = new Uint8Array(length);
    this.eachPiece(offset, length, (chunk, at, n, done) => {
      const bytes = this.mediaChunk(chunk, false);
      if (bytes) out.set(bytes.subarray(at, at + n), done);
    });
    return out;
  }

  /**
   * Writes `bytes` at media offset `offset`, past the cost model and the line states (crash
   * images, pools). A piece of zeros on a chunk without data is skipped: it reads as zeros
   * already. Every chunk that needs memory gets it before any byte is written, so ENOMEM
   * (the resident budget) leaves the media as it was.
   */
  writeMedia(offset: number, bytes: Uint8Array): void {
    this.checkMediaRange('writeMedia', offset, bytes.length);
    const wanted: number[] = [];
    this.eachPiece(offset, bytes.length, (chunk, _at, n, done) => {
      if (this.x.mediaChunkResident(chunk) !== 1 && !isZero(bytes.subarray(done, done + n))) wanted.push(chunk);
    });
    for (const chunk of wanted) this.mediaChunk(chunk, true);
    this.eachPiece(offset, bytes.length, (chunk, at, n, done) => {
      this.mediaChunk(chunk, false)?.set(bytes.subarray(done, done + n), at);
    });
  }

  /** A copy of the whole media (tests of small devices: it takes the device's size in memory). */
  mediaView(): Uint8Array {
    return this.readMedia(0, this.layout.mediaSize);
  }

  /** Media chunks with data of their own, chunks with line states, and the pool bytes they take (of poolSize). */
  residency(): { dataChunks: number; stateChunks: number; poolUsed: number; poolSize: number } {
    return { dataChunks: this.x.mediaDataChunks(), stateChunks: this.x.mediaStateChunks(), poolUsed: this.x.mediaPoolUsed(), poolSize: this.layout.poolSize };
  }

  private checkMediaRange(op: string, offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.layout.mediaSize) {
      throw new PmemError('ERANGE', `${op}: [${offset}, ${offset + length}) is outside the ${this.layout.mediaSize}-byte media`);
    }
  }

  /** Calls `piece` for each chunk's part of [offset, offset + length): the chunk, the offset in it, the length, the bytes before it. */
  private eachPiece(offset: number, length: number, piece: (chunk: number, at: number, n: number, done: number) => void): void {
    const size = this.layout.chunkBytes;
    for (let done = 0; done < length; ) {
      const pos = offset + done;
      const at = pos % size;
      const n = Math.min(length - done, size - at);
      piece(Math.floor(pos / size), at, n, done);
      done += n;
    }
  }

  /** Copies bytes out of the wasm memory (undo copies for crash images). */
  readMemory(address: number, length: number): Uint8Array {
    this.words();
    return new Uint8Array(this.memory.buffer, address, length).slice();
  }
}
