/**
 * The binary twin's direct path: device and media accesses and fences go from the trace's
 * words straight into the core's scratch command buffer (Core.pmScratch), with no TraceOp
 * or CommandBuilder between, and run there in batches. That is what lets the twin replay at
 * command-buffer speed. Every other record takes the general path (replay.ts's Runner); the
 * caller flushes one path before it uses the other, so records run in trace order.
 * The check pass has a direct half too. A record it cannot pass (an unmapped device, a
 * range past the end, a truncated record) goes to the general check, which refuses it with
 * the general message.
 */
import type { Emulator } from '../emulator/index.js';
import { PM_CLFLUSH, PM_CLFLUSHOPT, PM_CLWB, PM_LOAD, PM_MFENCE, PM_NTSTORE, PM_SFENCE, PM_STORE, runScratch } from '../hw/index.js';
import { fillInto } from './fill.js';
import { Op } from './format.js';

/** Trace operation code -> command-buffer code, 0 for operations the direct path leaves alone. */
const PM_OF = new Uint8Array(256);
PM_OF[Op.Store] = PM_STORE;
PM_OF[Op.NtStore] = PM_NTSTORE;
PM_OF[Op.Load] = PM_LOAD;
PM_OF[Op.Clwb] = PM_CLWB;
PM_OF[Op.ClflushOpt] = PM_CLFLUSHOPT;
PM_OF[Op.Clflush] = PM_CLFLUSH;
PM_OF[Op.Sfence] = PM_SFENCE;
PM_OF[Op.Mfence] = PM_MFENCE;

/** The twin's target codes (binary.ts) the direct path takes: a device mapping, the media (@). */
const DEVICE = 1;
const MEDIA = 3;
/** The twin's data codes: bytes in the record, a seeded fill. */
const BYTES = 1;
const FILL = 2;
/** Longer stores and loads take the general path (they may not fit one scratch buffer). */
const DIRECT_MAX_BYTES = 1 << 16;

/**
 * The end (word index) of the record at `pos` when the direct path takes it, else -1:
 * not a device or media access or fence, a store without data, or a record that runs past
 * `limit`, the end of the words read (the general path says so).
 */
export function directEnd(words: Uint32Array, pos: number, limit: number): number {
  const w0 = words[pos]!;
  const pm = PM_OF[w0 & 0xff]!;
  if (pm === 0) return -1;
  if (pm >= PM_SFENCE) return pos + 1;
  const target = (w0 >>> 8) & 3;
  if ((target !== DEVICE && target !== MEDIA) || pos + 3 > limit) return -1;
  const len = words[pos + 2]!;
  if (len > DIRECT_MAX_BYTES) return -1;
  const data = (w0 >>> 10) & 3;
  let end = pos + 3;
  if (pm === PM_STORE || pm === PM_NTSTORE) {
    if (data === BYTES) end += (len + 3) >>> 2;
    else if (data === FILL) end += 1;
    else return -1;
  } else if (data !== 0) return -1;
  return end <= limit ? end : -1;
}

/** Whether the direct record at `pos` lies inside its mapping (`devLength` by device id) or the media. */
export function directInRange(words: Uint32Array, pos: number, devLength: ReadonlyMap<number, number>, capacity: number): boolean {
  const w0 = words[pos]!;
  if (PM_OF[w0 & 0xff]! >= PM_SFENCE) return true;
  const limit = ((w0 >>> 8) & 3) === MEDIA ? capacity : devLength.get(w0 >>> 12);
  return limit !== undefined && words[pos + 1]! + words[pos + 2]! <= limit;
}

/** The media address a direct access at `pos` starts at, given each device's offset on the media. */
export function directAddress(words: Uint32Array, pos: number, devOffset: (id: number) => number): number {
  const w0 = words[pos]!;
  if (PM_OF[w0 & 0xff]! >= PM_SFENCE) return 0;
  return ((w0 >>> 8) & 3) === MEDIA ? words[pos + 1]! : devOffset(w0 >>> 12) + words[pos + 1]!;
}

/** Direct records encoded in place in an emulator's scratch buffers, run by flush(). */
export class DirectRun {
  private emu: Emulator | undefined;
  private records: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private data8: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private data32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private count = 0;
  private dataUsed = 0;
  private maxRecords = 0;

  constructor(private readonly batch: number) {}

  /** Encodes the direct record at `pos` of `words` (directEnd said yes), at media address `addr`, for `emu`. */
  add(emu: Emulator, words: Uint32Array, pos: number, addr: number): void {
    if (this.emu !== emu) this.open(emu);
    const w0 = words[pos]!;
    const pm = PM_OF[w0 & 0xff]!;
    let len = 0;
    let at = 0;
    if (pm < PM_SFENCE) {
      len = words[pos + 2]!;
      if (pm <= PM_NTSTORE) {
        const padded = (len + 3) & ~3;
        if (this.dataUsed + padded > this.data8.length) this.flush();
        if (this.emu !== emu) this.open(emu);
        at = this.dataUsed;
        this.dataUsed = at + padded;
        if (pm !== PM_LOAD) {
          if (((w0 >>> 10) & 3) === BYTES) {
            // The twin pads data to whole words: copy them as words.
            const d = this.data32;
            const to = at >>> 2;
            const from = pos + 3;
            for (let i = 0, n = padded >>> 2; i < n; i++) d[to + i] = words[from + i]!;
          } else fillInto(this.data8, at, len, words[pos + 3]!);
        }
      }
    }
    const r = this.records;
    const c = this.count << 2;
    r[c] = pm;
    r[c + 1] = addr;
    r[c + 2] = len;
    r[c + 3] = at;
    if (++this.count >= this.maxRecords) this.flush();
  }

  /** Runs what was encoded, on the emulator's current CPU. */
  flush(): void {
    const emu = this.emu;
    if (!emu) return;
    const count = this.count;
    this.emu = undefined;
    this.count = 0;
    this.dataUsed = 0;
    if (count > 0) runScratch(emu.core, emu.cpu, count);
  }

  /** Takes the scratch views of `emu` (after every run: the memory may have grown). */
  private open(emu: Emulator): void {
    this.flush();
    const { records, data } = emu.core.pmScratch();
    this.emu = emu;
    this.records = records;
    this.data8 = data;
    this.data32 = new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2);
    this.maxRecords = Math.min(this.batch, records.length >>> 2);
  }
}
