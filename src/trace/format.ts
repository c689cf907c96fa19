/**
 * The daxemu trace format, version 1: one operation a line, words separated by one or more
 * spaces or tabs. Blank lines and lines starting with # are skipped. docs/trace-format.md
 * is the specification; in short:
 *
 *   daxemu-trace 1                                     first line: the magic and version
 *   emulator capacity=N preset=NAME persistence=adr|eadr seed=N cache=N kernel=K flush=I writeback=W
 *   dev D OFFSET LENGTH                                mmapDevice; D is d0, d1, ...
 *   create PATH SIZE none|unwritten|written            createFile
 *   mmap M PATH OFFSET LENGTH shared|private [sync]    mmap; M is m0, m1, ...
 *   munmap T
 *   store T OFF LEN [DATA]      ntstore T OFF LEN [DATA]       load T OFF LEN
 *   clwb T OFF LEN              clflushopt T OFF LEN           clflush T OFF LEN
 *   sfence                      mfence                         cpu N
 *   fault M OFF read|write      msync M OFF LEN [async]
 *   fsync PATH   fdatasync PATH   truncate PATH SIZE   punch PATH OFF LEN
 *   pwrite PATH OFF LEN [DATA]  pread PATH OFF LEN     unlink PATH   sync
 *   crash guaranteed|random|adversarial SEED
 *   mark NAME                                          a marker: no operation
 * Version 1.1 adds the emulator-level calls (a 1.1 reader reads 1.0 traces as they are):
 *   msync-at ADDRESS LENGTH [async]   reclaim PAGES   dropcaches   bgwriteback EXPIRE_NS
 *   allocate block|extent   free PFN COUNT   save PATH (a marker: replay writes no pool)
 *   concurrent [schedule=N,N,...] TASK ...             runConcurrently; each TASK one word:
 *     fsync:PATH  store:mN:OFF:xHEX  hold:PATH:PGOFF:STEPS:unlock|punch, each [@CPU]
 * Version 1.2 adds a page-cache file, `create PATH SIZE ALLOCATE pagecache`, and the
 * emulator line's bugs=NAME,... fixes=NAME,... resident=N.
 *
 * T is a device mapping (dN), a file mapping (mN), or @, the media itself (media offsets,
 * as in emu.run's command buffer). DATA is x followed by the bytes in hex, or fill:SEED, LEN
 * bytes of the seeded fill (src/trace/fill.ts); without DATA, a store's bytes are the fill
 * seeded with its line number. PATH has no spaces: %, space, tab and # are written %25, %20,
 * %09 and %23.
 *
 * A file without the daxemu-trace line is a two-word trace (src/job/workloads/trace.ts):
 * `store OFFSET LENGTH` and `sync` only, replayed on one shared mapping of a file as large
 * as its farthest store, rounded up to 2 MiB (`sync` is an msync of the whole mapping).
 */
import { PmemError } from '../base/index.js';

export const TRACE_MAGIC = 'daxemu-trace';
export const TRACE_VERSION = 1;
/** The minor version the recorder writes: 1.1 adds the emulator-level calls, 1.2 page-cache files. */
export const TRACE_MINOR = 2;

/** Operation codes of a parsed line. */
export enum Op {
  Emulator, Dev, Create, Mmap, Munmap, Store, NtStore, Load, Clwb, ClflushOpt, Clflush, Sfence, Mfence, Cpu, Fault, Msync,
  Fsync, Fdatasync, Truncate, Punch, Pwrite, Pread, Unlink, Sync, Crash, Mark,
  MsyncAt, Reclaim, DropCaches, BgWriteback, Allocate, Free, Save, Concurrent,
}

export const OP_NAMES: readonly string[] = [
  'emulator', 'dev', 'create', 'mmap', 'munmap', 'store', 'ntstore', 'load', 'clwb', 'clflushopt', 'clflush', 'sfence', 'mfence', 'cpu', 'fault', 'msync',
  'fsync', 'fdatasync', 'truncate', 'punch', 'pwrite', 'pread', 'unlink', 'sync', 'crash', 'mark',
  'msync-at', 'reclaim', 'dropcaches', 'bgwriteback', 'allocate', 'free', 'save', 'concurrent',
];
const OP_BY_NAME = new Map(OP_NAMES.map((n, i) => [n, i as Op]));

/** What each operation expects after its name, for the error messages and the check. */
export const OP_USAGE: readonly string[] = [
  'emulator KEY=VALUE ...', 'dev dN OFFSET LENGTH', 'create PATH SIZE none|unwritten|written [pagecache]', 'mmap mN PATH OFFSET LENGTH shared|private [sync]', 'munmap TARGET',
  'store TARGET OFF LEN [DATA]', 'ntstore TARGET OFF LEN [DATA]', 'load TARGET OFF LEN', 'clwb TARGET OFF LEN', 'clflushopt TARGET OFF LEN', 'clflush TARGET OFF LEN',
  'sfence', 'mfence', 'cpu N', 'fault mN OFF read|write', 'msync mN OFF LEN [async]', 'fsync PATH', 'fdatasync PATH', 'truncate PATH SIZE', 'punch PATH OFF LEN',
  'pwrite PATH OFF LEN [DATA]', 'pread PATH OFF LEN', 'unlink PATH', 'sync', 'crash guaranteed|random|adversarial SEED', 'mark NAME',
  'msync-at ADDRESS LENGTH [async]', 'reclaim PAGES', 'dropcaches', 'bgwriteback EXPIRE_NS', 'allocate block|extent', 'free PFN COUNT', 'save PATH',
  'concurrent [schedule=N,...] fsync:PATH|store:mN:OFF:xHEX|hold:PATH:PGOFF:STEPS:unlock|punch[@CPU] ...',
];

/** One task of a concurrent line. */
export type TraceTask =
  | { kind: 'fsync'; path: string; cpu?: number }
  | { kind: 'store'; map: number; offset: number; hex: string; cpu?: number }
  | { kind: 'hold'; path: string; pgoff: number; steps: number; then: 'unlock' | 'punch'; cpu?: number };

/** Target kinds: a device mapping, a file mapping, the media. */
export enum Target {
  None, Device, File, Media,
}

/** One parsed line; the parser reuses one object, so copy what must outlive the next line. */
export interface TraceOp {
  op: Op;
  /** 1-based line number in the source. */
  line: number;
  target: Target;
  /** The mapping's number (d3 -> 3), when target is Device or File. */
  id: number;
  /** The path, for file operations, create and mmap. */
  path: string;
  /** OFFSET / SIZE / N / SEED, by operation. */
  a: number;
  /** LEN / LENGTH. */
  b: number;
  /** The data word ('' when none), the mode word, the kind word or the marker. */
  word: string;
  /** A store's bytes when they came as bytes (the binary twin): op.b bytes of `data` from `dataAt`, over `word`. */
  data: Uint8Array | undefined;
  dataAt: number;
  /** mmap: shared; msync: async; fault: write. */
  flag: boolean;
  /** mmap: sync. */
  flag2: boolean;
  /** emulator: its KEY=VALUE pairs. */
  pairs?: Record<string, string>;
  /** concurrent: its tasks and schedule. */
  tasks?: TraceTask[];
  schedule?: number[];
}

export function newOp(): TraceOp {
  return { op: Op.Mark, line: 0, target: Target.None, id: 0, path: '', a: 0, b: 0, word: '', data: undefined, dataAt: 0, flag: false, flag2: false };
}

/** The EINVAL every malformed line gets: its line number, what was expected, what was there. */
export function lineError(line: number, expected: string, got: string): PmemError {
  const shown = got.length > 80 ? `${got.slice(0, 80)}...` : got;
  return new PmemError('EINVAL', `trace line ${line}: expected "${expected}", got "${shown}"`);
}

function num(words: string[], i: number, line: number, usage: string, raw: string): number {
  const w = words[i];
  if (w === undefined) throw lineError(line, usage, raw);
  // Digits only: no sign, exponent or hex, so "-5" and "1e3" are refused.
  for (let k = 0; k < w.length; k++) {
    const c = w.charCodeAt(k);
    if (c < 48 || c > 57) throw lineError(line, usage, raw);
  }
  const n = Number(w);
  if (w.length === 0 || !Number.isSafeInteger(n)) throw lineError(line, usage, raw);
  return n;
}

function target(word: string | undefined, line: number, usage: string, raw: string, out: TraceOp, allowMedia = true): void {
  if (word === '@' && allowMedia) {
    out.target = Target.Media;
    out.id = 0;
    return;
  }
  if (word !== undefined && word.length > 1 && (word[0] === 'd' || word[0] === 'm')) {
    const id = Number(word.slice(1));
    if (Number.isSafeInteger(id) && id >= 0 && String(id) === word.slice(1)) {
      out.target = word[0] === 'd' ? Target.Device : Target.File;
      out.id = id;
      return;
    }
  }
  throw lineError(line, usage, raw);
}

/** Decodes a PATH word. */
export function decodePath(word: string): string {
  return word.includes('%') ? decodeURIComponent(word) : word;
}

/** Encodes a path as one PATH word. */
export function encodePath(path: string): string {
  return path.replace(/[% \t#\n\r]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
}

function pathWord(words: string[], i: number, line: number, usage: string, raw: string): string {
  const w = words[i];
  if (w === undefined || w.length === 0) throw lineError(line, usage, raw);
  try {
    return decodePath(w);
  } catch {
    throw lineError(line, usage, raw);
  }
}

function count(words: string[], n: number, max: number, line: number, usage: string, raw: string): void {
  if (words.length < n || words.length > max) throw lineError(line, usage, raw);
}

/**
 * Parses one line of a version-1 trace into `out`; returns false for a blank or comment
 * line. Throws EINVAL naming the line and what its operation expects.
 */
export function parseLine(raw: string, line: number, out: TraceOp): boolean {
  const text = raw.trim();
  if (text === '' || text.charCodeAt(0) === 35 /* # */) return false;
  // One space between words is the recorder's own form; anything else takes the regular expression.
  const words = text.indexOf('\t') < 0 && text.indexOf('  ') < 0 ? text.split(' ') : text.split(/[ \t]+/);
  const op = OP_BY_NAME.get(words[0]!);
  if (op === undefined) throw new PmemError('EINVAL', `trace line ${line}: unknown operation "${words[0]!.slice(0, 40)}" (expected one of ${OP_NAMES.join(', ')})`);
  const usage = OP_USAGE[op]!;
  out.op = op;
  out.line = line;
  out.target = Target.None;
  out.word = '';
  out.data = undefined;
  out.flag = false;
  out.flag2 = false;
  switch (op) {
    case Op.Store: case Op.NtStore:
      count(words, 4, 5, line, usage, text);
      target(words[1], line, usage, text, out);
      out.a = num(words, 2, line, usage, text);
      out.b = num(words, 3, line, usage, text);
      out.word = words[4] ?? '';
      if (out.word !== '') checkData(out.word, out.b, line, usage, text);
      return true;
    case Op.Load: case Op.Clwb: case Op.ClflushOpt: case Op.Clflush:
      count(words, 4, 4, line, usage, text);
      target(words[1], line, usage, text, out);
      out.a = num(words, 2, line, usage, text);
      out.b = num(words, 3, line, usage, text);
      return true;
    case Op.Sfence: case Op.Mfence: case Op.Sync: case Op.DropCaches:
      count(words, 1, 1, line, usage, text);
      return true;
    case Op.Cpu: case Op.Reclaim: case Op.BgWriteback:
      count(words, 2, 2, line, usage, text);
      out.a = num(words, 1, line, usage, text);
      return true;
    case Op.Dev:
      count(words, 4, 4, line, usage, text);
      target(words[1], line, usage, text, out, false);
      if ((out.target as Target) !== Target.Device) throw lineError(line, usage, text);
      out.a = num(words, 2, line, usage, text);
      out.b = num(words, 3, line, usage, text);
      return true;
    case Op.Create:
      count(words, 4, 5, line, usage, text);
      out.path = pathWord(words, 1, line, usage, text);
      out.a = num(words, 2, line, usage, text);
      out.word = words[3]!;
      if (out.word !== 'none' && out.word !== 'unwritten' && out.word !== 'written') throw lineError(line, usage, text);
      // flag: a page-cache (non-DAX) file.
      if (words.length === 5 && words[4] !== 'pagecache') throw lineError(line, usage, text);
      out.flag = words.length === 5;
      return true;
    case Op.Mmap:
      count(words, 6, 7, line, usage, text);
      target(words[1], line, usage, text, out, false);
      if ((out.target as Target) !== Target.File) throw lineError(line, usage, text);
      out.path = pathWord(words, 2, line, usage, text);
      out.a = num(words, 3, line, usage, text);
      out.b = num(words, 4, line, usage, text);
      if (words[5] !== 'shared' && words[5] !== 'private') throw lineError(line, usage, text);
      out.flag = words[5] === 'shared';
      if (words.length === 7 && words[6] !== 'sync') throw lineError(line, usage, text);
      out.flag2 = words.length === 7;
      return true;
    case Op.Munmap:
      count(words, 2, 2, line, usage, text);
      target(words[1], line, usage, text, out, false);
      return true;
    case Op.Fault:
      count(words, 4, 4, line, usage, text);
      target(words[1], line, usage, text, out, false);
      if ((out.target as Target) !== Target.File || (words[3] !== 'read' && words[3] !== 'write')) throw lineError(line, usage, text);
      out.a = num(words, 2, line, usage, text);
      out.flag = words[3] === 'write';
      return true;
    case Op.Msync:
      count(words, 4, 5, line, usage, text);
      target(words[1], line, usage, text, out, false);
      if ((out.target as Target) !== Target.File) throw lineError(line, usage, text);
      out.a = num(words, 2, line, usage, text);
      out.b = num(words, 3, line, usage, text);
      if (words.length === 5 && words[4] !== 'async') throw lineError(line, usage, text);
      out.flag = words.length === 5;
      return true;
    case Op.Fsync: case Op.Fdatasync: case Op.Unlink: case Op.Save:
      count(words, 2, 2, line, usage, text);
      out.path = pathWord(words, 1, line, usage, text);
      return true;
    case Op.Truncate:
      count(words, 3, 3, line, usage, text);
      out.path = pathWord(words, 1, line, usage, text);
      out.a = num(words, 2, line, usage, text);
      return true;
    case Op.Punch: case Op.Pread:
      count(words, 4, 4, line, usage, text);
      out.path = pathWord(words, 1, line, usage, text);
      out.a = num(words, 2, line, usage, text);
      out.b = num(words, 3, line, usage, text);
      return true;
    case Op.Pwrite:
      count(words, 4, 5, line, usage, text);
      out.path = pathWord(words, 1, line, usage, text);
      out.a = num(words, 2, line, usage, text);
      out.b = num(words, 3, line, usage, text);
      out.word = words[4] ?? '';
      if (out.word !== '') checkData(out.word, out.b, line, usage, text);
      return true;
    case Op.Crash:
      count(words, 3, 3, line, usage, text);
      if (words[1] !== 'guaranteed' && words[1] !== 'random' && words[1] !== 'adversarial') throw lineError(line, usage, text);
      out.word = words[1];
      out.a = num(words, 2, line, usage, text);
      if (out.a > 0xffffffff) throw lineError(line, usage, text);
      return true;
    case Op.Mark:
      count(words, 2, 2, line, usage, text);
      out.word = words[1]!;
      return true;
    case Op.MsyncAt:
      count(words, 3, 4, line, usage, text);
      out.a = num(words, 1, line, usage, text);
      out.b = num(words, 2, line, usage, text);
      if (words.length === 4 && words[3] !== 'async') throw lineError(line, usage, text);
      out.flag = words.length === 4;
      return true;
    case Op.Allocate:
      count(words, 2, 2, line, usage, text);
      if (words[1] !== 'block' && words[1] !== 'extent') throw lineError(line, usage, text);
      out.flag = words[1] === 'extent';
      return true;
    case Op.Free:
      count(words, 3, 3, line, usage, text);
      [out.a, out.b] = [num(words, 1, line, usage, text), num(words, 2, line, usage, text)];
      return true;
    case Op.Concurrent: {
      let rest = words.slice(1);
      out.schedule = [];
      if (rest[0]?.startsWith('schedule=')) {
        const list = rest[0].slice(9);
        if (!/^[0-9]+(,[0-9]+)*$/.test(list)) throw lineError(line, usage, text);
        out.schedule = list.split(',').map(Number);
        rest = rest.slice(1);
      }
      if (rest.length === 0) throw lineError(line, usage, text);
      out.tasks = rest.map((w) => parseTask(w, line, usage, text));
      return true;
    }
    case Op.Emulator: {
      const pairs: Record<string, string> = {};
      for (const w of words.slice(1)) {
        const eq = w.indexOf('=');
        if (eq <= 0) throw lineError(line, usage, text);
        pairs[w.slice(0, eq)] = w.slice(eq + 1);
      }
      out.pairs = pairs;
      return true;
    }
  }
}

const TASK = /^(?:fsync:([^:@]+)|store:m([0-9]+):([0-9]+):(x[0-9a-fA-F]*)|hold:([^:@]+):([0-9]+):([0-9]+):(unlock|punch))(?:@([0-9]+))?$/;

/** One TASK word of a concurrent line. */
function parseTask(word: string, line: number, usage: string, raw: string): TraceTask {
  const m = TASK.exec(word);
  if (!m) throw lineError(line, usage, raw);
  const cpu = m[9] === undefined ? undefined : Number(m[9]);
  const path = (w: string): string => {
    try {
      return decodePath(w);
    } catch {
      throw lineError(line, usage, raw);
    }
  };
  const at = cpu === undefined ? {} : { cpu };
  if (m[1] !== undefined) return { kind: 'fsync', path: path(m[1]), ...at };
  if (m[2] !== undefined) {
    if (m[4]!.length % 2 !== 1 || m[4]!.length < 3) throw lineError(line, usage, raw);
    return { kind: 'store', map: Number(m[2]), offset: Number(m[3]), hex: m[4]!, ...at };
  }
  return { kind: 'hold', path: path(m[5]!), pgoff: Number(m[6]), steps: Number(m[7]), then: m[8] as 'unlock' | 'punch', ...at };
}

/** The TASK word of a task, as parseTask reads it. */
export function taskWord(task: TraceTask): string {
  const at = task.cpu === undefined ? '' : `@${task.cpu}`;
  const path = (p: string): string => encodePath(p).replace(/[:@]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (task.kind === 'fsync') return `fsync:${path(task.path)}${at}`;
  if (task.kind === 'store') return `store:m${task.map}:${task.offset}:${task.hex}${at}`;
  return `hold:${path(task.path)}:${task.pgoff}:${task.steps}:${task.then}${at}`;
}

function checkData(word: string, len: number, line: number, usage: string, raw: string): void {
  if (word.startsWith('fill:')) {
    const seed = Number(word.slice(5));
    if (!/^[0-9]+$/.test(word.slice(5)) || seed > 0xffffffff) throw lineError(line, usage, raw);
    return;
  }
  if (word[0] !== 'x' || word.length !== 1 + 2 * len || !/^x[0-9a-fA-F]*$/.test(word)) {
    throw new PmemError('EINVAL', `trace line ${line}: DATA must be fill:SEED or x and ${len} bytes in hex (${2 * len} digits), got "${word.slice(0, 40)}"`);
  }
}

/** The bytes of a store: its bytes, or those of its DATA word (checked by parseLine). */
export function dataBytes(op: TraceOp, fill: (len: number, seed: number) => Uint8Array): Uint8Array {
  if (op.data) return op.data.subarray(op.dataAt, op.dataAt + op.b);
  const word = op.word;
  if (word === '') return fill(op.b, op.line);
  if (word.startsWith('fill:')) return fill(op.b, Number(word.slice(5)));
  return Buffer.from(word.slice(1), 'hex');
}

/** The DATA word for recorded bytes. */
export function hexData(bytes: Uint8Array): string {
  return `x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}
