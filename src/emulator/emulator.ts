/**
 * The emulator: one shared-memory core holding the media, the line states and the cost
 * model, behind the public API of ../shared/DESIGN.md section 4. This file holds the
 * hardware part (createEmulator, device mappings, fences, clocks, counters, crash images,
 * the command buffer); DAX files, mmap and writeback build on it.
 */
import { CommandBuilder, PM_LOAD, PM_MFENCE, PM_NTSTORE, PM_SFENCE, PM_STORE } from '../hw/commands.js';
import { Core, type WasmBuild } from '../core/core.js';
import { coreCostParams, type CostModel, type CostModelInput } from '../hw/cost-model.js';
import { applyCrash, checkCrashMode, type CrashMode } from '../hw/crash.js';
import { ERRNO, PmemError } from '../base/errors.js';
import { DeviceMapping } from '../hw/device-mapping.js';
import { newDaxCounters, type DaxCounters, type DaxHost } from '../dax/context.js';
import { DaxFile, PAGE_SIZE, type Allocate } from '../dax/file.js';
import { FileMapping } from '../dax/file-mapping.js';
import { kernelRules, type KernelProfile, type KernelRules } from '../dax/kernel.js';
import { Trace, type TraceEvent } from '../dax/trace.js';
import { addReport, emptyReport, vfsFsyncRange, type WritebackReport } from '../dax/writeback.js';
import { runTasks, type ConcurrentTask } from '../dax/concurrency.js';
import { checkDaxInvariants } from '../dax/invariants.js';
import { PMD_NR, XA_MAX_INDEX, xaIsPointer } from '../core/entry.js';
import { resolveCostModel, type Persistence, type PresetName } from '../hw/presets.js';
import { changedCounters, readStats, statsFromSnapshot, type EmulatorStats } from '../hw/stats.js';
import type { WaitEvent } from '../dax/wait-queue.js';

const MiB = 1 << 20;
/** Capacity and every region of the media are counted in 2 MiB extents. */
export const CAPACITY_ALIGN = 2 * MiB;
/**
 * The largest capacity: wasm32 addresses 4 GiB; the fixed regions (about 30 MiB), one
 * state byte per line (1/64 of the media), the undo slots of the default 32 MiB cache
 * (about 46 MiB) and room for the node heap leave 3.75 GiB for the media.
 */
export const MAX_CAPACITY = 3840 * MiB;
export const DEFAULT_CAPACITY = 64 * MiB;
export const DEFAULT_CACHE_BYTES = 32 * MiB;
const WASM_PAGE = 65536;
/** Room the node heap may grow into beyond the laid-out regions, in wasm pages (1 GiB). */
const HEAP_HEADROOM_PAGES = 16384;
/** The writeback flush instructions, in the core's kind numbering (0 clflush, 1 clflushopt, 2 clwb). */
const FLUSH_KINDS = ['clflush', 'clflushopt', 'clwb'] as const;


export interface EmulatorOptions {
  /** Bytes of pmem: a multiple of 2 MiB, at most MAX_CAPACITY. Default 64 MiB. */
  capacity?: number;
  /** A preset name (src/presets.ts) or a custom CostModel. Default 'optane-g1'. */
  preset?: PresetName | CostModelInput;
  /** The persistence domain; default the preset's. */
  persistence?: Persistence;
  /** Drives every random choice (eviction; crash images default to it). Default 1. */
  seed?: number;
  /** Most bytes of dirty lines the emulated cache holds before it evicts (a multiple of 64). Default 32 MiB, at most the capacity. */
  cacheBytes?: number;
  /** Which wasm build runs the core. */
  build?: WasmBuild;
  /** The kernel whose DAX rules apply (src/kernel.ts). Default 'linux-6.12'. */
  kernel?: KernelProfile;
  /** The instruction kernel writeback flushes with. Default 'clwb'. */
  flush?: 'clwb' | 'clflushopt' | 'clflush';
  /**
   * 'kernel' (default): writeback flushes every line of a dirty entry, as the kernel does.
   * 'dirty-lines': an ideal kernel that flushes only the entry's dirty lines (a lower bound).
   */
  writeback?: 'kernel' | 'dirty-lines';
}

/** The options an emulator was made with, all filled in. */
export interface ResolvedOptions {
  capacity: number;
  cost: CostModel;
  persistence: Persistence;
  seed: number;
  cacheBytes: number;
  build: WasmBuild | undefined;
  kernel: KernelProfile;
  flush: 'clwb' | 'clflushopt' | 'clflush';
  writeback: 'kernel' | 'dirty-lines';
}

export interface RunResult {
  /** Counters the run changed (after − before; flattened names such as clwb.dirty). */
  readonly counters: Record<string, number>;
  /** Emulated ns the run took on this CPU. */
  readonly ns: number;
  /** The bytes of each load record, in order. */
  readonly loads: Uint8Array[];
}

/**
 * What run() returns. The loaded bytes are cut out of one copy of the data buffer only when
 * asked for: a typed-array view costs about as much as a small operation.
 */
class CompletedRun implements RunResult {
  private cut: Uint8Array[] | undefined;
  private changed: Record<string, number> | undefined;

  constructor(
    /** after − before of the raw counters (Core.pmSnapshot), turned into names on demand. */
    private readonly delta: Float64Array,
    private readonly cpus: number,
    readonly ns: number,
    /** Copies of the records and data, kept only when the run loaded something. */
    private readonly records: Uint32Array | undefined,
    private readonly data: Uint8Array | undefined,
  ) {}

  get counters(): Record<string, number> {
    this.changed ??= changedCounters(statsFromSnapshot(this.delta, this.cpus, 0));
    return this.changed;
  }

  get loads(): Uint8Array[] {
    if (!this.cut) {
      this.cut = [];
      const { records, data } = this;
      if (records && data) {
        for (let i = 0; i < records.length; i += 4) {
          if (records[i] === PM_LOAD) this.cut.push(data.subarray(records[i + 3]!, records[i + 3]! + records[i + 2]!));
        }
      }
    }
    return this.cut;
  }
}

function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new PmemError('EINVAL', 'createEmulator: options must be an object');
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  if (!Number.isInteger(capacity) || capacity <= 0 || capacity % CAPACITY_ALIGN !== 0 || capacity > MAX_CAPACITY) {
    throw new PmemError('EINVAL', `capacity must be a positive multiple of 2 MiB up to ${MAX_CAPACITY / MiB} MiB, got ${capacity}`);
  }
  const cost = resolveCostModel(options.preset ?? 'optane-g1', options.persistence);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new PmemError('EINVAL', `seed must be an integer in [0, 2^32), got ${seed}`);
  const cacheBytes = options.cacheBytes ?? Math.min(DEFAULT_CACHE_BYTES, capacity);
  if (!Number.isInteger(cacheBytes) || cacheBytes < 64 || cacheBytes % 64 !== 0 || cacheBytes > capacity) {
    throw new PmemError('EINVAL', `cacheBytes must be a multiple of 64 in [64, capacity], got ${cacheBytes}`);
  }
  if (options.build !== undefined && options.build !== 'debug' && options.build !== 'release') {
    throw new PmemError('EINVAL', `build must be 'debug' or 'release', got ${String(options.build)}`);
  }
  const kernel = kernelRules(options.kernel ?? 'linux-6.12').profile;
  const flush = options.flush ?? 'clwb';
  if (!FLUSH_KINDS.includes(flush)) throw new PmemError('EINVAL', `flush must be one of ${FLUSH_KINDS.join(', ')}, got ${String(flush)}`);
  const writeback = options.writeback ?? 'kernel';
  if (writeback !== 'kernel' && writeback !== 'dirty-lines') throw new PmemError('EINVAL', `writeback must be 'kernel' or 'dirty-lines', got ${String(writeback)}`);
  return { capacity, cost, persistence: cost.persistence, seed, cacheBytes, build: options.build, kernel, flush, writeback };
}

/** Creates an emulator: lays out a shared memory, instantiates the core, sets the costs. */
export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const resolved = resolveOptions(options);
  // The memory may grow past the laid-out regions by the heap's headroom, never past 4 GiB.
  const undoSlots = resolved.cacheBytes / 64;
  const estimate = Math.ceil((resolved.capacity * (1 + 1 / 64) + undoSlots * 100 + 64 * MiB) / WASM_PAGE);
  const maximumPages = Math.min(65536, estimate + HEAP_HEADROOM_PAGES);
  const core = await Core.create({ build: resolved.build, mediaBytes: resolved.capacity, undoSlots, maximumPages });
  core.initHardware(coreCostParams(resolved.cost), resolved.seed);
  return new Emulator(core, resolved);
}

export class Emulator {
  readonly core: Core;
  readonly options: Readonly<ResolvedOptions>;
  private currentCpu = 0;
  private readonly files = new Map<string, DaxFile>();
  private readonly fileMappings = new Set<FileMapping>();
  private readonly traces = new Set<Trace>();
  private readonly daxCounters: DaxCounters = newDaxCounters();
  /** Next free emulated virtual address for mappings placed by mmap. */
  private nextAddress = 0x7f00_0000_0000;
  /** What the DAX layer sees of this emulator. */
  private readonly host: DaxHost;
  private readonly rules: KernelRules;

  constructor(core: Core, options: ResolvedOptions) {
    this.core = core;
    this.options = Object.freeze({ ...options });
    this.rules = kernelRules(options.kernel);
    const emu = this;
    this.host = {
      core,
      get cpu() {
        return emu.currentCpu;
      },
      rules: this.rules,
      flushKind: FLUSH_KINDS.indexOf(options.flush),
      dirtyLinesOnly: options.writeback === 'dirty-lines',
      counters: this.daxCounters,
      trace: (event: TraceEvent) => {
        for (const t of emu.traces) t.record(event);
      },
    };
  }

  get capacity(): number {
    return this.options.capacity;
  }

  get cost(): CostModel {
    return this.options.cost;
  }

  /** The emulated CPU that later calls run on (its clock, flush queue and fences). */
  get cpu(): number {
    return this.currentCpu;
  }

  set cpu(cpu: number) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.core.layout.maxCpus) {
      throw new PmemError('EINVAL', `cpu must be an integer in [0, ${this.core.layout.maxCpus - 1}], got ${cpu}`);
    }
    this.currentCpu = cpu;
  }

  /** Maps [offset, offset + length) of the media directly (device-dax); 4 KiB aligned. */
  mmapDevice(options: { offset?: number; length?: number } = {}): DeviceMapping {
    const offset = options.offset ?? 0;
    const length = options.length ?? this.capacity - offset;
    for (const [name, value] of [['offset', offset], ['length', length]] as const) {
      if (!Number.isInteger(value) || value < 0 || value % 4096 !== 0) {
        throw new PmemError('EINVAL', `mmapDevice: ${name} must be a non-negative multiple of 4096, got ${value}`);
      }
    }
    if (length === 0) throw new PmemError('EINVAL', 'mmapDevice: length must not be 0');
    if (offset + length > this.capacity) {
      throw new PmemError('EINVAL', `mmapDevice: [${offset}, ${offset + length}) runs past the ${this.capacity}-byte media`);
    }
    return new DeviceMapping(this, offset, length);
  }

  // ---- files and mappings (DAX) ---------------------------------------------------------

  /** Creates a file of `size` bytes: sparse ('none'), fallocated ('unwritten') or written. */
  createFile(path: string, options: { size?: number; allocate?: Allocate } = {}): DaxFile {
    if (typeof path !== 'string' || path.length === 0) throw new PmemError('EINVAL', 'createFile: path must be a non-empty string');
    if (this.files.has(path)) throw new PmemError('EEXIST', `createFile: ${path} exists`);
    const size = options.size ?? 0;
    if (!Number.isInteger(size) || size < 0) throw new PmemError('EINVAL', `createFile: size must be a non-negative integer, got ${size}`);
    const allocate = options.allocate ?? 'none';
    if (allocate !== 'none' && allocate !== 'unwritten' && allocate !== 'written') {
      throw new PmemError('EINVAL', `createFile: allocate must be 'none', 'unwritten' or 'written', got ${String(allocate)}`);
    }
    const file = new DaxFile(this.host, path, size, this.core.createTree());
    if (allocate !== 'none') {
      try {
        for (let first = 0; first < file.pages; first += PMD_NR) file.allocate(first, Math.min(PMD_NR, file.pages - first), true);
      } catch (err) {
        for (const b of file.blocks.values()) this.core.free(b.pfn, 1);
        this.core.destroyTree(file.tree);
        throw err;
      }
      for (const b of file.blocks.values()) b.unwritten = allocate === 'unwritten';
      file.commitMetadata();
    }
    this.files.set(path, file);
    return file;
  }

  /** The file at `path` (ENOENT when there is none). */
  open(path: string): DaxFile {
    const file = this.files.get(path);
    if (!file) throw new PmemError('ENOENT', `open: no file ${String(path)}`);
    return file;
  }

  /** Removes the name; entries and blocks go once no mapping holds the file. */
  unlink(path: string): void {
    const file = this.open(path);
    this.files.delete(path);
    file.markUnlinked();
    if (file.mappings.size === 0) this.core.destroyTree(file.tree);
  }

  /**
   * Maps [offset, offset + length) of a file. `offset` page-aligned; `length` a positive
   * multiple of 4 KiB (it may run past the end of the file: such pages SIGBUS);
   * `address` defaults to a fresh 2 MiB-aligned address with the offset's colour.
   * `sync` is MAP_SYNC: shared mappings only (EOPNOTSUPP otherwise).
   */
  mmap(file: DaxFile, options: { offset?: number; length?: number; shared?: boolean; sync?: boolean; address?: number } = {}): FileMapping {
    if (!(file instanceof DaxFile) || file.unlinked) throw new PmemError('EBADF', 'mmap: not an open file of this emulator');
    const offset = options.offset ?? 0;
    const length = options.length ?? file.pages * PAGE_SIZE - offset;
    const shared = options.shared ?? true;
    const sync = options.sync ?? false;
    if (!Number.isInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0) throw new PmemError('EINVAL', `mmap: offset must be a page-aligned non-negative integer, got ${offset}`);
    if (!Number.isInteger(length) || length <= 0 || length % PAGE_SIZE !== 0) throw new PmemError('EINVAL', `mmap: length must be a positive multiple of 4096, got ${length}`);
    if (sync && !shared) throw new PmemError('EOPNOTSUPP', 'mmap: MAP_SYNC needs a shared mapping');
    if (sync && this.rules.p45) throw new PmemError('EOPNOTSUPP', 'mmap: MAP_SYNC came with Linux 4.15; linux-4.5 does not know it');
    let address = options.address;
    if (address === undefined) {
      const colour = offset % (PMD_NR * PAGE_SIZE);
      address = this.nextAddress + colour;
      this.nextAddress += Math.ceil((colour + length) / (PMD_NR * PAGE_SIZE)) * PMD_NR * PAGE_SIZE + PMD_NR * PAGE_SIZE;
    } else if (!Number.isInteger(address) || address < 0 || address % PAGE_SIZE !== 0) {
      throw new PmemError('EINVAL', `mmap: address must be a page-aligned non-negative integer, got ${address}`);
    }
    for (const m of this.fileMappings) {
      if (m.isMapped && address < m.address + m.length && m.address < address + length) throw new PmemError('EINVAL', `mmap: [${address}, ${address + length}) overlaps a mapping`);
    }
    const m = new FileMapping(this.host, file, { address, offset, length, shared, sync });
    file.mappings.add(m);
    this.fileMappings.add(m);
    return m;
  }

  /**
   * msync(address, length, { sync }) over the emulated address space: one vfs_fsync_range
   * per shared mapping it covers; ENOMEM, after the rest is done, when part of it is unmapped.
   */
  msync(address: number, length: number, options: { sync?: boolean } = {}): WritebackReport {
    if (!Number.isInteger(address) || address < 0 || address % PAGE_SIZE !== 0) throw new PmemError('EINVAL', `msync: address must be page-aligned, got ${address}`);
    if (!Number.isInteger(length) || length < 0) throw new PmemError('EINVAL', `msync: length must be a non-negative integer, got ${length}`);
    const report = emptyReport();
    const mappings = [...this.fileMappings].filter((m) => m.isMapped).sort((a, b) => a.address - b.address);
    let covered = 0;
    for (const m of mappings) {
      const lo = Math.max(address, m.address);
      const hi = Math.min(address + length, m.address + m.length);
      if (hi <= lo) continue;
      covered += hi - lo;
      addReport(report, m.msync(lo - m.address, hi - lo, options));
    }
    if (covered < length) throw new PmemError('ENOMEM', `msync: part of [${address}, ${address + length}) is not mapped (the mapped parts were synced)`);
    return report;
  }

  /** sync(2): the WB_SYNC_ALL pass over every file. */
  sync(): WritebackReport {
    const report = emptyReport();
    for (const file of this.files.values()) addReport(report, vfsFsyncRange(this.host, file, 0, XA_MAX_INDEX));
    return report;
  }

  /**
   * Memory pressure: evicts up to `pages` clean page-cache pages, and returns how many.
   * The only page-cache pages a DAX address_space ever holds are linux-4.5's hole pages;
   * an evicted one leaves its slot empty, never a shadow entry (SPEC-DAX.md 5.3, 5.4). In
   * the XArray era DAX entries are not pages, so nothing is evicted.
   */
  reclaim(pages: number): number {
    if (!Number.isInteger(pages) || pages < 0) throw new PmemError('EINVAL', `reclaim: pages must be a non-negative integer, got ${pages}`);
    let evicted = 0;
    if (!this.rules.p45) return evicted;
    for (const file of this.files.values()) {
      for (const e of this.core.entries(file.tree)) {
        if (evicted === pages) return evicted;
        if (!xaIsPointer(e.word)) continue;
        file.deleteEntry(e.index);
        evicted++;
      }
    }
    return evicted;
  }

  /**
   * drop_caches (or POSIX_FADV_DONTNEED on every file): invalidate_mapping_pages over each
   * file. linux-4.5 deletes every DAX entry this way, dirty ones included, so a later fsync
   * flushes nothing (bug B4, SPEC-DAX.md 5.1, S13); the XArray-era kernels leave DAX entries
   * alone. Returns the entries deleted.
   */
  dropCaches(): number {
    let dropped = 0;
    if (!this.rules.p45) return dropped;
    for (const file of this.files.values()) {
      for (const e of this.core.entries(file.tree)) {
        file.deleteEntry(e.index);
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Runs fsyncs, stores and entry-lock holders as if on concurrent threads, deterministically
   * (src/concurrency.ts): each task on its own CPU, taking turns at the kernel's preemption
   * points, first in the order `schedule` lists task numbers, then round robin; a task that
   * finds an entry locked sleeps on its waitqueue until woken (each sleep and wake is
   * appended to `waitLog`). Returns each fsync's report.
   */
  runConcurrently(tasks: ConcurrentTask[], options: { schedule?: number[]; waitLog?: WaitEvent[] } = {}): (WritebackReport | undefined)[] {
    const saved = this.currentCpu;
    try {
      return runTasks(this.host, tasks, options.schedule ?? [], (cpu) => {
        this.currentCpu = cpu ?? saved;
      }, options.waitLog);
    } finally {
      this.currentCpu = saved;
    }
  }

  /** Starts recording fs_dax tracepoints; stop() returns them. */
  startTrace(): Trace {
    const trace = new Trace((t) => this.traces.delete(t));
    this.traces.add(trace);
    return trace;
  }

  /**
   * Verifies every tree (the core's xaCheck), that no DAX tree holds anything but DAX
   * entries (no shadow or page entries), nrpages, and every page table against the tree
   * (src/invariants.ts). Throws PmemError EFAULT naming what is broken.
   */
  checkInvariants(): void {
    checkDaxInvariants(this.core, this.rules, new Set([...this.files.values(), ...[...this.fileMappings].map((m) => m.file)]), this.fileMappings);
  }

  /** sfence on the current CPU: waits for its write-backs and NT lines, which become durable. */
  sfence(): void {
    this.core.pmFence(this.currentCpu, false);
  }

  /** mfence on the current CPU (the same for persistence, dearer). */
  mfence(): void {
    this.core.pmFence(this.currentCpu, true);
  }

  /** The current CPU's emulated clock, ns. */
  now(): number {
    return this.core.pmNow(this.currentCpu);
  }

  /** Every counter (src/stats.ts), and the DAX layer's under `dax`. */
  stats(): EmulatorStats & { dax: DaxCounters & { nrpages: number; nrexceptional: number } } {
    let nrpages = 0;
    let nrexceptional = 0;
    for (const f of this.files.values()) {
      nrpages += f.nrpages;
      nrexceptional += f.nrexceptional;
    }
    return { ...readStats(this.core), dax: { ...this.daxCounters, nrpages, nrexceptional } };
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
    if (!(commands instanceof CommandBuilder)) throw new PmemError('EINVAL', 'run: expects a CommandBuilder from emu.commands()');
    const { records, data } = commands.encoded();
    const room = this.core.layout.scratchDataSize;
    const maxRecords = this.core.layout.scratchCmdSize / 16;
    const loads = commands.loads > 0;
    const before = this.core.pmSnapshot();
    const start = this.now();
    if (records.length / 4 <= maxRecords && data.length <= room) {
      // The usual case, one wasm call: the core checks every record before it runs any.
      this.runChunk(records, data, loads);
    } else {
      this.checkRecords(records, room);
      this.runInChunks(records, data, room, maxRecords, loads);
    }
    const after = this.core.pmSnapshot();
    for (let i = 0; i < after.length; i++) after[i]! -= before[i]!;
    // Loaded bytes are cut out later, on demand, from copies made now.
    return new CompletedRun(after, this.core.layout.maxCpus, this.now() - start, loads ? new Uint32Array(records) : undefined, loads ? new Uint8Array(data) : undefined);
  }

  /** Checks every record on the host, for buffers too long for one core call. */
  private checkRecords(records: Uint32Array, room: number): void {
    for (let i = 0; i < records.length; i += 4) {
      const op = records[i]!;
      const len = records[i + 2]!;
      if (op < PM_STORE || op > PM_MFENCE) throw new PmemError('EINVAL', `run: record ${i / 4} has no operation ${op}`);
      if (op <= PM_NTSTORE && len > room) throw new PmemError('EINVAL', `run: record ${i / 4} moves ${len} bytes, more than the ${room}-byte data buffer`);
      if (op < PM_SFENCE && records[i + 1]! + len > this.capacity) {
        throw new PmemError('ERANGE', `run: record ${i / 4} touches [${records[i + 1]}, ${records[i + 1]! + len}), outside the media`);
      }
    }
  }

  private runChunk(records: Uint32Array, data: Uint8Array, readBack: boolean, firstRecord = 0): void {
    const failure = this.core.pmRun(this.currentCpu, records, data, readBack);
    if (failure) {
      const why = failure.errno === ERRNO.ERANGE ? 'it touches bytes outside the media' : 'its operation or data length is invalid';
      throw PmemError.fromErrno(failure.errno, `run: record ${firstRecord + failure.failed} was refused, nothing ran: ${why}`);
    }
  }

  /** Splits a long buffer into chunks that fit the scratch buffers, data offsets rebased. */
  private runInChunks(records: Uint32Array, data: Uint8Array, room: number, maxRecords: number, readBack: boolean): void {
    const usesData = (op: number): boolean => op === PM_STORE || op === PM_LOAD || op === PM_NTSTORE;
    let first = 0;
    while (first < records.length) {
      let end = first;
      let dataStart = -1;
      let dataEnd = 0;
      while (end < records.length && (end - first) / 4 < maxRecords) {
        if (usesData(records[end]!)) {
          const off = records[end + 3]!;
          if (dataStart < 0) dataStart = off;
          if (off + records[end + 2]! - dataStart > room) break;
          dataEnd = off + records[end + 2]!;
        }
        end += 4;
      }
      const base = Math.max(dataStart, 0);
      const chunk = records.slice(first, end);
      for (let i = 0; i < chunk.length; i += 4) if (usesData(chunk[i]!)) chunk[i + 3]! -= base;
      // The view writes loaded bytes back in place, where run() finds them.
      this.runChunk(chunk, data.subarray(base, Math.max(base, dataEnd)), readBack, first / 4);
      first = end;
    }
  }

  /** Allocates a 4 KiB block or, with `extent`, a 2 MiB-aligned 2 MiB extent; its first pfn (ENOSPC when none). */
  allocate(extent = false): number {
    return this.core.allocate(extent);
  }

  /** Frees `count` blocks from `pfn`. */
  free(pfn: number, count = 1): void {
    this.core.free(pfn, count);
  }

  /** Free 4 KiB blocks. */
  freeBlocks(): number {
    return this.core.freeBlocks();
  }

  /**
   * A rebooted emulator, made with the same options, whose media holds what a power
   * failure now would leave (src/crash.ts): every line durable, nothing cached, clocks 0.
   */
  async crash(options: { mode?: CrashMode; seed?: number } = {}): Promise<Emulator> {
    const mode = checkCrashMode(options.mode ?? 'guaranteed');
    const seed = options.seed ?? this.options.seed;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new PmemError('EINVAL', `crash seed must be an integer in [0, 2^32), got ${seed}`);
    const image = await createEmulator({ ...this.options, preset: this.options.cost });
    const media = image.core.mediaView();
    media.set(this.core.mediaView());
    applyCrash(this.core, media, mode, seed);
    // The filesystem after the reboot: every file with its committed blocks only.
    for (const file of this.files.values()) {
      const copy = image.createFile(file.path, { size: file.size });
      for (const [page, b] of file.blocks) {
        if (!b.committed) continue;
        image.core.reserve(b.pfn, 1);
        copy.blocks.set(page, { ...b });
      }
      copy.commitMetadata();
    }
    return image;
  }
}
