// The linux-4.5 profile (P45: docs/kernel-rules.md §3.1, §4.2, §5.1, §5.3 and the P45 lines
// of the §7 scenarios): hole pages, DIRTY never cleared, no write-protect, one wmb_pmem
// per writeback call that passes the early checks, a PMD entry in one slot.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import { expectCode } from './helpers.js';

const KiB = 1024;
const MiB = 1 << 20;

const make = (): Promise<Emulator> => createEmulator({ capacity: 64 * MiB, kernel: 'linux-4.5' });
const short = (entries: { index: number; order: number; kind: string; dirty: boolean; towrite: boolean }[]): string[] =>
  entries.map((e) => `${e.index}:${e.kind}${e.kind === 'data' ? (e.order ? '-pmd' : '-pte') : ''}{${e.dirty ? 'D' : ''}${e.towrite ? 'T' : ''}}`);

describe('linux-4.5 (P45)', () => {
  it('S1: a hole read maps a hole page (nrpages 1, no DAX entry); msync returns early: no line, no fence', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    expect(m.fault(0, 'read').result).toBe('zero-pte');
    expect(short(f.entries())).toEqual(['0:holepage{}']);
    expect([f.nrpages, f.nrexceptional]).toEqual([1, 0]);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 0, fences: 0 });
    emu.checkInvariants();
  });

  it('S2, S3 (B5): writeback clears TOWRITE but never DIRTY and write-protects nothing: every msync flushes the entry again', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    m.store(0, new Uint8Array([1]));
    expect(short(f.entries())).toEqual(['0:data-pte{D}']);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ entries: 1, lines: 64, fences: 1 });
    expect(short(f.entries())).toEqual(['0:data-pte{D}']);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 64, fences: 1 });
    const faults = emu.stats().dax.faults;
    m.store(0, new Uint8Array([2])); // still writable: no fault
    expect(emu.stats().dax.faults).toBe(faults);
    emu.checkInvariants();
  });

  it('S4: a read of a written block inserts a clean entry, so msync fences (N > 0) without flushing; pfn_mkwrite dirties it', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    m.load(0, 1);
    expect(short(f.entries())).toEqual(['0:data-pte{}']);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 0, fences: 1 });
    expect(m.fault(0, 'write').result).toBe('mkwrite');
    expect(short(f.entries())).toEqual(['0:data-pte{D}']);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 64 });
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 64 });
    emu.checkInvariants();
  });

  it('S5: a store over a hole page unmaps it and deletes it from the page cache, leaving no shadow; a DATA entry takes the slot', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    m.load(4096, 1);
    m.store(4096, new Uint8Array([5]));
    expect(short(f.entries())).toEqual(['1:data-pte{D}']);
    expect([f.nrpages, f.nrexceptional]).toEqual([0, 1]);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 64, fences: 1 });
    emu.checkInvariants();
  });

  it('S7: a PMD read of a hole maps the huge zero page and creates no entry; msync returns early', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f);
    expect(m.fault(0, 'read')).toEqual({ result: 'zero-pmd', fallback: false });
    expect(f.entries()).toEqual([]);
    expect(m.msync(0, 4 * MiB, { sync: true })).toMatchObject({ lines: 0, fences: 0 });
    emu.checkInvariants();
  });

  it('a PMD entry sits in one slot beside PTE entries of its range; a PTE write inside the range dirties only the PMD entry', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 4 * MiB, allocate: 'written' });
    const off = emu.mmap(f, { address: 0x7e00_0000_1000 }); // colour off: PTE faults
    for (let p = 1; p <= 3; p++) off.load(p * 4096, 1); // clean PTE entries 1..3
    emu.mmap(f).store(0, new Uint8Array([1])); // a PMD write fault: the PMD entry at 0
    expect(short(f.entries())).toEqual(['0:data-pmd{D}', '1:data-pte{}', '2:data-pte{}', '3:data-pte{}']);
    off.store(2 * 4096, new Uint8Array([2])); // pfn_mkwrite at page 2
    expect(short(f.entries())).toEqual(['0:data-pmd{D}', '1:data-pte{}', '2:data-pte{}', '3:data-pte{}']);
    expect(f.fsync()).toMatchObject({ pmdEntries: 1, pteEntries: 0, lines: 32768, fences: 1 });
    emu.checkInvariants();
  });

  it('S11: truncate deletes entries past the end, dirty or not; later access is SIGBUS', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    for (let p = 0; p < 4; p++) m.store(p * 4096, new Uint8Array([1]));
    f.truncate(8192);
    expect(f.nrexceptional).toBe(2);
    expect(f.fsync()).toMatchObject({ lines: 128, fences: 1 });
    expectCode(() => m.load(8192, 1), 'SIGBUS');
    emu.checkInvariants();
  });

  it('S12: after a hole punch a load maps a hole page', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    for (let p = 0; p < 4; p++) m.store(p * 4096, new Uint8Array([1]));
    f.punchHole(4096, 8192);
    expect(f.fsync()).toMatchObject({ lines: 128 });
    m.load(4096, 1);
    expect(short(f.entries())).toEqual(['0:data-pte{D}', '1:holepage{}', '3:data-pte{D}']);
    emu.checkInvariants();
  });

  it('S14: reclaim evicts the clean hole pages and leaves their slots empty, never a shadow entry', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    m.load(0, 1);
    m.load(4096, 1);
    m.store(8192, new Uint8Array([1]));
    expect(f.nrpages).toBe(2);
    expect(emu.reclaim(10)).toBe(2);
    expect(short(f.entries())).toEqual(['2:data-pte{D}']);
    expect([f.nrpages, f.nrexceptional]).toEqual([0, 1]);
    expect(f.fsync()).toMatchObject({ lines: 64, fences: 1 });
    expect(m.load(0, 1)[0]).toBe(0); // the evicted page was unmapped: a new hole page
    emu.checkInvariants();
  });

  it('S26: sync(2) flushes the dirty entries with one fence', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    for (let p = 0; p < 4; p++) m.store(p * 4096, new Uint8Array([1]));
    expect(emu.sync()).toMatchObject({ lines: 256, fences: 1 });
  });

  it('the durability promise holds: a store covered by an msync survives a guaranteed crash', async () => {
    const emu = await make();
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f);
    m.store(12345, new Uint8Array([42]));
    m.msync(0, 4 * MiB, { sync: true });
    m.store(12346, new Uint8Array([43])); // after the last msync: may be lost
    const image = (await emu.crash()).open('/f');
    expect(image.pread(12345, 1)[0]).toBe(42);
  });
});
