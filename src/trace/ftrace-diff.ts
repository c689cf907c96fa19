/**
 * ftraceDiff: replays the accesses and writebacks a kernel fs_dax trace records on a fresh
 * emulator and compares the emulator's own fs_dax events with the kernel's, step by step
 * (src/trace/ftrace-plan.ts). Within a step the two event lists are aligned: equal events
 * pair up; an event only one side has is found by looking a few events ahead on each side,
 * so one missing or extra event is one difference and not a shifted tail. The whole trace
 * is read and planned before the emulator is made: a bad trace runs nothing.
 *
 * Compared fields, per event (what both the kernel prints and the emulator records):
 *   dax_pmd_fault, dax_pte_fault           flags, address, pgoff
 *   dax_pmd_fault_done, dax_pte_fault_done flags, pgoff, result
 *   dax_insert_pfn_mkwrite                 flags, pgoff, result
 *   dax_load_hole, _mkwrite_no_entry       flags, pgoff
 *   dax_writeback_range(_done)             start, end
 *   dax_writeback_one                      pgoff, pglen
 *   dax_pmd_load_hole(_fallback)           the name only (the kernel prints no pgoff)
 * The kernel's flags compare as the emulator reports them: R, W or W+MKWRITE (the memory
 * manager's other bits are not modelled); results compare as sets of their words. Events
 * the emulator does not emit (dax_insert_mapping, dax_pmd_insert_mapping) are counted and
 * skipped. The trace is read as it runs, never held (src/trace/ftrace-plan.ts), so a trace
 * of any length diffs in bounded memory; at most `limit` differences are kept.
 */
import { PmemError } from '../base/index.js';
import type { Allocate, FileMapping, TraceEvent } from '../dax/index.js';
import { createEmulator, type Emulator } from '../emulator/index.js';
import { ftraceEvents, ftraceSource, type KernelTraceEvent } from './ftrace.js';
import { planLayout, planSteps, WHOLE_FILE_END, type Layout, type Step } from './ftrace-plan.js';
import type { LineSource } from './lines.js';

/** The kernels whose fs_dax events the diff compares with (the XArray era). */
export const FTRACE_KERNELS = ['linux-6.12', 'linux-6.1'] as const;
export type FtraceKernel = (typeof FTRACE_KERNELS)[number];

export interface FtraceDiffOptions {
  /** The emulator's kernel profile (default linux-6.12, the newest). */
  kernel?: FtraceKernel;
  /** How the files start: sparse ('none', the default), fallocated or written. */
  allocate?: Allocate;
  /** Differences listed (default 10000); `omitted` counts the rest. */
  limit?: number;
}

export interface FieldDifference {
  field: string;
  kernel: string;
  emulator: string;
}

export interface FtraceDifference {
  /** The kernel trace's line; for an event only the emulator has, the line it would have come before. */
  line: number;
  event: string;
  /** 'fields': both have the event, some fields differ; or only one side has it. */
  kind: 'fields' | 'kernel-only' | 'emulator-only';
  /** The differing fields ('fields'), or every compared field of the one-sided event. */
  fields: FieldDifference[];
}

export interface FtraceDiffReport {
  kernel: FtraceKernel;
  /** fs_dax events in the trace. */
  events: number;
  /** Of those, compared (the others the emulator does not model). */
  compared: number;
  /** Events the emulator emitted in the replay. */
  emulatorEvents: number;
  /** Accesses and writebacks replayed. */
  accesses: number;
  writebacks: number;
  /** The first `limit` differences, in trace order. */
  differences: FtraceDifference[];
  /** Differences found beyond `limit`. */
  omitted: number;
}

const MiB = 1 << 20;
const PAGE = 4096;
/** The end of the x86-64 user address space (4-level page tables), as the emulator's mmap has it. */
const TASK_SIZE = 0x7fff_ffff_f000;
const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;
const MODELLED = new Set<string>([
  'dax_pmd_fault', 'dax_pmd_fault_done', 'dax_pmd_load_hole', 'dax_pmd_load_hole_fallback', 'dax_pte_fault', 'dax_pte_fault_done', 'dax_load_hole',
  'dax_insert_pfn_mkwrite', 'dax_insert_pfn_mkwrite_no_entry', 'dax_writeback_range', 'dax_writeback_range_done', 'dax_writeback_one',
]);
/** How far ahead the alignment looks for an event only one side has. */
const LOOKAHEAD = 8;
/** The kernel's order of the result words (VM_FAULT_RESULT_TRACE), to compare them as sets. */
const RESULT_ORDER = ['OOM', 'SIGBUS', 'MAJOR', 'HWPOISON', 'HWPOISON_LARGE', 'SIGSEGV', 'NOPAGE', 'LOCKED', 'RETRY', 'FALLBACK', 'DONE_COW', 'NEEDDSYNC', 'COMPLETED'];

/** An event as the fields compared: name plus field -> printed value. */
interface Compared {
  name: string;
  line: number;
  fields: [string, string][];
}

const hex = (n: number | undefined): string => (n === undefined ? '-' : `0x${n.toString(16)}`);

function resultSet(result: string | undefined): string {
  const words = (result ?? '').split('|').filter((w) => w !== '');
  const rank = (w: string): number => (RESULT_ORDER.includes(w) ? RESULT_ORDER.indexOf(w) : RESULT_ORDER.length);
  return [...new Set(words)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).join('|') || '-';
}

function kernelFlags(flags: string | undefined): string {
  const words = (flags ?? '').split('|');
  return words.includes('WRITE') ? (words.includes('MKWRITE') ? 'W+MKWRITE' : 'W') : 'R';
}

/** The compared fields of an event, from either side (the same names and spelling). */
function compared(name: string, line: number, v: { flags?: string; address?: number; pgoff?: number; result?: string; start?: number; end?: number; pglen?: number }): Compared {
  const f: [string, string][] = [];
  switch (name) {
    case 'dax_pmd_fault': case 'dax_pte_fault':
      f.push(['flags', v.flags ?? '-'], ['address', hex(v.address)], ['pgoff', hex(v.pgoff)]);
      break;
    case 'dax_pmd_fault_done': case 'dax_pte_fault_done': case 'dax_insert_pfn_mkwrite':
      f.push(['flags', v.flags ?? '-'], ['pgoff', hex(v.pgoff)], ['result', resultSet(v.result)]);
      break;
    case 'dax_load_hole': case 'dax_insert_pfn_mkwrite_no_entry':
      f.push(['flags', v.flags ?? '-'], ['pgoff', hex(v.pgoff)]);
      break;
    case 'dax_writeback_range': case 'dax_writeback_range_done':
      f.push(['start', hex(v.start)], ['end', hex(v.end)]);
      break;
    case 'dax_writeback_one':
      f.push(['pgoff', hex(v.pgoff)], ['pglen', hex(v.pglen)]);
      break;
  }
  return { name, line, fields: f };
}

function fromKernel(ev: KernelTraceEvent): Compared {
  return compared(ev.name, ev.line, { ...ev, flags: kernelFlags(ev.faultFlags), end: ev.end === undefined ? undefined : Math.min(ev.end, WHOLE_FILE_END) });
}

function fromEmulator(ev: TraceEvent, line: number): Compared {
  return compared(ev.name, line, ev);
}

const same = (a: Compared, b: Compared): boolean => a.name === b.name && a.fields.every(([k, v], i) => b.fields[i]![0] === k && b.fields[i]![1] === v);

function oneSided(c: Compared, kind: 'kernel-only' | 'emulator-only', line: number): FtraceDifference {
  return { line, event: c.name, kind, fields: c.fields.map(([field, v]) => (kind === 'kernel-only' ? { field, kernel: v, emulator: '-' } : { field, kernel: '-', emulator: v })) };
}

/** Aligns one step's events; appends the differences. */
function alignEvents(kernel: Compared[], emulator: Compared[], lastLine: number, out: FtraceDifference[]): void {
  let i = 0;
  let j = 0;
  // An event only the emulator has is placed before the kernel line it would have come at.
  const lineAt = (k: number): number => (k < kernel.length ? kernel[k]!.line : lastLine + 1);
  while (i < kernel.length || j < emulator.length) {
    if (i === kernel.length) {
      out.push(oneSided(emulator[j++]!, 'emulator-only', lastLine + 1));
      continue;
    }
    if (j === emulator.length) {
      out.push(oneSided(kernel[i]!, 'kernel-only', kernel[i]!.line));
      i++;
      continue;
    }
    const k = kernel[i]!;
    const e = emulator[j]!;
    if (same(k, e)) {
      i++;
      j++;
      continue;
    }
    let dk = 0;
    let de = 0;
    for (let d = 1; d <= LOOKAHEAD && !dk; d++) if (i + d < kernel.length && same(kernel[i + d]!, e)) dk = d;
    for (let d = 1; d <= LOOKAHEAD && !de; d++) if (j + d < emulator.length && same(k, emulator[j + d]!)) de = d;
    if (dk && (!de || dk <= de)) {
      for (let d = 0; d < dk; d++) out.push(oneSided(kernel[i + d]!, 'kernel-only', kernel[i + d]!.line));
      i += dk;
    } else if (de) {
      for (let d = 0; d < de; d++) out.push(oneSided(emulator[j + d]!, 'emulator-only', lineAt(i)));
      j += de;
    } else if (k.name === e.name) {
      const fields = k.fields.filter(([, v], n) => e.fields[n]![1] !== v).map(([field, v]) => ({ field, kernel: v, emulator: e.fields.find(([f]) => f === field)![1] }));
      out.push({ line: k.line, event: k.name, kind: 'fields', fields });
      i++;
      j++;
    } else {
      out.push(oneSided(k, 'kernel-only', k.line), oneSided(e, 'emulator-only', k.line));
      i++;
      j++;
    }
  }
}

/** Capacity for the plan's files with room for their blocks twice over (allocation and zeroing). */
function capacityFor(plan: Layout): number {
  const bytes = plan.files.reduce((sum, f) => sum + Math.ceil((f.pages * PAGE) / (2 * MiB)) * 2 * MiB, 0);
  return Math.max(64 * MiB, 2 * bytes + 16 * MiB);
}

async function setUp(plan: Layout, options: FtraceDiffOptions): Promise<{ emu: Emulator; maps: Map<object, FileMapping>; helpers: Map<string, FileMapping> }> {
  const emu = await createEmulator({ capacity: capacityFor(plan), kernel: options.kernel ?? 'linux-6.12' });
  const maps = new Map<object, FileMapping>();
  const helpers = new Map<string, FileMapping>();
  for (const f of plan.files) emu.createFile(f.path, { size: f.pages * PAGE, allocate: options.allocate ?? 'none' });
  const path = new Map(plan.files.map((f) => [f.key, f.path]));
  for (const m of plan.mappings) {
    try {
      maps.set(m, emu.mmap(emu.open(path.get(m.key)!), { address: m.vmStart, offset: m.vmPgoff * PAGE, length: m.vmEnd - m.vmStart, shared: m.shared }));
    } catch (err) {
      throw new PmemError('EINVAL', `ftrace line ${m.line}: the VMA [0x${m.vmStart.toString(16)}, 0x${m.vmEnd.toString(16)}) cannot be mapped: ${(err as Error).message}`);
    }
  }
  // Writebacks go through a shared mapping of each whole file of their own, which no access
  // uses, placed clear of the trace's mappings: above them, or below them when there is no room.
  const ends = plan.mappings.map((m) => m.vmEnd);
  const starts = plan.mappings.map((m) => m.vmStart);
  let up = roundUp(ends.length ? Math.max(...ends) : 0x7f00_0000_0000, 2 * MiB) + 2 * MiB;
  let down = (starts.length ? Math.min(...starts) : 0x7f00_0000_0000) - 2 * MiB;
  for (const f of plan.files) {
    const length = f.pages * PAGE;
    let address = up;
    if (up + length <= TASK_SIZE) up = roundUp(up + length, 2 * MiB) + 2 * MiB;
    else {
      address = down - roundUp(length, 2 * MiB);
      down = address - 2 * MiB;
    }
    helpers.set(f.key, emu.mmap(emu.open(f.path), { address, length, shared: true }));
  }
  return { emu, maps, helpers };
}

function runStep(step: Step, emu: Emulator, maps: Map<object, FileMapping>, helpers: Map<string, FileMapping>): void {
  if (step.kind === 'access') {
    const m = maps.get(step.mapping)!;
    try {
      if (step.write) m.store(step.offset, new Uint8Array([1]));
      else m.load(step.offset, 1);
    } catch (err) {
      // The access's own outcome, which the events show: the replay goes on.
      if (!(err instanceof PmemError) || err.code !== 'SIGBUS') throw err;
    }
  } else if (step.kind === 'writeback') {
    const helper = helpers.get(step.key)!;
    if (step.end >= WHOLE_FILE_END) emu.open(helper.file.path).fsync();
    else {
      const first = Math.min(step.start, helper.length / PAGE - 1);
      const last = Math.min(step.end, helper.length / PAGE - 1);
      if (last >= first) helper.msync(first * PAGE, (last - first + 1) * PAGE, { sync: true });
    }
  }
}

/**
 * Replays a kernel fs_dax trace (tracefs `trace` text or `trace-cmd report` output) on a
 * fresh emulator and returns where the emulator's events differ from the kernel's. A
 * malformed trace throws EINVAL (with its line) before anything runs.
 */
export async function ftraceDiff(trace: string | LineSource, options: FtraceDiffOptions = {}): Promise<FtraceDiffReport> {
  const kernel = options.kernel ?? 'linux-6.12';
  if (!FTRACE_KERNELS.includes(kernel)) throw new PmemError('EINVAL', `ftraceDiff: kernel must be one of ${FTRACE_KERNELS.join(', ')}, got ${String(kernel)}`);
  if (options.allocate !== undefined && !['none', 'unwritten', 'written'].includes(options.allocate)) {
    throw new PmemError('EINVAL', `ftraceDiff: allocate must be none, unwritten or written, got ${String(options.allocate)}`);
  }
  const limit = options.limit ?? 10_000;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new PmemError('EINVAL', `ftraceDiff: limit must be a non-negative integer, got ${String(limit)}`);
  const source = ftraceSource(trace);
  const events = (): Iterable<KernelTraceEvent> => ftraceEvents(source);
  const layout = planLayout(events);
  // Every step planned once before anything runs: an access in no mapping is refused here.
  let eventCount = 0;
  for (const step of planSteps(events(), layout.mappings)) eventCount += step.events.length;
  const { emu, maps, helpers } = await setUp(layout, options);
  const found: FtraceDifference[] = [];
  const differences: FtraceDifference[] = [];
  let omitted = 0;
  let compared = 0;
  let emulatorEvents = 0;
  let accesses = 0;
  let writebacks = 0;
  for (const step of planSteps(events(), layout.mappings)) {
    if (step.kind === 'access') accesses++;
    else if (step.kind === 'writeback') writebacks++;
    const t = emu.startTrace();
    runStep(step, emu, maps, helpers);
    const emitted = t.stop();
    emulatorEvents += emitted.length;
    const kernelSide = step.events.filter((e) => MODELLED.has(e.name)).map(fromKernel);
    compared += kernelSide.length;
    const lastLine = step.events[step.events.length - 1]!.line;
    found.length = 0;
    alignEvents(kernelSide, emitted.map((e) => fromEmulator(e, lastLine)), lastLine, found);
    for (const d of found) {
      if (differences.length < limit) differences.push(d);
      else omitted++;
    }
  }
  return { kernel, events: eventCount, compared, emulatorEvents, accesses, writebacks, differences, omitted };
}

/** The report as text: a summary line, then one line per difference. */
export function formatFtraceDiff(report: FtraceDiffReport, name = 'trace'): string {
  const out = [`${name}: ${report.events} fs_dax events (${report.compared} compared), ${report.accesses} access${report.accesses === 1 ? '' : 'es'} and ${report.writebacks} writeback${report.writebacks === 1 ? '' : 's'} replayed on ${report.kernel}; the emulator emitted ${report.emulatorEvents}`];
  for (const d of report.differences) {
    const fields = d.fields.map((f) => (d.kind === 'fields' ? `${f.field} kernel ${f.kernel}, emulator ${f.emulator}` : `${f.field} ${d.kind === 'kernel-only' ? f.kernel : f.emulator}`)).join('; ');
    const what = d.kind === 'fields' ? fields : `only in the ${d.kind === 'kernel-only' ? 'kernel trace' : 'emulator'}${fields ? ` (${fields})` : ''}`;
    out.push(`line ${d.line}: ${d.event}: ${what}`);
  }
  const n = report.differences.length + report.omitted;
  if (report.omitted > 0) out.push(`... and ${report.omitted} more`);
  out.push(n === 0 ? 'no differences' : `${n} difference${n === 1 ? '' : 's'}`);
  return `${out.join('\n')}\n`;
}
