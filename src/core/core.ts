/**
 * The host's only door into the wasm core. `Core` is a chain, one link per core concern,
 * each beside its assembly/ twin in name: CoreMemory (layout.ts: the memory map and the
 * views), CoreTrees (xarray.ts: the radix trees), CorePmem (pmem.ts: instructions, clocks,
 * counters, allocator), and this file, which makes or attaches the shared memory and
 * instantiates the module on it (wasm.ts). Nothing else in the host touches wasm exports
 * or `memory.buffer`.
 */
import { PmemError } from '../base/index.js';
import { CorePmem } from './pmem.js';
import { WASM32_MAX_PAGES, defaultBuild, instantiate, type WasmBuild } from './wasm.js';

export interface CoreOptions {
  /** Which wasm build to run; default DAXEMU_WASM or 'release'. */
  build?: WasmBuild;
  /** Bytes of media to lay out (a multiple of 2 MiB). */
  mediaBytes?: number;
  /** Undo slots: how many 64-byte lines may be non-durable at once (the emulated cache's dirty room). */
  undoSlots?: number;
  /** Upper bound on the memory in 64 KiB pages (at most 65536, the wasm32 limit). */
  maximumPages?: number;
  /**
   * The resident budget: bytes of memory the media's touched chunks may take (each 2 MiB of
   * data and 32 KiB of line states; a chunk only loaded from takes its line states alone),
   * rounded up to 64 KiB. Default: every chunk of the media (residentBytesFor).
   */
  residentBytes?: number;
}

const CHUNK_BYTES = 2 << 20;
const CHUNK_STATE_BYTES = CHUNK_BYTES / 64;
const POOL_ALIGN = 65536;

/** The resident budget that gives every chunk of `mediaBytes` its data and line states. */
export function residentBytesFor(mediaBytes: number): number {
  return Math.ceil(((mediaBytes / CHUNK_BYTES) * (CHUNK_BYTES + CHUNK_STATE_BYTES)) / POOL_ALIGN) * POOL_ALIGN;
}

/** What another thread needs to attach to a core (structured-clonable: post it to a worker). */
export interface CoreAttachment {
  readonly build: WasmBuild;
  readonly memory: WebAssembly.Memory;
}

export class Core extends CorePmem {
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
    const resident = options.residentBytes ?? residentBytesFor(mediaBytes);
    if (!Number.isSafeInteger(resident) || resident < 0 || resident > 0xffff0000) {
      throw new PmemError('EINVAL', `residentBytes must be an integer in [0, ${0xffff0000}], got ${resident}`);
    }
    const poolBytes = Math.ceil(resident / POOL_ALIGN) * POOL_ALIGN;
    const memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
    const x = await instantiate(build, memory);
    const rc = x.layoutInit(mediaBytes, undoSlots, poolBytes);
    if (rc < 0) {
      throw PmemError.fromErrno(-rc, `cannot lay out ${mediaBytes} bytes of media with a resident budget of ${poolBytes} bytes in ${maximum} pages of memory`);
    }
    return new Core(build, memory, x, 0);
  }

  /** Instantiates the core on a memory another thread laid out (a worker's view of it). */
  static async attach(memory: WebAssembly.Memory, cpu: number, build: WasmBuild = defaultBuild()): Promise<Core> {
    const x = await instantiate(build, memory);
    if (x.layoutAttach() < 0) throw new PmemError('EINVAL', 'the memory holds no daxemu layout to attach to');
    x.pmAttach();
    const core = new Core(build, memory, x, cpu);
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= core.layout.maxCpus) {
      throw new PmemError('EINVAL', `cpu must be an integer in [0, ${core.layout.maxCpus - 1}], got ${cpu}`);
    }
    // This thread's lock words carry its scratch area's number (assembly/lock.ts).
    x.lockSetThread(cpu);
    return core;
  }

  /** What another thread needs to attach to this core (Core.attachTo). */
  attachment(): CoreAttachment {
    return { build: this.build, memory: this.memory };
  }

  /** Core.attach from what attachment() gave on another thread. */
  static attachTo(attachment: CoreAttachment, cpu: number): Promise<Core> {
    if (!(attachment?.memory instanceof WebAssembly.Memory)) return Promise.reject(new PmemError('EINVAL', 'the attachment holds no shared memory'));
    return Core.attach(attachment.memory, cpu, attachment.build);
  }

  /** The empty call: what one host-to-wasm crossing costs. */
  nop(): void {
    this.x.nop();
  }
}
