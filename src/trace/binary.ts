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
import { checkText, stringLines, type LineSource } from './lines.js';
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

/** Encodes a version-1 trace (text) as its binary twin; a bad line fails as in replay. */
export function encodeBinaryTrace(trace: string | LineSource): Uint8Array {
  const source = sourceOf(trace);
  if (readHeader(source).legacy) throw new PmemError('EINVAL', `${source.name}: a two-word trace has no binary twin; replay it as text`);
  const w = new Writer();
  const header: string[] = [];
  const op = newOp();
  let line = 0;
  let seen = 0;
  const out = new Writer();
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
  const head = Buffer.from(header.join('\n'), 'utf8');
  w.bytes(Buffer.from(MAGIC, 'latin1'));
  w.u32(BINARY_VERSION);
  w.u32(head.length);
  w.bytes(head);
  w.bytes(out.buf.subarray(0, out.used));
  return w.buf.slice(0, w.used);
}

/** Reads the records of a binary twin into `op`, one at a time. */
class Records {
  readonly words: Uint32Array;
  private readonly bytes: Uint8Array;
  readonly headerText: string;
  private readonly start: number;
  pos = 0;
  record = 0;

  constructor(input: Uint8Array) {
    // An aligned copy when the input is not aligned to 4 (a Buffer slice of a file, say).
    const bytes = input.byteOffset % 4 === 0 ? input : input.slice();
    this.bytes = bytes;
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    if (!isBinaryTrace(bytes) || bytes.length < 16) throw new PmemError('EINVAL', 'binary trace: no DAXEMUTB header');
    if (this.words[2] !== BINARY_VERSION) throw new PmemError('EINVAL', `binary trace: version ${this.words[2]} is not supported (this daxemu reads version ${BINARY_VERSION})`);
    const h = this.words[3]!;
    if (16 + h > bytes.length) throw new PmemError('EINVAL', 'binary trace: the header runs past the end (a truncated file?)');
    this.headerText = Buffer.from(bytes.buffer, bytes.byteOffset + 16, h).toString('utf8');
    this.start = (16 + h + 3) >>> 2;
    this.pos = this.start;
  }

  rewind(): void {
    this.pos = this.start;
    this.record = 0;
  }

  private truncated(): PmemError {
    return new PmemError('EINVAL', `binary trace record ${this.record}: the record runs past the end of the file (a truncated file?)`);
  }

  /** Fills `op` with the next record; false at the end. */
  next(op: TraceOp): boolean {
    const words = this.words;
    if (this.pos >= words.length) return false;
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
      if (this.pos >= words.length) throw this.truncated();
      const len = words[this.pos++]!;
      const at = this.pos * 4;
      if (at + len > this.bytes.length) throw this.truncated();
      const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + at, len).toString('utf8');
      this.pos += (len + 3) >>> 2;
      checkText(text, this.record, 'binary trace record');
      if (!parseLine(text, this.record, op)) throw new PmemError('EINVAL', `binary trace record ${this.record}: an empty text record`);
      return true;
    }
    if (FAST[code] !== 1) throw new PmemError('EINVAL', `binary trace record ${this.record}: unknown operation code ${code}`);
    op.op = code as Op;
    if (this.pos + 2 > words.length) throw this.truncated();
    op.target = CODE_TARGET[(w0 >>> 8) & 3]!;
    op.id = w0 >>> 12;
    op.a = words[this.pos++]!;
    op.b = words[this.pos++]!;
    const data = (w0 >>> 10) & 3;
    if (data === 1) {
      const at = this.pos * 4;
      if (at + op.b > this.bytes.length) throw this.truncated();
      op.data = this.bytes;
      op.dataAt = at;
      this.pos += (op.b + 3) >>> 2;
    } else if (data === 2) {
      if (this.pos >= words.length) throw this.truncated();
      op.word = `fill:${words[this.pos++]!}`;
    }
    if (op.target === Target.None) throw new PmemError('EINVAL', `binary trace record ${this.record}: an access with no target`);
    return true;
  }
}

/**
 * Replays a binary twin: the check pass over every record first, then the run pass. Device
 * and media accesses and fences take the direct path (binary-run.ts), the rest the general one.
 */
export async function replayBinary(bytes: Uint8Array, options: ReplayOptions = {}): Promise<ReplayResult> {
  const records = new Records(bytes);
  const header = readHeader(stringLines(records.headerText, 'binary trace header'));
  const emuOptions: EmulatorOptions = { ...header.options, ...options.emulator };
  const emu: Emulator = await createEmulator(emuOptions);
  const shadow = new Shadow(emu.capacity, emu.core.layout.maxCpus);
  const op = newOp();
  const words = records.words;
  while (records.pos < words.length) {
    const end = directEnd(words, records.pos);
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
  while (records.pos < words.length) {
    const pos = records.pos;
    const end = directEnd(words, pos);
    if (end >= 0) {
      operations++;
      if (observer) {
        records.next(op);
        observer.before(op, runner.emu);
      } else {
        records.pos = end;
        records.record++;
      }
      if (runner.pending) runner.flush();
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
