/**
 * An emulator shared with worker threads (emu.share()): the owner's side.
 *
 * The model, and where it simplifies the kernel: the wasm core's state (media, line states,
 * undo slots, DIMMs, clocks, counters) is in the shared memory, and every worker runs the
 * hardware's instructions on it directly, in parallel, under the core's lock
 * (assembly/lock.ts). The file system's state (files, block maps, trees, page tables) is
 * the owner's: a worker's fault, msync, truncate or pwrite is a call that the owner runs on
 * the worker's CPU (its clock, its flush queue) while the worker waits. That is a kernel
 * behind one big lock, as Linux 2.0's first SMP kernel was: correct, with the workers' loads, stores,
 * flushes and fences in parallel, and their kernel work one call at a time.
 *
 * Workers cache the translations the owner gave them (a TLB). Every page-table change
 * (src/dax/page-table.ts TlbShootdown) moves the channel's epoch, and waits until no worker
 * is still inside an access through a translation taken before it, as the kernel's TLB
 * shootdown waits for its IPIs: so writeback's write-protect, then flush, cannot miss a
 * store that a worker made through the old, writable translation.
 */
import { PmemError } from '../base/index.js';
import type { CoreAttachment } from '../core/index.js';
import type { Hardware } from '../hw/index.js';
import { type DaxFile, type DaxFileSystem, type FileMapping, type Trace, type Tracepoints } from '../dax/index.js';
import type { ResolvedOptions } from './options.js';
import { CHANNEL_CPUS, ChannelServer, IDLE, SHARE_PROTOCOL, SHOOTDOWN_RING, activeWord, W_CLAIMS, W_EPOCH, W_STATE, channelWords, newChannel, shootdownRing, type Message } from './share-channel.js';

/** What a worker needs to attach (structured-clonable: post it to the worker). */
export interface ShareHandle {
  readonly kind: 'daxemu-share';
  readonly protocol: number;
  /** The core's shared memory and build. */
  readonly core: CoreAttachment;
  readonly channel: SharedArrayBuffer;
  readonly options: ResolvedOptions;
}

/** A file as a worker knows it. */
export interface SharedFileInfo {
  id: number;
  path: string;
  dax: boolean;
}

/** A mapping as a worker knows it; `direct`: a shared DAX mapping, whose pages the worker reaches itself. */
export interface SharedMappingInfo {
  address: number;
  offset: number;
  length: number;
  shared: boolean;
  sync: boolean;
  file: SharedFileInfo;
  direct: boolean;
}

/** What the server needs of the emulator. */
export interface SharedParts {
  hw: Hardware;
  fs: DaxFileSystem;
  tracepoints: Tracepoints;
  options: ResolvedOptions;
  stats(): unknown;
}

/** How long the owner waits for a worker still inside an access before it takes it for stuck. */
const STUCK_MS = 5000;

const FILE_METHODS = new Set(['pread', 'pwrite', 'truncate', 'punchHole', 'fsync', 'fdatasync', 'size']);
const MAPPING_METHODS = new Set(['resolve', 'load', 'store', 'ntstore', 'flush', 'fault', 'msync', 'munmap', 'storeWouldFault']);

export class ShareServer {
  readonly handle: ShareHandle;
  private readonly parts: SharedParts;
  private readonly server: ChannelServer;
  private readonly words: Int32Array;
  private readonly ring: Float64Array;
  private readonly files = new Map<number, DaxFile>();
  private readonly fileIds = new Map<DaxFile, number>();
  private readonly traces = new Map<number, Trace>();
  private nextId = 1;
  /** The CPU whose request runs now (its worker waits, outside any access). */
  private serving = -1;

  constructor(parts: SharedParts) {
    this.parts = parts;
    const cpus = parts.hw.core.layout.maxCpus;
    if (cpus > CHANNEL_CPUS) throw new PmemError('EINVAL', `share: the core has ${cpus} CPUs, the channel room for ${CHANNEL_CPUS}`);
    const channel = newChannel();
    this.words = channelWords(channel);
    this.ring = shootdownRing(channel);
    this.server = new ChannelServer(channel, (cpu, op, args, bin) => this.run(cpu, op, args, bin));
    const core = parts.hw.core;
    this.handle = Object.freeze({ kind: 'daxemu-share', protocol: SHARE_PROTOCOL, core: core.attachment(), channel, options: parts.options });
    parts.hw.claims = (cpu) => (Atomics.load(this.words, W_CLAIMS) & (1 << cpu)) !== 0;
    parts.fs.host.tlb.listener = (first, pages) => this.shootdown(first, pages);
    this.server.start();
  }

  get active(): boolean {
    return this.server.serving;
  }

  /** Starts answering again after stop(). */
  start(): void {
    this.server.start();
  }

  /** Stops answering: workers' calls to the file system fail with EINVAL; their instructions go on. */
  stop(): void {
    this.server.stop();
  }

  /** CPUs that workers have attached. */
  attachedCpus(): number[] {
    const claims = Atomics.load(this.words, W_CLAIMS);
    return [...Array(CHANNEL_CPUS).keys()].filter((cpu) => (claims & (1 << cpu)) !== 0);
  }

  /**
   * The worker on `cpu` is gone (its thread exited or was terminated): its CPU is free
   * again, the owner stops waiting for it, and a core lock it held is taken from it (the
   * next taker's call fails once with EDEADLK).
   */
  workerExited(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 1 || cpu >= CHANNEL_CPUS) throw new PmemError('EINVAL', `workerExited: cpu must be an integer in [1, ${CHANNEL_CPUS - 1}], got ${String(cpu)}`);
    this.parts.hw.core.markThreadDead(cpu);
    Atomics.store(this.words, activeWord(cpu), 0);
    Atomics.store(this.words, W_STATE + cpu, IDLE);
    Atomics.and(this.words, W_CLAIMS, ~(1 << cpu));
  }

  /**
   * Announces that virtual pages [first, first + pages) changed: the next epoch, with the
   * range in the ring, then waits until no other worker is inside an access through a
   * translation older than it.
   */
  private shootdown(first: number, pages: number): void {
    const claims = Atomics.load(this.words, W_CLAIMS);
    if (claims === 0) return;
    // Only this thread moves the epoch: the ring slot is written before the epoch names it.
    const epoch = Atomics.load(this.words, W_EPOCH) + 1;
    const slot = (epoch % SHOOTDOWN_RING) * 2;
    this.ring[slot] = first;
    this.ring[slot + 1] = pages;
    Atomics.store(this.words, W_EPOCH, epoch);
    for (let cpu = 1; cpu < CHANNEL_CPUS; cpu++) {
      if ((claims & (1 << cpu)) === 0 || cpu === this.serving) continue;
      const since = performance.now();
      for (let spins = 1; Atomics.load(this.words, activeWord(cpu)) === 1; spins++) {
        // A worker that died inside an access, or stopped there for seconds, is not waited for.
        if (spins % 4096 === 0 && performance.now() - since > STUCK_MS) break;
      }
    }
  }

  private fileInfo(file: DaxFile): SharedFileInfo {
    let id = this.fileIds.get(file);
    if (id === undefined) {
      id = this.nextId++;
      this.fileIds.set(file, id);
      this.files.set(id, file);
    }
    return { id, path: file.path, dax: file.dax };
  }

  private mappingInfo(m: FileMapping): SharedMappingInfo {
    return { address: m.address, offset: m.offset, length: m.length, shared: m.shared, sync: m.sync, file: this.fileInfo(m.file), direct: m.shared && m.file.dax };
  }

  private file(id: unknown): DaxFile {
    const f = this.files.get(id as number);
    if (!f) throw new PmemError('EBADF', `no file with id ${String(id)} was handed to a worker`);
    return f;
  }

  private mapping(address: unknown): FileMapping {
    const m = typeof address === 'number' ? this.parts.fs.mappingAt(address) : undefined;
    if (!m || m.address !== address) throw new PmemError('EINVAL', `no mapping starts at address ${String(address)} (it was unmapped, or never made)`);
    return m;
  }

  /** Runs one worker's request on its CPU. */
  private run(cpu: number, op: string, args: unknown[], bin: Uint8Array | undefined): Message {
    const hw = this.parts.hw;
    const saved = hw.cpu;
    hw.switchCpu(cpu);
    this.serving = cpu;
    try {
      return this.dispatch(op, args, bin);
    } finally {
      this.serving = -1;
      hw.switchCpu(saved);
    }
  }

  private dispatch(op: string, args: unknown[], bin: Uint8Array | undefined): Message {
    const { fs } = this.parts;
    const a = args as never[];
    switch (op) {
      case 'createFile':
        return { value: this.fileInfo(fs.createFile(a[0], a[1])) };
      case 'open':
        return { value: this.fileInfo(fs.open(a[0])) };
      case 'unlink':
        return { value: fs.unlink(a[0]) };
      case 'mmap':
        return { value: this.mappingInfo(fs.mmap(this.file(a[0]), a[1])) };
      case 'mappingAt': {
        const m = fs.mappingAt(a[0]);
        if (!m) throw new PmemError('EINVAL', `mappingAt: no mapping covers address ${String(a[0])}`);
        return { value: this.mappingInfo(m) };
      }
      case 'file':
        return this.fileCall(this.file(a[0]), a[1], a.slice(2), bin);
      case 'mapping':
        return this.mappingCall(this.mapping(a[0]), a[1], a.slice(2), bin);
      case 'msync':
        return { value: fs.msync(a[0], a[1], a[2]) };
      case 'sync':
        return { value: fs.sync() };
      case 'stats':
        return { value: this.parts.stats() };
      case 'checkInvariants':
        return { value: fs.checkInvariants() };
      case 'startTrace': {
        const id = this.nextId++;
        this.traces.set(id, this.parts.tracepoints.start());
        return { value: id };
      }
      case 'stopTrace': {
        const trace = this.traces.get(a[0]);
        if (!trace) throw new PmemError('EINVAL', `stopTrace: no trace ${String(a[0])}`);
        this.traces.delete(a[0]);
        return { value: trace.stop() };
      }
      default:
        throw new PmemError('EINVAL', `no call named ${op}`);
    }
  }

  private fileCall(f: DaxFile, method: string, args: never[], bin: Uint8Array | undefined): Message {
    if (!FILE_METHODS.has(method)) throw new PmemError('EINVAL', `no file call named ${method}`);
    if (method === 'size') return { value: f.size };
    if (method === 'pread') return { value: null, bin: f.pread(args[0], args[1]) };
    if (method === 'pwrite') return { value: f.pwrite(args[0], bin ?? new Uint8Array(0)) };
    return { value: (f[method as 'truncate'] as (...x: never[]) => unknown)(...args) };
  }

  private mappingCall(m: FileMapping, method: string, args: never[], bin: Uint8Array | undefined): Message {
    if (!MAPPING_METHODS.has(method)) throw new PmemError('EINVAL', `no mapping call named ${method}`);
    switch (method) {
      case 'resolve':
        // The epoch read after the fault's own shootdowns: the worker keeps the translation only if it has not moved since.
        return { value: { ...m.resolve(args[0], args[1]), epoch: Atomics.load(this.words, W_EPOCH) } };
      case 'load':
        return { value: null, bin: m.load(args[0], args[1]) };
      case 'store':
      case 'ntstore':
        m[method](args[0], bin ?? new Uint8Array(0));
        return { value: null };
      default:
        return { value: (m[method as 'msync'] as (...x: never[]) => unknown)(...args) };
    }
  }
}
