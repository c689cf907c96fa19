/**
 * An emulator seen from a worker thread (attachEmulator): the same media, files, mappings
 * and traces as the emulator's own thread, on a CPU of its own (its clock, flush queue and
 * fences). The hardware's instructions run here, on the shared memory; file-system calls
 * go to the owner thread and wait for its answer (src/emulator/share-server.ts says why).
 *
 * Loads, stores and flushes through a shared DAX mapping use the translations the owner
 * handed out, cached here like a TLB: a page-table change anywhere moves the channel's
 * epoch, which empties the cache at the next access. Private and page-cache mappings keep
 * their bytes on the owner's host memory, so every access to them is a call.
 */
import { PmemError } from '../base/index.js';
import { Core } from '../core/index.js';
import { CommandBuilder, Hardware, type DeviceMapping, type EmulatorStats, type RunResult } from '../hw/index.js';
import { checkFlushKind, checkMappedRange, type Allocate, type DaxCounters, type FaultResult, type TraceEvent, type WritebackReport } from '../dax/index.js';
import type { ResolvedOptions } from './options.js';
import { CHANNEL_CPUS, FORWARD_PIECE, SHARE_PROTOCOL, SHOOTDOWN_RING, activeWord, W_CLAIMS, W_EPOCH, W_SERVING, callOwner, channelWords, shootdownRing, type Message } from './share-channel.js';
import type { ShareHandle, SharedFileInfo, SharedMappingInfo } from './share-server.js';

const PAGE = 4096;
/** Translations discarded because the epoch moved meanwhile, before an access gives up (a livelock guard). */
const MAX_RETRANSLATIONS = 100;

interface Translation {
  media: number;
  writable: boolean;
  zero: boolean;
}

/**
 * Attaches to an emulator that another thread shares (`emu.share()` there, the handle posted
 * here), as CPU `cpu` (1 to 7: CPU 0 is the owner's). Workers only: a browser's main thread
 * may not sleep, and calls to the owner sleep until it answers. EINVAL for a handle from
 * another build, a CPU already attached, or one out of range.
 */
export async function attachEmulator(handle: ShareHandle, options: { cpu: number }): Promise<AttachedEmulator> {
  if (handle === null || typeof handle !== 'object' || handle.kind !== 'daxemu-share') throw new PmemError('EINVAL', 'attachEmulator: handle must be what emu.share() returned');
  if (handle.protocol !== SHARE_PROTOCOL) {
    throw new PmemError('EINVAL', `attachEmulator: the handle comes from another daxemu build (sharing protocol ${String(handle.protocol)}, this build speaks ${SHARE_PROTOCOL})`);
  }
  const cpu = options?.cpu;
  if (!Number.isInteger(cpu) || cpu < 1 || cpu >= CHANNEL_CPUS) {
    throw new PmemError('EINVAL', `attachEmulator: cpu must be an integer in [1, ${CHANNEL_CPUS - 1}] (CPU 0 is the emulator's own thread), got ${String(cpu)}`);
  }
  const words = channelWords(handle.channel);
  if (Atomics.load(words, W_SERVING) !== 1) throw new PmemError('EINVAL', 'attachEmulator: the emulator is not shared now (its thread stopped sharing)');
  const bit = 1 << cpu;
  if ((Atomics.or(words, W_CLAIMS, bit) & bit) !== 0) throw new PmemError('EINVAL', `attachEmulator: cpu ${cpu} is attached already (one thread per CPU)`);
  let core: Core;
  try {
    core = await Core.attachTo(handle.core, cpu);
  } catch (err) {
    Atomics.and(words, W_CLAIMS, ~bit);
    if (err instanceof PmemError) throw new PmemError('EINVAL', `attachEmulator: the handle's memory does not fit this build (${err.message})`);
    throw err;
  }
  core.markThreadDead(cpu, false); // a CPU whose last worker died is alive again
  return new AttachedEmulator(core, handle, cpu);
}

export class AttachedEmulator {
  readonly cpu: number;
  readonly options: Readonly<ResolvedOptions>;
  private readonly hw: Hardware;
  private readonly channel: SharedArrayBuffer;
  private readonly words: Int32Array;
  private readonly ring: Float64Array;
  private readonly tlb = new Map<number, Translation>();
  private epoch: number;
  private attached = true;

  /** Made by attachEmulator. @internal */
  constructor(core: Core, handle: ShareHandle, cpu: number) {
    this.cpu = cpu;
    this.options = handle.options;
    this.channel = handle.channel;
    this.words = channelWords(handle.channel);
    this.ring = shootdownRing(handle.channel);
    this.epoch = Atomics.load(this.words, W_EPOCH);
    this.hw = new Hardware(core);
    this.hw.cpu = cpu;
  }

  get capacity(): number {
    return this.hw.capacity;
  }

  private live(op: string): void {
    if (!this.attached) throw new PmemError('EINVAL', `${op}: this worker detached from the emulator`);
  }

  /** Runs `op` on the owner thread, on this CPU. @internal */
  call(op: string, args: unknown[], bin?: Uint8Array): Message {
    this.live(op);
    return callOwner(this.channel, this.cpu, op, args, bin);
  }

  // ---- the hardware, run here ------------------------------------------------------------

  /** Maps [offset, offset + length) of the media directly (device-dax); 4 KiB aligned. */
  mmapDevice(options: { offset?: number; length?: number } = {}): DeviceMapping {
    this.live('mmapDevice');
    return this.hw.mmapDevice(options);
  }

  sfence(): void {
    this.live('sfence');
    this.hw.fence(false);
  }

  mfence(): void {
    this.live('mfence');
    this.hw.fence(true);
  }

  /** This CPU's emulated clock, ns. */
  now(): number {
    return this.hw.now();
  }

  commands(): CommandBuilder {
    return new CommandBuilder();
  }

  /** Runs a command buffer on this CPU, here: every record checked first (src/hw/run.ts). */
  run(commands: CommandBuilder): RunResult {
    this.live('run');
    return this.hw.run(commands);
  }

  // ---- the file system, run by the owner -------------------------------------------------

  /** Every counter, as the owner's emu.stats() reads them. */
  stats(): EmulatorStats & { dax: DaxCounters & { nrpages: number; nrexceptional: number; pageCachePages: number } } {
    return this.call('stats', []).value as EmulatorStats & { dax: DaxCounters & { nrpages: number; nrexceptional: number; pageCachePages: number } };
  }

  createFile(path: string, options: { size?: number; allocate?: Allocate; dax?: boolean } = {}): AttachedFile {
    return new AttachedFile(this, this.call('createFile', [path, options]).value as SharedFileInfo);
  }

  open(path: string): AttachedFile {
    return new AttachedFile(this, this.call('open', [path]).value as SharedFileInfo);
  }

  unlink(path: string): void {
    this.call('unlink', [path]);
  }

  mmap(file: AttachedFile, options: { offset?: number; length?: number; shared?: boolean; sync?: boolean; address?: number } = {}): AttachedMapping {
    if (!(file instanceof AttachedFile) || file.emulator !== this) throw new PmemError('EBADF', 'mmap: not a file this worker opened');
    return new AttachedMapping(this, this.call('mmap', [file.id, options]).value as SharedMappingInfo);
  }

  /** The mapping (made on any thread) that covers virtual address `address`. */
  mappingAt(address: number): AttachedMapping {
    return new AttachedMapping(this, this.call('mappingAt', [address]).value as SharedMappingInfo);
  }

  msync(address: number, length: number, options: { sync?: boolean } = {}): WritebackReport {
    return this.call('msync', [address, length, options]).value as WritebackReport;
  }

  sync(): WritebackReport {
    return this.call('sync', []).value as WritebackReport;
  }

  checkInvariants(): void {
    this.call('checkInvariants', []);
  }

  /** Starts recording fs_dax tracepoints of every thread's calls; stop() returns them. */
  startTrace(): { stop(): TraceEvent[] } {
    const id = this.call('startTrace', []).value as number;
    return { stop: () => this.call('stopTrace', [id]).value as TraceEvent[] };
  }

  /** Gives the CPU back: another worker may attach it; later calls here fail with EINVAL. */
  detach(): void {
    this.live('detach');
    this.attached = false;
    this.tlb.clear();
    Atomics.and(this.words, W_CLAIMS, ~(1 << this.cpu));
  }

  /**
   * Runs `use` with the translation of the page holding `address + off`, from the cache or
   * else from the owner (which faults it in), inside the window the owner's shootdown waits
   * for (share-server.ts). @internal
   */
  through(address: number, off: number, write: boolean, use: (media: number, zero: boolean) => void): void {
    this.live('access');
    const vpage = Math.floor((address + off) / PAGE);
    const active = activeWord(this.cpu);
    for (let attempt = 0; ; attempt++) {
      Atomics.store(this.words, active, 1);
      this.catchUp();
      const t = this.tlb.get(vpage);
      if (t !== undefined && (!write || t.writable)) {
        try {
          use(t.media, t.zero);
        } finally {
          Atomics.store(this.words, active, 0);
        }
        return;
      }
      Atomics.store(this.words, active, 0);
      if (attempt === MAX_RETRANSLATIONS) throw new PmemError('EFAULT', `${MAX_RETRANSLATIONS} translations of virtual page ${vpage} were each overtaken by a change of its page`);
      const r = this.call('mapping', [address, 'resolve', off, write]).value as Translation & { onHost: boolean; epoch: number };
      if (r.onHost) throw new PmemError('EFAULT', `virtual page ${vpage} is in the owner's memory: a shared DAX mapping should have none`);
      this.catchUp();
      // Kept unless a change announced since the owner answered covers this very page.
      if (!this.changedSince(r.epoch, vpage)) this.tlb.set(vpage, { media: r.media, writable: r.writable, zero: r.zero });
    }
  }

  /** Drops the cached translations that the changes announced since the last look cover. */
  private catchUp(): void {
    const epoch = Atomics.load(this.words, W_EPOCH);
    if (epoch === this.epoch) return;
    if (epoch - this.epoch >= SHOOTDOWN_RING) {
      this.tlb.clear();
    } else {
      for (let e = this.epoch + 1; e <= epoch; e++) this.invalidate(this.ring[(e % SHOOTDOWN_RING) * 2]!, this.ring[(e % SHOOTDOWN_RING) * 2 + 1]!);
      // The ring may have been overwritten while it was read: then nothing read is trusted.
      if (Atomics.load(this.words, W_EPOCH) - this.epoch >= SHOOTDOWN_RING) this.tlb.clear();
    }
    this.epoch = epoch;
  }

  private invalidate(first: number, pages: number): void {
    if (pages <= 64) {
      for (let v = first; v < first + pages; v++) this.tlb.delete(v);
      return;
    }
    for (const v of this.tlb.keys()) if (v >= first && v < first + pages) this.tlb.delete(v);
  }

  /** Whether a change announced after epoch `from` (up to this.epoch) covers `vpage`; true when that is no longer known. */
  private changedSince(from: number, vpage: number): boolean {
    if (this.epoch - from >= SHOOTDOWN_RING) return true;
    for (let e = from + 1; e <= this.epoch; e++) {
      const first = this.ring[(e % SHOOTDOWN_RING) * 2]!;
      if (vpage >= first && vpage < first + this.ring[(e % SHOOTDOWN_RING) * 2 + 1]!) return true;
    }
    return Atomics.load(this.words, W_EPOCH) - from >= SHOOTDOWN_RING;
  }

  /** The hardware, for the mappings' instructions. @internal */
  get core(): Core {
    return this.hw.core;
  }
}

/** Calls `visit` for each page piece of [off, off + len): offset in the mapping, offset in the page, length, bytes done before it. */
function eachPage(off: number, len: number, visit: (at: number, from: number, n: number, done: number) => void): void {
  for (let done = 0; done < len; ) {
    const at = off + done;
    const from = at % PAGE;
    const n = Math.min(PAGE - from, len - done);
    visit(at, from, n, done);
    done += n;
  }
}

/** Calls `visit` for pieces of at most FORWARD_PIECE bytes (the room of a call between threads); once for an empty range. */
function eachPiece(len: number, visit: (done: number, n: number) => void): void {
  let done = 0;
  do {
    const n = Math.min(FORWARD_PIECE, len - done);
    visit(done, n);
    done += n;
  } while (done < len);
}

/** A file, from a worker: every call is the owner's DaxFile's. */
export class AttachedFile {
  readonly emulator: AttachedEmulator;
  readonly id: number;
  readonly path: string;
  readonly dax: boolean;

  /** @internal */
  constructor(emulator: AttachedEmulator, info: SharedFileInfo) {
    this.emulator = emulator;
    this.id = info.id;
    this.path = info.path;
    this.dax = info.dax;
  }

  private call(method: string, args: unknown[], bin?: Uint8Array): Message {
    return this.emulator.call('file', [this.id, method, ...args], bin);
  }

  get size(): number {
    return this.call('size', []).value as number;
  }

  pread(offset: number, length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0) return this.call('pread', [offset, length]).bin!; // the owner names the bad length
    const out = new Uint8Array(length);
    let got = 0;
    eachPiece(length, (done, n) => {
      const piece = this.call('pread', [offset + done, n]).bin ?? new Uint8Array(0);
      out.set(piece, done);
      got += piece.length;
    });
    return got === length ? out : out.slice(0, got);
  }

  pwrite(offset: number, bytes: Uint8Array): number {
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', 'pwrite: bytes must be a Uint8Array');
    let written = 0;
    eachPiece(bytes.length, (done, n) => {
      written += this.call('pwrite', [offset + done], bytes.subarray(done, done + n)).value as number;
    });
    return written;
  }

  truncate(size: number): void {
    this.call('truncate', [size]);
  }

  punchHole(offset: number, length: number): void {
    this.call('punchHole', [offset, length]);
  }

  fsync(): WritebackReport {
    return this.call('fsync', []).value as WritebackReport;
  }

  fdatasync(): WritebackReport {
    return this.call('fdatasync', []).value as WritebackReport;
  }
}

/**
 * A mapping, from a worker. Through a shared DAX mapping (`direct`) loads, stores and flushes
 * run here on cached translations; anything else is the owner's FileMapping's call.
 */
export class AttachedMapping {
  readonly address: number;
  readonly offset: number;
  readonly length: number;
  readonly shared: boolean;
  readonly sync: boolean;
  readonly file: AttachedFile;
  /** Whether accesses run on this thread (a shared DAX mapping) rather than on the owner. */
  readonly direct: boolean;
  private readonly emulator: AttachedEmulator;

  /** @internal */
  constructor(emulator: AttachedEmulator, info: SharedMappingInfo) {
    this.emulator = emulator;
    this.address = info.address;
    this.offset = info.offset;
    this.length = info.length;
    this.shared = info.shared;
    this.sync = info.sync;
    this.direct = info.direct;
    this.file = new AttachedFile(emulator, info.file);
  }

  private call(method: string, args: unknown[], bin?: Uint8Array): Message {
    return this.emulator.call('mapping', [this.address, method, ...args], bin);
  }

  /** The owner's checks, made here for the accesses that do not reach it. */
  private check(op: string, off: number, len: number): void {
    checkMappedRange(op, off, len, this.length);
  }

  load(off: number, len: number): Uint8Array {
    this.check('load', off, len);
    const out = new Uint8Array(len);
    if (!this.direct) {
      eachPiece(len, (done, n) => out.set(this.call('load', [off + done, n]).bin ?? new Uint8Array(0), done));
      return out;
    }
    const { core, cpu } = this.emulator;
    eachPage(off, len, (at, from, n, done) => {
      this.emulator.through(this.address, at, false, (media, zero) => {
        if (!zero) out.set(core.pmLoad(cpu, media + from, n), done);
      });
    });
    return out;
  }

  store(off: number, bytes: Uint8Array): void {
    this.write('store', off, bytes);
  }

  /** Non-temporal store: bypasses the cache, durable at this CPU's next fence. */
  ntstore(off: number, bytes: Uint8Array): void {
    this.write('ntstore', off, bytes);
  }

  private write(op: 'store' | 'ntstore', off: number, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', `${op}: bytes must be a Uint8Array`);
    this.check(op, off, bytes.length);
    if (!this.direct) {
      eachPiece(bytes.length, (done, n) => this.call(op, [off + done], bytes.subarray(done, done + n)));
      return;
    }
    const { core, cpu } = this.emulator;
    eachPage(off, bytes.length, (at, from, n, done) => {
      this.emulator.through(this.address, at, true, (media) => core.pmStore(cpu, media + from, bytes.subarray(done, done + n), op === 'ntstore'));
    });
  }

  /** Flushes the lines under [off, off + len): kind 0 clflush, 1 clflushopt, 2 clwb. */
  flush(off: number, len: number, kind: 0 | 1 | 2): void {
    this.check('flush', off, len);
    checkFlushKind(kind);
    if (!this.direct) {
      this.call('flush', [off, len, kind]);
      return;
    }
    const { core, cpu } = this.emulator;
    eachPage(off, len, (at, from, n) => {
      this.emulator.through(this.address, at, false, (media, zero) => {
        if (!zero) core.pmFlush(cpu, kind, media + from, n);
      });
    });
  }

  clwb(off: number, len: number): void {
    this.flush(off, len, 2);
  }

  clflushopt(off: number, len: number): void {
    this.flush(off, len, 1);
  }

  clflush(off: number, len: number): void {
    this.flush(off, len, 0);
  }

  /** Faults the page holding `off` for a read or a write (on the owner, on this CPU). */
  fault(off: number, kind: 'read' | 'write'): FaultResult {
    return this.call('fault', [off, kind]).value as FaultResult;
  }

  storeWouldFault(off: number): boolean {
    return this.call('storeWouldFault', [off]).value as boolean;
  }

  msync(off: number, len: number, options: { sync?: boolean } = {}): WritebackReport {
    return this.call('msync', [off, len, options]).value as WritebackReport;
  }

  munmap(): void {
    this.call('munmap', []);
  }
}
