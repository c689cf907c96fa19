/**
 * The fuzzer's shadow: what every file and the device window should hold now, and which of
 * those bytes a crash must keep.
 *
 * Per byte of a file (up to the end of its last page, since a truncate keeps the tail of
 * the page that holds the new end):
 *   data   what a read should return now;
 *   known  1 when the durable copy is known to equal `data`: the byte was stored before a
 *          sync point of its page and has not been stored to since, or it is a hole;
 *   lost   1 when a kernel loss the emulator reproduces on purpose took the byte's last
 *          store: a later sync may or may not make it durable, so it is not checked until
 *          it is stored again (see `loseDirty`);
 *   fuzzy  1 when even `data` is unknown (a tail after a reboot whose durable copy was not
 *          known): loads and crashes do not check it until it is stored again.
 * The shadow is conservative: where the emulator may be more durable than the promise (an
 * eviction, a fence inside an fsync, a MAP_SYNC fault's fdatasync), it promises less.
 */
import { MAX_FILE, MiB } from './commands.js';

const PAGE = 4096;
const LINE = 64;
/** Room for a file grown by a pwrite past MAX_FILE. */
const ROOM = MAX_FILE + 64 * 1024;

/** Lines flushed but not fenced, by the CPU that flushed them. */
class PendingLines {
  readonly byLine = new Map<number, number>();
  add(line: number, cpu: number): void {
    this.byLine.set(line, cpu);
  }
  clear(firstByte: number, endByte: number): void {
    for (let line = Math.floor(firstByte / LINE); line * LINE < endByte; line++) this.byLine.delete(line);
  }
  /** The lines a fence on `cpu` makes durable, taken out. */
  fence(cpu: number): number[] {
    const done: number[] = [];
    for (const [line, c] of this.byLine) if (c === cpu) done.push(line);
    for (const line of done) this.byLine.delete(line);
    return done;
  }
}

export class FileShadow {
  size: number;
  readonly data = new Uint8Array(ROOM);
  readonly known = new Uint8Array(ROOM).fill(1);
  readonly lost = new Uint8Array(ROOM);
  readonly fuzzy = new Uint8Array(ROOM);
  /** Lines whose last store went through a MAP_SYNC mapping: their block's allocation is committed. */
  readonly viaSync = new Uint8Array(ROOM / LINE);
  readonly pending = new PendingLines();
  /**
   * The CPU whose non-temporal store put the byte down and has not fenced since, or -1. An
   * unfenced NT store sits in its CPU's write-combining buffer: a sync on another CPU does
   * not drain it, so it is not promised until that CPU fences (emu.cpu switches threads).
   */
  readonly ntCpu = new Int8Array(ROOM).fill(-1);
  unlinked = false;
  mappings = 0;

  constructor(
    readonly path: string,
    size: number,
  ) {
    this.size = size;
  }

  get pages(): number {
    return Math.ceil(this.size / PAGE);
  }

  /** Whether the file still answers calls: named, or held by a mapping. */
  get live(): boolean {
    return !this.unlinked || this.mappings > 0;
  }

  /** A store of `bytes` at file byte `at` (through a shared mapping, pwrite or a task). */
  write(at: number, bytes: Uint8Array, sync: boolean, ntCpu = -1): void {
    const end = at + bytes.length;
    this.ntCpu.fill(ntCpu, at, end);
    this.data.set(bytes, at);
    this.known.fill(0, at, end);
    this.lost.fill(0, at, end);
    this.fuzzy.fill(0, at, end);
    this.pending.clear(at, end);
    for (let line = Math.floor(at / LINE); line * LINE < end; line++) this.viaSync[line] = sync ? 1 : 0;
  }

  /** A sync point over file pages [first, last]: every byte stored before it is durable, but for the lost ones. */
  synced(first: number, last: number, cpu: number): void {
    const end = Math.min(ROOM, (last + 1) * PAGE);
    for (let i = first * PAGE; i < end; i++) if (!this.lost[i] && !this.fuzzy[i] && (this.ntCpu[i] === -1 || this.ntCpu[i] === cpu)) this.known[i] = 1;
  }

  /** A fence on `cpu` drains its NT stores (durable on the media; promised at the next sync). */
  fenced(cpu: number): void {
    for (let i = 0; i < ROOM; i++) if (this.ntCpu[i] === cpu) this.ntCpu[i] = -1;
  }

  /** A flushed and fenced line (clflush, or a flush and its fence): durable when its last store came through MAP_SYNC. */
  lineDurable(line: number): void {
    if (!this.viaSync[line]) return;
    for (let i = line * LINE; i < (line + 1) * LINE; i++) if (!this.lost[i] && !this.fuzzy[i] && this.ntCpu[i] === -1) this.known[i] = 1;
  }

  /** Pages [first, end) lose their blocks (truncate, punch): holes, zero and known. */
  release(first: number, end: number): void {
    const lo = Math.min(ROOM, first * PAGE);
    const hi = Math.min(ROOM, end * PAGE);
    this.data.fill(0, lo, hi);
    this.known.fill(1, lo, hi);
    this.lost.fill(0, lo, hi);
    this.fuzzy.fill(0, lo, hi);
    this.ntCpu.fill(-1, lo, hi);
    this.pending.clear(lo, hi);
  }

  /**
   * A known kernel loss: the dirty entries over bytes [lo, hi) were deleted unwritten. Their
   * stores since the last sync are neither promised nor ruled out from now on.
   */
  loseDirty(lo: number, hi: number): void {
    for (let i = lo; i < Math.min(hi, ROOM); i++) if (!this.known[i]) this.lost[i] = 1;
  }

  truncate(size: number, lossAtEof: boolean): void {
    const keep = Math.ceil(size / PAGE);
    if (keep < this.pages) {
      // A dirty PMD entry holding the new end is deleted whole (docs/kernel-rules.md §5; the
      // XArray era without 'truncate-writeback'): its unsynced stores below the end may go.
      if (lossAtEof && keep % 512 !== 0) this.loseDirty(Math.floor(keep / 512) * 2 * MiB, keep * PAGE);
      this.release(keep, this.pages);
    }
    this.size = size;
  }
}

/** The device window: one 2 MiB extent taken from the allocator, mapped with mmapDevice. */
export class DeviceShadow {
  readonly data = new Uint8Array(2 * MiB);
  readonly known = new Uint8Array(2 * MiB).fill(1);
  readonly pending = new PendingLines();

  constructor(readonly offset: number) {}

  write(at: number, bytes: Uint8Array, eadr: boolean): void {
    this.data.set(bytes, at);
    this.known.fill(eadr ? 1 : 0, at, at + bytes.length);
    this.pending.clear(at, at + bytes.length);
  }

  lineDurable(line: number): void {
    this.known.fill(1, line * LINE, (line + 1) * LINE);
  }
}

/** The lines of [at, at + len) that the range covers in full (what a partial ntstore does to the rest is not promised). */
export function wholeLines(at: number, len: number): number[] {
  const out: number[] = [];
  for (let line = Math.ceil(at / LINE); (line + 1) * LINE <= at + len; line++) out.push(line);
  return out;
}

/** Every line [at, at + len) touches. */
export function touchedLines(at: number, len: number): number[] {
  const out: number[] = [];
  for (let line = Math.floor(at / LINE); line * LINE < at + len; line++) out.push(line);
  return out;
}
