/**
 * Import of a pmemcheck store log (valgrind --tool=pmemcheck --log-stores=yes), as PMDK's
 * pmreorder reads it (src/tools/pmreorder/opscontext.py, memoryoperations.py): entries
 * separated by |, those between START and STOP are the run:
 *   STORE;0xADDRESS;0xVALUE;0xSIZE[;stack frames...]   a store of SIZE bytes, VALUE in the
 *                                                       machine's (little-endian) byte order
 *   FLUSH;0xADDRESS;0xSIZE                              a flush of the lines of the range
 *   FENCE                                               a fence
 *   REGISTER_FILE;NAME;0xADDRESS;0xSIZE;0xOFFSET        where a file was mapped
 *   any other word                                      a marker, e.g. NAME.BEGIN / NAME.END
 * Valgrind's own lines (==PID== ...) are skipped. The run is mapped onto one device mapping
 * whose first byte is the registered file's address (or, with none, the lowest address
 * the log touches, rounded down to 4 KiB). The log does not say which flush instruction
 * ran; `flush` picks it (default clwb). The log is read to check every entry and find the
 * run's bounds and addresses, then again by each pass of the replay (pmemcheckStream), so
 * a log of any length imports in bounded memory.
 */
import { PmemError } from '../base/index.js';
import { TRACE_MAGIC, TRACE_VERSION } from './format.js';
import { collectImport, importStream, type ImportedStream, type ImportedTrace } from './imported.js';
import { stringLines, type LineSource } from './lines.js';

export interface PmemcheckImportOptions {
  flush?: 'clwb' | 'clflushopt' | 'clflush';
  /** Extra emulator options for the trace's emulator line, e.g. 'preset=cxl'. */
  emulator?: string;
}

interface Entry {
  text: string;
  line: number;
  /** Its place among the log's entries, from 0. */
  index: number;
}

const EXPECTED = 'STORE;0xADDRESS;0xVALUE;0xSIZE, FLUSH;0xADDRESS;0xSIZE, FENCE, REGISTER_FILE;NAME;0xADDRESS;0xSIZE;0xOFFSET, START, STOP or a marker word';

function bad(e: Entry, what = EXPECTED): PmemError {
  const shown = e.text.length > 80 ? `${e.text.slice(0, 80)}...` : e.text;
  return new PmemError('EINVAL', `pmemcheck log line ${e.line}: expected ${what}, got "${shown}"`);
}

function hex(word: string | undefined, e: Entry, what: string): bigint {
  if (word === undefined || !/^0x[0-9a-fA-F]+$/.test(word)) throw bad(e, what);
  return BigInt(word);
}

/** The entries of the log, each with its line number; valgrind's own lines are skipped. */
function* entries(source: LineSource): Generator<Entry> {
  let n = 0;
  let index = 0;
  for (const raw of source.lines()) {
    n++;
    for (let k = 0; k < raw.length; k++) {
      const c = raw.charCodeAt(k);
      if ((c < 32 && c !== 9 && c !== 13) || c === 0xfffd) throw new PmemError('EINVAL', `pmemcheck log line ${n}: not a text log (byte 0x${c.toString(16).padStart(2, '0')} at column ${k + 1})`);
    }
    if (/^==\d+==/.test(raw)) continue;
    for (const part of raw.split('|')) {
      const t = part.trim();
      if (t !== '') yield { text: t, line: n, index: index++ };
    }
  }
}

type Parsed =
  | { kind: 'store'; addr: bigint; size: number; value: bigint }
  | { kind: 'flush'; addr: bigint; size: number }
  | { kind: 'fence' }
  | { kind: 'mark'; name: string }
  | { kind: 'register'; addr: bigint };

/** One entry of the run, parsed; throws on a malformed one. */
function parseEntry(e: Entry): Parsed {
  const f = e.text.split(';');
  if (f[0] === 'STORE') {
    if (f.length < 4) throw bad(e, 'STORE;0xADDRESS;0xVALUE;0xSIZE');
    const size = hex(f[3], e, 'STORE;0xADDRESS;0xVALUE;0xSIZE');
    if (size <= 0n || size > 1n << 20n) throw bad(e, 'a STORE size in [1, 2^20]');
    return { kind: 'store', addr: hex(f[1], e, 'STORE;0xADDRESS;0xVALUE;0xSIZE'), value: hex(f[2], e, 'STORE;0xADDRESS;0xVALUE;0xSIZE'), size: Number(size) };
  }
  if (f[0] === 'FLUSH') {
    if (f.length !== 3) throw bad(e, 'FLUSH;0xADDRESS;0xSIZE');
    const size = hex(f[2], e, 'FLUSH;0xADDRESS;0xSIZE');
    if (size > 1n << 32n) throw bad(e, 'a FLUSH size below 2^32');
    return { kind: 'flush', addr: hex(f[1], e, 'FLUSH;0xADDRESS;0xSIZE'), size: Number(size) };
  }
  if (f[0] === 'FENCE') {
    if (f.length !== 1) throw bad(e, 'FENCE');
    return { kind: 'fence' };
  }
  if (f[0] === 'REGISTER_FILE') {
    if (f.length !== 5) throw bad(e, 'REGISTER_FILE;NAME;0xADDRESS;0xSIZE;0xOFFSET');
    return { kind: 'register', addr: hex(f[2], e, 'REGISTER_FILE;NAME;0xADDRESS;0xSIZE;0xOFFSET') };
  }
  if (f.length === 1 && /^[A-Za-z0-9_.:-]+$/.test(e.text) && e.text !== 'START' && e.text !== 'STOP') return { kind: 'mark', name: e.text };
  throw bad(e);
}

interface LogPlan {
  /** The run: entries with index in (after, before). */
  after: number;
  before: number;
  /** The device mapping's first byte, and its length. */
  base: bigint;
  length: bigint;
}

/**
 * Reads the log to find its run (after the first START, up to the STOP after it; with no
 * START, from the first entry), then to check every entry of the run and find the range
 * it touches, and, when a file was registered, once more for an access below it.
 */
function planLog(source: LineSource): LogPlan {
  let start: Entry | undefined;
  let stop: Entry | undefined;
  let last: Entry | undefined;
  for (const e of entries(source)) {
    last = e;
    if (e.text === 'START' && start === undefined && stop === undefined) start = e;
    else if (e.text === 'STOP' && stop === undefined) stop = e;
    else if (e.text === 'START' && start === undefined && stop !== undefined) {
      // A START after a STOP: the run is the one that START begins.
      start = e;
      stop = undefined;
    }
  }
  if (start && !stop) throw new PmemError('EINVAL', `pmemcheck log line ${last!.line}: expected STOP after the START of line ${start.line} (a truncated log?)`);
  const after = start?.index ?? -1;
  const before = stop?.index ?? Infinity;
  const inRun = (e: Entry): boolean => e.index > after && e.index < before;
  let registered: bigint | undefined;
  let low: bigint | undefined;
  let high = 0n;
  let accesses = false;
  for (const e of entries(source)) {
    if (!inRun(e)) continue;
    const o = parseEntry(e);
    if (o.kind === 'register') registered ??= o.addr;
    if (o.kind !== 'mark' && o.kind !== 'register') accesses = true;
    if (o.kind !== 'store' && o.kind !== 'flush') continue;
    if (low === undefined || o.addr < low) low = o.addr;
    if (o.addr + BigInt(o.size) > high) high = o.addr + BigInt(o.size);
  }
  if (!accesses) throw new PmemError('EINVAL', 'pmemcheck log: no STORE, FLUSH or FENCE between START and STOP');
  const base = ((registered ?? low ?? 0n) / 4096n) * 4096n;
  if (low !== undefined && low < base) {
    for (const e of entries(source)) {
      if (!inRun(e)) continue;
      const o = parseEntry(e);
      if ((o.kind === 'store' || o.kind === 'flush') && o.addr < base) throw new PmemError('EINVAL', `pmemcheck log line ${e.line}: address 0x${o.addr.toString(16)} is below the registered mapping at 0x${base.toString(16)}`);
    }
  }
  const MiB2 = 2n << 20n;
  const length = ((high - base + MiB2 - 1n) / MiB2) * MiB2 || MiB2;
  if (length > 3584n << 20n) throw new PmemError('EINVAL', `pmemcheck log: the addresses span ${length} bytes, more than an emulated device holds`);
  return { after, before, base, length };
}

/** The trace lines of a checked log's run, each with its log line. */
function* logTrace(source: LineSource, plan: LogPlan, flush: string, emulator: string | undefined): Generator<readonly [string, number]> {
  yield [`${TRACE_MAGIC} ${TRACE_VERSION}`, 0];
  yield [`emulator capacity=${Math.max(64 << 20, Number(plan.length) + (2 << 20))}${emulator ? ` ${emulator}` : ''}`, 0];
  yield [`dev d0 0 ${plan.length}`, 0];
  for (const e of entries(source)) {
    if (e.index <= plan.after || e.index >= plan.before) continue;
    const o = parseEntry(e);
    if (o.kind === 'fence') yield ['sfence', e.line];
    else if (o.kind === 'mark') yield [`mark ${o.name}`, e.line];
    else if (o.kind === 'flush') yield [`${flush} d0 ${Number(o.addr - plan.base)} ${o.size}`, e.line];
    else if (o.kind === 'store') {
      const bytes = new Uint8Array(o.size);
      let v = o.value;
      for (let i = 0; i < o.size && v > 0n; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
      yield [`store d0 ${Number(o.addr - plan.base)} ${o.size} x${Buffer.from(bytes).toString('hex')}`, e.line];
    }
  }
}

/**
 * A store log as a trace made as it is read (a file's lines, fileLines(path), stay on the
 * disk); refuses the first malformed entry, before anything is converted.
 */
export function pmemcheckStream(source: LineSource, options: PmemcheckImportOptions = {}): ImportedStream {
  const flush = options.flush ?? 'clwb';
  if (!['clwb', 'clflushopt', 'clflush'].includes(flush)) throw new PmemError('EINVAL', `importPmemcheck: flush must be clwb, clflushopt or clflush, got ${String(flush)}`);
  const plan = planLog(source);
  return importStream(source.name, 'pmemcheck store log', () => logTrace(source, plan, flush, options.emulator));
}

/** Converts a store log to a trace; refuses the first malformed entry, converting nothing. */
export function importPmemcheck(text: string, options: PmemcheckImportOptions = {}): ImportedTrace {
  return collectImport(pmemcheckStream(stringLines(text, 'pmemcheck log'), options));
}
