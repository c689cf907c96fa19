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
  mediaOffset: number;
  mediaSize: number;
  linesOffset: number;
  linesSize: number;
  undoSlots: number;
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
    mediaOffset: g('MEDIA_OFFSET'),
    mediaSize: g('MEDIA_SIZE'),
    linesOffset: g('LINES_OFFSET'),
    linesSize: g('LINES_SIZE'),
    undoSlots: g('UNDO_SLOTS'),
    scratchDataSize: g('SCRATCH_DATA_SIZE'),
    heapOffset: g('HEAP_OFFSET'),
    heapLimit: g('HEAP_LIMIT'),
    nodeSize: g('NODE_SIZE'),
    version: g('LAYOUT_VERSION'),
  };
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
}
