/**
 * Recording: startRecording(emu) hands out a wrapper of the emulator whose every public
 * call (device and file mappings, files, fences, CPU switches, crashes, command buffers)
 * runs on the emulator and, once it has returned, appends its line to the trace
 * (src/trace/format.ts). A call that throws leaves the emulator as it was and records
 * nothing. Nothing in the emulator changes: the wrapper costs nothing when not used.
 * Stores are recorded with their bytes; loads with their range only. The emulator-level
 * calls (msync over the address space, reclaim, dropCaches, backgroundWriteback, allocate,
 * free, runConcurrently, save) are recorded too (format 1.1); runConcurrently's
 * interleaving is its schedule and the emulator's deterministic round robin after it, so
 * the tasks and the schedule are what the line keeps. save changes nothing in the emulator:
 * its line is a marker, which the replay skips (it writes no pool file).
 */

/** A concurrent task over the recording's own files and mappings. */
export type RecordingTask =
  | { fsync: RecordingFile; cpu?: number }
  | { store: { mapping: RecordingFileMapping; offset: number; bytes: Uint8Array }; cpu?: number }
  | { holdEntry: { file: RecordingFile; pgoff: number; steps?: number; then: 'unlock' | 'punch' }; cpu?: number };
import { PmemError } from '../base/index.js';
import { PM_CLFLUSH, PM_CLFLUSHOPT, PM_CLWB, PM_LOAD, PM_MFENCE, PM_NTSTORE, PM_SFENCE, PM_STORE, PRESET_NAMES, type CommandBuilder, type DeviceMapping, resolveCostModel, type RunResult } from '../hw/index.js';
import type { Allocate, ConcurrentTask, DaxFile, FaultResult, FileMapping, WaitEvent, WritebackReport } from '../dax/index.js';
import { defaultResidentBytes, type Emulator } from '../emulator/index.js';
import type { PmemMappingLike } from '../libpmem/index.js';
import { encodePath, hexData, taskWord, TRACE_MAGIC, TRACE_MINOR, TRACE_VERSION, type TraceTask } from './format.js';

/** Text handed to a recording's writer at a time, about. */
const WRITE_CHUNK = 1 << 20;

/** The recorded lines: kept, or handed to the writer in chunks. */
class TraceLog {
  private lines: string[] = [];
  private bytes = 0;
  devs = 0;
  maps = 0;
  constructor(private readonly write?: (text: string) => void) {}

  add(line: string): void {
    this.lines.push(line);
    if (!this.write) return;
    this.bytes += line.length + 1;
    if (this.bytes >= WRITE_CHUNK) this.flush();
  }

  /** The trace so far; with a writer, what it has not been given yet goes to it, and this is ''. */
  text(): string {
    if (!this.write) return `${this.lines.join('\n')}\n`;
    this.flush();
    return '';
  }

  private flush(): void {
    if (this.lines.length === 0) return;
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    this.bytes = 0;
    this.write!(text);
  }
}

export interface RecordingOptions {
  /**
   * Where the trace goes as it is recorded, in pieces of about 1 MiB, in order (the rest at
   * trace() or stop()): the recording then keeps none of it, so a run of any length records
   * in bounded memory, and trace() and stop() return ''. Under Node, for a file:
   * `(text) => appendFileSync(path, text)`.
   */
  write?: (text: string) => void;
}

/** The emulator line for `emu`'s options; EINVAL for a custom cost model, which no line can name. */
function emulatorLine(emu: Emulator): string {
  const o = emu.options;
  const preset = PRESET_NAMES.find((n) => n === o.cost.name);
  const same = preset !== undefined && JSON.stringify(resolveCostModel(preset, o.persistence)) === JSON.stringify(o.cost);
  if (!same) throw new PmemError('EINVAL', `startRecording: the cost model "${o.cost.name}" is not a preset; only preset emulators can be recorded`);
  // Written only when set, so that a trace without them reads as before.
  const bugs = o.bugs.length > 0 ? ` bugs=${o.bugs.join(',')}` : '';
  const fixes = o.fixes.length > 0 ? ` fixes=${o.fixes.join(',')}` : '';
  const resident = o.residentBytes !== defaultResidentBytes(o.capacity) ? ` resident=${o.residentBytes}` : '';
  return `emulator capacity=${o.capacity} preset=${preset} persistence=${o.persistence} seed=${o.seed} cache=${o.cacheBytes} kernel=${o.kernel} flush=${o.flush} writeback=${o.writeback}${bugs}${fixes}${resident}`;
}

/**
 * Starts recording `emu`, which must be fresh (nothing run on it yet: a replay starts from
 * a fresh emulator). Use the returned wrapper in place of the emulator; stop() gives the
 * trace, or, with `options.write`, hands it the rest.
 */
export function startRecording(emu: Emulator, options: RecordingOptions = {}): RecordingEmulator {
  if (options.write !== undefined && typeof options.write !== 'function') throw new PmemError('EINVAL', `startRecording: write must be a function taking the trace's text, got ${String(options.write)}`);
  const s = emu.stats();
  if (s.nsPerCpu.some((ns) => ns !== 0) || s.stores + s.loads + s.ntStores + s.fences + s.linesFlushed !== 0 || emu.stats().dax.nrpages !== 0) {
    throw new PmemError('EINVAL', 'startRecording: the emulator has run already; record from a fresh one so that a replay starts where the recording did');
  }
  const log = new TraceLog(options.write);
  log.add(`${TRACE_MAGIC} ${TRACE_VERSION}.${TRACE_MINOR}`);
  log.add(emulatorLine(emu));
  return new RecordingEmulator(emu, log);
}

export class RecordingEmulator {
  private readonly files = new Map<string, RecordingFile>();

  /** @internal */
  constructor(readonly emulator: Emulator, private readonly log: TraceLog) {}

  get options(): Emulator['options'] {
    return this.emulator.options;
  }

  get capacity(): number {
    return this.emulator.capacity;
  }

  get cpu(): number {
    return this.emulator.cpu;
  }

  set cpu(cpu: number) {
    this.emulator.cpu = cpu;
    this.log.add(`cpu ${cpu}`);
  }

  /** The trace so far, as text ('' with a writer, which is given what it lacks). */
  trace(): string {
    return this.log.text();
  }

  /** The trace; the wrapper keeps working (and recording). */
  stop(): string {
    return this.trace();
  }

  /** A named marker line (no operation), e.g. around a transaction. */
  mark(name: string): void {
    if (typeof name !== 'string' || !/^[^\s#]+$/.test(name)) throw new PmemError('EINVAL', `mark: name must be one word without #, got ${String(name)}`);
    this.log.add(`mark ${name}`);
  }

  now(): number {
    return this.emulator.now();
  }

  stats(): ReturnType<Emulator['stats']> {
    return this.emulator.stats();
  }

  mmapDevice(options: { offset?: number; length?: number } = {}): RecordingDevice {
    const d = this.emulator.mmapDevice(options);
    const id = this.log.devs++;
    this.log.add(`dev d${id} ${d.offset} ${d.length}`);
    return new RecordingDevice(d, `d${id}`, this.log);
  }

  sfence(): void {
    this.emulator.sfence();
    this.log.add('sfence');
  }

  mfence(): void {
    this.emulator.mfence();
    this.log.add('mfence');
  }

  commands(): CommandBuilder {
    return this.emulator.commands();
  }

  /** Runs a command buffer and records each record as a line on @, the media. */
  run(commands: CommandBuilder): RunResult {
    const result = this.emulator.run(commands);
    const { records, data } = commands.encoded();
    for (let i = 0; i < records.length; i += 4) {
      const [op, addr, len, at] = [records[i]!, records[i + 1]!, records[i + 2]!, records[i + 3]!];
      switch (op) {
        case PM_STORE: this.log.add(`store @ ${addr} ${len} ${hexData(data.subarray(at, at + len))}`); break;
        case PM_NTSTORE: this.log.add(`ntstore @ ${addr} ${len} ${hexData(data.subarray(at, at + len))}`); break;
        case PM_LOAD: this.log.add(`load @ ${addr} ${len}`); break;
        case PM_CLWB: this.log.add(`clwb @ ${addr} ${len}`); break;
        case PM_CLFLUSHOPT: this.log.add(`clflushopt @ ${addr} ${len}`); break;
        case PM_CLFLUSH: this.log.add(`clflush @ ${addr} ${len}`); break;
        case PM_SFENCE: this.log.add('sfence'); break;
        case PM_MFENCE: this.log.add('mfence'); break;
      }
    }
    return result;
  }

  createFile(path: string, options: { size?: number; allocate?: Allocate; dax?: boolean } = {}): RecordingFile {
    const f = this.emulator.createFile(path, options);
    this.log.add(`create ${encodePath(path)} ${f.size} ${options.allocate ?? 'none'}${f.dax ? '' : ' pagecache'}`);
    const rf = new RecordingFile(f, this.log);
    this.files.set(path, rf);
    return rf;
  }

  open(path: string): RecordingFile {
    const f = this.emulator.open(path);
    let rf = this.files.get(path);
    if (!rf || rf.file !== f) {
      rf = new RecordingFile(f, this.log);
      this.files.set(path, rf);
    }
    return rf;
  }

  unlink(path: string): void {
    this.emulator.unlink(path);
    this.files.delete(path);
    this.log.add(`unlink ${encodePath(path)}`);
  }

  mmap(file: RecordingFile, options: { offset?: number; length?: number; shared?: boolean; sync?: boolean; address?: number } = {}): RecordingFileMapping {
    if (!(file instanceof RecordingFile)) throw new PmemError('EINVAL', 'mmap: file must come from this recording (createFile or open)');
    if (options.address !== undefined) throw new PmemError('EINVAL', 'mmap: a recording picks no address; leave it out');
    const m = this.emulator.mmap(file.file, options);
    const id = this.log.maps++;
    this.log.add(`mmap m${id} ${encodePath(file.path)} ${m.offset} ${m.length} ${m.shared ? 'shared' : 'private'}${m.sync ? ' sync' : ''}`);
    return new RecordingFileMapping(m, `m${id}`, this.log);
  }

  sync(): WritebackReport {
    const r = this.emulator.sync();
    this.log.add('sync');
    return r;
  }

  /** msync over the emulated address space (Emulator.msync); an ENOMEM, which comes after the mapped parts were synced, is recorded too. */
  msync(address: number, length: number, options: { sync?: boolean } = {}): WritebackReport {
    const line = `msync-at ${address} ${length}${options.sync === false ? ' async' : ''}`;
    try {
      const r = this.emulator.msync(address, length, options);
      this.log.add(line);
      return r;
    } catch (err) {
      if (err instanceof PmemError && err.code === 'ENOMEM') this.log.add(line);
      throw err;
    }
  }

  reclaim(request: number | { pages: number; seed?: number }): number {
    const n = this.emulator.reclaim(request);
    this.log.add(`reclaim ${typeof request === 'number' ? request : request.pages}`);
    return n;
  }

  dropCaches(): number {
    const n = this.emulator.dropCaches();
    this.log.add('dropcaches');
    return n;
  }

  backgroundWriteback(options: { expireNs?: number } = {}): WritebackReport {
    if (options.expireNs !== undefined && !Number.isSafeInteger(options.expireNs)) {
      throw new PmemError('EINVAL', `backgroundWriteback: a recording takes whole ns for expireNs, got ${String(options.expireNs)}`);
    }
    const r = this.emulator.backgroundWriteback(options);
    // The default expiry is written out, so that the line does not depend on it.
    this.log.add(`bgwriteback ${options.expireNs ?? 30_000_000_000}`);
    return r;
  }

  allocate(extent = false): number {
    const pfn = this.emulator.allocate(extent);
    this.log.add(`allocate ${extent ? 'extent' : 'block'}`);
    return pfn;
  }

  free(pfn: number, count = 1): void {
    this.emulator.free(pfn, count);
    this.log.add(`free ${pfn} ${count}`);
  }

  freeBlocks(): number {
    return this.emulator.freeBlocks();
  }

  /** runConcurrently over the recording's files and mappings; the line keeps the tasks and the schedule. */
  runConcurrently(tasks: RecordingTask[], options: { schedule?: number[]; waitLog?: WaitEvent[] } = {}): (WritebackReport | undefined)[] {
    if (!Array.isArray(tasks)) throw new PmemError('EINVAL', `runConcurrently: tasks must be an array, got ${String(tasks)}`);
    const words: TraceTask[] = [];
    const real: ConcurrentTask[] = tasks.map((t) => {
      const at = t.cpu === undefined ? {} : { cpu: t.cpu };
      if ('fsync' in t) {
        if (!(t.fsync instanceof RecordingFile)) throw new PmemError('EINVAL', 'runConcurrently: a task\'s file must come from this recording');
        words.push({ kind: 'fsync', path: t.fsync.path, ...at });
        return { fsync: t.fsync.file, ...at };
      }
      if ('store' in t) {
        const { mapping, offset, bytes } = t.store;
        if (!(mapping instanceof RecordingFileMapping)) throw new PmemError('EINVAL', 'runConcurrently: a store task\'s mapping must come from this recording');
        words.push({ kind: 'store', map: Number(mapping.traceName.slice(1)), offset, hex: hexData(bytes), ...at });
        return { store: { mapping: mapping.mapping, offset, bytes }, ...at };
      }
      const h = t.holdEntry;
      if (!(h.file instanceof RecordingFile)) throw new PmemError('EINVAL', 'runConcurrently: a task\'s file must come from this recording');
      words.push({ kind: 'hold', path: h.file.path, pgoff: h.pgoff, steps: h.steps ?? 1, then: h.then, ...at });
      return { holdEntry: { file: h.file.file, pgoff: h.pgoff, steps: h.steps, then: h.then }, ...at };
    });
    const reports = this.emulator.runConcurrently(real, options);
    const schedule = options.schedule ?? [];
    this.log.add(`concurrent ${schedule.length ? `schedule=${schedule.join(',')} ` : ''}${words.map(taskWord).join(' ')}`);
    return reports;
  }

  /** Saves a pool file (Emulator.save); recorded as a marker, which the replay skips. */
  async save(path: string): Promise<Awaited<ReturnType<Emulator['save']>>> {
    const report = await this.emulator.save(path);
    this.log.add(`save ${encodePath(path)}`);
    return report;
  }

  /** Crashes; the wrapper of the rebooted emulator goes on recording into the same trace. */
  async crash(options: { mode?: 'guaranteed' | 'random' | 'adversarial'; seed?: number } = {}): Promise<RecordingEmulator> {
    const image = await this.emulator.crash(options);
    this.log.add(`crash ${options.mode ?? 'guaranteed'} ${options.seed ?? this.emulator.options.seed}`);
    return new RecordingEmulator(image, this.log);
  }
}

/** What device and file mappings both do: stores, loads, the three flushes, munmap. */
type Accessible = Pick<PmemMappingLike, 'store' | 'ntstore' | 'load' | 'clwb' | 'clflushopt' | 'clflush' | 'munmap'>;

/** Records the accesses of a device or file mapping, named `name` (dN or mN) in the trace. */
class RecordingAccess<T extends Accessible> {
  /** @internal */
  constructor(readonly mapping: T, protected readonly name: string, protected readonly log: TraceLog) {}

  /** The mapping's name in the trace (dN or mN). */
  get traceName(): string {
    return this.name;
  }

  store(off: number, bytes: Uint8Array): void {
    this.mapping.store(off, bytes);
    this.log.add(`store ${this.name} ${off} ${bytes.length} ${hexData(bytes)}`);
  }

  ntstore(off: number, bytes: Uint8Array): void {
    this.mapping.ntstore(off, bytes);
    this.log.add(`ntstore ${this.name} ${off} ${bytes.length} ${hexData(bytes)}`);
  }

  load(off: number, len: number): Uint8Array {
    const out = this.mapping.load(off, len);
    this.log.add(`load ${this.name} ${off} ${len}`);
    return out;
  }

  clwb(off: number, len: number): void {
    this.mapping.clwb(off, len);
    this.log.add(`clwb ${this.name} ${off} ${len}`);
  }

  clflushopt(off: number, len: number): void {
    this.mapping.clflushopt(off, len);
    this.log.add(`clflushopt ${this.name} ${off} ${len}`);
  }

  clflush(off: number, len: number): void {
    this.mapping.clflush(off, len);
    this.log.add(`clflush ${this.name} ${off} ${len}`);
  }

  munmap(): void {
    this.mapping.munmap();
    this.log.add(`munmap ${this.name}`);
  }
}

/** Records the calls of one device mapping. */
export class RecordingDevice extends RecordingAccess<DeviceMapping> {
  get offset(): number {
    return this.mapping.offset;
  }

  get length(): number {
    return this.mapping.length;
  }
}

/** Records the calls of one file. */
export class RecordingFile {
  /** @internal */
  constructor(readonly file: DaxFile, private readonly log: TraceLog) {}

  get path(): string {
    return this.file.path;
  }

  get size(): number {
    return this.file.size;
  }

  private get name(): string {
    return encodePath(this.file.path);
  }

  fsync(): WritebackReport {
    const r = this.file.fsync();
    this.log.add(`fsync ${this.name}`);
    return r;
  }

  fdatasync(): WritebackReport {
    const r = this.file.fdatasync();
    this.log.add(`fdatasync ${this.name}`);
    return r;
  }

  truncate(size: number): void {
    this.file.truncate(size);
    this.log.add(`truncate ${this.name} ${size}`);
  }

  punchHole(offset: number, length: number): void {
    this.file.punchHole(offset, length);
    this.log.add(`punch ${this.name} ${offset} ${length}`);
  }

  pwrite(offset: number, bytes: Uint8Array): number {
    const n = this.file.pwrite(offset, bytes);
    this.log.add(`pwrite ${this.name} ${offset} ${bytes.length} ${hexData(bytes)}`);
    return n;
  }

  pread(offset: number, length: number): Uint8Array {
    const out = this.file.pread(offset, length);
    this.log.add(`pread ${this.name} ${offset} ${length}`);
    return out;
  }
}

/** Records the calls of one file mapping. */
export class RecordingFileMapping extends RecordingAccess<FileMapping> {
  get address(): number {
    return this.mapping.address;
  }

  get length(): number {
    return this.mapping.length;
  }

  fault(off: number, kind: 'read' | 'write'): FaultResult {
    const r = this.mapping.fault(off, kind);
    this.log.add(`fault ${this.name} ${off} ${kind}`);
    return r;
  }

  msync(off: number, len: number, options: { sync?: boolean } = {}): WritebackReport {
    const r = this.mapping.msync(off, len, options);
    this.log.add(`msync ${this.name} ${off} ${len}${options.sync === false ? ' async' : ''}`);
    return r;
  }
}
