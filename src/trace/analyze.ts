/**
 * The flush and fence analysis: a replay (src/trace/replay.ts) with an observer that keeps
 * the state of every cache line the trace touches, as the program sees it:
 *   clean     durable (never stored, or flushed and fenced, or written back by the kernel)
 *   dirty     stored since it was durable
 *   flushed   dirty, flushed (clwb / clflushopt), waiting for a fence on that CPU
 *   nt        written by a non-temporal store, waiting for a fence on that CPU
 * and reports what src/trace/findings.ts lists. Costs come from the emulator's cost model
 * (a wasted clwb or clflushopt costs flushIssueNs a line, a clean clflush clflushCleanNs, an
 * empty fence sfenceNs or mfenceNs) or, for a sync, from the writeback's own report. Under
 * eADR a store is durable at once, so every flush is of a clean line.
 * Lines of device mappings and of @ are keyed by media line; lines of file mappings by
 * file and file offset, so two mappings of one file share them.
 */
import { PmemError } from '../base/index.js';
import type { WritebackReport } from '../dax/index.js';
import type { Emulator } from '../emulator/index.js';
import { FINDING_KINDS, type AnalysisReport, type Finding, type FindingKind, type FindingSummary } from './findings.js';
import { decodePath, Op, Target, type TraceOp } from './format.js';
import type { ImportedStream, ImportedTrace } from './imported.js';
import { isByteSource, stringLines, type ByteSource, type LineSource } from './lines.js';
import { replay, type ReplayOptions } from './replay.js';
import { isBinaryTrace, replayBinary } from './binary.js';
import { type LinePage, LineStates } from './line-states.js';

const CLEAN = 0;
const DIRTY = 1;
const FLUSHED = 2;
const NT = 3;
const FILE_KEY = 2 ** 36;

export interface AnalyzeOptions extends Omit<ReplayOptions, 'observer'> {
  /** Findings listed per kind (default 1000); the summary counts them all. */
  limit?: number;
}

class Analyzer {
  private readonly states = new LineStates();
  private readonly pending: number[][] = [];
  private readonly dirtyOfFile = new Map<number, Set<number>>();
  private readonly metaDirty = new Set<number>();
  private readonly fileNo = new Map<string, number>();
  private readonly pathOf = new Map<number, string>();
  private readonly maps = new Map<number, { file: number; offset: number; sync: boolean }>();
  /** Per file, the pages stored through a mapping: a first store may allocate, which only a sync commits (without MAP_SYNC). */
  private readonly touched = new Map<number, Set<number>>();
  private readonly devs = new Map<number, number>();
  private readonly counts = new Map<FindingKind, FindingSummary>();
  readonly findings: Finding[] = [];
  omitted = 0;
  private cpu = 0;
  private costsSet = false;
  private eadr = false;
  private flushNs = 0;
  private clflushNs = 0;
  private sfenceNs = 0;
  private mfenceNs = 0;

  /** `lineOf(op)`: the line findings name for `op` (the imported file's own, for an import), asked as `op` runs. */
  constructor(private readonly lineOf: (op: TraceOp) => number, private readonly limit: number) {}

  private setCosts(emu: Emulator): void {
    const c = emu.cost;
    this.costsSet = true;
    this.eadr = emu.options.persistence === 'eadr';
    this.flushNs = c.flushIssueNs;
    this.clflushNs = c.clflushCleanNs;
    this.sfenceNs = c.sfenceNs;
    this.mfenceNs = c.mfenceNs;
  }

  private report(kind: FindingKind, line: number, lines: number, ns: number, detail: string): void {
    const verdict = FINDING_KINDS[kind].verdict;
    let sum = this.counts.get(kind);
    if (!sum) this.counts.set(kind, (sum = { kind, verdict, count: 0, lines: 0, ns: 0, share: 0 }));
    sum.count++;
    sum.lines += lines;
    sum.ns += ns;
    if (sum.count > this.limit) {
      this.omitted++;
      return;
    }
    this.findings.push({ kind, verdict, line, lines, ns, share: 0, detail });
  }

  /** Keys of the lines under the last range found by keys(): first, last, and the file (-1 for media). */
  private kFirst = 0;
  private kLast = 0;
  private kFile = -1;

  /** Finds the keys of the lines under [off, off + len) of a target; false for an empty range. */
  private keys(op: TraceOp, off: number, len: number): boolean {
    if (len === 0) return false;
    let base: number;
    this.kFile = -1;
    if (op.target === Target.File) {
      const m = this.maps.get(op.id)!;
      this.kFile = m.file;
      base = m.file * FILE_KEY * 64 + m.offset;
    } else base = op.target === Target.Media ? 0 : this.devs.get(op.id)!;
    this.kFirst = Math.floor((base + off) / 64);
    this.kLast = Math.floor((base + off + len - 1) / 64);
    return true;
  }

  private store(op: TraceOp, nt: boolean): void {
    if (!this.keys(op, op.a, op.b)) return;
    if (this.kFile >= 0) this.touch(op);
    if (this.eadr && !nt) return;
    const dirty = this.kFile >= 0 ? this.fileSet(this.kFile) : undefined;
    const line = this.lineOf(op);
    for (let k = this.kFirst; k <= this.kLast; k++) {
      const p = this.states.make(k);
      const i = this.states.at;
      const s = p.state[i];
      if (s === FLUSHED && !nt) p.later[i] = line;
      if (s === CLEAN) p.store[i] = line;
      p.state[i] = nt ? NT : DIRTY;
      if (nt) {
        p.cpu[i] = this.cpu;
        this.pendingOf(this.cpu).push(k);
      }
      dirty?.add(k);
    }
  }

  /** A store's pages of a file: the first store to a page through a plain mapping leaves metadata to commit. */
  private touch(op: TraceOp): void {
    const m = this.maps.get(op.id)!;
    let pages = this.touched.get(m.file);
    if (!pages) this.touched.set(m.file, (pages = new Set()));
    for (let p = Math.floor((m.offset + op.a) / 4096); p <= Math.floor((m.offset + op.a + op.b - 1) / 4096); p++) {
      if (pages.has(p)) continue;
      pages.add(p);
      if (!m.sync) this.metaDirty.add(m.file);
    }
  }

  private fileSet(file: number): Set<number> {
    let s = this.dirtyOfFile.get(file);
    if (!s) this.dirtyOfFile.set(file, (s = new Set()));
    return s;
  }

  private pendingOf(cpu: number): number[] {
    return (this.pending[cpu] ??= []);
  }

  private flush(op: TraceOp): void {
    if (!this.keys(op, op.a, op.b)) return;
    const serial = op.op === Op.Clflush;
    let clean = 0;
    let twice = 0;
    for (let k = this.kFirst; k <= this.kLast; k++) {
      const p = this.states.find(k);
      const i = this.states.at;
      const s = p === undefined ? CLEAN : p.state[i];
      if (s === CLEAN) clean++;
      else if (s === FLUSHED || s === NT) twice++;
      else if (serial) this.durable(k, p!, i);
      else {
        p!.state[i] = FLUSHED;
        p!.cpu[i] = this.cpu;
        p!.later[i] = 0;
        this.pendingOf(this.cpu).push(k);
      }
    }
    const name = serial ? 'clflush' : op.op === Op.Clwb ? 'clwb' : 'clflushopt';
    if (clean > 0) this.report('clean-flush', this.lineOf(op), clean, clean * (serial ? this.clflushNs : this.flushNs), `${name} of ${clean} clean line${clean === 1 ? '' : 's'}${this.eadr ? ' (eADR: the caches are persistent)' : ''}`);
    if (twice > 0) this.report('double-flush', this.lineOf(op), twice, twice * this.flushNs, `${name} of ${twice} line${twice === 1 ? '' : 's'} already flushed and not yet fenced`);
  }

  private durable(key: number, p: LinePage, i: number): void {
    p.state[i] = CLEAN;
    p.later[i] = 0;
    p.store[i] = 0;
    if (key >= FILE_KEY) this.dirtyOfFile.get(Math.floor(key / FILE_KEY))?.delete(key);
  }

  private fence(op: TraceOp): void {
    const list = this.pendingOf(this.cpu);
    let done = 0;
    for (const k of list) {
      const p = this.states.find(k)!;
      const i = this.states.at;
      if (p.cpu[i] !== this.cpu) continue;
      const s = p.state[i];
      if (s === FLUSHED || s === NT) {
        this.durable(k, p, i);
        done++;
      } else if (s === DIRTY && p.later[i] !== 0) {
        // The flush of the earlier store is what this fence waits for, after the later store.
        this.report('late-durable', p.store[i]!, 1, 0, `stored at line ${p.store[i]!}, flushed, then stored again at line ${p.later[i]!} before the fence`);
        p.store[i] = p.later[i]!;
        p.later[i] = 0;
        done++;
      }
    }
    list.length = 0;
    if (done === 0) this.report('empty-fence', this.lineOf(op), 0, op.op === Op.Mfence ? this.mfenceNs : this.sfenceNs, `${op.op === Op.Mfence ? 'mfence' : 'sfence'} with nothing outstanding on cpu ${this.cpu}`);
  }

  /** Lines of `file` in file bytes [from, to) made durable by kernel writeback; returns how many were dirty. */
  /**
   * After a writeback the trace does not spell out: every dirty line of a tracked file whose
   * page's entry the emulator no longer tags DIRTY was written back (a store always dirties
   * its entry, and writeback cleans the entry only with its lines flushed).
   */
  private settle(emu: Emulator): void {
    for (const [file, set] of this.dirtyOfFile) {
      if (set.size === 0) continue;
      let entries;
      try {
        entries = emu.open(this.pathOf.get(file)!).entries();
      } catch {
        continue; // unlinked: its lines stay as they were
      }
      const dirtyPages = new Set<number>();
      for (const e of entries) if (e.dirty) for (let p = e.index; p < e.index + (1 << e.order); p++) dirtyPages.add(p);
      let written = 0;
      for (const k of [...set]) {
        if (dirtyPages.has(Math.floor((k - file * FILE_KEY) / 64))) continue;
        const p = this.states.find(k)!;
        const i = this.states.at;
        if (p.state[i] !== CLEAN) written++;
        this.durable(k, p, i);
      }
      if (written > 0) this.metaDirty.delete(file);
    }
  }

  private writeback(file: number, from: number, to: number): number {
    const set = this.dirtyOfFile.get(file);
    let n = 0;
    if (set) {
      const lo = file * FILE_KEY + Math.floor(from / 64);
      const hi = file * FILE_KEY + Math.floor((to - 1) / 64);
      for (const k of [...set]) {
        if (k < lo || k > hi) continue;
        const p = this.states.find(k)!;
        const i = this.states.at;
        if (p.state[i] !== CLEAN) n++;
        this.durable(k, p, i);
      }
    }
    if (this.metaDirty.delete(file)) n++;
    return n;
  }

  private lost(why: string): void {
    const byStore = new Map<number, number>();
    this.states.forEachNotClean((p, i) => byStore.set(p.store[i]!, (byStore.get(p.store[i]!) ?? 0) + 1));
    for (const [line, n] of [...byStore].sort((a, b) => a[0] - b[0])) {
      this.report('not-durable', line, n, 0, `${n} line${n === 1 ? '' : 's'} of this store never made durable before ${why}`);
    }
  }

  readonly observer = {
    before: (op: TraceOp, emu: Emulator): void => {
      if (!this.costsSet) this.setCosts(emu);
      switch (op.op) {
        case Op.Dev: this.devs.set(op.id, op.a); return;
        case Op.Create: if (!this.fileNo.has(op.path)) this.newFile(op.path); return;
        case Op.Mmap: this.maps.set(op.id, { file: this.fileNo.get(op.path) ?? this.newFile(op.path), offset: op.a, sync: op.flag2 }); return;
        case Op.Store: this.store(op, false); return;
        case Op.NtStore: this.store(op, true); return;
        case Op.Clwb: case Op.ClflushOpt: case Op.Clflush: this.flush(op); return;
        case Op.Sfence: case Op.Mfence: this.fence(op); return;
        case Op.Cpu: this.cpu = op.a; return;
        case Op.Pwrite: case Op.Truncate: case Op.Punch: {
          const f = this.fileNo.get(op.path) ?? this.newFile(op.path);
          this.metaDirty.add(f);
          // Blocks freed or allocated here: the next store to those pages may allocate again.
          if (op.op !== Op.Pwrite) this.touched.get(f)?.clear();
          return;
        }
        case Op.Fault: if (op.flag) this.metaDirty.add(this.maps.get(op.id)!.file); return;
        case Op.Crash: this.lost(`the crash at line ${this.lineOf(op)}`); this.states.clear(); this.metaDirty.clear(); this.dirtyOfFile.clear(); this.pending.length = 0; this.maps.clear(); this.devs.clear(); return;
      }
    },
    afterSync: (op: TraceOp, report: WritebackReport): void => {
      let dirty = 0;
      let what: string;
      if (op.op === Op.Msync) {
        const m = this.maps.get(op.id)!;
        dirty = this.writeback(m.file, m.offset + op.a, m.offset + op.a + op.b);
        what = `msync of [${op.a}, ${op.a + op.b}) of m${op.id}`;
      } else if (op.op === Op.Sync) {
        for (const f of this.fileNo.values()) dirty += this.writeback(f, 0, FILE_KEY * 64);
        what = 'sync';
      } else {
        dirty = this.writeback(this.fileNo.get(op.path)!, 0, FILE_KEY * 64);
        what = `${op.op === Op.Fsync ? 'fsync' : 'fdatasync'} of ${decodePath(op.path)}`;
      }
      if (dirty === 0 && (op.op !== Op.Msync || !op.flag)) this.report('empty-sync', this.lineOf(op), report.lines, report.ns, `${what} with nothing dirty`);
      if (report.cleanLines > 0) this.report('entry-waste', this.lineOf(op), report.cleanLines, report.cleanLines * this.flushNs, `writeback of ${report.entries} entr${report.entries === 1 ? 'y' : 'ies'} flushed ${report.cleanLines} clean line${report.cleanLines === 1 ? '' : 's'} of ${report.lines}`);
    },
    afterCrash: (_op: TraceOp, emu: Emulator): void => this.setCosts(emu),
    afterUnspelledWriteback: (_op: TraceOp, emu: Emulator): void => this.settle(emu),
  };

  private newFile(path: string): number {
    this.fileNo.set(path, this.fileNo.size + 1);
    this.pathOf.set(this.fileNo.size, path);
    return this.fileNo.size;
  }

  finish(source: string, operations: number, totalNs: number): AnalysisReport {
    this.lost('the end of the trace');
    const share = (ns: number): number => (totalNs > 0 ? ns / totalNs : 0);
    for (const f of this.findings) f.share = share(f.ns);
    const summary = [...this.counts.values()].map((s) => ({ ...s, share: share(s.ns) }));
    summary.sort((a, b) => b.ns - a.ns || a.kind.localeCompare(b.kind));
    this.findings.sort((a, b) => a.line - b.line);
    return { source, operations, totalNs, summary, findings: this.findings, omitted: this.omitted };
  }
}

function isImported(t: unknown): t is ImportedTrace {
  return typeof t === 'object' && t !== null && 'trace' in t && 'sourceLines' in t;
}

function isStream(t: unknown): t is ImportedStream {
  return typeof t === 'object' && t !== null && 'trace' in t && 'sourceLine' in t;
}

/** Replays a trace (or an imported one) and reports its wasted flushes, fences and syncs and its durability gaps. */
export async function analyze(trace: string | LineSource | ImportedTrace | ImportedStream | Uint8Array | ByteSource, options: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const limit = options.limit ?? 1000;
  if (trace instanceof Uint8Array || isByteSource(trace)) {
    if (trace instanceof Uint8Array && !isBinaryTrace(trace)) throw new PmemError('EINVAL', 'analyze: bytes given are not a binary trace (DAXEMUTB); pass text as a string');
    const analyzer = new Analyzer((op) => op.line, limit);
    const result = await replayBinary(trace, { ...options, observer: analyzer.observer });
    return analyzer.finish('binary trace', result.operations, result.cpuNs);
  }
  let source: LineSource;
  let lineOf = (op: TraceOp): number => op.line;
  let name: string;
  if (isStream(trace)) {
    source = trace.trace;
    lineOf = () => trace.sourceLine();
    name = trace.format;
  } else if (isImported(trace)) {
    source = stringLines(trace.trace, trace.format);
    lineOf = (op) => trace.sourceLines[op.line - 1] ?? op.line;
    name = trace.format;
  } else {
    source = typeof trace === 'string' ? stringLines(trace) : trace;
    name = source.name;
  }
  const analyzer = new Analyzer(lineOf, limit);
  const result = await replay(source, { ...options, observer: analyzer.observer });
  return analyzer.finish(name, result.operations, result.cpuNs);
}
