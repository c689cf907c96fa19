/**
 * Page-cache (non-DAX) files (src/dax/page-cache.ts): write(2), read(2) and mmap through DRAM
 * pages, writeback to the media with non-temporal copies and a device flush, crash loss of
 * everything not written back, reclaim with workingset shadows and refaults
 * (mm/workingset.c, simplified), and the rules checkInvariants holds them to
 * (docs/kernel-rules.md §5.4: no shadow in a DAX tree, no DAX entry in a page-cache tree).
 */
import { describe, expect, it } from 'vitest';
import { daxMkEntry } from '../src/core/index.js';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import type { KernelProfile } from '../src/dax/index.js';
import { expectCode } from './helpers.js';

const MiB = 1 << 20;
const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

async function emulator(kernel: KernelProfile = 'linux-6.12'): Promise<Emulator> {
  return createEmulator({ capacity: 16 * MiB, kernel });
}

describe('page-cache files: write(2), read(2), fsync and crash', () => {
  it('a buffered write lands in a dirty DRAM page, not on the media: a crash before fsync loses it, fsync makes it durable', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 16384, dax: false });
    const nt0 = emu.stats().ntLines;
    f.pwrite(4096, bytes(100, 7));
    expect(f.pread(4096, 100)).toEqual(bytes(100, 7));
    expect(f.entries()).toMatchObject([{ index: 1, kind: 'page', dirty: true }]);
    expect(f.nrpages).toBe(1);
    expect(emu.stats().dax.pageCachePages).toBe(1);
    emu.checkInvariants();
    const lost = await emu.crash();
    expect(lost.open('/pc').pread(4096, 100)).toEqual(bytes(100, 0));

    const r = f.fsync();
    expect(r).toMatchObject({ entries: 1, lines: 64, fences: 1 });
    // The pmem driver's copy: 64 non-temporal lines (zeroing of the new block apart).
    expect(emu.stats().ntLines - nt0 - emu.stats().dax.zeroingLines).toBe(64);
    expect(f.entries()).toMatchObject([{ index: 1, kind: 'page', dirty: false, towrite: false }]);
    expect(f.fsync().entries).toBe(0); // clean now
    const kept = await emu.crash();
    const g = kept.open('/pc');
    expect(g.entries()).toEqual([]); // a reboot has an empty page cache
    expect(g.pread(4096, 100)).toEqual(bytes(100, 7)); // read in from the media
    expect(g.entries()).toMatchObject([{ index: 1, kind: 'page', dirty: false }]);
    kept.checkInvariants();
  });

  it('mmap stores dirty the page; msync writes it back and write-protects the PTE, so the next store faults (page_mkwrite)', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 16384, dax: false });
    const m = emu.mmap(f);
    expect(m.fault(0, 'read')).toMatchObject({ result: 'pte' });
    m.store(0, bytes(64, 3)); // a store to the read-only page: mkwrite
    expect(emu.stats().dax.mkwriteFaults).toBe(1);
    expect(f.pread(0, 64)).toEqual(bytes(64, 3)); // read(2) and the mapping share the page
    expect(f.entries()).toMatchObject([{ index: 0, kind: 'page', dirty: true }]);
    emu.checkInvariants();
    expect(m.msync(0, 16384)).toMatchObject({ entries: 1, lines: 64, fences: 1 });
    expect(m.storeWouldFault(0)).toBe(true);
    m.store(0, bytes(1, 4));
    expect(emu.stats().dax.mkwriteFaults).toBe(2);
    m.msync(0, 16384);
    emu.checkInvariants();
    expect((await emu.crash()).open('/pc').pread(0, 2)).toEqual(new Uint8Array([4, 3]));
  });

  it('a DAX file and a page-cache file in one emulator keep their own rules', async () => {
    const emu = await emulator();
    const d = emu.createFile('/dax', { size: 16384 });
    const p = emu.createFile('/pc', { size: 16384, dax: false });
    emu.mmap(d).store(0, bytes(8, 1));
    emu.mmap(p).store(0, bytes(8, 2));
    expect(d.entries()).toMatchObject([{ kind: 'data', dirty: true }]);
    expect(p.entries()).toMatchObject([{ kind: 'page', dirty: true }]);
    emu.checkInvariants();
    emu.sync();
    const image = await emu.crash();
    expect(image.open('/dax').pread(0, 8)).toEqual(bytes(8, 1));
    expect(image.open('/pc').pread(0, 8)).toEqual(bytes(8, 2));
  });
});

describe('page-cache files: reclaim, shadows and refaults (mm/workingset.c, simplified)', () => {
  it('reclaim evicts clean pages in LRU order, leaves a shadow with the eviction counter, and skips dirty pages', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 8 * 4096, allocate: 'written', dax: false });
    for (const p of [3, 1, 2]) f.pread(p * 4096, 1); // LRU: 3, 1, 2
    f.pwrite(0, bytes(1, 9)); // page 0 dirty, most recent
    expect(emu.reclaim({ pages: 2, seed: 5 })).toBe(2);
    const kinds = Object.fromEntries(f.entries().map((e) => [e.index, e.kind]));
    expect(kinds).toEqual({ 0: 'page', 1: 'shadow', 2: 'page', 3: 'shadow' });
    expect(f.nrpages).toBe(2); // shadows are not pages
    emu.checkInvariants();
    expect(emu.reclaim(10)).toBe(1); // page 2; page 0 is dirty
    expect(f.entries().find((e) => e.index === 0)).toMatchObject({ kind: 'page', dirty: true });
  });

  it('a read that finds a shadow is a refault, counted with its refault distance (evictions since its own)', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 8 * 4096, allocate: 'written', dax: false });
    for (let p = 0; p < 5; p++) f.pread(p * 4096, 1); // page 4 stays cached, so its node is kept (see the shrinker below)
    expect(emu.reclaim(4)).toBe(4); // evictions 1..4 for pages 0..3
    f.pread(0, 1); // shadow of eviction 1, now at 4: distance 3
    expect(emu.stats().dax).toMatchObject({ refaults: 1, refaultDistance: 3 });
    f.pread(3, 1); // the same page again: cached, no refault
    f.pread(3 * 4096, 1); // eviction 4: distance 0
    expect(emu.stats().dax).toMatchObject({ refaults: 2, refaultDistance: 3 });
    expect(f.entries().filter((e) => e.kind === 'shadow').map((e) => e.index)).toEqual([1, 2]);
    emu.checkInvariants();
  });

  it('reclaim unmaps a mapped clean page; the next load refaults it through the mapping', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 8192, dax: false });
    const m = emu.mmap(f);
    m.store(0, bytes(4, 5));
    f.pread(4096, 1); // a page that stays, so that the node keeps the shadow
    f.fsync();
    expect(emu.reclaim(1)).toBe(1);
    expect(m.storeWouldFault(0)).toBe(true);
    expect(m.load(0, 4)).toEqual(bytes(4, 5));
    expect(emu.stats().dax.refaults).toBe(1);
    emu.checkInvariants();
  });

  it('linux-4.5 DAX hole pages still leave no shadow, whatever page-cache files do beside them', async () => {
    const emu = await emulator('linux-4.5');
    const d = emu.createFile('/dax', { size: 16384 });
    const p = emu.createFile('/pc', { size: 16384, allocate: 'written', dax: false });
    emu.mmap(d, { address: 0x7e00_0000_1000 }).load(0, 1);
    p.pread(0, 1);
    p.pread(4096, 1);
    expect(emu.reclaim(2)).toBe(2);
    expect(d.entries()).toEqual([]);
    expect(p.entries()).toMatchObject([{ index: 0, kind: 'shadow' }, { index: 1, kind: 'page' }]);
    emu.checkInvariants();
  });
});

describe('page-cache files: drop_caches (fs/drop_caches.c, invalidate_mapping_pages in mm/truncate.c, Linux v6.1)', () => {
  it('drops the clean pages no PTE maps and leaves no shadow for them; deletes shadows; keeps dirty and mapped pages', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 8 * 4096, allocate: 'written', dax: false });
    f.pwrite(1 * 4096, bytes(8, 6));
    f.fsync(); // page 1 clean, its bytes on the media
    for (const p of [0, 2, 3]) f.pread(p * 4096, 1);
    f.pwrite(4 * 4096, bytes(8, 4)); // dirty
    const m = emu.mmap(f);
    m.load(5 * 4096, 1); // clean, mapped by a PTE
    expect(emu.reclaim(1)).toBe(1); // page 1, the least recently used: a shadow
    expect(f.entries().find((e) => e.index === 1)).toMatchObject({ kind: 'shadow' });
    const pool = emu.stats().dax.pageCachePages;

    expect(emu.dropCaches()).toBe(4); // the shadow of page 1, pages 0, 2 and 3
    expect(f.entries()).toMatchObject([{ index: 4, kind: 'page', dirty: true }, { index: 5, kind: 'page', dirty: false }]);
    expect(f.nrpages).toBe(2);
    expect(emu.stats().dax.pageCachePages).toBe(pool - 3); // their DRAM pages went back to the pool
    emu.checkInvariants();
    // Invalidation is not reclaim: no shadow was left, so reading the pages again is no refault.
    expect(f.pread(1 * 4096, 8)).toEqual(bytes(8, 6));
    f.pread(0, 1);
    expect(emu.stats().dax.refaults).toBe(0);
    expect(m.storeWouldFault(5 * 4096)).toBe(true); // still mapped read-only, never unmapped
    expect(emu.dropCaches()).toBe(2); // pages 0 and 1 again
    // Once unmapped, the clean page goes too; the dirty one stays until it is written back.
    m.munmap();
    expect(emu.dropCaches()).toBe(1);
    expect(f.entries()).toMatchObject([{ index: 4, kind: 'page', dirty: true }]);
    f.fsync();
    expect(emu.dropCaches()).toBe(1);
    expect(f.entries()).toEqual([]);
    expect((await emu.crash()).open('/pc').pread(4 * 4096, 8)).toEqual(bytes(8, 4));
  });

  it('linux-4.5 deletes dirty DAX entries (B4) but keeps a dirty page-cache page, which fsync still makes durable', async () => {
    const emu = await emulator('linux-4.5');
    const d = emu.createFile('/dax', { size: 16384 });
    const p = emu.createFile('/pc', { size: 16384, dax: false });
    emu.mmap(d, { address: 0x7e00_0000_1000 }).store(0, bytes(8, 1));
    p.pwrite(0, bytes(8, 2));
    expect(emu.dropCaches()).toBe(1); // the DAX entry only
    expect(d.entries()).toEqual([]);
    expect(p.entries()).toMatchObject([{ index: 0, kind: 'page', dirty: true }]);
    expect(p.fsync().entries).toBe(1);
    emu.checkInvariants();
    expect((await emu.crash()).open('/pc').pread(0, 8)).toEqual(bytes(8, 2));
  });

  it('on a crash image (a rebooted emulator, where calls are not refused) it drops what was read in, and nothing durable is lost', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 16384, dax: false });
    f.pwrite(0, bytes(8, 3));
    f.fsync();
    const image = await emu.crash();
    const g = image.open('/pc');
    expect(g.pread(0, 8)).toEqual(bytes(8, 3));
    expect(image.dropCaches()).toBe(1);
    expect(g.entries()).toEqual([]);
    expect(g.pread(0, 8)).toEqual(bytes(8, 3));
  });
});

describe('page-cache files: the shadow-node shrinker (mm/workingset.c count_shadow_nodes, shadow_lru_isolate)', () => {
  it('keeps at most pages / 8 nodes that hold only shadows, freeing the oldest; nodes with a page are never freed', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 1024 * 4096, allocate: 'written', dax: false });
    for (let p = 0; p < 1024; p++) f.pread(p * 4096, 1);
    expect(emu.reclaim(64)).toBe(64); // node 0 holds only shadows; 960 pages allow 120 such nodes
    expect(f.entries().filter((e) => e.kind === 'shadow')).toHaveLength(64);
    expect(emu.reclaim(1016 - 64)).toBe(952); // 8 pages left: at most one shadow-only node
    const shadows = f.entries().filter((e) => e.kind === 'shadow').map((e) => e.index);
    // Nodes 0..13 went (the oldest); node 14, the newest shadow-only one, and node 15's shadows stay.
    expect(shadows[0]).toBe(14 * 64);
    expect(shadows).toHaveLength(64 + 56);
    expect(emu.stats().dax.shadowNodesReclaimed).toBe(14);
    emu.checkInvariants();
  });
});

describe('page-cache files: memory and invariants', () => {
  it('a page costs 4 KiB of the DRAM pool plus 16 bytes of metadata', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 256 * 4096, dax: false });
    f.pwrite(0, bytes(256 * 4096, 1));
    expect(emu.stats().dax.pageCachePages).toBe(256);
    // The pool grows by chunks of 256 pages: exactly one here.
    expect((emu as unknown as { fs: { host: { pageCache: { bytes: number } } } }).fs.host.pageCache.bytes).toBe(256 * (4096 + 16));
  });

  it('checkInvariants fails on a DAX entry in a page-cache tree', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 16384, dax: false });
    emu.core.store(f.tree, 2, 0, daxMkEntry(7, 0));
    expect(() => emu.checkInvariants()).toThrow(/index 2 holds a DAX entry .* in a page-cache tree/);
  });
});

describe("writeback's copy in one call (Core.pmNtStorePages, assembly/page-copy.ts)", () => {
  it('costs, counts and stores what one non-temporal store per page does, in order', async () => {
    const [a, b] = [await emulator(), await emulator()];
    const addrs = [5, 2, 9, 3].map((p) => p * 4096);
    const pages = addrs.map((_, i) => bytes(4096, 10 + i));
    a.core.pmStore(0, 3 * 4096, bytes(64, 1)); // a dirty cached line under one of the copies
    b.core.pmStore(0, 3 * 4096, bytes(64, 1));
    addrs.forEach((addr, i) => a.core.pmStore(0, addr, pages[i]!, true));
    b.core.pmNtStorePages(0, addrs, pages);
    expect(b.core.pmSnapshot()).toEqual(a.core.pmSnapshot());
    expect(b.core.pmUndoList()).toEqual(a.core.pmUndoList());
    for (const addr of addrs) expect(b.core.pmLoad(0, addr, 4096)).toEqual(a.core.pmLoad(0, addr, 4096));
  });

  it('refuses a misaligned or outside address, a short page or a bad CPU before storing any page', async () => {
    const emu = await emulator();
    const page = bytes(4096, 1);
    const before = emu.core.pmSnapshot();
    expectCode(() => emu.core.pmNtStorePages(0, [0, 100], [page, page]), 'EINVAL');
    expectCode(() => emu.core.pmNtStorePages(0, [0, 16 * MiB], [page, page]), 'ERANGE');
    expectCode(() => emu.core.pmNtStorePages(0, [0, 4096], [page, page.subarray(1)]), 'EINVAL');
    expectCode(() => emu.core.pmNtStorePages(0, [0], [page, page]), 'EINVAL');
    expectCode(() => emu.core.pmNtStorePages(99, [0], [page]), 'EINVAL');
    expect(emu.core.pmSnapshot()).toEqual(before);
    expect(emu.core.pmLoad(0, 0, 4)).toEqual(bytes(4, 0));
  });
});

describe('page-cache files: bad input', () => {
  it('MAP_SYNC on a page-cache file is EOPNOTSUPP; a non-boolean dax is EINVAL; reclaim with a negative count is EINVAL; nothing changes', async () => {
    const emu = await emulator();
    const f = emu.createFile('/pc', { size: 16384, dax: false });
    f.pwrite(0, bytes(10, 1));
    f.fsync();
    expectCode(() => emu.mmap(f, { sync: true }), 'EOPNOTSUPP');
    expectCode(() => emu.createFile('/x', { dax: 'no' as unknown as boolean }), 'EINVAL');
    expectCode(() => emu.reclaim(-1), 'EINVAL');
    expectCode(() => emu.reclaim({ pages: -3 }), 'EINVAL');
    expectCode(() => emu.reclaim({ pages: 1, seed: -1 }), 'EINVAL');
    expect(f.entries()).toMatchObject([{ index: 0, kind: 'page' }]);
    expect(() => emu.open('/x')).toThrow();
    expect((await emu.crash()).open('/pc').pread(0, 10)).toEqual(bytes(10, 1));
  });
});

describe("the 'page-cache' strategy (src/job/strategies.ts): the workloads on a non-DAX file with msync", () => {
  it('keeps every acknowledged write durable, copies each dirty page with 64 non-temporal lines per sync, and is opt-in', async () => {
    const { planCells, runCell, STRATEGY_NAMES } = await import('../src/job/index.js');
    const spec = { workload: 'page-rewrite' as const, strategy: 'page-cache' as const, preset: 'optane-g1' as const, kernel: 'linux-6.12' as const, pageSize: 'pte' as const, instruction: 'clwb' as const, size: { ops: 20, opsPerSync: 1 }, seed: 1 };
    const r = await runCell(spec);
    expect(r.durable).toBe(true);
    expect(r.durabilityChecks).toBe(r.syncs + 1);
    expect([r.linesPerSync, r.ntLinesPerSync]).toEqual([0, 64]);
    const onP45 = await runCell({ ...spec, kernel: 'linux-4.5', workload: 'kv-update', size: { ops: 40, opsPerSync: 4 } });
    expect(onP45.durable).toBe(true);
    expect(STRATEGY_NAMES as readonly string[]).not.toContain('page-cache');
    const planned = planCells({ workloads: ['log-append'], strategies: ['msync', 'page-cache'], presets: ['optane-g1'], kernels: ['linux-4.5'], pageSizes: ['pte'], instruction: 'clwb', ops: 10, seed: 1, threads: 1 });
    expect(planned.map((c) => c.strategy)).toEqual(['msync', 'page-cache']);
  });
});

describe('page-cache files: the background flusher (dirty_expire_centisecs, mm/page-writeback.c)', () => {
  it('writes back and commits only files dirtied at least expireNs ago on the emulated clock; DAX files are left alone', async () => {
    const emu = await emulator();
    const old = emu.createFile('/old', { size: 16384, dax: false });
    const young = emu.createFile('/young', { size: 16384, dax: false });
    const d = emu.createFile('/dax', { size: 16384 });
    old.pwrite(0, bytes(8, 1));
    const t0 = emu.now();
    const m = emu.mmap(d, { address: 0x7e00_0000_1000 });
    for (let p = 0; p < 4; p++) m.store(p * 4096, bytes(1, 2)); // four faults: 40 us of emulated time
    young.pwrite(0, bytes(8, 3));
    const since = emu.now() - t0;
    expect(since).toBeGreaterThanOrEqual(40_000);
    expect(emu.backgroundWriteback().entries).toBe(0); // 30 s have not passed
    const r = emu.backgroundWriteback({ expireNs: since });
    expect(r).toMatchObject({ entries: 1, fences: 1 });
    expect(old.dirtiedAt).toBeNull();
    expect(young.dirtiedAt).not.toBeNull();
    expect(d.entries().every((e) => e.dirty)).toBe(true);
    const image = await emu.crash();
    expect(image.open('/old').pread(0, 8)).toEqual(bytes(8, 1));
    expect(image.open('/young').pread(0, 8)).toEqual(bytes(8, 0));
    expectCode(() => emu.backgroundWriteback({ expireNs: -1 }), 'EINVAL');
  });
});

describe("flush-cost with the 'page-cache' strategy (src/job/flush-cost.ts)", () => {
  it('copies whole pages: 64 lines for any dirty count within a page, 64 per dirty page across 2 MiB; opt-in', async () => {
    const { runFlushCost, FLUSH_COST_STRATEGIES } = await import('../src/job/index.js');
    const rows = await runFlushCost({ presets: ['optane-g1'], kernels: ['linux-6.12'], instructions: ['clwb'], dirtyCounts: [1, 64], strategies: ['page-cache'] });
    expect(rows.map((r) => [r.strategy, r.pageSize, r.dirtyLines, r.lines])).toEqual([
      ['page-cache', 'pte', 1, 64], ['page-cache', 'pte', 64, 64], ['page-cache', 'pmd', 1, 64], ['page-cache', 'pmd', 64, 64 * 64],
    ]);
    expect(FLUSH_COST_STRATEGIES).not.toContain('page-cache');
  });
});
