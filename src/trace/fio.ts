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
 */
import { PmemError } from '../base/index.js';
import { encodePath, TRACE_MAGIC, TRACE_VERSION } from './format.js';
import { TraceBuilder, type ImportedTrace } from './imported.js';

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

/** Parses every line; throws on the first bad one. */
function parseIolog(text: string): { version: number; lines: FioLine[] } {
  const raw = text.split('\n');
  const first = raw[0]?.trim() ?? '';
  const m = /^fio version ([23]) iolog$/.exec(first);
  if (!m) throw bad(1, 'fio version 2 iolog" or "fio version 3 iolog', first);
  const version = Number(m[1]);
  const out: FioLine[] = [];
  const usage = `${version === 3 ? 'TIME ' : ''}FILE ACTION [OFFSET LENGTH]`;
  for (let i = 1; i < raw.length; i++) {
    const t = raw[i]!.trim();
    const n = i + 1;
    for (let k = 0; k < t.length; k++) {
      const c = t.charCodeAt(k);
      if ((c < 32 && c !== 9) || c === 0xfffd) throw new PmemError('EINVAL', `fio iolog line ${n}: not a text iolog (byte 0x${c.toString(16).padStart(2, '0')} at column ${k + 1})`);
    }
    if (t === '') continue;
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
    out.push({ file, action: action as FioAction, offset, length, line: n });
  }
  return { version, lines: out };
}

/** Converts an iolog to a trace; refuses the first malformed line, converting nothing. */
export function importFioIolog(text: string, options: FioImportOptions = {}): ImportedTrace {
  const engine = options.engine ?? 'mmap';
  if (engine !== 'mmap' && engine !== 'libpmem') throw new PmemError('EINVAL', `importFioIolog: engine must be mmap or libpmem, got ${String(engine)}`);
  const { version, lines } = parseIolog(text);
  const sizes = new Map<string, number>();
  for (const l of lines) {
    if (l.action === 'add') sizes.set(l.file, sizes.get(l.file) ?? 0);
    else if (l.action === 'read' || l.action === 'write' || l.action === 'trim') {
      if (!sizes.has(l.file)) throw new PmemError('EINVAL', `fio iolog line ${l.line}: ${l.file} was never added (expected "${l.file} add" before it)`);
      if (l.length === 0) throw bad(l.line, `FILE ${l.action} OFFSET LENGTH with LENGTH > 0`, `${l.file} ${l.action} ${l.offset} 0`);
      sizes.set(l.file, Math.max(sizes.get(l.file)!, l.offset + l.length));
    } else if (!sizes.has(l.file)) throw new PmemError('EINVAL', `fio iolog line ${l.line}: ${l.file} was never added (expected "${l.file} add" before it)`);
  }
  const out = new TraceBuilder();
  out.add(`${TRACE_MAGIC} ${TRACE_VERSION}`, 0);
  let total = 0;
  const rounded = new Map<string, number>();
  for (const [f, s] of sizes) {
    const r = Math.max(4096, Math.ceil(s / 4096) * 4096);
    rounded.set(f, r);
    total += Math.ceil(r / (2 << 20)) * (2 << 20);
  }
  out.add(`emulator capacity=${Math.max(64 << 20, 2 * total + (8 << 20))}${options.emulator ? ` ${options.emulator}` : ''}`, 0);
  const open = new Map<string, number>();
  let nextMap = 0;
  for (const l of lines) {
    const path = encodePath(l.file);
    const size = rounded.get(l.file)!;
    const m = open.get(l.file);
    const need = (): number => {
      if (m === undefined) throw new PmemError('EINVAL', `fio iolog line ${l.line}: ${l.file} is not open (expected "${l.file} open" before it)`);
      return m;
    };
    switch (l.action) {
      case 'add':
        out.add(`create ${path} ${size} written`, l.line);
        break;
      case 'open':
        if (m !== undefined) throw new PmemError('EINVAL', `fio iolog line ${l.line}: ${l.file} is open already`);
        open.set(l.file, nextMap);
        out.add(`mmap m${nextMap++} ${path} 0 ${size} shared${engine === 'libpmem' ? ' sync' : ''}`, l.line);
        break;
      case 'close':
        out.add(`munmap m${need()}`, l.line);
        open.delete(l.file);
        break;
      case 'write':
        if (engine === 'mmap') out.add(`store m${need()} ${l.offset} ${l.length} fill:${l.line}`, l.line);
        else {
          out.add(`ntstore m${need()} ${l.offset} ${l.length} fill:${l.line}`, l.line);
          out.add('sfence', l.line);
        }
        break;
      case 'read':
        out.add(`load m${need()} ${l.offset} ${l.length}`, l.line);
        break;
      case 'sync': case 'datasync':
        if (engine === 'mmap') out.add(`msync m${need()} 0 ${size}`, l.line);
        else out.add('sfence', (need(), l.line));
        break;
      case 'trim':
        out.add(`punch ${path} ${l.offset} ${l.length}`, l.line);
        break;
      case 'wait':
        break;
    }
  }
  return out.done(`fio iolog version ${version}`);
}
