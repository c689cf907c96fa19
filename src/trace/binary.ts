/**
 * The binary twin of the trace format: the same operations, for replay at command-buffer
 * speed. Little-endian u32 words:
 *   "DAXEMUTB", version (1), header length H, H bytes of header text (the daxemu-trace
 *   and emulator lines), padded to 4 bytes; then one record per operation:
 *   w0 = op | target << 8 | data << 10 | id << 12     op: the Op code (src/trace/format.ts),
 *                                                     target: 0 none, 1 dN, 2 mN, 3 @;
 *                                                     data: 0 none, 1 bytes, 2 fill
 *   sfence, mfence:   w0 only
 *   store, ntstore, load, clwb, clflushopt, clflush:  w0, OFF, LEN, then (data 1) LEN bytes
 *                     padded to 4, or (data 2) the fill's SEED
 *   any other line:   w0 = 255, its length in bytes, then the line's text, padded to 4
 * Records are numbered from 1 as lines are, and errors name "record N". A store without
 * DATA in the text gets its implied fill (seeded with its text line number) written out,
 * so the twin replays exactly as the text does.
 */
import { PmemError } from '../base/index.js';
import type { Emulator, EmulatorOptions } from '../emulator/index.js';
import { createEmulator } from '../emulator/index.js';
import { newOp, Op, parseLine, Target, type TraceOp } from './format.js';
import { checkText, stringLines, type ByteSource, type LineSource } from './lines.js';
import { readHeader, Runner, Shadow, sourceOf, totalNs, type ReplayOptions, type ReplayResult } from './replay.js';
import { DirectRun, directAddress, directEnd, directInRange } from './binary-run.js';

const MAGIC = 'DAXEMUTB';
const BINARY_VERSION = 1;
const TEXT = 255;

/** Whether `bytes` starts with the binary twin's magic. */
export function isBinaryTrace(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).toString('latin1') === MAGIC;
}

/** A growing buffer of u32 words and bytes. */
class Writer {
  buf = new Uint8Array(1 << 16);
  used = 0;

  private room(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.used + n));
    bigger.set(this.buf.subarray(0, this.used));
    this.buf = bigger;
  }

  u32(v: number): void {
    this.room(4);
    const b = this.buf;
    const at = this.used;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = v >>> 24;
    this.used += 4;
  }

  bytes(data: Uint8Array): void {
    const padded = (data.length + 3) & ~3;
    this.room(padded);
    this.buf.set(data, this.used);
    this.buf.fill(0, this.used + data.length, this.used + padded);
    this.used += padded;
  }
}

/** The operations that get a record of their own (1), by code; every other line is a text record. */
const FAST = new Uint8Array(256);
for (const op of [Op.Store, Op.NtStore, Op.Load, Op.Clwb, Op.ClflushOpt, Op.Clflush, Op.Sfence, Op.Mfence]) FAST[op] = 1;
const TARGET_CODE: Record<number, number> = { [Target.None]: 0, [Target.Device]: 1, [Target.File]: 2, [Target.Media]: 3 };
const CODE_TARGET = [Target.None, Target.Device, Target.File, Target.Media];

/** Bytes of records gathered before a streaming encoder hands them on. */
const WRITE_CHUNK = 1 << 20;

/**
 * Encodes a version-1 trace (text) as its binary twin, handing the twin to `write` in
 * pieces of about 1 MiB, in order: the header first, then the records. A bad line fails as
 * in replay (what was handed on before it is a partial twin).
 */
export function writeBinaryTrace(trace: string | LineSource, write: (bytes: Uint8Array) => void): void {
  const source = sourceOf(trace);
  if (readHeader(source).legacy) throw new PmemError('EINVAL', `${source.name}: a two-word trace has no binary twin; replay it as text`);
  const header: string[] = [];
  let headerDone = false;
  const writeHeader = (): void => {
    headerDone = true;
    const head = Buffer.from(header.join('\n'), 'utf8');
    const w = new Writer();
    w.bytes(Buffer.from(MAGIC, 'latin1'));
    w.u32(BINARY_VERSION);
    w.u32(head.length);
    w.bytes(head);
    write(w.buf.slice(0, w.used));
  };
  const op = newOp();
  let line = 0;
  let seen = 0;
  let out = new Writer();
  for (const raw of source.lines()) {
    line++;
    checkText(raw, line, source.name);
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    seen++;
    if (seen === 1) {
      header.push(t);
      continue;
    }
    parseLine(raw, line, op);
    if (seen === 2 && op.op === Op.Emulator) {
      header.push(t);
      continue;
    }
    if (!headerDone) writeHeader();
    if (out.used >= WRITE_CHUNK) {
      write(out.buf.slice(0, out.used));
      out = new Writer();
    }
    if (FAST[op.op] === 1 && op.a <= 0xffffffff && op.b <= 0xffffffff && op.id < 1 << 20) {
      if (op.op === Op.Sfence || op.op === Op.Mfence) {
        out.u32(op.op);
        continue;
      }
      const isStore = op.op === Op.Store || op.op === Op.NtStore;
      const data = !isStore ? 0 : op.word.startsWith('x') ? 1 : 2;
      out.u32(op.op | (TARGET_CODE[op.target]! << 8) | (data << 10) | (op.id << 12));
      out.u32(op.a);
      out.u32(op.b);
      if (data === 1) out.bytes(Buffer.from(op.word.slice(1), 'hex'));
      else if (data === 2) out.u32(op.word === '' ? line : Number(op.word.slice(5)));
      continue;
    }
    const text = Buffer.from(t, 'utf8');
    out.u32(TEXT);
    out.u32(text.length);
    out.bytes(text);
  }
  if (!headerDone) writeHeader();
  if (out.used > 0) write(out.buf.slice(0, out.used));
}

/** Encodes a version-1 trace (text) as its binary twin, whole; a bad line fails as in replay. */
export function encodeBinaryTrace(trace: string | LineSource): Uint8Array {
  const pieces: Uint8Array[] = [];
  writeBinaryTrace(trace, (bytes) => pieces.push(bytes));
  const whole = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    whole.set(p, at);
    at += p.length;
  }
  return whole;
}

/** The largest record a chunked twin's window grows for: a text record of a 64 MiB line. */
const MAX_RECORD_BYTES = (64 << 20) + 16;

/**
 * Reads the records of a binary twin into `op`, one at a time, through a window of its
 * words: the whole twin when it was given as bytes, else the part read from its chunks so
 * far, refilled as records are asked for (fetch) and never longer than a few chunks and
 * the longest record.
 */
class Records {
  words: Uint32Array;
  private bytes: Uint8Array;
  /** Valid bytes in the window, and the whole words among them. */
  private filled: number;
  end: number;
  private readonly source: ByteSource | undefined;
  private chunk: Iterator<Uint8Array> | undefined;
  private eof = true;
  headerText = '';
  private start = 0;
  pos = 0;
  record = 0;

  constructor(input: Uint8Array | ByteSource) {
    if (input instanceof Uint8Array) {
      // An aligned copy when the input is not aligned to 4 (a Buffer slice of a file, say).
      this.bytes = input.byteOffset % 4 === 0 ? input : input.slice();
      this.filled = this.bytes.length;
    } else {
      this.source = input;
      this.bytes = new Uint8Array(4 << 20);
      this.filled = 0;
    }
    this.words = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length >>> 2);
    this.end = this.filled >>> 2;
    this.open();
  }

  /** Reads the header; a chunked twin starts its chunks again. */
  private open(): void {
    if (this.source) {
      this.chunk = this.source.chunks()[Symbol.iterator]();
      this.eof = false;
      this.filled = 0;
      this.end = 0;
    }
    this.pos = 0;
    this.need(4);
    if (this.filled < 16 || !isBinaryTrace(this.bytes.subarray(0, 8))) throw new PmemError('EINVAL', 'binary trace: no DAXEMUTB header');
    if (this.words[2] !== BINARY_VERSION) throw new PmemError('EINVAL', `binary trace: version ${this.words[2]} is not supported (this daxemu reads version ${BINARY_VERSION})`);
    const h = this.words[3]!;
    this.need(Math.min((16 + h + 3) >>> 2, MAX_RECORD_BYTES >>> 2));
    if (16 + h > this.filled) throw new PmemError('EINVAL', 'binary trace: the header runs past the end (a truncated file?)');
    this.headerText = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + 16, h).toString('utf8');
    this.start = (16 + h + 3) >>> 2;
    this.pos = this.start;
  }

  rewind(): void {
    if (this.source) this.open();
    else this.pos = this.start;
    this.record = 0;
  }

  /** Whether `n` words from pos are in the window, reading more chunks for them if need be. */
  private need(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.eof || n * 4 > MAX_RECORD_BYTES) return false;
    const from = this.pos * 4;
    this.bytes.copyWithin(0, from, this.filled);
    this.filled -= from;
    this.pos = 0;
    // Read on to half the window at least, so that a refill is not paid every record.
    const want = Math.max(n * 4, this.bytes.length >>> 1);
    while (this.filled < want) {
      const r = this.chunk!.next();
      if (r.done) {
        this.eof = true;
        break;
      }
      if (this.filled + r.value.length > this.bytes.length) {
        const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.filled + r.value.length));
        bigger.set(this.bytes.subarray(0, this.filled));
        this.bytes = bigger;
        this.words = new Uint32Array(bigger.buffer, 0, bigger.length >>> 2);
      }
      this.bytes.set(r.value, this.filled);
      this.filled += r.value.length;
    }
    this.end = this.filled >>> 2;
    return this.end - this.pos >= n;
  }

  /**
   * Brings the next record whole into the window (as much of it as the twin has); false at
   * the end. words and end may change: read them after it.
   */
  fetch(): boolean {
    // All read (a twin given whole, or the end of the chunks): a record is checked where it is parsed.
    if (this.eof) return this.pos < this.end;
    if (!this.need(1)) return false;
    const w0 = this.words[this.pos]!;
    const code = w0 & 0xff;
    if (code === TEXT) {
      if (this.need(2)) this.need(2 + ((this.words[this.pos + 1]! + 3) >>> 2));
    } else if (FAST[code] === 1 && code !== Op.Sfence && code !== Op.Mfence && this.need(3)) {
      const data = (w0 >>> 10) & 3;
      this.need(3 + (data === 1 ? (this.words[this.pos + 2]! + 3) >>> 2 : data === 2 ? 1 : 0));
    }
    return true;
  }

  private truncated(): PmemError {
    return new PmemError('EINVAL', `binary trace record ${this.record}: the record runs past the end of the file (a truncated file?)`);
  }

  /** Fills `op` with the next record; false at the end. */
  next(op: TraceOp): boolean {
    if (!this.fetch()) return false;
    const words = this.words;
    const end = this.end;
    this.record++;
    const w0 = words[this.pos++]!;
    const code = w0 & 0xff;
    op.line = this.record;
    if (code === Op.Sfence || code === Op.Mfence) {
      op.op = code;
      op.target = Target.None;
      return true;
    }
    op.word = '';
    op.data = undefined;
    if (code === TEXT) {
      if (this.pos >= end) throw this.truncated();
      const len = words[this.pos++]!;
      const at = this.pos * 4;
      if (at + len > this.filled) throw this.truncated();
      const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + at, len).toString('utf8');
      this.pos += (len + 3) >>> 2;
      checkText(text, this.record, 'binary trace record');
      if (!parseLine(text, this.record, op)) throw new PmemError('EINVAL', `binary trace record ${this.record}: an empty text record`);
      return true;
    }
    if (FAST[code] !== 1) throw new PmemError('EINVAL', `binary trace record ${this.record}: unknown operation code ${code}`);
    op.op = code as Op;
    if (this.pos + 2 > end) throw this.truncated();
    op.target = CODE_TARGET[(w0 >>> 8) & 3]!;
    op.id = w0 >>> 12;
    op.a = words[this.pos++]!;
    op.b = words[this.pos++]!;
    const data = (w0 >>> 10) & 3;
    if (data === 1) {
      const at = this.pos * 4;
      if (at + op.b > this.filled) throw this.truncated();
      op.data = this.bytes;
      op.dataAt = at;
      this.pos += (op.b + 3) >>> 2;
    } else if (data === 2) {
      if (this.pos >= end) throw this.truncated();
      op.word = `fill:${words[this.pos++]!}`;
    }
    if (op.target === Target.None) throw new PmemError('EINVAL', `binary trace record ${this.record}: an access with no target`);
    return true;
  }
}

/**
 * Replays a binary twin, given whole or as chunks (fileChunks: then it is read twice and
 * never held): the check pass over every record first, then the run pass. Device and media
 * accesses and fences take the direct path (binary-run.ts), the rest the general one.
 */
export async function replayBinary(bytes: Uint8Array | ByteSource, options: ReplayOptions = {}): Promise<ReplayResult> {
  const records = new Records(bytes);
  const header = readHeader(stringLines(records.headerText, 'binary trace header'));
  const emuOptions: EmulatorOptions = { ...header.options, ...options.emulator };
  const emu: Emulator = await createEmulator(emuOptions);
  const shadow = new Shadow(emu.capacity, emu.core.layout.maxCpus);
  const op = newOp();
  while (records.fetch()) {
    const words = records.words;
    const end = directEnd(words, records.pos, records.end);
    if (end >= 0 && directInRange(words, records.pos, shadow.devs, shadow.capacity)) {
      records.pos = end;
      records.record++;
    } else if (records.next(op)) shadow.check(op, `record ${records.record}`);
  }
  records.rewind();
  const batch = options.batch ?? 4096;
  const observer = options.observer;
  const runner = new Runner(emu, batch, observer);
  const direct = new DirectRun(batch);
  let operations = 0;
  while (records.fetch()) {
    // The record is whole in the window now; next() below does not move the window.
    const words = records.words;
    const pos = records.pos;
    const end = directEnd(words, pos, records.end);
    if (end >= 0) {
      operations++;
      if (observer) {
        records.next(op);
        observer.before(op, runner.emu);
      } else {
        records.pos = end;
        records.record++;
      }
      runner.flush(); // what the general path batched runs first
      direct.add(runner.emu, words, pos, directAddress(words, pos, runner.deviceOffset));
      continue;
    }
    direct.flush();
    records.next(op);
    if (op.op === Op.Emulator) throw new PmemError('EINVAL', `binary trace record ${records.record}: an emulator line outside the header`);
    if (op.op !== Op.Mark && op.op !== Op.Save) operations++;
    if (op.op === Op.Crash) await runner.crash(op);
    else runner.run(op);
  }
  direct.flush();
  runner.flush();
  return { emulator: runner.emu, operations, lines: records.record, legacy: false, cpuNs: runner.cpuNs + totalNs(runner.emu) };
}
