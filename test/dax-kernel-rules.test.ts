// Kernel rules that decide what an fs_dax trace shows, one test per rule, for both
// XArray-era profiles: each test names the rule and the kernel source it comes from. A
// recorded kernel trace and the emulator's trace of the same program must agree on the
// events, their flags and their results.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import type { KernelProfile } from '../src/dax/kernel.js';
import type { TraceEvent } from '../src/dax/trace.js';

const MiB = 1 << 20;
const PAGE = 4096;
const PROFILES: KernelProfile[] = ['linux-6.12', 'linux-6.1'];
/** 4 KiB past a 2 MiB boundary: every PMD attempt falls back on colour. */
const COLOUR_OFF = 0x7e00_0000_1000;

const make = (kernel: KernelProfile): Promise<Emulator> => createEmulator({ capacity: 32 * MiB, kernel });
const one = new Uint8Array([1]);
/** The fault events as "name flags result". */
const faultEvents = (ev: TraceEvent[]): string[] =>
  ev.filter((e) => e.name.endsWith('_fault') || e.name.endsWith('_fault_done')).map((e) => `${e.name} ${e.flags} ${e.result ?? '-'}`);

describe.each(PROFILES)('kernel rules of the fs_dax trace (%s)', (kernel) => {
  it('rule 1, trace shape: dax_pte_fault_done and dax_pmd_fault_done print the fault flags of their start event (include/trace/events/fs_dax.h: both classes print vmf->flags)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const pmd = emu.mmap(f, { length: 2 * MiB });
    const pte = emu.mmap(f, { offset: 2 * MiB, length: 2 * MiB, address: COLOUR_OFF });
    const t = emu.startTrace();
    pmd.load(0, 1); // PMD read of a hole
    pmd.store(0, one); // write over the huge zero page
    pte.load(0, 1); // PTE read of a hole (after the PMD attempt falls back)
    pte.store(0, one); // store to the zero-page PTE
    pte.store(PAGE, one); // first write of a new page
    emu.msync(pte.address, PAGE, { sync: true });
    pte.store(0, one); // write-protected by writeback
    const ev = t.stop();
    const starts = ev.filter((e) => e.name === 'dax_pte_fault' || e.name === 'dax_pmd_fault');
    const dones = ev.filter((e) => e.name === 'dax_pte_fault_done' || e.name === 'dax_pmd_fault_done');
    expect(dones.length).toBe(starts.length);
    expect(dones.map((e) => `${e.name.replace('_done', '')} ${e.flags}`)).toEqual(starts.map((e) => `${e.name} ${e.flags}`));
    expect(new Set(dones.map((e) => e.flags))).toEqual(new Set(['R', 'W', 'W+MKWRITE']));
    // dax_load_hole is of the PTE class too, and prints the flags.
    expect(ev.filter((e) => e.name === 'dax_load_hole').map((e) => e.flags)).toEqual(['R']);
  });

  it('rule 2, no MAJOR on the PMD path: a first-touch PMD write ends NOPAGE, a first-touch PTE write MAJOR|NOPAGE (fs/dax.c: only dax_iomap_pte_fault ORs in VM_FAULT_MAJOR)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const pmd = emu.mmap(f, { length: 2 * MiB });
    const pte = emu.mmap(f, { offset: 2 * MiB, length: 2 * MiB, address: COLOUR_OFF });
    const t = emu.startTrace();
    pmd.store(0, one);
    pte.store(0, one);
    expect(faultEvents(t.stop())).toEqual([
      'dax_pmd_fault W -', 'dax_pmd_fault_done W NOPAGE',
      'dax_pmd_fault W -', 'dax_pmd_fault_done W FALLBACK',
      'dax_pte_fault W -', 'dax_pte_fault_done W MAJOR|NOPAGE',
    ]);
    // The PMD fault allocated and zeroed its 2 MiB all the same; only the PTE fault counts as major.
    expect(emu.stats().dax.majorFaults).toBe(1);
  });

  it('rule 2, no MAJOR on the PMD path: a first-touch MAP_SYNC PMD write ends NEEDDSYNC, not MAJOR|NEEDDSYNC (fs/dax.c dax_iomap_pmd_fault)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 2 * MiB });
    const m = emu.mmap(f, { sync: true });
    const t = emu.startTrace();
    expect(m.fault(0, 'write')).toEqual({ result: 'needdsync', fallback: false });
    expect(t.stop().filter((e) => e.name === 'dax_pmd_fault_done').map((e) => e.result)).toEqual(['NEEDDSYNC']);
  });

  it('rule 3: a write to a huge PMD that writeback write-protected reaches huge_fault with W only, not W+MKWRITE (mm/memory.c wp_huge_pmd); it still counts as a mkwrite fault', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 2 * MiB });
    const m = emu.mmap(f);
    m.store(0, one);
    m.msync(0, 2 * MiB, { sync: true });
    const t = emu.startTrace();
    const before = emu.stats().dax;
    expect(m.fault(8 * PAGE, 'write')).toEqual({ result: 'mkwrite', fallback: false });
    expect(faultEvents(t.stop())).toEqual(['dax_pmd_fault W -', 'dax_pmd_fault_done W NOPAGE']);
    expect(emu.stats().dax.mkwriteFaults - before.mkwriteFaults).toBe(1);
    expect(short(f)).toEqual(['0:data-pmd{D}']);
  });

  it('rule 3: a write over the huge zero page reaches huge_fault with W only and maps the storage: a PMD fault, not a mkwrite (mm/memory.c wp_huge_pmd)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 2 * MiB });
    const m = emu.mmap(f);
    expect(m.fault(0, 'read').result).toBe('zero-pmd');
    const before = emu.stats().dax;
    const t = emu.startTrace();
    expect(m.fault(0, 'write')).toEqual({ result: 'pmd', fallback: false });
    expect(faultEvents(t.stop())).toEqual(['dax_pmd_fault W -', 'dax_pmd_fault_done W NOPAGE']);
    const after = emu.stats().dax;
    expect([after.pmdFaults - before.pmdFaults, after.mkwriteFaults - before.mkwriteFaults]).toEqual([1, 0]);
  });

  it('rule 3: a store to a PTE of the zero page comes through pfn_mkwrite: W+MKWRITE, MAJOR when it allocates (mm/memory.c wp_pfn_shared)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 2 * MiB });
    const m = emu.mmap(f, { address: COLOUR_OFF });
    expect(m.fault(0, 'read').result).toBe('zero-pte');
    const t = emu.startTrace();
    expect(m.fault(0, 'write')).toEqual({ result: 'pte', fallback: false });
    expect(faultEvents(t.stop())).toEqual(['dax_pte_fault W+MKWRITE -', 'dax_pte_fault_done W+MKWRITE MAJOR|NOPAGE']);
  });

  it('rule 3: a store to a PTE that writeback write-protected is W+MKWRITE without MAJOR (mm/memory.c do_page_mkwrite, wp_pfn_shared)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 2 * MiB });
    const m = emu.mmap(f, { address: COLOUR_OFF });
    m.store(0, one);
    m.msync(0, PAGE, { sync: true });
    const t = emu.startTrace();
    expect(m.fault(0, 'write').result).toBe('mkwrite');
    expect(faultEvents(t.stop())).toEqual(['dax_pte_fault W+MKWRITE -', 'dax_pte_fault_done W+MKWRITE NOPAGE']);
  });

  it('rule 4: msync and fsync of a file with nothing tagged DIRTY emit no dax_writeback_range at all; the fence stays (mm/filemap.c filemap_fdatawrite_wbc, since v5.4)', async () => {
    const emu = await make(kernel);
    const clean = emu.createFile('/clean', { size: 2 * MiB, allocate: 'written' });
    const f = emu.createFile('/f', { size: 2 * MiB });
    const m = emu.mmap(f, { address: COLOUR_OFF });
    m.store(0, one);
    const t = emu.startTrace();
    expect(m.msync(0, 2 * MiB, { sync: true })).toMatchObject({ entries: 1, fences: 1 });
    const second = m.msync(0, 2 * MiB, { sync: true }); // everything is clean now
    const none = clean.fsync(); // never faulted: no entry at all
    const names = t.stop().map((e) => e.name);
    expect(names.filter((n) => n === 'dax_writeback_range')).toHaveLength(1);
    expect(names.filter((n) => n === 'dax_writeback_range_done')).toHaveLength(1);
    expect([second.entries, second.fences, none.entries, none.fences]).toEqual([0, 1, 0, 1]);
    expect(emu.stats().dax.writebackCalls).toBe(3);
  });

  it('rule 4: a MAP_SYNC fault inserts its own entry clean, so its fdatasync of a file with nothing DIRTY writes nothing back (fs/dax.c dax_finish_sync_fault)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 2 * MiB });
    const m = emu.mmap(f, { sync: true, address: COLOUR_OFF });
    const t = emu.startTrace();
    m.store(0, one);
    expect(t.stop().map((e) => `${e.name} ${e.result ?? '-'}`)).toEqual([
      'dax_pmd_fault -', 'dax_pmd_fault_done FALLBACK', 'dax_pte_fault -', 'dax_pte_fault_done MAJOR|NEEDDSYNC', 'dax_insert_pfn_mkwrite NOPAGE',
    ]);
    expect(short(f)).toEqual(['0:data-pte{D}']); // dirty once the PTE is writable
  });

  it('rule 4: the fdatasync of a MAP_SYNC fault writes back what an earlier fault left DIRTY in its range: the DATA-PMD it lands in (fs/dax.c dax_finish_sync_fault)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 2 * MiB });
    const a = emu.mmap(f); // aligned: a PMD write, DIRTY, its extent not committed yet
    const b = emu.mmap(f, { sync: true, address: COLOUR_OFF });
    a.store(0, one);
    const t = emu.startTrace();
    b.store(5 * PAGE, one);
    const ev = t.stop();
    expect(ev.map((e) => e.name)).toEqual([
      'dax_pmd_fault', 'dax_pmd_fault_done', 'dax_pte_fault', 'dax_pte_fault_done',
      'dax_writeback_range', 'dax_writeback_one', 'dax_writeback_range_done', 'dax_insert_pfn_mkwrite_no_entry',
      // A PMD entry where a PTE was asked for: NOPAGE, and the store faults again, now with nothing to sync.
      'dax_pte_fault', 'dax_pte_fault_done',
    ]);
    expect(ev.filter((e) => e.name === 'dax_writeback_one').map((e) => [e.pgoff, e.pglen])).toEqual([[0, 512]]);
    expect(ev.find((e) => e.name === 'dax_pte_fault_done')!.result).toBe('NEEDDSYNC');
  });
});

/**
 * The sequence of rule 5: a byte stored in each page of a 4 MiB file through one mapping,
 * the file truncated to 1 MiB, fsync, a guaranteed crash. Returns how many of the 256 pages
 * below the new size keep their byte, and the truncate's cost in emulated ns.
 */
async function truncateAfterStore(kernel: KernelProfile, options: { address?: number; fixes?: 'truncate-writeback'[] } = {}): Promise<{ kept: number; truncateNs: number; trace: TraceEvent[] }> {
  const emu = await createEmulator({ capacity: 32 * MiB, kernel, fixes: options.fixes });
  const f = emu.createFile('/f', { size: 4 * MiB });
  const m = emu.mmap(f, { address: options.address });
  for (let p = 0; p < 1024; p++) m.store(p * PAGE, new Uint8Array([p % 255 + 1]));
  const t = emu.startTrace();
  const t0 = emu.now();
  f.truncate(1 * MiB);
  const truncateNs = emu.now() - t0;
  f.fsync();
  const trace = t.stop();
  const image = (await emu.crash({ mode: 'guaranteed' })).open('/f').pread(0, 1 * MiB);
  let kept = 0;
  for (let p = 0; p < 256; p++) if (image[p * PAGE] === p % 255 + 1) kept++;
  return { kept, truncateNs, trace };
}

describe.each(PROFILES)('kernel rule 5: truncate and a dirty PMD entry (%s)', (kernel) => {
  it('rule 5, a kernel behaviour: a dirty PMD entry deleted by truncate is never written back; 1024 stores, truncate to 1 MiB, fsync, crash: none of the 256 pages below the new size keeps its byte (mm/truncate.c, fs/dax.c dax_delete_mapping_entry)', async () => {
    const { kept, trace } = await truncateAfterStore(kernel);
    expect(kept).toBe(0);
    // The fsync finds nothing DIRTY: the entry that covered pages 0..511 went whole.
    expect(trace.filter((e) => e.name === 'dax_writeback_one')).toEqual([]);
  });

  it('rule 5: with PTE entries only the entries past the new size go, and all 256 bytes below it survive', async () => {
    expect((await truncateAfterStore(kernel, { address: COLOUR_OFF })).kept).toBe(256);
  });

  it("rule 5: the fix 'truncate-writeback' writes back the entry holding the new end before the truncate (as xfs_setattr_size does, fs/xfs/xfs_iops.c v6.1): all 256 bytes survive, for one 2 MiB writeback", async () => {
    const plain = await truncateAfterStore(kernel);
    const fixed = await truncateAfterStore(kernel, { fixes: ['truncate-writeback'] });
    expect(fixed.kept).toBe(256);
    expect(fixed.trace.filter((e) => e.name === 'dax_writeback_one').map((e) => [e.pgoff, e.pglen])).toEqual([[0, 512]]);
    // The price: flushing the entry's 32768 lines, against nothing without the fix.
    expect(fixed.truncateNs).toBeGreaterThan(plain.truncateNs + 100_000);
  });
});

describe('kernel rule 5 on linux-4.5, and the fixes option', () => {
  it('linux-4.5 keeps a PMD entry in one slot at its aligned index: a truncate inside the 2 MiB leaves it, and all 256 bytes survive', async () => {
    expect((await truncateAfterStore('linux-4.5')).kept).toBe(256);
  });

  it("the fix 'truncate-writeback' is refused on linux-4.5 with EINVAL saying why", async () => {
    const err = await createEmulator({ kernel: 'linux-4.5', fixes: ['truncate-writeback'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EINVAL' });
    expect(String((err as Error).message)).toMatch(/linux-4.5 keeps a PMD entry in one slot/);
  });

  it('an unknown fix, or fixes that are not an array, is EINVAL listing the valid names; the emulator is not made', async () => {
    for (const fixes of [['truncate-writeback', 'no-such-fix'], 'truncate-writeback', [7]]) {
      const err = await createEmulator({ fixes: fixes as never }).catch((e: unknown) => e);
      expect(err, JSON.stringify(fixes)).toMatchObject({ code: 'EINVAL' });
      expect(String((err as Error).message)).toMatch(/truncate-writeback/);
    }
  });

  it('an emulator made with a fix keeps it in its options and across a crash', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB, fixes: ['truncate-writeback', 'truncate-writeback'] });
    expect(emu.options.fixes).toEqual(['truncate-writeback']);
    expect((await emu.crash()).options.fixes).toEqual(['truncate-writeback']);
  });
});

describe('kernel rule 4 on linux-4.5', () => {
  it('linux-4.5 keeps its own early return: no DAX entry, no writeback and no fence; a clean DAX entry still gets its dax_writeback_range (fs/dax.c v4.5 predates the DIRTY check of v5.4)', async () => {
    const emu = await createEmulator({ capacity: 32 * MiB, kernel: 'linux-4.5' });
    const f = emu.createFile('/f', { size: 2 * MiB, allocate: 'written' });
    const t = emu.startTrace();
    expect(f.fsync()).toMatchObject({ entries: 0, fences: 0 });
    const m = emu.mmap(f, { address: COLOUR_OFF });
    m.load(0, 1); // a read of a block inserts a clean PTE entry
    expect(f.fsync()).toMatchObject({ entries: 0, fences: 1 });
    expect(t.stop().filter((e) => e.name === 'dax_writeback_range')).toHaveLength(1);
  });
});

/** The tree of `f` as `index:kind-size{D}` strings. */
function short(f: { entries(): { index: number; order: number; kind: string; dirty: boolean }[] }): string[] {
  return f.entries().map((e) => `${e.index}:${e.kind}-${e.order ? 'pmd' : 'pte'}{${e.dirty ? 'D' : ''}}`);
}
