/**
 * The host's twin of assembly/pmem.ts (with pminit.ts, pmcmd.ts, media.ts and the cost
 * state they drive): the emulated hardware's instructions on media addresses, its clocks
 * and counters, the command loop and the block allocator. Every range is checked here
 * before any piece of a split access runs, so a refused call changes nothing.
 */
import { ERRNO, PmemError } from '../base/index.js';
import { layoutGlobal } from './layout.js';
import type { CoreExports, WasmBuild } from './wasm.js';
import { CoreTrees } from './xarray.js';

const PAGE_BYTES = 4096;

/** Where pmSnapshot reads, in f64 units (from the core's exported layout). */
interface SnapshotMap {
  cpus: number;
  perCpu: number;
  cpusAt: number;
  cpuStride: number;
  nowAt: number;
  countersAt: number;
  mediaAt: number;
  media: number;
}

/** The hardware of one core instance, on top of its trees. */
export class CorePmem extends CoreTrees {
  private readonly snapshotMap: SnapshotMap;

  protected constructor(build: WasmBuild, memory: WebAssembly.Memory, x: CoreExports, cpu: number) {
    super(build, memory, x, cpu);
    const g = (name: string): number => layoutGlobal(x, name);
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

  /** Why a call failed with EDEADLK: the thread that held the shared state's lock (assembly/lock.ts). */
  private deadLockDetail(): string {
    const holder = ((this.x.lockDeadHolder as WebAssembly.Global).value as number) - 1;
    if (holder === this.cpu) return `thread ${holder} took a lock it already holds (a nested core call); nothing was done`;
    return `the lock on the shared hardware state was held by thread ${holder}, which died or stopped inside a call; nothing was done, and the state it was changing may be half-changed (checkInvariants tells)`;
  }

  /**
   * Declares the thread with scratch area `thread` dead (or alive again): a lock it holds is
   * taken from it, and the taker's call fails with EDEADLK instead of spinning for ever.
   */
  markThreadDead(thread: number, dead = true): void {
    if ((thread >>> 0) !== thread || thread >= this.layout.maxCpus) throw new PmemError('EINVAL', `thread must be an integer in [0, ${this.layout.maxCpus - 1}], got ${thread}`);
    this.x.lockMarkDead(thread, dead ? 1 : 0);
  }

  /**
   * Runs `read` with the lock on the shared hardware state held throughout, so that what it
   * reads over many core calls (the media, the undo slots) is one instant's state: other
   * threads' instructions wait until it returns (they never time out on this hold). `read`
   * must not call what takes the lock itself (an instruction, checkInvariants): EDEADLK.
   */
  withLinesHeld<T>(read: () => T): T {
    this.pm(this.x.pmHoldLines(), 'hold the hardware state', () => '');
    try {
      return read();
    } finally {
      this.x.pmReleaseLines();
    }
  }

  /** Sets the cost parameters (in COST_FIELDS order, then the flags) and resets the hardware. */
  initHardware(params: readonly number[], seed: number): void {
    params.forEach((value, index) => this.x.costSet(index, value));
    this.x.pmInit(seed >>> 0);
  }

  private pm(rc: number, op: string, detail: () => string): void {
    if (rc >= 0) return;
    const why = -rc === ERRNO.EDEADLK ? this.deadLockDetail() : -rc === ERRNO.ENOMEM ? this.budgetSpent() : detail();
    throw PmemError.fromErrno(-rc, `${op}: ${why}`);
  }

  /**
   * Gives the media chunks of [addr, addr + length) the memory a write (or a load) needs,
   * before an access too long for one core call runs its first piece: ENOMEM, naming the
   * resident budget, leaves everything as it was.
   */
  private reserveChunks(op: string, addr: number, length: number, write: boolean): void {
    this.pm(this.x.mediaReserveRange(addr, length, write ? 1 : 0), op, () => '');
  }

  /** reserve() for every store, NT store and load of a command buffer (one too long for one core call). */
  pmReserveRecords(records: Uint32Array): void {
    for (let i = 0; i < records.length; i += 4) {
      const op = records[i]!;
      if (op >= 1 && op <= 3) this.reserveChunks(`run: record ${i / 4}`, records[i + 1]!, records[i + 2]!, op !== 2); // PM_STORE, PM_LOAD, PM_NTSTORE
    }
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
    if (bytes.length > room) this.reserveChunks(op, addr, bytes.length, true);
    let done = 0;
    do {
      const n = Math.min(room, bytes.length - done);
      this.bytes().set(n === bytes.length ? bytes : bytes.subarray(done, done + n), at);
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
    if (length > room) this.reserveChunks('load', addr, length, false);
    let done = 0;
    do {
      const n = Math.min(room, length - done);
      this.pm(this.x.pmLoad(cpu, addr + done, at, n, done > 0 ? 1 : 0), 'load', () => `[${addr}, ${addr + length}) is outside the media`);
      out.set(this.bytes().subarray(at, at + n), done);
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

  /**
   * Checks the line states and undo slots against each other (assembly/check-lines.ts);
   * throws PmemError EFAULT naming the first broken rule.
   */
  checkLines(): void {
    const rc = this.x.pmCheckLines();
    if (rc === 0) return;
    if (rc < 0) this.pm(rc, 'checkLines', () => '');
    const at = (this.x.linesCheckAt as WebAssembly.Global).value as number;
    // By the core's LINES_* codes, from 1.
    const why = [
      '',
      `line ${at} has an undo slot but no LINE_UNDO`,
      `${at} lines carry LINE_UNDO, but ${this.x.pmUndoUsed()} undo slots are in use`,
      `line ${at}: LINE_PENDING disagrees with its undo slot's pending list`,
      `undo slot ${at} is on a pending list that does not name its CPU`,
      `a pending list's length disagrees with its count (at ${at})`,
      'the zero chunk, which media chunks without memory of their own read, is no longer all zeros',
    ][rc];
    throw new PmemError('EFAULT', `checkInvariants: line states: ${why ?? `check code ${rc}`}`);
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

  /**
   * The state bytes of `count` lines from `firstLine` (what pmLineState gives each), copied
   * chunk by chunk: lines of a chunk without line states of its own read 0.
   */
  pmLineStates(firstLine: number, count: number): Uint8Array {
    const { linesSize, chunkBytes } = this.layout;
    if (!Number.isSafeInteger(firstLine) || !Number.isSafeInteger(count) || firstLine < 0 || count < 0 || firstLine + count > linesSize) {
      throw new PmemError('EINVAL', `lines [${firstLine}, ${firstLine + count}) are outside the media's ${linesSize} lines`);
    }
    const perChunk = chunkBytes / 64;
    const out = new Uint8Array(count);
    for (let done = 0; done < count; ) {
      const line = firstLine + done;
      const n = Math.min(count - done, perChunk - (line % perChunk));
      out.set(this.readMemory(this.x.mediaChunkStates(Math.floor(line / perChunk)) + (line % perChunk), n), done);
      done += n;
    }
    return out;
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

  /**
   * This thread's scratch command records (4 x u32 each) and data buffer, as views to encode
   * into in place; pmRunScratch runs what was written. The views stay valid while the memory
   * does not grow: take them again after each run.
   */
  pmScratch(): { records: Uint32Array; data: Uint8Array } {
    this.words();
    const { buffer } = this.memory;
    return {
      records: new Uint32Array(buffer, this.x.scratchCommands(this.cpu), this.layout.scratchCmdSize >>> 2),
      data: new Uint8Array(buffer, this.x.scratchData(this.cpu), this.layout.scratchDataSize),
    };
  }

  /** Runs the first `count` records written into pmScratch's views, as pmRun does (nothing is copied). */
  pmRunScratch(cpu: number, count: number): { failed: number; errno: number } | null {
    const rc = this.x.pmRun(cpu, this.x.scratchCommands(this.cpu), count, this.x.scratchData(this.cpu));
    this.words();
    if (rc < 0) return { failed: (this.x.pmRunFailed as WebAssembly.Global).value as number, errno: -rc };
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
  /**
   * Non-temporal stores of whole 4 KiB pages, `pages[i]` to media address `addrs[i]` (page
   * aligned), in order: what one pmStore(cpu, addrs[i], pages[i], true) per page does, in
   * one wasm call per scratch buffer of pages (assembly/page-copy.ts), a page at a time where
   * the outcome is known (setPageCopyPath). Every address and page is checked before any
   * page is stored.
   */
  pmNtStorePages(cpu: number, addrs: readonly number[], pages: readonly Uint8Array[]): void {
    if (addrs.length !== pages.length) throw new PmemError('EINVAL', `ntstore pages: ${addrs.length} addresses for ${pages.length} pages`);
    addrs.forEach((addr, i) => {
      this.pmCheck('ntstore', cpu, addr, PAGE_BYTES);
      if (addr % PAGE_BYTES !== 0 || pages[i]!.length !== PAGE_BYTES) throw new PmemError('EINVAL', `ntstore pages: page ${i} is not 4096 bytes at a page-aligned address (${addr})`);
    });
    const addrsAt = this.x.scratchCommands(this.cpu);
    const dataAt = this.x.scratchData(this.cpu);
    const room = Math.min(Math.floor(this.layout.scratchDataSize / PAGE_BYTES), Math.floor(this.layout.scratchCmdSize / 4));
    for (let from = 0; from < addrs.length; from += room) {
      const n = Math.min(room, addrs.length - from);
      const words = this.words();
      const data = new Uint8Array(this.memory.buffer, dataAt, n * PAGE_BYTES);
      for (let i = 0; i < n; i++) {
        words[(addrsAt >>> 2) + i] = addrs[from + i]!;
        data.set(pages[from + i]!, i * PAGE_BYTES);
      }
      this.pm(this.x.pmNtStorePages(cpu, addrsAt, dataAt, n), 'ntstore pages', () => `cpu ${cpu} or an address is invalid`);
    }
  }

  /**
   * How this instance's pmNtStorePages works: 'page' (the default) does each page's work a
   * page, a run of lines or a media line at a time when it can; 'line' makes every page one
   * pmNtStore, line by line. Both give the same results, to the byte: tests compare them.
   */
  setPageCopyPath(path: 'page' | 'line'): void {
    if (path !== 'page' && path !== 'line') throw new PmemError('EINVAL', `page copy path must be 'page' or 'line', got ${String(path)}`);
    this.x.pmNtStorePagesPath(path === 'page' ? 1 : 0);
  }
}
