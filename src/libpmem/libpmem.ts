/**
 * libpmem's calls over an emulator: pmem_map_file maps a DAX file with MAP_SYNC (falling
 * back to a plain shared mapping where the kernel has no MAP_SYNC, as PMDK's util_map
 * does, and then pmem_is_pmem is false), and addresses are the mapping's emulated virtual
 * addresses, so `addr + off` works as C pointer arithmetic does. Each call checks its
 * range against the maps it made (EFAULT outside them) before it touches anything.
 *
 * How each copy is cut (PMDK src/libpmem2/x86_64/memcpy/memcpy_nt_*.h): a non-temporal copy
 * stores its unaligned head and tail with ordinary stores and flushes them, and the
 * 64-byte-aligned middle with non-temporal stores; a temporal copy stores it all, then
 * flushes it. `_persist` ends with pmem_drain unless PMEM_F_MEM_NODRAIN is given.
 */
import { PmemError } from '../base/index.js';
import type { Persistence } from '../hw/index.js';
import {
  PMEM_FILE_ALL_FLAGS, PMEM_FILE_CREATE, PMEM_FILE_EXCL, PMEM_FILE_SPARSE, PMEM_FILE_TMPFILE, PMEM_F_MEM_NODRAIN, PMEM_F_MEM_NOFLUSH, PMEM_F_MEM_NONTEMPORAL,
  PMEM_F_MEM_TEMPORAL, PMEM_F_MEM_VALID_FLAGS, PMEM_F_MEM_WB, PMEM_F_MEM_WC,
} from './flags.js';
import { choosePmemFuncs, type PmemCpuOptions, type PmemFuncs } from './init.js';

const LINE = 64;
const PAGE = 4096;

/** What libpmem needs of a mapping (a FileMapping, or a recording wrapper of one). */
export interface PmemMappingLike {
  readonly address: number;
  readonly length: number;
  store(off: number, bytes: Uint8Array): void;
  ntstore(off: number, bytes: Uint8Array): void;
  load(off: number, len: number): Uint8Array;
  clwb(off: number, len: number): void;
  clflushopt(off: number, len: number): void;
  clflush(off: number, len: number): void;
  msync(off: number, len: number, options?: { sync?: boolean }): unknown;
  munmap(): void;
}

/** What libpmem needs of an emulator (an Emulator, or a recording wrapper of one). */
export interface PmemHost<F, M extends PmemMappingLike> {
  readonly options: { readonly persistence: Persistence; readonly kernel: string };
  createFile(path: string, options: { size?: number; allocate?: 'none' | 'unwritten' | 'written' }): F;
  open(path: string): F;
  unlink(path: string): void;
  mmap(file: F, options: { length?: number; shared?: boolean; sync?: boolean }): M;
  sfence(): void;
}

export interface PmemInitOptions extends PmemCpuOptions {}

/** What pmem_map_file returns: the address, the mapped length and is_pmem. */
export interface PmemMap {
  readonly addr: number;
  readonly mappedLen: number;
  readonly isPmem: boolean;
}

interface MapRecord<M> {
  mapping: M;
  addr: number;
  len: number;
  isPmem: boolean;
}

/** Makes a libpmem over `emu`; its functions are chosen now, once (src/libpmem/init.ts). */
export function pmemInit<F, M extends PmemMappingLike>(emu: PmemHost<F, M>, options: PmemInitOptions = {}): Libpmem<F, M> {
  return new Libpmem(emu, choosePmemFuncs(emu.options.persistence, options));
}

export class Libpmem<F, M extends PmemMappingLike> {
  /** The choices made at start. */
  readonly funcs: PmemFuncs;
  private readonly emu: PmemHost<F, M>;
  private readonly maps: MapRecord<M>[] = [];

  constructor(emu: PmemHost<F, M>, funcs: PmemFuncs) {
    this.emu = emu;
    this.funcs = Object.freeze({ ...funcs });
  }

  /**
   * pmem_map_file(path, len, flags, mode): with PMEM_FILE_CREATE, creates the file of `len`
   * bytes (fallocated unless PMEM_FILE_SPARSE; EEXIST with PMEM_FILE_EXCL when it exists);
   * without it, maps the whole existing file (`len` must be 0). The mode is accepted and
   * ignored: the emulated file system has no permissions.
   */
  pmem_map_file(path: string, len: number, flags: number, _mode = 0o666): PmemMap {
    if (!Number.isInteger(flags) || (flags & ~PMEM_FILE_ALL_FLAGS) !== 0) throw new PmemError('EINVAL', `pmem_map_file: flags: unknown bits in ${flags}`);
    if (!Number.isSafeInteger(len) || len < 0) throw new PmemError('EINVAL', `pmem_map_file: len must be a non-negative integer, got ${len}`);
    if ((flags & PMEM_FILE_CREATE) === 0 && len !== 0) throw new PmemError('EINVAL', 'pmem_map_file: len must be 0 without PMEM_FILE_CREATE');
    if ((flags & PMEM_FILE_CREATE) !== 0 && len === 0) throw new PmemError('EINVAL', 'pmem_map_file: len must be positive with PMEM_FILE_CREATE');
    if ((flags & PMEM_FILE_TMPFILE) !== 0) throw new PmemError('EOPNOTSUPP', 'pmem_map_file: PMEM_FILE_TMPFILE is not emulated');
    let file: F;
    let size = len;
    let created = false;
    if (flags & PMEM_FILE_CREATE) {
      let exists = true;
      try {
        file = this.emu.open(path);
      } catch {
        exists = false;
      }
      if (exists && flags & PMEM_FILE_EXCL) throw new PmemError('EEXIST', `pmem_map_file: ${path} exists`);
      if (exists) throw new PmemError('EOPNOTSUPP', `pmem_map_file: resizing the existing ${path} is not emulated; open it with len 0`);
      file = this.emu.createFile(path, { size: len, allocate: flags & PMEM_FILE_SPARSE ? 'none' : 'unwritten' });
      created = true;
    } else {
      file = this.emu.open(path);
      size = (file as unknown as { size: number }).size;
      if (size === 0) throw new PmemError('EINVAL', `pmem_map_file: ${path} is empty`);
    }
    const length = Math.ceil(size / PAGE) * PAGE;
    // MAP_SHARED_VALIDATE | MAP_SYNC first; a kernel without MAP_SYNC refuses it (EOPNOTSUPP).
    let mapping: M;
    let isPmem = true;
    try {
      mapping = this.emu.mmap(file, { length, shared: true, sync: true });
    } catch (err) {
      if (!(err instanceof PmemError) || err.code !== 'EOPNOTSUPP') {
        if (created) this.emu.unlink(path);
        throw err;
      }
      mapping = this.emu.mmap(file, { length, shared: true });
      isPmem = false;
    }
    this.maps.push({ mapping, addr: mapping.address, len: size, isPmem });
    return { addr: mapping.address, mappedLen: size, isPmem };
  }

  /** pmem_unmap(addr, len): the whole map that starts at `addr`. */
  pmem_unmap(addr: number, len: number): void {
    const i = this.maps.findIndex((m) => m.addr === addr && m.len === len);
    if (i < 0) throw new PmemError('EINVAL', `pmem_unmap: no map of ${len} bytes at ${addr}`);
    this.maps[i]!.mapping.munmap();
    this.maps.splice(i, 1);
  }

  /** The map holding [addr, addr + len) and the offset of addr in it; EFAULT when none does. */
  private locate(op: string, addr: number, len: number): { rec: MapRecord<M>; off: number } {
    if (!Number.isSafeInteger(addr) || addr < 0) throw new PmemError('EINVAL', `${op}: addr must be a non-negative integer, got ${addr}`);
    if (!Number.isSafeInteger(len) || len < 0) throw new PmemError('EINVAL', `${op}: len must be a non-negative integer, got ${len}`);
    for (const rec of this.maps) {
      if (addr >= rec.addr && addr + len <= rec.addr + rec.len) return { rec, off: addr - rec.addr };
    }
    throw new PmemError('EFAULT', `${op}: [${addr}, ${addr + len}) is not inside a map made by pmem_map_file`);
  }

  /** pmem_is_pmem(addr, len): whether the whole range is MAP_SYNC-mapped pmem. */
  pmem_is_pmem(addr: number, len: number): boolean {
    try {
      return this.locate('pmem_is_pmem', addr, len).rec.isPmem;
    } catch {
      return false;
    }
  }

  /** pmem_has_auto_flush(): 1 under eADR (the CPU caches are persistent), else 0. */
  pmem_has_auto_flush(): number {
    return this.emu.options.persistence === 'eadr' ? 1 : 0;
  }

  /** pmem_flush(addr, len): the chosen flush over every line of the range (nothing under eADR). */
  pmem_flush(addr: number, len: number): void {
    const { rec, off } = this.locate('pmem_flush', addr, len);
    this.flushAt(rec.mapping, off, len);
  }

  private flushAt(m: M, off: number, len: number): void {
    if (this.funcs.flushIsEmpty || len === 0) return;
    // Whole lines: the flush loop rounds the start down to a line (flush.h).
    const first = off - ((m.address + off) % LINE);
    const end = Math.min(m.length, off + len);
    m[this.funcs.flush](first, end - first);
  }

  /** pmem_drain(): waits for the flushes and non-temporal stores (an sfence). */
  pmem_drain(): void {
    this.emu.sfence();
  }

  /** pmem_persist(addr, len): pmem_flush, then pmem_drain. */
  pmem_persist(addr: number, len: number): void {
    this.pmem_flush(addr, len);
    this.pmem_drain();
  }

  /**
   * pmem_msync(addr, len): msync(MS_SYNC) of the pages holding the range, for maps that
   * are not pmem; returns 0.
   */
  pmem_msync(addr: number, len: number): number {
    const { rec, off } = this.locate('pmem_msync', addr, len);
    const start = off - (off % PAGE);
    rec.mapping.msync(start, Math.min(rec.mapping.length, off + len) - start, { sync: true });
    return 0;
  }

  /** pmem_memcpy(dest, src, len, flags); `src` is the bytes to copy. */
  pmem_memcpy(dest: number, src: Uint8Array, flags = 0): number {
    return this.copy('pmem_memcpy', dest, src, flags);
  }

  /** pmem_memmove(dest, src, len, flags); `src` an address in a map or the bytes themselves. */
  pmem_memmove(dest: number, src: number | Uint8Array, len: number, flags = 0): number {
    const bytes = typeof src === 'number' ? this.read('pmem_memmove', src, len) : src;
    if (bytes.length !== len) throw new PmemError('EINVAL', `pmem_memmove: src holds ${bytes.length} bytes, len is ${len}`);
    return this.copy('pmem_memmove', dest, bytes, flags);
  }

  /** pmem_memset(dest, c, len, flags). */
  pmem_memset(dest: number, c: number, len: number, flags = 0): number {
    if (!Number.isInteger(c)) throw new PmemError('EINVAL', `pmem_memset: c must be an integer, got ${c}`);
    if (!Number.isSafeInteger(len) || len < 0) throw new PmemError('EINVAL', `pmem_memset: len must be a non-negative integer, got ${len}`);
    return this.copy('pmem_memset', dest, new Uint8Array(len).fill(c & 0xff), flags);
  }

  pmem_memcpy_persist(dest: number, src: Uint8Array): number {
    return this.pmem_memcpy(dest, src, 0);
  }

  pmem_memmove_persist(dest: number, src: number | Uint8Array, len: number): number {
    return this.pmem_memmove(dest, src, len, 0);
  }

  pmem_memset_persist(dest: number, c: number, len: number): number {
    return this.pmem_memset(dest, c, len, 0);
  }

  pmem_memcpy_nodrain(dest: number, src: Uint8Array): number {
    return this.pmem_memcpy(dest, src, PMEM_F_MEM_NODRAIN);
  }

  pmem_memset_nodrain(dest: number, c: number, len: number): number {
    return this.pmem_memset(dest, c, len, PMEM_F_MEM_NODRAIN);
  }

  /** Reads `len` bytes at `addr` of a map (a plain load). */
  read(op: string, addr: number, len: number): Uint8Array {
    const { rec, off } = this.locate(op, addr, len);
    return rec.mapping.load(off, len);
  }

  /** The copy every memcpy, memmove and memset comes down to; returns dest. */
  private copy(op: string, dest: number, bytes: Uint8Array, flags: number): number {
    if (!Number.isInteger(flags) || (flags & ~PMEM_F_MEM_VALID_FLAGS) !== 0) throw new PmemError('EINVAL', `${op}: flags: invalid bits in ${flags}`);
    if (!(bytes instanceof Uint8Array)) throw new PmemError('EINVAL', `${op}: src must be a Uint8Array`);
    const { rec, off } = this.locate(op, dest, bytes.length);
    const m = rec.mapping;
    const len = bytes.length;
    if (len > 0) {
      // The choice of init.c's memmove_nodrain template, in its order.
      const nontemporal =
        (flags & PMEM_F_MEM_NOFLUSH) === 0 &&
        ((flags & (PMEM_F_MEM_WC | PMEM_F_MEM_NONTEMPORAL)) !== 0 || ((flags & (PMEM_F_MEM_WB | PMEM_F_MEM_TEMPORAL)) === 0 && len >= this.funcs.movntThreshold));
      if (!nontemporal) {
        m.store(off, bytes);
        if ((flags & PMEM_F_MEM_NOFLUSH) === 0) this.flushAt(m, off, len);
      } else {
        const head = Math.min(len, (LINE - ((m.address + off) % LINE)) % LINE);
        const tail = (len - head) % LINE;
        const middle = len - head - tail;
        if (head > 0) {
          m.store(off, bytes.subarray(0, head));
          this.flushAt(m, off, head);
        }
        if (middle > 0) m.ntstore(off + head, bytes.subarray(head, head + middle));
        if (tail > 0) {
          m.store(off + head + middle, bytes.subarray(head + middle));
          this.flushAt(m, off + head + middle, tail);
        }
      }
    }
    if ((flags & PMEM_F_MEM_NODRAIN) === 0) this.pmem_drain();
    return dest;
  }
}
