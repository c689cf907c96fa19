/**
 * Replaying a trace (src/trace/format.ts) on an emulator, in two passes over the lines:
 * the check pass parses every line and follows the mappings and files it names, and
 * refuses the first bad line (EINVAL, with its number and what was expected) before the
 * emulator is touched; the run pass parses again and runs. Neither keeps the lines, so a
 * trace of any length replays in bounded memory. Runs of device and media operations go
 * to the emulator through its command buffer (emu.run), cut at every other operation.
 */
import { PmemError } from '../base/index.js';
import type { DeviceMapping } from '../hw/index.js';
import type { CommandBuilder } from '../hw/index.js';
import type { ConcurrentTask, DaxFile, FileMapping, WritebackReport } from '../dax/index.js';
import { createEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import { fillBytes } from './fill.js';
import { dataBytes, lineError, newOp, Op, OP_USAGE, parseLine, Target, TRACE_MAGIC, TRACE_MINOR, TRACE_VERSION, type TraceOp, type TraceTask } from './format.js';
import { checkText, stringLines, type LineSource } from './lines.js';

/** Sees every operation of the run pass, in order, before it runs (the analysis). */
export interface ReplayObserver {
  /**
   * `op` is reused for the next line: copy what must be kept. Read the emulator here, never
   * run anything on it: device and media operations may be waiting in a batch.
   */
  before(op: TraceOp, emu: Emulator): void;
  /** After an msync, fsync, fdatasync or sync: the writeback it did. */
  afterSync?(op: TraceOp, report: WritebackReport): void;
  /** After a crash: the rebooted emulator. */
  afterCrash?(op: TraceOp, emu: Emulator): void;
  /**
   * After an operation whose writeback the trace does not spell out (msync-at, bgwriteback,
   * concurrent): the emulator, whose entries' DIRTY tags tell what it made clean.
   */
  afterUnspelledWriteback?(op: TraceOp, emu: Emulator): void;
}

export interface ReplayOptions {
  /** Options of the emulator to make, over the trace's `emulator` line. */
  emulator?: EmulatorOptions;
  observer?: ReplayObserver;
  /** Device and media operations per command buffer (default 4096). */
  batch?: number;
}

export interface ReplayResult {
  /** The emulator at the end (after a crash line, the rebooted one). */
  readonly emulator: Emulator;
  /** Operations run (lines that are not blank, comments, headers or markers). */
  readonly operations: number;
  /** Lines read. */
  readonly lines: number;
  /** Whether the trace was a two-word trace. */
  readonly legacy: boolean;
  /** Emulated ns summed over CPUs and over every emulator the trace ran on (crashes boot new ones). */
  readonly cpuNs: number;
}

const LEGACY_FILE = 'trace';
const MiB = 1 << 20;

/** The trace as a line source: a string, or a source already. */
export function sourceOf(trace: string | LineSource): LineSource {
  return typeof trace === 'string' ? stringLines(trace) : trace;
}

interface Header {
  legacy: boolean;
  options: EmulatorOptions;
}

/** Reads the header lines: the magic and version, then the optional emulator line. */
export function readHeader(source: LineSource): Header {
  let line = 0;
  const op = newOp();
  for (const raw of source.lines()) {
    line++;
    checkText(raw, line, source.name);
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) continue;
    if (!text.startsWith(TRACE_MAGIC)) return { legacy: true, options: {} };
    const words = text.split(/[ \t]+/);
    if (words[0] !== TRACE_MAGIC || words.length !== 2) throw lineError(line, `${TRACE_MAGIC} ${TRACE_VERSION}`, text);
    // 1 and 1.0 are the first format; 1.1 adds operations, so this reader reads every 1.x up to its own.
    const version = /^([0-9]+)(?:\.([0-9]+))?$/.exec(words[1]!);
    if (!version || Number(version[1]) !== TRACE_VERSION || Number(version[2] ?? 0) > TRACE_MINOR) {
      throw new PmemError('EINVAL', `trace line ${line}: version ${words[1]} is not supported (this daxemu reads versions ${TRACE_VERSION} to ${TRACE_VERSION}.${TRACE_MINOR})`);
    }
    for (const raw2 of skipTo(source, line)) {
      line++;
      checkText(raw2, line, source.name);
      if (!parseLine(raw2, line, op)) continue;
      return { legacy: false, options: op.op === Op.Emulator ? emulatorOptions(op.pairs!, line) : {} };
    }
    return { legacy: false, options: {} };
  }
  throw new PmemError('EINVAL', `${source.name}: no operations`);
}

function* skipTo(source: LineSource, done: number): Iterable<string> {
  let i = 0;
  for (const raw of source.lines()) if (++i > done) yield raw;
}

const EMULATOR_KEYS = ['capacity', 'preset', 'persistence', 'seed', 'cache', 'kernel', 'flush', 'writeback', 'bugs', 'fixes', 'resident'];

/** The `emulator` line's pairs as createEmulator options (checked when the emulator is made). */
function emulatorOptions(pairs: Record<string, string>, line: number): EmulatorOptions {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(pairs)) {
    if (!EMULATOR_KEYS.includes(k)) throw new PmemError('EINVAL', `trace line ${line}: unknown emulator option "${k}" (expected ${EMULATOR_KEYS.join(', ')})`);
    if (k === 'capacity' || k === 'seed' || k === 'cache' || k === 'resident') {
      if (!/^[0-9]+$/.test(v)) throw lineError(line, `${k}=N`, `${k}=${v}`);
      o[k === 'cache' ? 'cacheBytes' : k === 'resident' ? 'residentBytes' : k] = Number(v);
    } else if (k === 'bugs' || k === 'fixes') o[k] = v.split(',');
    else o[k] = v;
  }
  return o as EmulatorOptions;
}

/** What the check pass follows: which mappings exist, how long they are, which files exist. */
export class Shadow {
  readonly devs = new Map<number, number>();
  readonly maps = new Map<number, number>();
  readonly files = new Set<string>();
  legacyEnd = 0;
  constructor(readonly capacity: number, readonly cpus: number) {}

  private range(op: TraceOp, length: number, raw: string): void {
    if (op.a + op.b > length) throw new PmemError('EINVAL', `trace line ${op.line}: [${op.a}, ${op.a + op.b}) is outside the ${length}-byte ${op.target === Target.Media ? 'media' : 'mapping'}; expected "${OP_USAGE[op.op]}" inside it, got "${raw.trim().slice(0, 80)}"`);
  }

  private mapping(op: TraceOp, raw: string): number {
    if (op.target === Target.Media) return this.capacity;
    const table = op.target === Target.Device ? this.devs : this.maps;
    const len = table.get(op.id);
    if (len === undefined) throw new PmemError('EINVAL', `trace line ${op.line}: ${op.target === Target.Device ? 'd' : 'm'}${op.id} is not mapped (expected a dev or mmap line before it), got "${raw.trim().slice(0, 80)}"`);
    return len;
  }

  private file(op: TraceOp): void {
    if (!this.files.has(op.path)) throw new PmemError('EINVAL', `trace line ${op.line}: no file ${op.path} (expected a create line before it)`);
  }

  private tasks(op: TraceOp, raw: string): void {
    const tasks = op.tasks!;
    for (const t of tasks) {
      if (t.cpu !== undefined && t.cpu >= this.cpus) throw new PmemError('EINVAL', `trace line ${op.line}: expected a task cpu in [0, ${this.cpus - 1}], got ${t.cpu}`);
      if (t.kind === 'store') {
        const len = this.maps.get(t.map);
        if (len === undefined) throw new PmemError('EINVAL', `trace line ${op.line}: m${t.map} is not mapped (expected a dev or mmap line before it), got "${raw.trim().slice(0, 80)}"`);
        if (t.offset + (t.hex.length - 1) / 2 > len) throw new PmemError('EINVAL', `trace line ${op.line}: a store task outside the ${len}-byte m${t.map}`);
      } else if (!this.files.has(t.path)) throw new PmemError('EINVAL', `trace line ${op.line}: no file ${t.path} (expected a create line before it)`);
    }
    const bad = op.schedule!.find((n) => n >= tasks.length);
    if (bad !== undefined) throw new PmemError('EINVAL', `trace line ${op.line}: the schedule names task ${bad} of ${tasks.length}`);
  }

  check(op: TraceOp, raw: string): void {
    switch (op.op) {
      case Op.Emulator:
        throw new PmemError('EINVAL', `trace line ${op.line}: the emulator line must come right after the ${TRACE_MAGIC} line`);
      case Op.Store: case Op.NtStore: case Op.Load: case Op.Clwb: case Op.ClflushOpt: case Op.Clflush:
        this.range(op, this.mapping(op, raw), raw);
        return;
      case Op.Dev:
        if (this.devs.has(op.id)) throw new PmemError('EINVAL', `trace line ${op.line}: d${op.id} is mapped already`);
        if (op.a % 4096 !== 0 || op.b % 4096 !== 0 || op.b === 0 || op.a + op.b > this.capacity) {
          throw new PmemError('EINVAL', `trace line ${op.line}: expected a 4 KiB-aligned, non-empty device range inside the ${this.capacity}-byte media, got [${op.a}, ${op.a + op.b})`);
        }
        this.devs.set(op.id, op.b);
        return;
      case Op.Create:
        if (this.files.has(op.path)) throw new PmemError('EINVAL', `trace line ${op.line}: ${op.path} exists already`);
        this.files.add(op.path);
        return;
      case Op.Mmap:
        this.file(op);
        if (this.maps.has(op.id)) throw new PmemError('EINVAL', `trace line ${op.line}: m${op.id} is mapped already`);
        if (op.a % 4096 !== 0 || op.b % 4096 !== 0 || op.b === 0) throw new PmemError('EINVAL', `trace line ${op.line}: expected a page-aligned offset and a positive multiple of 4096 as the length, got ${op.a} ${op.b}`);
        this.maps.set(op.id, op.b);
        return;
      case Op.Munmap:
        this.mapping(op, raw);
        (op.target === Target.Device ? this.devs : this.maps).delete(op.id);
        return;
      case Op.Fault:
        if (op.a >= this.mapping(op, raw)) throw new PmemError('EINVAL', `trace line ${op.line}: offset ${op.a} is outside m${op.id}`);
        return;
      case Op.Msync:
        this.range(op, this.mapping(op, raw), raw);
        return;
      case Op.Cpu:
        if (op.a >= this.cpus) throw new PmemError('EINVAL', `trace line ${op.line}: expected a cpu in [0, ${this.cpus - 1}], got ${op.a}`);
        return;
      case Op.Fsync: case Op.Fdatasync: case Op.Truncate: case Op.Punch: case Op.Pwrite: case Op.Pread:
        this.file(op);
        return;
      case Op.Unlink:
        this.file(op);
        this.files.delete(op.path);
        return;
      case Op.MsyncAt:
        if (op.a % 4096 !== 0) throw new PmemError('EINVAL', `trace line ${op.line}: expected a page-aligned ADDRESS, got ${op.a}`);
        return;
      case Op.Free:
        if (op.b === 0 || op.a + op.b > 2 ** 32) throw new PmemError('EINVAL', `trace line ${op.line}: expected a PFN and a COUNT of at least 1 below 2^32, got ${op.a} ${op.b}`);
        return;
      case Op.Concurrent:
        this.tasks(op, raw);
        return;
      case Op.Crash:
        // The rebooted emulator has the files but none of the mappings.
        this.devs.clear();
        this.maps.clear();
        return;
      default:
        return;
    }
  }
}

/** A two-word line (`store OFFSET LENGTH` or `sync`) as an operation on m0; false for blank lines. */
function parseLegacy(raw: string, line: number, out: TraceOp): boolean {
  const text = raw.trim();
  if (text === '' || text.startsWith('#')) return false;
  const words = text.split(/\s+/);
  out.line = line;
  out.target = Target.File;
  out.id = 0;
  out.word = '';
  out.data = undefined;
  out.flag = false;
  if (words[0] === 'sync' && words.length === 1) {
    out.op = Op.Msync;
    out.a = 0;
    out.b = -1; // the whole mapping, filled in by the run pass
    return true;
  }
  const a = Number(words[1]);
  const b = Number(words[2]);
  if (words[0] !== 'store' || words.length !== 3 || !/^[0-9]+$/.test(words[1]!) || !/^[0-9]+$/.test(words[2]!) || !Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b <= 0) {
    throw lineError(line, 'store <offset> <length>" or "sync', text);
  }
  out.op = Op.Store;
  out.a = a;
  out.b = b;
  return true;
}

/** Runs the operations on an emulator, batching device and media operations. */
export class Runner {
  emu: Emulator;
  private builder: CommandBuilder;
  private devs: (DeviceMapping | undefined)[] = [];
  private maps: (FileMapping | undefined)[] = [];
  private readonly batch: number;
  cpuNs = 0;

  constructor(emu: Emulator, batch: number, private readonly observer?: ReplayObserver) {
    this.emu = emu;
    this.builder = emu.commands();
    this.batch = batch;
  }

  flush(): void {
    if (this.builder.length === 0) return;
    this.emu.run(this.builder);
    this.builder.reset();
  }

  /** Where device mapping d`id` starts on the media. */
  readonly deviceOffset = (id: number): number => this.devs[id]!.offset;

  private media(op: TraceOp): number {
    return op.target === Target.Media ? op.a : this.deviceOffset(op.id) + op.a;
  }

  private file(path: string): DaxFile {
    return this.emu.open(path);
  }

  private sync(op: TraceOp, report: WritebackReport): void {
    this.observer?.afterSync?.(op, report);
  }

  /** Adds the mapping a two-word trace runs on as m0. */
  setMapping(id: number, m: FileMapping): void {
    this.maps[id] = m;
  }

  /** Runs one operation (a crash goes to crash()). */
  run(op: TraceOp): void {
    this.observer?.before(op, this.emu);
    const b = this.builder;
    if ((op.target === Target.Device || op.target === Target.Media) && op.op !== Op.Dev) {
      switch (op.op) {
        case Op.Store: case Op.NtStore:
          if (op.data) b.storeFrom(this.media(op), op.data, op.dataAt, op.b, op.op === Op.NtStore);
          else if (op.op === Op.Store) b.store(this.media(op), dataBytes(op, fillBytes));
          else b.ntstore(this.media(op), dataBytes(op, fillBytes));
          break;
        case Op.Load: b.load(this.media(op), op.b); break;
        case Op.Clwb: b.clwb(this.media(op), op.b); break;
        case Op.ClflushOpt: b.clflushopt(this.media(op), op.b); break;
        case Op.Clflush: b.clflush(this.media(op), op.b); break;
        case Op.Munmap:
          this.flush();
          this.devs[op.id]!.munmap();
          this.devs[op.id] = undefined;
          return;
      }
      if (b.length >= this.batch) this.flush();
      return;
    }
    if (op.op === Op.Sfence) {
      b.sfence();
      if (b.length >= this.batch) this.flush();
      return;
    }
    if (op.op === Op.Mfence) {
      b.mfence();
      if (b.length >= this.batch) this.flush();
      return;
    }
    // Markers: a save changes nothing in the emulator, so the replay writes no pool file.
    if (op.op === Op.Mark || op.op === Op.Save) return;
    this.flush();
    const emu = this.emu;
    switch (op.op) {
      case Op.Dev: this.devs[op.id] = emu.mmapDevice({ offset: op.a, length: op.b }); return;
      case Op.Create: emu.createFile(op.path, { size: op.a, allocate: op.word as 'none' | 'unwritten' | 'written', dax: !op.flag }); return;
      case Op.Mmap: this.maps[op.id] = emu.mmap(this.file(op.path), { offset: op.a, length: op.b, shared: op.flag, sync: op.flag2 }); return;
      case Op.Munmap: this.maps[op.id]!.munmap(); this.maps[op.id] = undefined; return;
      case Op.Store: this.maps[op.id]!.store(op.a, dataBytes(op, fillBytes)); return;
      case Op.NtStore: this.maps[op.id]!.ntstore(op.a, dataBytes(op, fillBytes)); return;
      case Op.Load: this.maps[op.id]!.load(op.a, op.b); return;
      case Op.Clwb: this.maps[op.id]!.clwb(op.a, op.b); return;
      case Op.ClflushOpt: this.maps[op.id]!.clflushopt(op.a, op.b); return;
      case Op.Clflush: this.maps[op.id]!.clflush(op.a, op.b); return;
      case Op.Fault: this.maps[op.id]!.fault(op.a, op.flag ? 'write' : 'read'); return;
      case Op.Msync: {
        const m = this.maps[op.id]!;
        if (op.b < 0) op.b = m.length;
        this.sync(op, m.msync(op.a, op.b, { sync: !op.flag }));
        return;
      }
      case Op.Cpu: emu.cpu = op.a; return;
      case Op.Fsync: this.sync(op, this.file(op.path).fsync()); return;
      case Op.Fdatasync: this.sync(op, this.file(op.path).fdatasync()); return;
      case Op.Truncate: this.file(op.path).truncate(op.a); return;
      case Op.Punch: this.file(op.path).punchHole(op.a, op.b); return;
      case Op.Pwrite: this.file(op.path).pwrite(op.a, dataBytes(op, fillBytes)); return;
      case Op.Pread: this.file(op.path).pread(op.a, op.b); return;
      case Op.Unlink: emu.unlink(op.path); return;
      case Op.Sync: this.sync(op, emu.sync()); return;
      case Op.MsyncAt:
        try {
          emu.msync(op.a, op.b, { sync: !op.flag });
        } catch (err) {
          // ENOMEM comes after the mapped parts were synced, as in the recording.
          if (!(err instanceof PmemError) || err.code !== 'ENOMEM') throw err;
        }
        this.observer?.afterUnspelledWriteback?.(op, emu);
        return;
      case Op.Reclaim: emu.reclaim(op.a); return;
      case Op.DropCaches: emu.dropCaches(); return;
      case Op.BgWriteback:
        emu.backgroundWriteback({ expireNs: op.a });
        this.observer?.afterUnspelledWriteback?.(op, emu);
        return;
      case Op.Allocate: emu.allocate(op.flag); return;
      case Op.Free: emu.free(op.a, op.b); return;
      case Op.Concurrent:
        emu.runConcurrently(op.tasks!.map((t) => this.task(t)), { schedule: op.schedule! });
        this.observer?.afterUnspelledWriteback?.(op, emu);
        return;
    }
  }

  private task(t: TraceTask): ConcurrentTask {
    const at = t.cpu === undefined ? {} : { cpu: t.cpu };
    if (t.kind === 'fsync') return { fsync: this.file(t.path), ...at };
    if (t.kind === 'store') return { store: { mapping: this.maps[t.map]!, offset: t.offset, bytes: Buffer.from(t.hex.slice(1), 'hex') }, ...at };
    return { holdEntry: { file: this.file(t.path), pgoff: t.pgoff, steps: t.steps, then: t.then }, ...at };
  }

  /** A crash line: the rebooted emulator replaces this one; its mappings are gone. */
  async crash(op: TraceOp): Promise<void> {
    this.observer?.before(op, this.emu);
    this.flush();
    this.cpuNs += totalNs(this.emu);
    this.emu = await this.emu.crash({ mode: op.word as 'guaranteed' | 'random' | 'adversarial', seed: op.a });
    this.builder = this.emu.commands();
    this.devs = [];
    this.maps = [];
    this.observer?.afterCrash?.(op, this.emu);
  }
}

/** Emulated ns summed over the CPUs of `emu`. */
export function totalNs(emu: Emulator): number {
  return emu.stats().nsPerCpu.reduce((a, b) => a + b, 0);
}

/**
 * Replays a trace on a new emulator made from the trace's `emulator` line (and
 * `options.emulator` over it). A bad line fails before the emulator is made.
 */
export async function replay(trace: string | LineSource, options: ReplayOptions = {}): Promise<ReplayResult> {
  const source = sourceOf(trace);
  const header = readHeader(source);
  const emuOptions: EmulatorOptions = { ...header.options, ...options.emulator };
  if (header.legacy) {
    // The file must hold the farthest store: the check pass finds it before the emulator is made.
    const end = checkPass(source, true, emuOptions.capacity ?? 64 * MiB, 64);
    const size = Math.max(2 * MiB, Math.ceil(end / (2 * MiB)) * 2 * MiB);
    emuOptions.capacity ??= Math.max(64 * MiB, 2 * size + 8 * MiB);
    const emu = await createEmulator(emuOptions);
    const mapping = emu.mmap(emu.createFile(LEGACY_FILE, { size }), { length: size, shared: true });
    return runPass(source, emu, mapping, options);
  }
  const emu = await createEmulator(emuOptions);
  checkPass(source, false, emu.capacity, emu.core.layout.maxCpus);
  return runPass(source, emu, undefined, options);
}

/**
 * Replays a version-1 trace on `emu` (its header's emulator line is not applied; the
 * emulator must be as the recording's started for the same results). A bad line fails
 * before `emu` is touched.
 */
export async function replayOn(emu: Emulator, trace: string | LineSource, options: Omit<ReplayOptions, 'emulator'> = {}): Promise<ReplayResult> {
  const source = sourceOf(trace);
  const header = readHeader(source);
  if (header.legacy) throw new PmemError('EINVAL', `${source.name}: a two-word trace makes its own file and mapping; replay it with replay()`);
  checkPass(source, false, emu.capacity, emu.core.layout.maxCpus);
  return runPass(source, emu, undefined, options);
}

/** The check pass; for a two-word trace, returns the end of its farthest store. */
function checkPass(source: LineSource, legacy: boolean, capacity: number, cpus: number): number {
  const shadow = new Shadow(capacity, cpus);
  const op = newOp();
  let line = 0;
  let seen = 0;
  let end = 0;
  for (const raw of source.lines()) {
    line++;
    checkText(raw, line, source.name);
    if (legacy) {
      if (parseLegacy(raw, line, op) && op.op === Op.Store) end = Math.max(end, op.a + op.b);
      continue;
    }
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    // The magic line (read by readHeader), then an emulator line only right after it.
    if (++seen === 1) continue;
    parseLine(raw, line, op);
    if (op.op === Op.Emulator && seen === 2) continue;
    shadow.check(op, raw);
  }
  return end;
}

async function runPass(source: LineSource, emu: Emulator, legacy: FileMapping | undefined, options: ReplayOptions): Promise<ReplayResult> {
  const runner = new Runner(emu, options.batch ?? 4096, options.observer);
  if (legacy) runner.setMapping(0, legacy);
  const op = newOp();
  let line = 0;
  let operations = 0;
  let seenHeader = legacy !== undefined;
  for (const raw of source.lines()) {
    line++;
    if (!seenHeader) {
      const t = raw.trim();
      if (t === '' || t.startsWith('#')) continue;
      seenHeader = true;
      continue;
    }
    if (!(legacy ? parseLegacy(raw, line, op) : parseLine(raw, line, op))) continue;
    if (op.op === Op.Emulator) continue;
    if (op.op !== Op.Mark && op.op !== Op.Save) operations++;
    if (op.op === Op.Crash) await runner.crash(op);
    else runner.run(op);
  }
  runner.flush();
  return { emulator: runner.emu, operations, lines: line, legacy: legacy !== undefined, cpuNs: runner.cpuNs + totalNs(runner.emu) };
}
