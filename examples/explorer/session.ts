/**
 * One explorer session: an emulator, the files and mappings made in it, what the last call
 * returned or refused, and the fs_dax trace so far in the kernel's text format. The page's
 * controls (controls.ts) call `run`, which keeps every failure as the error the page shows
 * and leaves the state as the emulator has it. Nothing here touches the DOM, so the same
 * session runs under Node in the tests.
 */
import {
  PmemError, createEmulator, type CrashMode, type DaxFile, type Emulator, type EmulatorOptions, type FileMapping, type KernelProfile, type PresetName, type Trace,
  type TraceEvent, type WritebackReport,
} from 'daxemu';
import { FieldError } from './fields.js';
import { ftraceLine, type TraceContext } from './ftrace.js';

/** What a session is created with (the kernel profile and preset controls). */
export interface SessionOptions {
  capacity: number;
  kernel: KernelProfile;
  preset: PresetName;
  seed: number;
}

/** The flush instructions, as FileMapping.flush numbers them. */
const FLUSH_KINDS = { clflush: 0, clflushopt: 1, clwb: 2 } as const;

export interface MappingInfo {
  id: number;
  path: string;
  mapping: FileMapping;
}

/** The outcome of the last call: its name, and the error code and message when it was refused. */
export interface CallOutcome {
  call: string;
  ok: boolean;
  code?: string;
  message?: string;
  /** What the call returned worth showing (a load's bytes, reclaimed pages). */
  result?: string;
  /** Wall ms the call took, and the explorer's redraw after it (set by the page). */
  callMs: number;
}

export class Session {
  emu!: Emulator;
  options: SessionOptions;
  readonly files = new Map<string, { file: DaxFile; ino: number }>();
  mappings: MappingInfo[] = [];
  /** The trace so far, one kernel-format line per event. */
  readonly traceLines: string[] = [];
  lastReport: WritebackReport | undefined;
  last: CallOutcome = { call: 'start', ok: true, callMs: 0 };
  /** What the views show: the file, the mapping and the entry (its first index) chosen. */
  selectedPath: string | undefined;
  selectedMapping: number | undefined;
  selectedEntry: number | undefined;
  private trace!: Trace;
  private nextIno = 12;
  private nextMappingId = 0;

  private constructor(options: SessionOptions) {
    this.options = options;
  }

  static async create(options: SessionOptions): Promise<Session> {
    const s = new Session(options);
    await s.boot(await createEmulator(s.emulatorOptions()));
    return s;
  }

  private emulatorOptions(): EmulatorOptions {
    const { capacity, kernel, preset, seed } = this.options;
    return { capacity, kernel, preset, seed };
  }

  private async boot(emu: Emulator): Promise<void> {
    this.emu = emu;
    this.trace = emu.startTrace();
    this.mappings = [];
    this.selectedMapping = undefined;
    this.selectedEntry = undefined;
  }

  get file(): DaxFile | undefined {
    return this.selectedPath === undefined ? undefined : this.files.get(this.selectedPath)?.file;
  }

  get mapping(): MappingInfo | undefined {
    return this.mappings.find((m) => m.id === this.selectedMapping);
  }

  fileAt(path: string): DaxFile {
    const f = this.files.get(path);
    if (!f) throw new FieldError('file', `no file ${path} in this session`);
    return f.file;
  }

  mappingById(id: number): MappingInfo {
    const m = this.mappings.find((x) => x.id === id);
    if (!m) throw new FieldError('mapping', `no mapping #${id} in this session`);
    return m;
  }

  // ---- the calls the controls make ----------------------------------------------------

  createFile(path: string, size: number, allocate: 'none' | 'unwritten' | 'written'): void {
    if (this.files.has(path)) throw new FieldError('path', `${path} exists in this session already`);
    const file = this.emu.createFile(path, { size, allocate });
    this.files.set(path, { file, ino: this.nextIno++ });
    this.selectedPath = path;
  }

  mmap(path: string, options: { offset: number; length?: number; address?: number; sync: boolean; shared: boolean }): MappingInfo {
    const mapping = this.emu.mmap(this.fileAt(path), options);
    const info = { id: this.nextMappingId++, path, mapping };
    this.mappings.push(info);
    this.selectedPath = path;
    this.selectedMapping = info.id;
    return info;
  }

  private select(m: MappingInfo, offset: number): void {
    this.selectedMapping = m.id;
    this.selectedPath = m.path;
    const page = m.mapping.pgoff + Math.floor(offset / 4096);
    const entry = this.files.get(m.path)!.file.entries().find((e) => page >= e.index && page < e.index + 2 ** e.order);
    if (entry) this.selectedEntry = entry.index;
  }

  store(id: number, offset: number, bytes: Uint8Array): void {
    const m = this.mappingById(id);
    this.select(m, offset); // the view follows the call even when it faults
    m.mapping.store(offset, bytes);
    this.select(m, offset);
  }

  load(id: number, offset: number, length: number): Uint8Array {
    const m = this.mappingById(id);
    const bytes = m.mapping.load(offset, length);
    this.select(m, offset);
    return bytes;
  }

  msync(id: number, offset: number, length: number, sync: boolean): WritebackReport {
    const m = this.mappingById(id);
    const report = m.mapping.msync(offset, length, { sync });
    this.lastReport = report;
    this.select(m, offset);
    return report;
  }

  /** A user-space flush of the lines under the range (no fence): they wait for the next one. */
  flush(id: number, offset: number, length: number, instruction: 'clwb' | 'clflushopt' | 'clflush'): void {
    const m = this.mappingById(id);
    m.mapping.flush(offset, length, FLUSH_KINDS[instruction]);
    this.select(m, offset);
  }

  /** sfence on the current CPU: the flushed lines become durable. */
  sfence(): void {
    this.emu.sfence();
  }

  truncate(path: string, size: number): void {
    this.fileAt(path).truncate(size);
    this.selectedPath = path;
  }

  punch(path: string, offset: number, length: number): void {
    this.fileAt(path).punchHole(offset, length);
    this.selectedPath = path;
  }

  reclaim(pages: number): number {
    return this.emu.reclaim(pages);
  }

  /** Boots the crash image: files come back by name with their committed blocks; mappings do not. */
  async crash(mode: CrashMode, seed: number): Promise<void> {
    const image = await this.emu.crash({ mode, seed });
    await this.boot(image);
    for (const [path, f] of this.files) {
      try {
        this.files.set(path, { file: image.open(path), ino: f.ino });
      } catch {
        this.files.delete(path);
      }
    }
    if (this.selectedPath !== undefined && !this.files.has(this.selectedPath)) this.selectedPath = undefined;
  }

  /** A fresh emulator with other options (the kernel profile and preset controls). */
  async reset(options: SessionOptions): Promise<void> {
    const emu = await createEmulator({ ...options });
    this.options = options;
    this.files.clear();
    this.selectedPath = undefined;
    this.lastReport = undefined;
    this.traceLines.length = 0;
    await this.boot(emu);
  }

  // ---- running a call -----------------------------------------------------------------

  /**
   * Runs one call: `body` reads and checks its fields (a FieldError stops it before the
   * emulator is called), then calls the emulator. A FieldError or the emulator's PmemError
   * becomes the outcome the page shows; anything else is a bug and is thrown on.
   */
  async run(call: string, body: () => unknown): Promise<CallOutcome> {
    const t0 = performance.now();
    const before = this.emu;
    let outcome: CallOutcome;
    try {
      const result = await body();
      outcome = { call, ok: true, callMs: 0, result: result === undefined ? undefined : show(result) };
    } catch (err) {
      if (!(err instanceof PmemError) && !(err instanceof FieldError)) throw err;
      const text = err instanceof PmemError ? err.message.replace(/^[A-Z]+: /, '') : err.message;
      outcome = { call, ok: false, code: err.code, message: text, callMs: 0 };
    }
    outcome.callMs = performance.now() - t0;
    if (before === this.emu) this.collectTrace();
    this.last = outcome;
    return outcome;
  }

  /** Moves the events of the last call into the text trace, with what the kernel's lines need. */
  private collectTrace(): void {
    const events = this.trace.stop();
    this.trace = this.emu.startTrace();
    // A _done event is the same fault's vmf in the kernel: its address and flags are the start's.
    let fault: TraceEvent | undefined;
    for (const raw of events) {
      const e = raw.name.endsWith('_done') && fault && raw.name.startsWith(fault.name) ? { ...raw, address: raw.address ?? fault.address, flags: raw.flags ?? fault.flags } : raw;
      if (e.name === 'dax_pmd_fault' || e.name === 'dax_pte_fault') fault = e;
      this.traceLines.push(ftraceLine(e, this.contextOf(e)));
    }
  }

  private contextOf(e: TraceEvent): TraceContext {
    const byAddress = e.address === undefined ? undefined : this.mappings.find((m) => e.address! >= m.mapping.address && e.address! < m.mapping.address + m.mapping.length);
    const path = byAddress?.path ?? this.selectedPath;
    const f = path === undefined ? undefined : this.files.get(path);
    const m = byAddress?.mapping;
    return {
      ino: f?.ino ?? 0,
      vma: m && { start: m.address, end: m.address + m.length, shared: m.shared },
      maxPgoff: f ? Math.ceil(f.file.size / 4096) : 0,
      entryWord: f && e.pgoff <= 0xffffffff ? this.emu.core.load(f.file.tree, e.pgoff) >>> 0 : 0,
      ns: this.emu.now(),
      cpu: this.emu.cpu,
      interruptible: this.options.kernel !== 'linux-4.5',
    };
  }
}

function show(result: unknown): string {
  if (result instanceof Uint8Array) return [...result].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  if (typeof result === 'number') return String(result);
  if (typeof result === 'object' && result !== null && 'entries' in result) {
    const r = result as WritebackReport;
    return `${r.entries} entries written back, ${r.lines} lines (${r.dirtyLines} dirty)`;
  }
  return '';
}
