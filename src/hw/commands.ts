/**
 * The hardware command buffer: pmem operations encoded for one wasm call (emu.run).
 * Addresses are media offsets, the same numbers a device mapping at offset 0 uses.
 *
 *   record (4 x u32): [ op, addr, len, data offset ]     (assembly/pmcmd.ts runs them)
 *
 * Stored bytes are copied into the builder's data buffer when the op is added; loaded
 * bytes land there when the buffer runs, and run() hands them back in order.
 */
import { PmemError } from '../base/index.js';

export const PM_STORE = 1;
export const PM_LOAD = 2;
export const PM_NTSTORE = 3;
export const PM_CLFLUSH = 4;
export const PM_CLFLUSHOPT = 5;
export const PM_CLWB = 6;
export const PM_SFENCE = 7;
export const PM_MFENCE = 8;

/** Builds a command buffer; emu.commands() makes one, emu.run(builder) runs it. */
export class CommandBuilder {
  private records: Uint32Array = new Uint32Array(1024);
  private data: Uint8Array = new Uint8Array(4096);
  private used = 0;
  private dataUsed = 0;
  private loadCount = 0;

  /** Load records so far (run() hands their bytes back). */
  get loads(): number {
    return this.loadCount;
  }

  /** Operations encoded so far. */
  get length(): number {
    return this.used / 4;
  }

  private push(op: number, addr: number, len: number, dataOffset: number): this {
    if (this.used === this.records.length) {
      const bigger = new Uint32Array(this.records.length * 2);
      bigger.set(this.records);
      this.records = bigger;
    }
    const r = this.records;
    const at = this.used;
    r[at] = op;
    r[at + 1] = addr;
    r[at + 2] = len;
    r[at + 3] = dataOffset;
    this.used = at + 4;
    return this;
  }

  private reserve(len: number): number {
    const at = this.dataUsed;
    if (at + len > this.data.length) {
      const bigger = new Uint8Array(Math.max(this.data.length * 2, at + len));
      bigger.set(this.data.subarray(0, at));
      this.data = bigger;
    }
    this.dataUsed = at + len;
    return at;
  }

  store(addr: number, bytes: Uint8Array): this {
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', `store: bytes must be a Uint8Array, got ${String(bytes)}`);
    checkArgs('store', addr, bytes.length);
    const at = this.reserve(bytes.length);
    this.data.set(bytes, at);
    return this.push(PM_STORE, addr, bytes.length, at);
  }

  ntstore(addr: number, bytes: Uint8Array): this {
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', `ntstore: bytes must be a Uint8Array, got ${String(bytes)}`);
    checkArgs('ntstore', addr, bytes.length);
    const at = this.reserve(bytes.length);
    this.data.set(bytes, at);
    return this.push(PM_NTSTORE, addr, bytes.length, at);
  }

  /** store (or, with `nt`, ntstore) of `len` bytes of `src` from `from`, without a view of them. */
  storeFrom(addr: number, src: Uint8Array, from: number, len: number, nt = false): this {
    if (!(src instanceof Uint8Array)) throw new PmemError('EINVAL', `store: the source must be a Uint8Array, got ${String(src)}`);
    checkArgs('store', addr, len);
    if (!Number.isInteger(from) || from < 0 || from + len > src.length) throw new PmemError('EINVAL', `store: [${from}, ${from + len}) is outside the ${src.length}-byte source`);
    const at = this.reserve(len);
    const data = this.data;
    // A short copy by hand costs less than the view set() needs.
    if (len <= 256) for (let i = 0; i < len; i++) data[at + i] = src[from + i]!;
    else data.set(src.subarray(from, from + len), at);
    return this.push(nt ? PM_NTSTORE : PM_STORE, addr, len, at);
  }

  load(addr: number, len: number): this {
    checkArgs('load', addr, len);
    this.loadCount++;
    return this.push(PM_LOAD, addr, len, this.reserve(len));
  }

  clflush(addr: number, len: number): this {
    checkArgs('clflush', addr, len);
    return this.push(PM_CLFLUSH, addr, len, 0);
  }

  clflushopt(addr: number, len: number): this {
    checkArgs('clflushopt', addr, len);
    return this.push(PM_CLFLUSHOPT, addr, len, 0);
  }

  clwb(addr: number, len: number): this {
    checkArgs('clwb', addr, len);
    return this.push(PM_CLWB, addr, len, 0);
  }

  sfence(): this {
    return this.push(PM_SFENCE, 0, 0, 0);
  }

  mfence(): this {
    return this.push(PM_MFENCE, 0, 0, 0);
  }

  /** The encoded records and the data buffer (views, valid until the next add). */
  encoded(): { records: Uint32Array; data: Uint8Array } {
    return { records: this.records.subarray(0, this.used), data: this.data.subarray(0, this.dataUsed) };
  }

  /** Empties the builder for reuse. */
  reset(): void {
    this.used = 0;
    this.dataUsed = 0;
    this.loadCount = 0;
  }
}

function checkArgs(op: string, addr: number, len: number): void {
  // `>>> 0` throws a TypeError on a BigInt or a Symbol: only numbers get that far.
  if (typeof addr !== 'number' || (addr >>> 0) !== addr) throw new PmemError('EINVAL', `${op}: address must be an integer in [0, 2^32), got ${String(addr)}`);
  if (typeof len !== 'number' || (len >>> 0) !== len) throw new PmemError('EINVAL', `${op}: length must be a non-negative integer, got ${String(len)}`);
}
