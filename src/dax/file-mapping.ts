/**
 * A file mapping (mmap of a DAX file): loads and stores go through its page tables and
 * fault like an MMU's would; m.fault() faults explicitly, as an MMU-driving simulator needs.
 * Offsets are relative to the mapping; the mapping's virtual address decides the PMD
 * colour (a PMD fault needs (pgoff & 511) == (virtual page & 511)).
 */
import type { DaxHost, MappedRange } from './context.js';
import { PmemError } from '../base/index.js';
import { handleFault } from './fault.js';
import type { FaultPaths, FaultResult, FaultingMapping } from './fault-paths.js';
import type { DaxFile } from './file.js';
import { PageTable } from './page-table.js';
import { emptyReport, vfsFsyncRange, type WritebackReport } from './writeback.js';

const PAGE = 4096;

/** Checks [off, off + len) of a `length`-byte mapping: EINVAL for a bad number, EFAULT outside it. */
export function checkMappedRange(op: string, off: number, len: number, length: number): void {
  if (!Number.isInteger(off) || off < 0) throw new PmemError('EINVAL', `${op}: offset must be a non-negative integer, got ${String(off)}`);
  if (!Number.isInteger(len) || len < 0) throw new PmemError('EINVAL', `${op}: length must be a non-negative integer, got ${String(len)}`);
  if (off + len > length) throw new PmemError('EFAULT', `${op}: [${off}, ${off + len}) is outside the ${length}-byte mapping`);
}

/** Checks a flush instruction's kind: 0 clflush, 1 clflushopt, 2 clwb. */
export function checkFlushKind(kind: number): void {
  if (kind !== 0 && kind !== 1 && kind !== 2) throw new PmemError('EINVAL', `flush: kind must be 0 (clflush), 1 (clflushopt) or 2 (clwb), got ${String(kind)}`);
}

export class FileMapping implements MappedRange, FaultingMapping {
  readonly file: DaxFile;
  /** Emulated virtual address of the first byte. */
  readonly address: number;
  /** File byte offset of the first byte. */
  readonly offset: number;
  readonly length: number;
  readonly shared: boolean;
  readonly sync: boolean;
  readonly pt: PageTable;
  readonly anon = new Map<number, Uint8Array>();
  private readonly host: DaxHost;
  /** The kernel era's fault handler, chosen once by the file system. */
  private readonly faults: FaultPaths;
  private mapped = true;

  /** Tells the address space that this mapping is gone. */
  private readonly onUnmap: (m: FileMapping) => void;

  constructor(
    host: DaxHost, faults: FaultPaths, file: DaxFile, options: { address: number; offset: number; length: number; shared: boolean; sync: boolean },
    onUnmap: (m: FileMapping) => void = () => undefined,
  ) {
    this.host = host;
    this.pt = new PageTable(host.tlb);
    this.faults = faults;
    this.onUnmap = onUnmap;
    this.file = file;
    this.address = options.address;
    this.offset = options.offset;
    this.length = options.length;
    this.shared = options.shared;
    this.sync = options.sync;
  }

  get vfirst(): number {
    return this.address / PAGE;
  }

  get pages(): number {
    return this.length / PAGE;
  }

  get pgoff(): number {
    return this.offset / PAGE;
  }

  get isMapped(): boolean {
    return this.mapped;
  }

  /** The virtual pages of this mapping that show file pages [first, first + count), or null. */
  private clip(first: number, count: number): [number, number] | null {
    const lo = Math.max(first, this.pgoff);
    const hi = Math.min(first + count, this.pgoff + this.pages);
    return hi > lo ? [this.vfirst + (lo - this.pgoff), hi - lo] : null;
  }

  writeProtectFile(first: number, count: number, ptesOnly = false): void {
    const r = this.clip(first, count);
    if (r) this.pt.writeProtect(r[0], r[1], ptesOnly);
  }

  unmapFile(first: number, count: number, evenCows = false): void {
    const r = this.clip(first, count);
    if (!r) return;
    if (evenCows) {
      this.pt.unmap(r[0], r[1]);
      for (let v = r[0]; v < r[0] + r[1]; v++) this.anon.delete(v);
    } else {
      // A private copy is the process's own page, not the file's: it stays mapped.
      this.pt.unmap(r[0], r[1], (v) => this.anon.has(v));
    }
  }

  mapsCachePage(page: number): boolean {
    const r = this.clip(page, 1);
    return r !== null && this.pt.lookup(r[0])?.dram !== undefined && !this.anon.has(r[0]);
  }

  private check(op: string, off: number, len: number): void {
    if (!this.mapped) throw new PmemError('EINVAL', `${op}: the mapping was unmapped`);
    checkMappedRange(op, off, len, this.length);
  }

  /** Faults the page holding `off` for a read or a write; reports what happened. */
  fault(off: number, kind: 'read' | 'write'): FaultResult {
    this.check('fault', off, 1);
    if (kind !== 'read' && kind !== 'write') throw new PmemError('EINVAL', `fault: kind must be 'read' or 'write', got ${String(kind)}`);
    return handleFault(this.host, this.faults, this, this.vfirst + Math.floor(off / PAGE), kind === 'write');
  }

  /** Whether a store at `off` would fault (no writable page-table entry), and so take the entry lock. */
  storeWouldFault(off: number): boolean {
    this.check('storeWouldFault', off, 1);
    const e = this.pt.lookup(this.vfirst + Math.floor(off / PAGE));
    return !e || !e.writable;
  }

  /** The page-table entry for virtual page `vpage`, faulting it in as an access would. */
  private translate(vpage: number, write: boolean): { media: number; zero: boolean; anon?: Uint8Array } {
    let e = this.pt.lookup(vpage);
    // A fault may end in NOPAGE without mapping the page (a retry): the access faults again,
    // as the CPU would. A few rounds always suffice; more would be a bug.
    for (let attempt = 0; !e || (write && !e.writable); attempt++) {
      if (attempt === 3) throw new PmemError('EFAULT', `three faults at virtual page ${vpage} did not map it`);
      handleFault(this.host, this.faults, this, vpage, write);
      e = this.pt.lookup(vpage);
    }
    const anon = this.anon.get(vpage) ?? e.dram; // a private copy, or a page-cache page
    return { media: e.pfn * PAGE, zero: e.zero, anon };
  }

  /**
   * The page holding `off` as an access would find it, faulted in first: its media address,
   * whether a store may use it, whether it is the zero page, and whether its bytes live in
   * host memory (a private copy or a page-cache page) that another thread cannot reach.
   * For threads that cache translations (src/emulator/attached-emulator.ts).
   */
  resolve(off: number, write: boolean): { media: number; writable: boolean; zero: boolean; onHost: boolean } {
    this.check('resolve', off, 1);
    const vpage = this.vfirst + Math.floor(off / PAGE);
    const t = this.translate(vpage, write);
    const writable = this.pt.lookup(vpage)?.writable ?? false;
    return { media: t.media, writable, zero: t.zero, onHost: t.anon !== undefined };
  }

  /** Calls `visit` for each page piece of [off, off + len): its virtual page, offset in the page, length, and bytes done before it. */
  private eachPage(off: number, len: number, visit: (vpage: number, from: number, n: number, done: number) => void): void {
    let done = 0;
    while (done < len) {
      const at = off + done;
      const from = at % PAGE;
      const n = Math.min(PAGE - from, len - done);
      visit(this.vfirst + Math.floor(at / PAGE), from, n, done);
      done += n;
    }
  }

  /** Loads `len` bytes at `off`, faulting pages in as needed. */
  load(off: number, len: number): Uint8Array {
    this.check('load', off, len);
    const out = new Uint8Array(len);
    this.eachPage(off, len, (vpage, from, n, done) => {
      const t = this.translate(vpage, false);
      if (t.anon) out.set(t.anon.subarray(from, from + n), done);
      else if (!t.zero) out.set(this.host.core.pmLoad(this.host.cpu, t.media + from, n), done);
    });
    return out;
  }

  /** Stores bytes at `off`, faulting pages in (write faults dirty the tree entries). */
  store(off: number, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', 'store: bytes must be a Uint8Array');
    this.check('store', off, bytes.length);
    this.eachPage(off, bytes.length, (vpage, from, n, done) => {
      const t = this.translate(vpage, true);
      if (t.anon) t.anon.set(bytes.subarray(done, done + n), from);
      else this.host.core.pmStore(this.host.cpu, t.media + from, bytes.subarray(done, done + n));
    });
  }

  /** Non-temporal store at `off` (faulting pages in): bypasses the cache, durable at the next fence. */
  ntstore(off: number, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', 'ntstore: bytes must be a Uint8Array');
    this.check('ntstore', off, bytes.length);
    this.eachPage(off, bytes.length, (vpage, from, n, done) => {
      const t = this.translate(vpage, true);
      if (t.anon) t.anon.set(bytes.subarray(done, done + n), from);
      else this.host.core.pmStore(this.host.cpu, t.media + from, bytes.subarray(done, done + n), true);
    });
  }

  /**
   * Flushes the lines under [off, off + len) with `kind` (user-space flushing, MAP_SYNC
   * style). A flush instruction translates its address as a load does, so a page that is not
   * mapped (a truncate or hole punch unmapped it) is read-faulted in first; past the end of
   * the file that fault is SIGBUS.
   */
  flush(off: number, len: number, kind: 0 | 1 | 2): void {
    this.check('flush', off, len);
    checkFlushKind(kind); // before the first page faults in: a bad kind changes nothing
    this.eachPage(off, len, (vpage, from, n) => {
      const t = this.translate(vpage, false);
      if (!t.zero && !t.anon) this.host.core.pmFlush(this.host.cpu, kind, t.media + from, n);
    });
  }

  clwb(off: number, len: number): void {
    this.flush(off, len, 2);
  }

  clflushopt(off: number, len: number): void {
    this.flush(off, len, 1);
  }

  clflush(off: number, len: number): void {
    this.flush(off, len, 0);
  }

  /** msync over [off, off + len) of this mapping: one vfs_fsync_range (MS_ASYNC and private mappings do nothing). */
  msync(off: number, len: number, options: { sync?: boolean } = {}): WritebackReport {
    this.check('msync', off, len);
    if (options.sync === false || !this.shared || len === 0) return emptyReport();
    const first = this.pgoff + Math.floor(off / PAGE);
    const last = this.pgoff + Math.floor((off + len - 1) / PAGE);
    return vfsFsyncRange(this.host, this.file, first, last);
  }

  /** Unmaps: later calls fail with EINVAL. */
  munmap(): void {
    if (!this.mapped) throw new PmemError('EINVAL', 'munmap: the mapping was unmapped already');
    this.mapped = false;
    this.pt.clear();
    this.anon.clear();
    this.file.mappings.delete(this);
    this.onUnmap(this);
    this.file.evictIfUnused();
  }
}
