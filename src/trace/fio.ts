/**
 * Import of a fio iolog (fio --write_iolog; fio's iolog.c reads the same two versions):
 *   fio version 2 iolog                     first line
 *   FILE add|open|close                     a file joins the job, is opened, is closed
 *   FILE read|write|trim OFFSET LENGTH      an I/O
 *   FILE sync|datasync [OFFSET LENGTH]      fsync / fdatasync
 *   FILE wait USECONDS [0]                  a pause (no operation here)
 *   fio version 3 iolog                     the same, each line led by its issue time
 * The job replays on the emulator as its engine would run it on a DAX file (fio's
 * engines/mmap.c and engines/libpmem.c): each file is created as large as its farthest
 * I/O (rounded up to 4 KiB, fully written, as fio lays files out) and mapped shared when
 * opened;
 *   mmap     writes are stores (the seeded fill), reads loads, sync and datasync an
 *            msync(MS_SYNC) of the whole mapping, trim a hole punch;
 *   libpmem  the mapping is MAP_SYNC, writes are non-temporal stores and an sfence
 *            (pmem_memcpy's path for copies of 256 bytes or more), sync a fence.
 * The iolog is read once to check every line and size the files, then again by each pass
 * of the replay (fioIologStream), so an iolog of any length imports in bounded memory.
 */
import { PmemError } from '../base/index.js';
import { encodePath, TRACE_MAGIC, TRACE_VERSION } from './format.js';
import { collectImport, importStream, type ImportedStream, type ImportedTrace } from './imported.js';
import { stringLines, type LineSource } from './lines.js';

export interface FioImportOptions {
  engine?: 'mmap' | 'libpmem';
  /** Extra emulator options for the trace's emulator line, e.g. 'preset=cxl'. */
  emulator?: string;
}

type FioAction = 'add' | 'open' | 'close' | 'read' | 'write' | 'sync' | 'datasync' | 'trim' | 'wait';
const ACTIONS: readonly string[] = ['add', 'open', 'close', 'read', 'write', 'sync', 'datasync', 'trim', 'wait'];

interface FioLine {
  file: string;
  action: FioAction;
  offset: number;
  length: number;
  line: number;
}

function bad(line: number, expected: string, got: string): PmemError {
  return new PmemError('EINVAL', `fio iolog line ${line}: expected "${expected}", got "${got.length > 80 ? `${got.slice(0, 80)}...` : got}"`);
}

function uint(word: string | undefined, line: number, expected: string, got: string): number {
  if (word === undefined || !/^[0-9]+$/.test(word) || !Number.isSafeInteger(Number(word))) throw bad(line, expected, got);
  return Number(word);
}

/** The version the first line names. */
function iologVersion(first: string | undefined): number {
  const t = first?.trim() ?? '';
  const m = /^fio version ([23]) iolog$/.exec(t);
  if (!m) throw bad(1, 'fio version 2 iolog" or "fio version 3 iolog', t);
  return Number(m[1]);
}

/** Line `n` (after the first) parsed; null for a blank one. */
function parseIologLine(raw: string, n: number, version: number): FioLine | null {
  const t = raw.trim();
  for (let k = 0; k < t.length; k++) {
    const c = t.charCodeAt(k);
    if ((c < 32 && c !== 9) || c === 0xfffd) throw new PmemError('EINVAL', `fio iolog line ${n}: not a text iolog (byte 0x${c.toString(16).padStart(2, '0')} at column ${k + 1})`);
  }
  if (t === '') return null;
  const usage = `${version === 3 ? 'TIME ' : ''}FILE ACTION [OFFSET LENGTH]`;
  const w = t.split(/\s+/);
  if (version === 3) {
    uint(w[0], n, usage, t);
    w.shift();
  }
  const [file, action] = w;
  if (file === undefined || action === undefined || !ACTIONS.includes(action)) throw bad(n, `${usage} with ACTION one of ${ACTIONS.join(', ')}`, t);
  const withRange = action === 'read' || action === 'write' || action === 'trim';
  const optionalRange = action === 'sync' || action === 'datasync' || action === 'wait';
  if (withRange ? w.length !== 4 : optionalRange ? w.length !== 2 && w.length !== 4 : w.length !== 2) {
    throw bad(n, withRange ? `${version === 3 ? 'TIME ' : ''}FILE ${action} OFFSET LENGTH` : `${version === 3 ? 'TIME ' : ''}FILE ${action}`, t);
  }
  const offset = w.length === 4 ? uint(w[2], n, usage, t) : 0;
  const length = w.length === 4 ? uint(w[3], n, usage, t) : 0;
  return { file, action: action as FioAction, offset, length, line: n };
}

/** The parsed lines of an iolog after its first, whose version goes into `seen`. */
function* iologLines(source: LineSource, seen: { version: number }): Generator<FioLine> {
  let version = 0;
  let n = 0;
  for (const raw of source.lines()) {
    if (++n === 1) {
      version = seen.version = iologVersion(raw);
      continue;
    }
    const l = parseIologLine(raw, n, version);
    if (l) yield l;
  }
  if (n === 0) iologVersion(undefined);
}

interface IologPlan {
  version: number;
  /** Each file's size: its farthest I/O rounded up to 4 KiB (at least 4 KiB). */
  sizes: Map<string, number>;
  capacity: number;
}

/** Reads the whole iolog once: every line checked and followed (added, opened, closed), and each file sized. */
function planIolog(source: LineSource): IologPlan {
  const sizes = new Map<string, number>();
  const open = new Set<string>();
  const seen = { version: 0 };
  for (const l of iologLines(source, seen)) {
    const notAdded = (): PmemError => new PmemError('EINVAL', `fio iolog line ${l.line}: ${l.file} was never added (expected "${l.file} add" before it)`);
    const notOpen = (): PmemError => new PmemError('EINVAL', `fio iolog line ${l.line}: ${l.file} is not open (expected "${l.file} open" before it)`);
    if (l.action === 'add') {
      sizes.set(l.file, sizes.get(l.file) ?? 0);
      continue;
    }
    if (!sizes.has(l.file)) throw notAdded();
    switch (l.action) {
      case 'read': case 'write': case 'trim':
        if (l.length === 0) throw bad(l.line, `FILE ${l.action} OFFSET LENGTH with LENGTH > 0`, `${l.file} ${l.action} ${l.offset} 0`);
        sizes.set(l.file, Math.max(sizes.get(l.file)!, l.offset + l.length));
        if (l.action !== 'trim' && !open.has(l.file)) throw notOpen();
        break;
      case 'open':
        if (open.has(l.file)) throw new PmemError('EINVAL', `fio iolog line ${l.line}: ${l.file} is open already`);
        open.add(l.file);
        break;
      case 'close':
        if (!open.delete(l.file)) throw notOpen();
        break;
      case 'sync': case 'datasync':
        if (!open.has(l.file)) throw notOpen();
        break;
    }
  }
  let total = 0;
  for (const [f, s] of sizes) {
    const r = Math.max(4096, Math.ceil(s / 4096) * 4096);
    sizes.set(f, r);
    total += Math.ceil(r / (2 << 20)) * (2 << 20);
  }
  return { version: seen.version, sizes, capacity: Math.max(64 << 20, 2 * total + (8 << 20)) };
}

/** The trace lines of a checked iolog, each with its iolog line. */
function* iologTrace(source: LineSource, plan: IologPlan, engine: 'mmap' | 'libpmem', emulator: string | undefined): Generator<readonly [string, number]> {
  yield [`${TRACE_MAGIC} ${TRACE_VERSION}`, 0];
  yield [`emulator capacity=${plan.capacity}${emulator ? ` ${emulator}` : ''}`, 0];
  const open = new Map<string, number>();
  let nextMap = 0;
  for (const l of iologLines(source, { version: 0 })) {
    const path = encodePath(l.file);
    const size = plan.sizes.get(l.file)!;
    const m = open.get(l.file);
    switch (l.action) {
      case 'add':
        yield [`create ${path} ${size} written`, l.line];
        break;
      case 'open':
        open.set(l.file, nextMap);
        yield [`mmap m${nextMap++} ${path} 0 ${size} shared${engine === 'libpmem' ? ' sync' : ''}`, l.line];
        break;
      case 'close':
        yield [`munmap m${m}`, l.line];
        open.delete(l.file);
        break;
      case 'write':
        if (engine === 'mmap') yield [`store m${m} ${l.offset} ${l.length} fill:${l.line}`, l.line];
        else {
          yield [`ntstore m${m} ${l.offset} ${l.length} fill:${l.line}`, l.line];
          yield ['sfence', l.line];
        }
        break;
      case 'read':
        yield [`load m${m} ${l.offset} ${l.length}`, l.line];
        break;
      case 'sync': case 'datasync':
        yield [engine === 'mmap' ? `msync m${m} 0 ${size}` : 'sfence', l.line];
        break;
      case 'trim':
        yield [`punch ${path} ${l.offset} ${l.length}`, l.line];
        break;
      case 'wait':
        break;
    }
  }
}

/**
 * An iolog as a trace made as it is read (a file's lines, fileLines(path), stay on the
 * disk); refuses the first malformed line, before anything is converted.
 */
export function fioIologStream(source: LineSource, options: FioImportOptions = {}): ImportedStream {
  const engine = options.engine ?? 'mmap';
  if (engine !== 'mmap' && engine !== 'libpmem') throw new PmemError('EINVAL', `importFioIolog: engine must be mmap or libpmem, got ${String(engine)}`);
  const plan = planIolog(source);
  return importStream(source.name, `fio iolog version ${plan.version}`, () => iologTrace(source, plan, engine, options.emulator));
}

/** Converts an iolog to a trace; refuses the first malformed line, converting nothing. */
export function importFioIolog(text: string, options: FioImportOptions = {}): ImportedTrace {
  return collectImport(fioIologStream(stringLines(text, 'fio iolog'), options));
}
