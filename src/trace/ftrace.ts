/**
 * Kernel fs_dax traces as text: a tracefs `trace` file (with or without its # header) or
 * `trace-cmd report` output. Each event line is `TASK-PID [CPU] [FLAGS] TIMESTAMP: EVENT:
 * FIELDS`; the FIELDS of each fs_dax event are as its TP_printk prints them
 * (include/trace/events/fs_dax.h, the same in v6.1 and v6.12). Events of other systems
 * are skipped; a malformed line, a malformed fs_dax event or a report of lost events is
 * refused with EINVAL and its line. ftraceDiff reads every line before anything runs.
 */
import { PmemError } from '../base/index.js';
import { checkText, stringLines, type LineSource } from './lines.js';

/** The printed-field shapes of the fs_dax event classes. */
type EventClass = 'pmd-fault' | 'pmd-load-hole' | 'pmd-insert' | 'pte-fault' | 'insert' | 'range' | 'one';

const CLASS_OF: ReadonlyMap<string, EventClass> = new Map([
  ['dax_pmd_fault', 'pmd-fault'], ['dax_pmd_fault_done', 'pmd-fault'],
  ['dax_pmd_load_hole', 'pmd-load-hole'], ['dax_pmd_load_hole_fallback', 'pmd-load-hole'],
  ['dax_pmd_insert_mapping', 'pmd-insert'],
  ['dax_pte_fault', 'pte-fault'], ['dax_pte_fault_done', 'pte-fault'], ['dax_load_hole', 'pte-fault'],
  ['dax_insert_pfn_mkwrite_no_entry', 'pte-fault'], ['dax_insert_pfn_mkwrite', 'pte-fault'],
  ['dax_insert_mapping', 'insert'],
  ['dax_writeback_range', 'range'], ['dax_writeback_range_done', 'range'],
  ['dax_writeback_one', 'one'],
] as [string, EventClass][]);

/** The names of the fs_dax events this parser reads. */
export const FTRACE_EVENTS: readonly string[] = [...CLASS_OF.keys()];

/** One fs_dax event of a kernel trace, with the fields its class prints (numbers decoded). */
export interface KernelTraceEvent {
  /** 1-based line in the trace text. */
  line: number;
  name: string;
  /** The device as MAJOR:MINOR and the inode number: together they name the file. */
  dev: string;
  ino: number;
  /** Whether the VMA is shared (classes that print vm_flags). */
  shared?: boolean;
  /** The fault flags as printed (e.g. WRITE|ALLOW_RETRY|...); '' when none. */
  faultFlags?: string;
  /** The result as printed (e.g. MAJOR|NOPAGE); '' when 0. */
  result?: string;
  /** dax_insert_mapping and dax_pmd_insert_mapping print write or read instead of the flags. */
  write?: boolean;
  address?: number;
  vmStart?: number;
  vmEnd?: number;
  pgoff?: number;
  maxPgoff?: number;
  /** dax_writeback_range(_done): the two indices; dax_writeback_one: pglen. */
  start?: number;
  end?: number;
  pglen?: number;
}

// TASK-PID, an optional (TGID), [CPU], optional latency flags (d..1., ....), TIMESTAMP:, EVENT:, FIELDS.
const EVENT_LINE = /^\s*(.+?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(?:[^\s\d]\S*\s+)?(\d+\.\d+):\s+([A-Za-z0-9_]+):\s*(.*?)\s*$/;
const HEX = '(0x[0-9a-f]+|0)';
const HEAD = `^dev (\\d+:\\d+) ino ${HEX}`;
const VMA = '(shared|private)';
const WORD = '[A-Za-z0-9_|]+';
const FLAGS = `(?:(${WORD})\\s+)?`;
const FIELDS: Record<EventClass, RegExp> = {
  'pmd-fault': new RegExp(`${HEAD} ${VMA}\\s+${FLAGS}address ${HEX} vm_start ${HEX} vm_end ${HEX} pgoff ${HEX} max_pgoff ${HEX}(?:\\s+(${WORD}))?$`),
  'pmd-load-hole': new RegExp(`${HEAD} ${VMA} address ${HEX} zero_page \\S+ radix_entry ${HEX}$`),
  'pmd-insert': new RegExp(`${HEAD} ${VMA} (write|read) address ${HEX} length ${HEX} pfn ${HEX}\\s+(?:${WORD}\\s+)?radix_entry ${HEX}$`),
  'pte-fault': new RegExp(`${HEAD} ${VMA}\\s+${FLAGS}address ${HEX} pgoff ${HEX}(?:\\s+(${WORD}))?$`),
  insert: new RegExp(`${HEAD} ${VMA} (write|read) address ${HEX} radix_entry ${HEX}$`),
  range: new RegExp(`${HEAD} pgoff ${HEX}-${HEX}$`),
  one: new RegExp(`${HEAD} pgoff ${HEX} pglen ${HEX}$`),
};
const USAGE: Record<EventClass, string> = {
  'pmd-fault': 'dev MAJ:MIN ino X shared|private FLAGS address X vm_start X vm_end X pgoff X max_pgoff X RESULT',
  'pmd-load-hole': 'dev MAJ:MIN ino X shared|private address X zero_page P radix_entry X',
  'pmd-insert': 'dev MAJ:MIN ino X shared|private write|read address X length X pfn X [PFN_FLAGS] radix_entry X',
  'pte-fault': 'dev MAJ:MIN ino X shared|private FLAGS address X pgoff X RESULT',
  insert: 'dev MAJ:MIN ino X shared|private write|read address X radix_entry X',
  range: 'dev MAJ:MIN ino X pgoff X-X',
  one: 'dev MAJ:MIN ino X pgoff X pglen X',
};

/** Lines that are not events and carry nothing: tracefs and trace-cmd headers. */
const SKIPPED = /^(#|cpus=\d+$|version = \d+$|CPU \d+ is empty$|$)/;

function hex(word: string): number {
  const n = Number(word);
  // Indices past 2^53 are not printed by any fs_dax event we replay; refuse rather than round.
  if (!Number.isSafeInteger(n)) throw new PmemError('EINVAL', `value ${word} is too large`);
  return n;
}

function shown(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}

/** Parses one event's FIELDS; throws EINVAL naming the line and the class's shape. */
function parseFields(name: string, cls: EventClass, fields: string, line: number): KernelTraceEvent {
  const m = FIELDS[cls].exec(fields);
  if (!m) throw new PmemError('EINVAL', `ftrace line ${line}: expected "${name}: ${USAGE[cls]}", got "${shown(fields)}"`);
  try {
    const ev: KernelTraceEvent = { line, name, dev: m[1]!, ino: hex(m[2]!) };
    switch (cls) {
      case 'pmd-fault':
        Object.assign(ev, { shared: m[3] === 'shared', faultFlags: m[4] ?? '', address: hex(m[5]!), vmStart: hex(m[6]!), vmEnd: hex(m[7]!), pgoff: hex(m[8]!), maxPgoff: hex(m[9]!), result: m[10] ?? '' });
        break;
      case 'pmd-load-hole':
        Object.assign(ev, { shared: m[3] === 'shared', address: hex(m[4]!) });
        break;
      case 'pmd-insert': case 'insert':
        Object.assign(ev, { shared: m[3] === 'shared', write: m[4] === 'write', address: hex(m[5]!) });
        break;
      case 'pte-fault':
        Object.assign(ev, { shared: m[3] === 'shared', faultFlags: m[4] ?? '', address: hex(m[5]!), pgoff: hex(m[6]!), result: m[7] ?? '' });
        break;
      case 'range':
        Object.assign(ev, { start: hex(m[3]!), end: hex(m[4]!) });
        break;
      case 'one':
        Object.assign(ev, { pgoff: hex(m[3]!), pglen: hex(m[4]!) });
        break;
    }
    return ev;
  } catch (err) {
    throw new PmemError('EINVAL', `ftrace line ${line}: ${(err as Error).message.replace(/^EINVAL: /, '')} in "${shown(fields)}"`);
  }
}

/**
 * The fs_dax events of a kernel trace, in order, read as they are asked for (each iteration
 * reads the source again); events of other systems are skipped. Throws EINVAL at the first
 * malformed line (its number and what was expected), and at the end when the trace held no
 * fs_dax event at all.
 */
export function* ftraceEvents(source: LineSource): Generator<KernelTraceEvent> {
  let line = 0;
  let found = 0;
  for (const raw of source.lines()) {
    line++;
    checkText(raw, line, source.name);
    const text = raw.trim();
    if (SKIPPED.test(text)) continue;
    if (/^CPU:?\s*\d+.*LOST/.test(text) || /\[LOST \d+ EVENTS\]/.test(text)) {
      throw new PmemError('EINVAL', `ftrace line ${line}: the trace lost events ("${shown(text)}"); record it again with a larger buffer (buffer_size_kb)`);
    }
    const m = EVENT_LINE.exec(raw);
    if (!m) throw new PmemError('EINVAL', `ftrace line ${line}: expected an event line "TASK-PID [CPU] TIMESTAMP: EVENT: FIELDS" (tracefs trace or trace-cmd report), got "${shown(text)}"`);
    const cls = CLASS_OF.get(m[5]!);
    if (cls === undefined) continue;
    found++;
    yield parseFields(m[5]!, cls, m[6]!, line);
  }
  if (found === 0) throw new PmemError('EINVAL', `${source.name}: no fs_dax events (enable them with events/fs_dax/enable before the run)`);
}

/** The source of a trace given as text or lines. */
export function ftraceSource(trace: string | LineSource): LineSource {
  return typeof trace === 'string' ? stringLines(trace, 'ftrace') : trace;
}

/** Parses a kernel trace into its fs_dax events, in order (ftraceEvents, held in an array). */
export function parseFtrace(trace: string | LineSource): KernelTraceEvent[] {
  return [...ftraceEvents(ftraceSource(trace))];
}
