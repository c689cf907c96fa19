/**
 * From a kernel fs_dax trace to a program the emulator can run: the files (by device and
 * inode), the mappings (from the PMD-class events, which print vm_start and vm_end), and
 * the steps, each a user access or a writeback with the kernel events it caused.
 *
 * What the trace does not say, and what the plan assumes instead (the model simplifies):
 * - a file's size is max_pgoff pages (a PMD event prints it); a file seen only through
 *   PTE events is as long as the last page they touch, rounded up to 4 KiB;
 * - files start sparse (what the W2 workload's ftruncate makes), unless told otherwise;
 * - a mapping seen only through PTE events maps the file from offset 0 and ends after the
 *   last page faulted in it;
 * - a mapping never moves or changes during the trace (munmap and mremap leave no fs_dax
 *   event): two different VMAs over the same addresses are refused.
 * A step begins at each fault that is not the retry of a FALLBACK or RETRY at the same
 * address, and at each dax_writeback_range; the events of other kinds join the step
 * before them. The events are read as they come, never held: the layout takes three reads
 * of them (the files, the mappings the PMD events print, the ones PTE events imply), and
 * each walk of the steps one more.
 */
import { PmemError } from '../base/index.js';
import type { KernelTraceEvent } from './ftrace.js';

const PAGE = 4096;
/** The emulator's indices are 32-bit: fsync's end, LLONG_MAX >> PAGE_SHIFT, compares as this. */
export const WHOLE_FILE_END = 0xffffffff;

export interface PlannedFile {
  key: string;
  path: string;
  pages: number;
}

export interface PlannedMapping {
  key: string;
  vmStart: number;
  vmEnd: number;
  /** The file page at vm_start. */
  vmPgoff: number;
  shared: boolean;
  /** The line that showed it. */
  line: number;
}

export type Step =
  | { kind: 'access'; mapping: PlannedMapping; offset: number; write: boolean; events: KernelTraceEvent[] }
  | { kind: 'writeback'; key: string; start: number; end: number; events: KernelTraceEvent[] }
  | { kind: 'none'; events: KernelTraceEvent[] };

/** The files and mappings a trace needs, made before its steps run. */
export interface Layout {
  files: PlannedFile[];
  mappings: PlannedMapping[];
}

/** The events of a trace, read from the start each time it is called. */
export type EventSource = () => Iterable<KernelTraceEvent>;

const fileKey = (ev: KernelTraceEvent): string => `${ev.dev}/${ev.ino}`;
const isFaultStart = (name: string): boolean => name === 'dax_pmd_fault' || name === 'dax_pte_fault';
const isFaultDone = (name: string): boolean => name === 'dax_pmd_fault_done' || name === 'dax_pte_fault_done';
const hasWord = (words: string | undefined, word: string): boolean => (words ?? '').split('|').includes(word);

function planFiles(events: Iterable<KernelTraceEvent>): Map<string, PlannedFile> {
  const files = new Map<string, PlannedFile & { sized: boolean }>();
  for (const ev of events) {
    const key = fileKey(ev);
    let f = files.get(key);
    if (!f) files.set(key, (f = { key, path: `dev${ev.dev.replace(':', '.')}-ino${ev.ino.toString(16)}`, pages: 1, sized: false }));
    if (f.sized) continue;
    if (ev.maxPgoff !== undefined) {
      // The first PMD event gives the size; a later change of size (truncate) is not replayed.
      f.pages = Math.max(1, ev.maxPgoff);
      f.sized = true;
      continue;
    }
    if (ev.pgoff !== undefined) f.pages = Math.max(f.pages, ev.pgoff + (ev.pglen ?? 1));
    if (ev.end !== undefined && ev.end < WHOLE_FILE_END) f.pages = Math.max(f.pages, ev.end + 1);
  }
  return files;
}

/** The mapping holding `address` among `list`, or undefined. */
function holding(list: readonly PlannedMapping[], address: number): PlannedMapping | undefined {
  return list.find((m) => address >= m.vmStart && address < m.vmEnd);
}

function planMappings(events: EventSource): PlannedMapping[] {
  const known: PlannedMapping[] = [];
  for (const ev of events()) {
    if (ev.vmStart === undefined) continue;
    const { vmStart, vmEnd, address, pgoff } = ev as Required<KernelTraceEvent>;
    if (vmStart % PAGE !== 0 || vmEnd % PAGE !== 0 || vmEnd <= vmStart || address < vmStart || address >= vmEnd) {
      throw new PmemError('EINVAL', `ftrace line ${ev.line}: expected a page-aligned VMA holding the address, got vm_start 0x${vmStart.toString(16)} vm_end 0x${vmEnd.toString(16)} address 0x${address.toString(16)}`);
    }
    const vmPgoff = pgoff - Math.floor((address - vmStart) / PAGE);
    if (vmPgoff < 0) throw new PmemError('EINVAL', `ftrace line ${ev.line}: pgoff 0x${pgoff.toString(16)} is below the VMA's first page`);
    const same = known.find((m) => m.vmStart === vmStart);
    if (same && same.key === fileKey(ev) && same.vmEnd === vmEnd && same.vmPgoff === vmPgoff && same.shared === ev.shared) continue;
    const other = known.find((m) => vmStart < m.vmEnd && m.vmStart < vmEnd);
    if (other) {
      throw new PmemError('EINVAL', `ftrace line ${ev.line}: this VMA [0x${vmStart.toString(16)}, 0x${vmEnd.toString(16)}) overlaps another one seen at line ${other.line}; a mapping that moves or changes during the trace cannot be replayed`);
    }
    known.push({ key: fileKey(ev), vmStart, vmEnd, vmPgoff, shared: ev.shared!, line: ev.line });
  }
  // Addresses that no PMD event placed: a mapping of the file from offset 0, up to the last page seen.
  const inferred: PlannedMapping[] = [];
  for (const ev of events()) {
    if (ev.address === undefined || holding(known, ev.address)) continue;
    if (ev.pgoff === undefined) continue; // an insert event without pgoff cannot place a mapping
    const vmStart = ev.address - ev.pgoff * PAGE;
    if (vmStart < 0) throw new PmemError('EINVAL', `ftrace line ${ev.line}: address 0x${ev.address.toString(16)} below pgoff 0x${ev.pgoff.toString(16)} pages cannot start a mapping at file offset 0`);
    const m = inferred.find((x) => x.vmStart === vmStart && x.key === fileKey(ev));
    if (m) m.vmEnd = Math.max(m.vmEnd, ev.address + PAGE);
    else inferred.push({ key: fileKey(ev), vmStart, vmEnd: ev.address + PAGE, vmPgoff: 0, shared: ev.shared ?? true, line: ev.line });
  }
  for (const m of inferred) {
    const other = [...known, ...inferred].find((o) => o !== m && m.vmStart < o.vmEnd && o.vmStart < m.vmEnd);
    if (other) throw new PmemError('EINVAL', `ftrace line ${m.line}: the mapping this PTE event implies (file offset 0 at 0x${m.vmStart.toString(16)}) overlaps the one of line ${other.line}`);
  }
  return [...known, ...inferred];
}

/** The files and mappings of a trace; EINVAL for what cannot be replayed. */
export function planLayout(events: EventSource): Layout {
  const files = planFiles(events());
  return { files: [...files.values()].map(({ key, path, pages }) => ({ key, path, pages })), mappings: planMappings(events) };
}

/**
 * The steps of a trace over its mappings, each yielded once complete (when the next one
 * begins, or at the end); EINVAL for an access in no mapping.
 */
export function* planSteps(events: Iterable<KernelTraceEvent>, mappings: readonly PlannedMapping[]): Generator<Step> {
  let ready: Step | undefined;
  let cur: Step | undefined;
  let openStart = false;
  let lastResult = '';
  const page = (a: number): number => a - (a % PAGE);
  for (const ev of events) {
    if (ev.name === 'dax_writeback_range' || ((ev.name === 'dax_writeback_one' || ev.name === 'dax_writeback_range_done') && cur?.kind !== 'writeback')) {
      // A writeback whose dax_writeback_range is missing replays as an fsync of the whole file.
      const ranged = ev.name === 'dax_writeback_range';
      cur = { kind: 'writeback', key: fileKey(ev), start: ranged ? ev.start! : 0, end: ranged ? Math.min(ev.end!, WHOLE_FILE_END) : WHOLE_FILE_END, events: [ev] };
      if (ready) yield ready;
      ready = cur;
      if (ev.name === 'dax_writeback_range_done') cur = undefined;
      continue;
    }
    if (cur?.kind === 'writeback') {
      if (ev.name === 'dax_writeback_one' || ev.name === 'dax_writeback_range_done') {
        cur.events.push(ev);
        if (ev.name === 'dax_writeback_range_done') cur = undefined;
        continue;
      }
      cur = undefined;
    }
    const start = isFaultStart(ev.name);
    const done = isFaultDone(ev.name);
    if (start || done) {
      const at = page(ev.address!);
      const here = cur?.kind === 'access' && cur.mapping.vmStart + cur.offset === at;
      const retry = hasWord(lastResult, 'FALLBACK') || hasWord(lastResult, 'RETRY');
      const joins = here && (start ? !openStart && retry : openStart);
      if (!joins) {
        const mapping = holding(mappings, at);
        if (!mapping) throw new PmemError('EINVAL', `ftrace line ${ev.line}: address 0x${at.toString(16)} is in no mapping the trace shows`);
        cur = { kind: 'access', mapping, offset: at - mapping.vmStart, write: hasWord(ev.faultFlags, 'WRITE'), events: [] };
        if (ready) yield ready;
        ready = cur;
        lastResult = '';
      }
      cur!.events.push(ev);
      openStart = start;
      if (done) lastResult = ev.result ?? '';
      continue;
    }
    if (!cur) {
      cur = { kind: 'none', events: [] };
      if (ready) yield ready;
      ready = cur;
    }
    cur.events.push(ev);
  }
  if (ready) yield ready;
}
