/**
 * The emulator: the public API over one shared-memory core. It is a façade over parts that
 * each own one concern:
 *   hardware     src/hw/hardware.ts     the core, the current CPU, fences, clocks, counters,
 *                                       device mappings, the command buffer, media crash images
 *   file system  src/dax/filesystem.ts  files, mappings, faults, writeback, reclaim, invariants
 *   traces       src/dax/trace.ts       the running fs_dax traces
 *   concurrency  src/dax/concurrency.ts fsyncs, stores and lock holders as interleaved tasks
 * Options are resolved once (src/emulator/options.ts) and every part is made from them here.
 */
import { checkInteger, DISPOSE, PmemError } from '../base/index.js';
import { Core } from '../core/index.js';
import { checkCrashMode, CommandBuilder, coreCostParams, durableChunks, Hardware, type CostModel, type CrashMode, type DeviceMapping, type EmulatorStats, type RunResult } from '../hw/index.js';
import {
  DaxFileSystem, kernelRules, resolveBugs, resolveFixes, runTasks, Tracepoints, type Allocate, type ConcurrentTask, type DaxCounters, type DaxFile, type DurableFile, type FileMapping, type Trace,
  type WaitEvent, type WritebackReport,
} from '../dax/index.js';
import { coreOptionsFor, FLUSH_KINDS, optionsLike, resolveOptions, type EmulatorOptions, type ResolvedOptions } from './options.js';
import { POOL_CHUNK_BYTES, type PoolSaveReport } from './pool-format.js';
import { poolWriter, preloadPoolWriter } from './pool-loader.js';
import { ShareServer, type ShareHandle } from './share-server.js';

/** Creates an emulator: lays out a shared memory, instantiates the core, sets the costs. */
export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const resolved = resolveOptions(options);
  const core = await Core.create(coreOptionsFor(resolved));
  await preloadPoolWriter(); // Node only: so that save() has the writer at hand
  core.initHardware(coreCostParams(resolved.cost), resolved.seed);
  return new Emulator(core, resolved);
}

export class Emulator {
  readonly options: Readonly<ResolvedOptions>;
  private readonly machine: Hardware;
  private readonly files: DaxFileSystem;
  private readonly tracepoints = new Tracepoints();
  private sharing: ShareServer | null = null;
  /** What dispose() calls this emulator in the EBADF of later calls. */
  private kind = 'this emulator';

  constructor(core: Core, options: ResolvedOptions) {
    this.options = Object.freeze({ ...options });
    this.machine = new Hardware(core);
    this.files = new DaxFileSystem(
      this.machine,
      { rules: kernelRules(options.kernel), fixes: resolveFixes(options.kernel, options.fixes).fixes, bugs: resolveBugs(options.kernel, options.bugs).bugs, flushKind: FLUSH_KINDS.indexOf(options.flush), dirtyLinesOnly: options.writeback === 'dirty-lines' },
      this.tracepoints,
    );
  }

  /** The hardware, and below, the file system: every call goes through one of them, which refuse once disposed. */
  private get hw(): Hardware {
    this.live();
    return this.machine;
  }

  private get fs(): DaxFileSystem {
    this.live();
    return this.files;
  }

  /** EBADF once disposed, for the calls that would not reach the core (whose exports say the same). */
  private live(): void {
    this.machine.core.checkLive();
  }

  // ---- disposal --------------------------------------------------------------------------

  /**
   * Releases the emulator's memory, a crash image's above all: the core drops its wasm
   * instance and shared memory (the media, the trees, the undo copies), so that the garbage
   * collector can return them even while the image's files and mappings are still held.
   * Every later call on the emulator, its files, its mappings and its device mappings is a
   * PmemError EBADF saying that it was disposed. Disposing twice does nothing; the emulator
   * a crash image came from is not touched. `using image = await emu.crash()` disposes at
   * the end of the block.
   */
  dispose(): void {
    this.sharing?.stop(); // workers' calls then fail with EINVAL, not on a released core
    this.machine.core.release(this.kind);
  }

  /** dispose(), for `using`. */
  [DISPOSE](): void {
    this.dispose();
  }

  /** Whether dispose() was called. */
  get disposed(): boolean {
    return this.machine.core.released;
  }

  /** The core this emulator runs on (the host's door into the wasm). */
  get core(): Core {
    return this.hw.core;
  }

  get capacity(): number {
    this.live();
    return this.options.capacity;
  }

  get cost(): CostModel {
    this.live();
    return this.options.cost;
  }

  /** The emulated CPU that later calls run on (its clock, flush queue and fences). */
  get cpu(): number {
    return this.hw.cpu;
  }

  set cpu(cpu: number) {
    this.hw.cpu = cpu;
  }

  // ---- the hardware ----------------------------------------------------------------------

  /** Maps [offset, offset + length) of the media directly (device-dax); 4 KiB aligned. */
  mmapDevice(options: { offset?: number; length?: number } = {}): DeviceMapping {
    return this.hw.mmapDevice(options);
  }

  /** sfence on the current CPU: waits for its write-backs and NT lines, which become durable. */
  sfence(): void {
    this.hw.fence(false);
  }

  /** mfence on the current CPU (the same for persistence, dearer). */
  mfence(): void {
    this.hw.fence(true);
  }

  /** The current CPU's emulated clock, ns. */
  now(): number {
    return this.hw.now();
  }

  /** Every counter (src/hw/stats.ts), and the DAX layer's under `dax`. */
  stats(): EmulatorStats & { dax: DaxCounters & { nrpages: number; nrexceptional: number; pageCachePages: number } } {
    return { ...this.hw.stats(), dax: this.fs.stats() };
  }

  /** A builder of encoded operations for run(). */
  commands(): CommandBuilder {
    return new CommandBuilder();
  }

  /**
   * Runs a command buffer on the current CPU, in as few wasm calls as the scratch buffers
   * allow. Every record is checked first: a bad one fails the call and runs nothing.
   */
  run(commands: CommandBuilder): RunResult {
    return this.hw.run(commands);
  }

  /** Allocates a 4 KiB block or, with `extent`, a 2 MiB-aligned 2 MiB extent; its first pfn (ENOSPC when none). */
  allocate(extent = false): number {
    if (typeof extent !== 'boolean') throw new PmemError('EINVAL', `allocate: extent must be a boolean, got ${String(extent)}`);
    return this.core.allocate(extent);
  }

  /** Frees `count` blocks from `pfn`. */
  free(pfn: number, count = 1): void {
    checkInteger(pfn, 0, 2 ** 32 - 1, 'free: pfn');
    checkInteger(count, 1, 2 ** 32 - 1, 'free: count');
    this.core.free(pfn, count);
  }

  /** Free 4 KiB blocks. */
  freeBlocks(): number {
    return this.core.freeBlocks();
  }

  // ---- files and mappings (DAX) ----------------------------------------------------------

  /**
   * Creates a file of `size` bytes: sparse ('none'), fallocated ('unwritten') or written.
   * `dax: false` makes a page-cache file on the same device, as a mount without `-o dax`
   * would: read, write and mmap go through DRAM pages that only writeback puts on the media.
   */
  createFile(path: string, options: { size?: number; allocate?: Allocate; dax?: boolean } = {}): DaxFile {
    return this.fs.createFile(path, options);
  }

  /** The file at `path` (ENOENT when there is none). */
  open(path: string): DaxFile {
    return this.fs.open(path);
  }

  /** Removes the name; entries and blocks go once no mapping holds the file. */
  unlink(path: string): void {
    this.fs.unlink(path);
  }

  /**
   * Maps [offset, offset + length) of a file. `offset` page-aligned; `length` a positive
   * multiple of 4 KiB (it may run past the end of the file: such pages SIGBUS);
   * `address` defaults to a fresh 2 MiB-aligned address with the offset's colour.
   * `sync` is MAP_SYNC: shared mappings only (EOPNOTSUPP otherwise).
   */
  mmap(file: DaxFile, options: { offset?: number; length?: number; shared?: boolean; sync?: boolean; address?: number } = {}): FileMapping {
    return this.fs.mmap(file, options);
  }

  /**
   * msync(address, length, { sync }) over the emulated address space: one vfs_fsync_range
   * per shared mapping it covers; ENOMEM, after the rest is done, when part of it is unmapped.
   */
  msync(address: number, length: number, options: { sync?: boolean } = {}): WritebackReport {
    return this.fs.msync(address, length, options);
  }

  /**
   * The background flusher's pass at the current CPU's emulated time: page-cache files
   * dirtied at least `expireNs` ago (default 30 s, dirty_expire_centisecs) are written back
   * and committed; DAX files are left alone (src/dax/filesystem.ts).
   */
  backgroundWriteback(options: { expireNs?: number } = {}): WritebackReport {
    return this.fs.backgroundWriteback(options);
  }

  /** sync(2): the WB_SYNC_ALL pass over every file. */
  sync(): WritebackReport {
    return this.fs.sync();
  }

  /**
   * Memory pressure: evicts up to `pages` clean page-cache pages, and returns how many:
   * linux-4.5's hole pages of DAX files first, which leave no shadow entry, then the
   * page-cache files' pages in LRU order, which each leave one (src/dax/filesystem.ts). The
   * order has no random choice; `seed`, when given, is only checked.
   */
  reclaim(request: number | { pages: number; seed?: number }): number {
    return this.fs.reclaim(request);
  }

  /**
   * drop_caches (`echo 1 > /proc/sys/vm/drop_caches`, or POSIX_FADV_DONTNEED on every file);
   * returns the entries deleted. Page-cache files lose their clean pages that no PTE maps,
   * leaving no shadow, and their shadow entries; dirty and mapped pages stay. Only
   * linux-4.5 deletes DAX entries this way, dirty ones included (src/dax/filesystem.ts).
   */
  dropCaches(): number {
    return this.fs.dropCaches();
  }

  /**
   * Verifies every tree (the core's xaCheck), that no DAX tree holds anything but DAX
   * entries (no shadow or page entries), nrpages, and every page table against the tree
   * (src/dax/invariants.ts). Throws PmemError EFAULT naming what is broken.
   */
  checkInvariants(): void {
    this.fs.checkInvariants();
  }

  // ---- traces and concurrency ------------------------------------------------------------

  /** Starts recording fs_dax tracepoints; stop() returns them. */
  startTrace(): Trace {
    this.live();
    return this.tracepoints.start();
  }

  /**
   * Runs fsyncs, stores and entry-lock holders as if on concurrent threads, deterministically
   * (src/dax/concurrency.ts): each task on its own CPU, taking turns at the kernel's preemption
   * points, first in the order `schedule` lists task numbers, then round robin; a task that
   * finds an entry locked sleeps on its waitqueue until woken (each sleep and wake is
   * appended to `waitLog`). Returns each fsync's report.
   */
  runConcurrently(tasks: ConcurrentTask[], options: { schedule?: number[]; waitLog?: WaitEvent[] } = {}): (WritebackReport | undefined)[] {
    const saved = this.hw.cpu;
    try {
      return runTasks(this.fs.host, tasks, options.schedule ?? [], (cpu) => this.hw.switchCpu(cpu ?? saved), options.waitLog);
    } finally {
      this.hw.switchCpu(saved);
    }
  }

  // ---- worker threads --------------------------------------------------------------------

  /**
   * Shares this emulator with worker threads: post the handle to a worker, which calls
   * `attachEmulator(handle, { cpu })` (src/emulator/attached-emulator.ts). Workers run the
   * hardware's instructions themselves, in parallel; their file-system calls (faults, msync,
   * truncate, ...) are answered here whenever this thread's event loop runs, on the worker's
   * CPU (src/emulator/share-server.ts). A CPU a worker attached is refused to this thread's
   * `cpu` setter (EBUSY). Calling share() again returns the same handle.
   */
  share(): ShareHandle {
    if (!this.sharing) {
      this.sharing = new ShareServer({ hw: this.hw, fs: this.fs, tracepoints: this.tracepoints, options: this.options, stats: () => this.stats() });
    }
    this.sharing.start();
    return this.sharing.handle;
  }

  /** Stops answering workers (their file-system calls then fail with EINVAL); share() starts again. */
  stopSharing(): void {
    this.sharing?.stop();
  }

  /**
   * Tells the emulator that the worker on `cpu` is gone (call it from the worker's 'exit'
   * event): its CPU is free to attach again, and a core lock it died holding is taken from
   * it, so that the next taker fails once with EDEADLK instead of spinning for ever.
   */
  workerExited(cpu: number): void {
    if (!this.sharing) throw new PmemError('EINVAL', 'workerExited: this emulator was never shared');
    this.sharing.workerExited(cpu);
  }

  // ---- crash images ----------------------------------------------------------------------

  /**
   * A rebooted emulator, made with the same options, whose media holds what a power
   * failure now would leave (src/hw/crash.ts): every line durable, nothing cached, clocks 0,
   * and every file with its committed blocks only.
   */
  async crash(options: { mode?: CrashMode; seed?: number } = {}): Promise<Emulator> {
    const mode = checkCrashMode(options.mode ?? 'guaranteed');
    const seed = options.seed ?? this.options.seed;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new PmemError('EINVAL', `crash seed must be an integer in [0, 2^32), got ${String(seed)}`);
    this.live();
    const image = await createEmulator(optionsLike(this.options));
    this.hw.crashInto(image.hw, mode, seed);
    this.fs.rebootInto(image.fs);
    image.kind = 'this crash image';
    return image;
  }

  // ---- pool files ------------------------------------------------------------------------

  /**
   * Saves the emulator's durable state to a pool file (src/emulator/pool-file.ts), atomically:
   * what a guaranteed crash now would leave (the durable media, the named files with their
   * committed blocks) and the options. `openEmulator(path)` boots it again. The emulator
   * is not changed, and calls made on it before the save resolves do not reach the pool;
   * only the media chunks that would read as nonzero are written. Node only: in a page it
   * rejects with EOPNOTSUPP.
   */
  save(path: string): Promise<PoolSaveReport> {
    let writePool;
    let metadata;
    try {
      writePool = poolWriter('save').writePool;
      metadata = { options: { ...this.options }, files: this.fs.durableFiles() };
    } catch (err) {
      return Promise.reject(err);
    }
    return writePool(path, this.core.layout.version, metadata, durableChunks(this.core, POOL_CHUNK_BYTES));
  }

  /**
   * Boots a fresh emulator's file system on durable files (openEmulator, after it loaded
   * the media).
   * @internal
   */
  bootFrom(files: readonly DurableFile[]): void {
    this.fs.restoreFiles(files);
  }
}
