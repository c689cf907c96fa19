/**
 * A device mapping (device-dax): a window of the media mapped straight into the emulated
 * address space, no filesystem and no faults. Offsets are relative to the mapping; every
 * access runs on the emulator's current CPU (emu.cpu). A mapping that was unmapped
 * refuses every call with EINVAL.
 */
import type { Core } from '../core/index.js';
import { PmemError } from '../base/index.js';

/** Where a mapping's accesses go: the core and the CPU that issues them. */
export interface MappingHost {
  readonly core: Core;
  readonly cpu: number;
}

export const FLUSH_CLFLUSH = 0;
export const FLUSH_CLFLUSHOPT = 1;
export const FLUSH_CLWB = 2;

export class DeviceMapping {
  /** Media offset of the mapping's first byte. */
  readonly offset: number;
  readonly length: number;
  private readonly host: MappingHost;
  private mapped = true;

  constructor(host: MappingHost, offset: number, length: number) {
    this.host = host;
    this.offset = offset;
    this.length = length;
  }

  /** Checks a range of the mapping and returns its media address. */
  private media(op: string, off: number, len: number): number {
    if (!this.mapped) throw new PmemError('EINVAL', `${op}: the mapping was unmapped`);
    if (!Number.isInteger(off) || off < 0) throw new PmemError('EINVAL', `${op}: offset must be a non-negative integer, got ${String(off)}`);
    if (!Number.isInteger(len) || len < 0) throw new PmemError('EINVAL', `${op}: length must be a non-negative integer, got ${String(len)}`);
    if (off + len > this.length) {
      throw new PmemError('EFAULT', `${op}: [${off}, ${off + len}) is outside the ${this.length}-byte mapping`);
    }
    return this.offset + off;
  }

  private bytesOf(op: string, bytes: unknown): Uint8Array {
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', `${op}: bytes must be a Uint8Array`);
    return bytes;
  }

  /** Stores bytes at `off` (temporal: they sit dirty in the emulated cache). */
  store(off: number, bytes: Uint8Array): void {
    const b = this.bytesOf('store', bytes);
    this.host.core.pmStore(this.host.cpu, this.media('store', off, b.length), b);
  }

  /** Non-temporal store: bypasses the cache; durable at this CPU's next fence. */
  ntstore(off: number, bytes: Uint8Array): void {
    const b = this.bytesOf('ntstore', bytes);
    this.host.core.pmStore(this.host.cpu, this.media('ntstore', off, b.length), b, true);
  }

  /** Loads `len` bytes at `off` (the newest data, durable or not). */
  load(off: number, len: number): Uint8Array {
    return this.host.core.pmLoad(this.host.cpu, this.media('load', off, len), len);
  }

  /** clflush every line of [off, off + len): serialised, durable when it returns. */
  clflush(off: number, len: number): void {
    this.host.core.pmFlush(this.host.cpu, FLUSH_CLFLUSH, this.media('clflush', off, len), len);
  }

  /** clflushopt every line: weakly ordered, durable at this CPU's next fence. */
  clflushopt(off: number, len: number): void {
    this.host.core.pmFlush(this.host.cpu, FLUSH_CLFLUSHOPT, this.media('clflushopt', off, len), len);
  }

  /** clwb every line: weakly ordered, durable at this CPU's next fence. */
  clwb(off: number, len: number): void {
    this.host.core.pmFlush(this.host.cpu, FLUSH_CLWB, this.media('clwb', off, len), len);
  }

  /** Unmaps: every later call fails with EINVAL. */
  munmap(): void {
    if (!this.mapped) throw new PmemError('EINVAL', 'munmap: the mapping was unmapped already');
    this.mapped = false;
  }
}
