/**
 * The emulated DAX file system of one emulator: its files by path, their mappings in one
 * emulated address space, the DAX counters, and the kernel era's fault paths, chosen here
 * once. It answers the emulator's file calls (createFile, open, unlink, mmap, msync over an
 * address range, sync, reclaim, drop_caches, checkInvariants) and rebuilds itself on a
 * crash image from its committed metadata.
 */
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_WRITEBACK, PMD_NR, XA_MAX_INDEX, xaIsPointer, type Core } from '../core/index.js';
import { PmemError } from '../base/index.js';
import type { MappingHost } from '../hw/index.js';
import { newDaxCounters, type DaxCounters, type DaxHost } from './context.js';
import { P45_FAULT_PATHS } from './fault-p45.js';
import type { FaultPaths } from './fault-paths.js';
import { XARRAY_FAULT_PATHS } from './fault-xarray.js';
import { DaxFile, MAX_FILE_BYTES, PAGE_SIZE, checkFileEnd, type Allocate } from './file.js';
import { FileMapping } from './file-mapping.js';
import { IntervalIndex } from './interval-index.js';
import { PAGE_CACHE_FAULT_PATHS } from './fault-page-cache.js';
import { pageCacheDropCaches } from './page-cache.js';
import { PageCachePool, wordPage } from './page-cache-pool.js';
import { TlbShootdown } from './page-table.js';
import { isShadow, packShadow, shadowEviction } from './shadow.js';
import { checkDaxInvariants } from './invariants.js';
import { noBugs, type KernelBugs } from './bugs.js';
import type { KernelFixes } from './fixes.js';
import type { KernelRules } from './kernel.js';
import type { Tracepoints } from './trace.js';
import { addReport, emptyReport, vfsFsyncRange, type WritebackReport } from './writeback.js';

/** A file as a reboot finds it: its size and its committed blocks as [page, pfn, unwritten]. */
export interface DurableFile {
  path: string;
  size: number;
  /** false for a page-cache file; absent for a DAX file. */
  dax?: false;
  blocks: [page: number, pfn: number, unwritten: 0 | 1][];
}

/** How the file system's kernel writes back: the profile's rules and the flush it uses. */
export interface DaxFsOptions {
  rules: KernelRules;
  /** The fixes switched on (src/dax/fixes.ts). */
  fixes: KernelFixes;
  /** The historical bugs switched on (src/dax/bugs.ts); none when left out. */
  bugs?: KernelBugs;
  /** The writeback flush: 0 clflush, 1 clflushopt, 2 clwb. */
  flushKind: number;
  /** Flush only an entry's dirty lines (an ideal kernel), not all of them. */
  dirtyLinesOnly: boolean;
}

/** The lowest address mmap hands out or accepts (the kernel's mmap_min_addr, Debian's default). */
const MMAP_MIN_ADDR = 65536;
/** The end of the user address space on x86-64 with 4-level page tables. */
const TASK_SIZE = 2 ** 47 - 4096;

export class DaxFileSystem {
  /** What the files, faults and writeback see of the emulator. */
  readonly host: DaxHost;
  private readonly rules: KernelRules;
  private readonly faults: FaultPaths;
  private readonly files = new Map<string, DaxFile>();
  /** The live mappings by the virtual addresses they cover: the process's address space. */
  private readonly space = new IntervalIndex<FileMapping>();
  private readonly counters: DaxCounters = newDaxCounters();
  /** Page-cache tree nodes ("tree:node") found holding only shadows, for the shadow-node shrinker. */
  private readonly shadowOnly = new Set<string>();
  /** Next free emulated virtual address for mappings placed by mmap. */
  private nextAddress = 0x7f00_0000_0000;

  /** `machine` gives the core and the CPU that kernel work runs on (the caller's, read at each use). */
  constructor(machine: MappingHost, options: DaxFsOptions, tracepoints: Tracepoints) {
    this.rules = options.rules;
    this.faults = options.rules.p45 ? P45_FAULT_PATHS : XARRAY_FAULT_PATHS;
    this.host = {
      core: machine.core,
      get cpu() {
        return machine.cpu;
      },
      rules: options.rules,
      fixes: options.fixes,
      bugs: options.bugs ?? noBugs(),
      flushKind: options.flushKind,
      dirtyLinesOnly: options.dirtyLinesOnly,
      counters: this.counters,
      pageCache: new PageCachePool(),
      tlb: new TlbShootdown(),
      trace: (event) => tracepoints.emit(event),
    };
  }

  private get core(): Core {
    return this.host.core;
  }

  /**
   * Creates a file of `size` bytes: sparse ('none'), fallocated ('unwritten') or written.
   * `dax: false` makes a page-cache file, as a mount without `-o dax` would (src/dax/page-cache.ts).
   */
  createFile(path: string, options: { size?: number; allocate?: Allocate; dax?: boolean } = {}): DaxFile {
    if (typeof path !== 'string' || path.length === 0) throw new PmemError('EINVAL', 'createFile: path must be a non-empty string');
    if (options === null || typeof options !== 'object') throw new PmemError('EINVAL', `createFile: options must be an object, got ${String(options)}`);
    if (this.files.has(path)) throw new PmemError('EEXIST', `createFile: ${path} exists`);
    const size = options.size ?? 0;
    if (!Number.isInteger(size) || size < 0) throw new PmemError('EINVAL', `createFile: size must be a non-negative integer, got ${String(size)}`);
    checkFileEnd('createFile', size);
    const allocate = options.allocate ?? 'none';
    if (allocate !== 'none' && allocate !== 'unwritten' && allocate !== 'written') {
      throw new PmemError('EINVAL', `createFile: allocate must be 'none', 'unwritten' or 'written', got ${String(allocate)}`);
    }
    const dax = options.dax ?? true;
    if (typeof dax !== 'boolean') throw new PmemError('EINVAL', `createFile: dax must be a boolean, got ${String(dax)}`);
    // Refused before anything is allocated or zeroed: a failed call leaves no trace (media, clock, counters).
    const pages = Math.ceil(size / PAGE_SIZE);
    if (allocate !== 'none' && pages > this.core.freeBlocks()) {
      throw new PmemError('ENOSPC', `createFile: ${path} needs ${pages} blocks, the media has ${this.core.freeBlocks()} free`);
    }
    const file = new DaxFile(this.host, path, size, this.core.createTree(), dax);
    if (allocate !== 'none') {
      try {
        for (let first = 0; first < file.pages; first += PMD_NR) file.allocate(first, Math.min(PMD_NR, file.pages - first), true);
      } catch (err) {
        for (const b of file.blocks.values()) this.core.free(b.pfn, 1);
        this.core.destroyTree(file.tree);
        throw err;
      }
      for (const b of file.blocks.values()) b.unwritten = allocate === 'unwritten';
      file.commitMetadata();
    }
    this.files.set(path, file);
    return file;
  }

  /** The file at `path` (ENOENT when there is none). */
  open(path: string): DaxFile {
    const file = this.files.get(path);
    if (!file) throw new PmemError('ENOENT', `open: no file ${String(path)}`);
    return file;
  }

  /** Removes the name; entries and blocks go once no mapping holds the file. */
  unlink(path: string): void {
    const file = this.open(path);
    this.files.delete(path);
    file.markUnlinked();
    if (file.mappings.size === 0) this.core.destroyTree(file.tree);
  }

  /** mmap of a file (Emulator.mmap): checks the range, places it in the address space, makes the FileMapping. */
  mmap(file: DaxFile, options: { offset?: number; length?: number; shared?: boolean; sync?: boolean; address?: number } = {}): FileMapping {
    if (!(file instanceof DaxFile) || file.unlinked) throw new PmemError('EBADF', 'mmap: not an open file of this emulator');
    const offset = options.offset ?? 0;
    const length = options.length ?? (typeof offset === 'number' ? file.pages * PAGE_SIZE - offset : 0); // a bad offset is refused below
    const shared = options.shared ?? true;
    const sync = options.sync ?? false;
    if (!Number.isInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0) throw new PmemError('EINVAL', `mmap: offset must be a page-aligned non-negative integer, got ${String(offset)}`);
    if (!Number.isInteger(length) || length <= 0 || length % PAGE_SIZE !== 0) throw new PmemError('EINVAL', `mmap: length must be a positive multiple of 4096, got ${String(length)}`);
    for (const [name, flag] of [['shared', shared], ['sync', sync]] as const) {
      if (typeof flag !== 'boolean') throw new PmemError('EINVAL', `mmap: ${name} must be a boolean, got ${String(flag)}`);
    }
    if (sync && !shared) throw new PmemError('EOPNOTSUPP', 'mmap: MAP_SYNC needs a shared mapping');
    if (sync && this.rules.p45) throw new PmemError('EOPNOTSUPP', 'mmap: MAP_SYNC came with Linux 4.15; linux-4.5 does not know it');
    // daxdev_mapping_supported: MAP_SYNC needs a DAX inode (fs/ext4/file.c, fs/xfs/xfs_file.c v6.1, v6.12).
    if (sync && !file.dax) throw new PmemError('EOPNOTSUPP', `mmap: MAP_SYNC needs a DAX file; ${file.path} is a page-cache file`);
    let address = options.address;
    // The next free address moves only once the mapping is made: a refused mmap changes nothing.
    let nextAddress = this.nextAddress;
    if (address === undefined) {
      const colour = offset % (PMD_NR * PAGE_SIZE);
      address = this.nextAddress + colour;
      nextAddress += Math.ceil((colour + length) / (PMD_NR * PAGE_SIZE)) * PMD_NR * PAGE_SIZE + PMD_NR * PAGE_SIZE;
    } else if (!Number.isInteger(address) || address < 0 || address % PAGE_SIZE !== 0) {
      throw new PmemError('EINVAL', `mmap: address must be a page-aligned non-negative integer, got ${String(address)}`);
    }
    // The process's address space: above mmap_min_addr (65536 by default) and below the
    // x86-64 4-level user limit, TASK_SIZE = 2^47 - 4096.
    if (address < MMAP_MIN_ADDR || address + length > TASK_SIZE) {
      throw new PmemError('EINVAL', `mmap: [${address}, ${address + length}) is outside the user address space [${MMAP_MIN_ADDR}, ${TASK_SIZE})`);
    }
    if (offset + length > MAX_FILE_BYTES) throw new PmemError('EINVAL', `mmap: offset ${offset} + length ${length} runs past the largest file (${MAX_FILE_BYTES} bytes)`);
    const other = this.space.overlapping(address, address + length).next();
    if (!other.done) throw new PmemError('EINVAL', `mmap: [${address}, ${address + length}) overlaps the mapping at [${other.value.address}, ${other.value.address + other.value.length})`);
    this.nextAddress = nextAddress;
    const m = new FileMapping(this.host, file.dax ? this.faults : PAGE_CACHE_FAULT_PATHS, file, { address, offset, length, shared, sync }, (gone) => this.space.delete(gone));
    file.mappings.add(m, m.pgoff, m.pgoff + m.pages);
    this.space.add(m, address, address + length);
    return m;
  }

  /** The live mapping that covers virtual address `address`, if any. */
  mappingAt(address: number): FileMapping | undefined {
    const hit = this.space.overlapping(address, address + 1).next();
    return hit.done ? undefined : hit.value;
  }

  /** msync over the address space (Emulator.msync): one vfs_fsync_range per covered shared mapping. */
  msync(address: number, length: number, options: { sync?: boolean } = {}): WritebackReport {
    if (!Number.isInteger(address) || address < 0 || address % PAGE_SIZE !== 0) throw new PmemError('EINVAL', `msync: address must be page-aligned, got ${String(address)}`);
    if (!Number.isInteger(length) || length < 0) throw new PmemError('EINVAL', `msync: length must be a non-negative integer, got ${String(length)}`);
    const report = emptyReport();
    let covered = 0;
    // In rising address order, as the kernel walks the VMAs of the range.
    for (const m of this.space.overlapping(address, address + length)) {
      const lo = Math.max(address, m.address);
      const hi = Math.min(address + length, m.address + m.length);
      if (hi <= lo) continue;
      covered += hi - lo;
      addReport(report, m.msync(lo - m.address, hi - lo, options));
    }
    if (covered < length) throw new PmemError('ENOMEM', `msync: part of [${address}, ${address + length}) is not mapped (the mapped parts were synced)`);
    return report;
  }

  /**
   * The background flusher (wb_workfn's periodic pass, mm/page-writeback.c and
   * fs/fs-writeback.c): every page-cache file whose first dirtying since it was last clean
   * lies `expireNs` or more in the past on the current CPU's clock (dirty_expire_centisecs,
   * default 3000: 30 s) has its dirty pages written back, then the journal's periodic commit
   * and its device flush make them durable. DAX files are skipped: their background
   * writeback (WB_SYNC_NONE) does nothing (docs/kernel-rules.md §4.1).
   */
  backgroundWriteback(options: { expireNs?: number } = {}): WritebackReport {
    const expireNs = options.expireNs ?? 30e9;
    if (typeof expireNs !== 'number' || !Number.isFinite(expireNs) || expireNs < 0) throw new PmemError('EINVAL', `backgroundWriteback: expireNs must be a non-negative number, got ${String(expireNs)}`);
    const report = emptyReport();
    const now = this.core.pmNow(this.host.cpu);
    for (const file of this.files.values()) {
      if (file.dax || file.dirtiedAt === null || now - file.dirtiedAt < expireNs) continue;
      addReport(report, vfsFsyncRange(this.host, file, 0, XA_MAX_INDEX));
    }
    return report;
  }

  /** sync(2): the WB_SYNC_ALL pass over every file. */
  sync(): WritebackReport {
    const report = emptyReport();
    for (const file of this.files.values()) addReport(report, vfsFsyncRange(this.host, file, 0, XA_MAX_INDEX));
    return report;
  }

  /**
   * Memory pressure: evicts up to `pages` clean page-cache pages, and returns how many.
   * The only page-cache pages a DAX address_space ever holds are linux-4.5's hole pages;
   * an evicted one leaves its slot empty, never a shadow entry (docs/kernel-rules.md §5.3, §5.4). In
   * the XArray era DAX entries are not pages, so nothing is evicted. With the bug
   * 'v3-shadow' (src/dax/bugs.ts) an evicted hole page leaves a shadow entry in its slot,
   * counted in nrexceptional as v4.5 counted shadows, as v3 of the dirty-DAX-entry series
   * would have let happen (docs/kernel-rules.md §5.4, §6 B1).
   */
  reclaim(request: number | { pages: number; seed?: number }): number {
    const pages = typeof request === 'object' && request !== null ? request.pages : request;
    if (!Number.isInteger(pages) || pages < 0) throw new PmemError('EINVAL', `reclaim: pages must be a non-negative integer, got ${String(pages)}`);
    if (typeof request === 'object' && request.seed !== undefined && (!Number.isInteger(request.seed) || request.seed < 0 || request.seed > 0xffffffff)) {
      throw new PmemError('EINVAL', `reclaim: seed must be an integer in [0, 2^32), got ${request.seed}`);
    }
    let evicted = this.reclaimHolePages(pages);
    // Page-cache pages, least recently used first: clean ones go and leave a shadow.
    const byTree = new Map([...this.files.values(), ...[...this.space].map((m) => m.file)].filter((f) => !f.dax).map((f) => [f.tree, f]));
    const pool = this.host.pageCache;
    for (const pfn of pool.lru()) {
      if (evicted === pages) break;
      const { tree, index } = pool.owner(pfn);
      const file = byTree.get(tree);
      if (!file || this.core.getMark(tree, index, PAGECACHE_TAG_DIRTY) || this.core.getMark(tree, index, PAGECACHE_TAG_WRITEBACK)) continue;
      if (wordPage(file.entryAt(index)) !== pfn) continue;
      file.deleteEntry(index); // unmaps it from every mapping and frees the page
      file.insertEntry(index, packShadow(++pool.evictions)); // workingset_eviction
      evicted++;
    }
    this.shrinkShadowNodes(byTree);
    return evicted;
  }

  /**
   * The shadow-node shrinker (mm/workingset.c count_shadow_nodes, shadow_lru_isolate): tree
   * nodes (64 aligned indices) of page-cache files that hold shadows and no page may number
   * at most the page-cache pages / 8 (`pages >> (XA_CHUNK_SHIFT - 3)`); the oldest beyond
   * that are freed with their shadows. Simplified: a node's age is its newest shadow's
   * eviction, and the shrinker runs once at the end of each reclaim call.
   */
  private shrinkShadowNodes(byTree: Map<number, DaxFile>): void {
    // A node can hold only shadows only after a page left it: those the pool noted, and
    // those found so before, are the candidates.
    for (const key of this.host.pageCache.nodesLeft) this.shadowOnly.add(key);
    this.host.pageCache.nodesLeft.clear();
    const nodes: { key: string; file: DaxFile; shadows: number[]; newest: number }[] = [];
    for (const key of this.shadowOnly) {
      const [tree, node] = key.split(':').map(Number) as [number, number];
      const file = byTree.get(tree);
      const shadows: number[] = [];
      let pages = 0;
      let newest = -1;
      for (let i = node * 64; file && i < node * 64 + 64; i++) {
        const word = file.entryAt(i);
        if (word === 0) continue;
        if (!isShadow(word)) pages++;
        else {
          shadows.push(i);
          newest = Math.max(newest, shadowEviction(word));
        }
      }
      if (!file || pages > 0 || shadows.length === 0) this.shadowOnly.delete(key);
      else nodes.push({ key, file, shadows, newest });
    }
    const maxNodes = this.host.pageCache.pages >> 3;
    if (nodes.length <= maxNodes) return;
    nodes.sort((x, y) => x.newest - y.newest);
    for (const n of nodes.slice(0, nodes.length - maxNodes)) {
      for (const index of n.shadows) n.file.dropEntry(index);
      this.shadowOnly.delete(n.key);
      this.counters.shadowNodesReclaimed++;
    }
  }

  /** linux-4.5's hole pages of DAX files, file by file in index order; with 'v3-shadow' each leaves a shadow. */
  private reclaimHolePages(pages: number): number {
    let evicted = 0;
    if (!this.rules.p45) return evicted;
    for (const file of this.files.values()) {
      if (!file.dax) continue;
      for (const e of this.core.entries(file.tree)) {
        if (evicted === pages) return evicted;
        if (!xaIsPointer(e.word)) continue;
        file.deleteEntry(e.index);
        if (this.host.bugs.shadowsInDax) file.insertEntry(e.index, packShadow(++this.host.pageCache.evictions));
        evicted++;
      }
    }
    return evicted;
  }

  /**
   * drop_caches (or POSIX_FADV_DONTNEED on every file): invalidate_mapping_pages over each
   * file. Page-cache files lose their clean, unmapped pages and their shadows
   * (pageCacheDropCaches, src/dax/page-cache.ts). linux-4.5 deletes every DAX entry this
   * way, dirty ones included, so a later fsync flushes nothing (bug B4, docs/kernel-rules.md
   * §5.1, §7 S13); the XArray-era kernels leave DAX entries alone. Returns the entries deleted.
   */
  dropCaches(): number {
    let dropped = 0;
    // Files still mapped after their unlink are inodes on the superblock's list too.
    const files = new Set([...this.files.values(), ...[...this.space].map((m) => m.file)]);
    for (const file of files) if (!file.dax) dropped += pageCacheDropCaches(this.host, file);
    if (!this.rules.p45 && !this.host.bugs.invalidateDirty) return dropped; // B4 deletes them, as v4.5 did
    for (const file of this.files.values()) {
      if (!file.dax) continue;
      for (const e of this.core.entries(file.tree)) {
        file.deleteEntry(e.index);
        dropped++;
      }
    }
    return dropped;
  }


  /** Emulator.checkInvariants over every file still held by a name or a mapping (src/dax/invariants.ts). */
  checkInvariants(): void {
    const mappings = new Set(this.space);
    checkDaxInvariants(this.core, this.rules, new Set([...this.files.values(), ...[...mappings].map((m) => m.file)]), mappings, this.host.pageCache);
  }

  /** The DAX counters, with nrpages and nrexceptional summed over the files. */
  stats(): DaxCounters & { nrpages: number; nrexceptional: number; pageCachePages: number } {
    let nrpages = 0;
    let nrexceptional = 0;
    for (const f of this.files.values()) {
      nrpages += f.nrpages;
      nrexceptional += f.nrexceptional;
    }
    return { ...this.counters, nrpages, nrexceptional, pageCachePages: this.host.pageCache.pages };
  }

  /** What a reboot keeps of the file system: each named file's size and committed blocks. */
  durableFiles(): DurableFile[] {
    return [...this.files.values()].map((file) => ({
      path: file.path,
      size: file.size,
      ...(file.dax ? {} : { dax: false as const }),
      blocks: [...file.blocks].filter(([, b]) => b.committed).map(([page, b]): [number, number, 0 | 1] => [page, b.pfn, b.unwritten ? 1 : 0]),
    }));
  }

  /** Boots this (empty) file system on durable files, after a crash or from a pool: their blocks are taken from the allocator. */
  restoreFiles(files: readonly DurableFile[]): void {
    for (const { path, size, blocks, dax } of files) {
      const copy = this.createFile(path, { size, dax: dax ?? true });
      for (const [page, pfn, unwritten] of blocks) {
        this.core.reserve(pfn, 1);
        copy.blocks.set(page, { pfn, unwritten: unwritten === 1, committed: true });
      }
      copy.commitMetadata();
    }
  }

  /** The file system after a reboot, on `image` (a fresh file system over the crashed media). */
  rebootInto(image: DaxFileSystem): void {
    image.restoreFiles(this.durableFiles());
  }
}
