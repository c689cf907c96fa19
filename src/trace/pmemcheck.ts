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
 * ran; `flush` picks it (default clwb).
 */
import { PmemError } from '../base/index.js';
import { TRACE_MAGIC, TRACE_VERSION } from './format.js';
import { TraceBuilder, type ImportedTrace } from './imported.js';

export interface PmemcheckImportOptions {
  flush?: 'clwb' | 'clflushopt' | 'clflush';
  /** Extra emulator options for the trace's emulator line, e.g. 'preset=cxl'. */
  emulator?: string;
}

interface Entry {
  text: string;
  line: number;
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

/** The entries of the log, each with its line number. */
function entries(text: string): Entry[] {
  const out: Entry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    for (let k = 0; k < raw.length; k++) {
      const c = raw.charCodeAt(k);
      if ((c < 32 && c !== 9 && c !== 13) || c === 0xfffd) throw new PmemError('EINVAL', `pmemcheck log line ${i + 1}: not a text log (byte 0x${c.toString(16).padStart(2, '0')} at column ${k + 1})`);
    }
    if (/^==\d+==/.test(raw)) continue;
    for (const part of raw.split('|')) {
      const t = part.trim();
      if (t !== '') out.push({ text: t, line: i + 1 });
    }
  }
  return out;
}

/** Converts a store log to a trace; refuses the first malformed entry, converting nothing. */
export function importPmemcheck(text: string, options: PmemcheckImportOptions = {}): ImportedTrace {
  const flush = options.flush ?? 'clwb';
  if (!['clwb', 'clflushopt', 'clflush'].includes(flush)) throw new PmemError('EINVAL', `importPmemcheck: flush must be clwb, clflushopt or clflush, got ${String(flush)}`);
  const all = entries(text);
  const start = all.findIndex((e) => e.text === 'START');
  const stopAt = all.findIndex((e, i) => i > start && e.text === 'STOP');
  const run = all.slice(start + 1, stopAt < 0 ? all.length : stopAt);
  if (start >= 0 && stopAt < 0) throw new PmemError('EINVAL', `pmemcheck log line ${all[all.length - 1]?.line ?? 1}: expected STOP after the START of line ${all[start]!.line} (a truncated log?)`);
  type Parsed = { kind: 'store'; addr: bigint; size: number; value: bigint; e: Entry } | { kind: 'flush'; addr: bigint; size: number; e: Entry } | { kind: 'fence'; e: Entry } | { kind: 'mark'; name: string; e: Entry };
  const ops: Parsed[] = [];
  let registered: bigint | undefined;
  for (const e of run) {
    const f = e.text.split(';');
    if (f[0] === 'STORE') {
      if (f.length < 4) throw bad(e, 'STORE;0xADDRESS;0xVALUE;0xSIZE');
      const size = hex(f[3], e, 'STORE;0xADDRESS;0xVALUE;0xSIZE');
      if (size <= 0n || size > 1n << 20n) throw bad(e, 'a STORE size in [1, 2^20]');
      ops.push({ kind: 'store', addr: hex(f[1], e, 'STORE;0xADDRESS;0xVALUE;0xSIZE'), value: hex(f[2], e, 'STORE;0xADDRESS;0xVALUE;0xSIZE'), size: Number(size), e });
    } else if (f[0] === 'FLUSH') {
      if (f.length !== 3) throw bad(e, 'FLUSH;0xADDRESS;0xSIZE');
      const size = hex(f[2], e, 'FLUSH;0xADDRESS;0xSIZE');
      if (size > 1n << 32n) throw bad(e, 'a FLUSH size below 2^32');
      ops.push({ kind: 'flush', addr: hex(f[1], e, 'FLUSH;0xADDRESS;0xSIZE'), size: Number(size), e });
    } else if (f[0] === 'FENCE') {
      if (f.length !== 1) throw bad(e, 'FENCE');
      ops.push({ kind: 'fence', e });
    } else if (f[0] === 'REGISTER_FILE') {
      if (f.length !== 5) throw bad(e, 'REGISTER_FILE;NAME;0xADDRESS;0xSIZE;0xOFFSET');
      registered ??= hex(f[2], e, 'REGISTER_FILE;NAME;0xADDRESS;0xSIZE;0xOFFSET');
    } else if (f.length === 1 && /^[A-Za-z0-9_.:-]+$/.test(e.text) && e.text !== 'START' && e.text !== 'STOP') {
      ops.push({ kind: 'mark', name: e.text, e });
    } else {
      throw bad(e);
    }
  }
  if (!ops.some((o) => o.kind !== 'mark')) throw new PmemError('EINVAL', 'pmemcheck log: no STORE, FLUSH or FENCE between START and STOP');
  let low = registered;
  let high = 0n;
  for (const o of ops) {
    if (o.kind !== 'store' && o.kind !== 'flush') continue;
    if (registered === undefined && (low === undefined || o.addr < low)) low = o.addr;
    if (o.addr + BigInt(o.size) > high) high = o.addr + BigInt(o.size);
  }
  const base = ((low ?? 0n) / 4096n) * 4096n;
  const MiB2 = 2n << 20n;
  const length = ((high - base + MiB2 - 1n) / MiB2) * MiB2 || MiB2;
  if (length > 3584n << 20n) throw new PmemError('EINVAL', `pmemcheck log: the addresses span ${length} bytes, more than an emulated device holds`);
  const out = new TraceBuilder();
  out.add(`${TRACE_MAGIC} ${TRACE_VERSION}`, 0);
  const capacity = Math.max(64 << 20, Number(length) + (2 << 20));
  out.add(`emulator capacity=${capacity}${options.emulator ? ` ${options.emulator}` : ''}`, 0);
  out.add(`dev d0 0 ${length}`, 0);
  for (const o of ops) {
    if (o.kind === 'fence') out.add('sfence', o.e.line);
    else if (o.kind === 'mark') out.add(`mark ${o.name}`, o.e.line);
    else {
      if (o.addr < base) throw new PmemError('EINVAL', `pmemcheck log line ${o.e.line}: address 0x${o.addr.toString(16)} is below the registered mapping at 0x${base.toString(16)}`);
      const off = Number(o.addr - base);
      if (o.kind === 'flush') out.add(`${flush} d0 ${off} ${o.size}`, o.e.line);
      else {
        const bytes = new Uint8Array(o.size);
        let v = o.value;
        for (let i = 0; i < o.size && v > 0n; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
        out.add(`store d0 ${off} ${o.size} x${Buffer.from(bytes).toString('hex')}`, o.e.line);
      }
    }
  }
  return out.done('pmemcheck store log');
}
