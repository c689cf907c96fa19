// DAX through the public API: the acceptance scenarios of docs/kernel-rules.md §7 that this
// release covers, for both XArray-era profiles (PMOD). Each test names its scenario and rule.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import type { WritebackReport } from '../src/dax/writeback.js';
import type { KernelProfile } from '../src/dax/kernel.js';
import { PmemError } from '../src/base/errors.js';
import { Rng } from '../src/base/random.js';
import { expectCode } from './helpers.js';

const KiB = 1024;
const MiB = 1 << 20;
const PROFILES: KernelProfile[] = ['linux-6.12', 'linux-6.1'];

function make(kernel: KernelProfile, capacity = 64 * MiB): Promise<Emulator> {
  return createEmulator({ capacity, kernel });
}

/**
 * A trace as the multiset of (name, flags, result) that a recorded kernel trace is compared
 * by: "name flags result" keys with their counts, in key order.
 */
const eventCounts = (events: { name: string; flags?: string; result?: string }[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const e of events) {
    const key = [e.name, e.flags ?? '-', e.result ?? '-'].join(' ');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
};

const short = (entries: { index: number; order: number; kind: string; dirty: boolean; towrite: boolean }[]): string[] =>
  entries.map((e) => `${e.index}${e.order ? '..' + (e.index + 511) : ''}:${e.kind}${e.order ? '-pmd' : '-pte'}{${e.dirty ? 'D' : ''}${e.towrite ? 'T' : ''}}`);


describe.each(PROFILES)('DAX scenarios (%s)', (kernel) => {
  const readDirties = kernel === 'linux-6.1';

  it('S1: a read fault on a hole maps the zero page read-only behind a ZERO-PTE entry; msync flushes nothing but fences once', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    expect(m.fault(0, 'read')).toEqual({ result: 'zero-pte', fallback: true }); // a 16 KiB VMA: the PMD attempt falls back
    expect(short(f.entries())).toEqual([`0:zero-pte{${readDirties ? 'D' : ''}}`]);
    expect(f.nrpages).toBe(1);
    const r = m.msync(0, 16 * KiB, { sync: true });
    // linux-6.1 dirtied the zero entry on the read fault, so it writes back the zero page's 64 lines.
    expect(r).toMatchObject({ entries: readDirties ? 1 : 0, lines: readDirties ? 64 : 0, dirtyLines: 0, fences: 1 });
    emu.checkInvariants();
  });

  it('S2, S3: a write fault dirties the entry; msync flushes its 64 lines, cleans it and write-protects the PTE; a second msync flushes nothing', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    m.store(0, new Uint8Array([7]));
    expect(short(f.entries())).toEqual(['0:data-pte{D}']);
    const r = m.msync(0, 16 * KiB, { sync: true });
    expect(r).toMatchObject({ entries: 1, pteEntries: 1, lines: 64, dirtyLines: 1, cleanLines: 63, fences: 1 });
    expect(short(f.entries())).toEqual(['0:data-pte{}']);
    expect(m.fault(0, 'write').result).toBe('mkwrite'); // write-protected by writeback
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ entries: 1, lines: 64 });
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ entries: 0, lines: 0, fences: 1 });
    emu.checkInvariants();
  });

  it('S4: a read of a written block inserts a DATA-PTE entry; the first store takes a write-protect fault that dirties it', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    expect(m.fault(0, 'read').result).toBe('pte');
    expect(short(f.entries())).toEqual([`0:data-pte{${readDirties ? 'D' : ''}}`]);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: readDirties ? 64 : 0, fences: 1 });
    expect(m.fault(0, 'write').result).toBe('mkwrite');
    expect(short(f.entries())).toEqual(['0:data-pte{D}']);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 64, fences: 1 });
    m.store(0, new Uint8Array([1]));
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 64 });
    emu.checkInvariants();
  });

  it('S5: a store over a zero page unmaps it and replaces the ZERO entry in place; nrpages stays', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    m.load(4096, 1);
    expect(short(f.entries())).toEqual([`1:zero-pte{${readDirties ? 'D' : ''}}`]);
    m.store(4096, new Uint8Array([9]));
    expect(short(f.entries())).toEqual(['1:data-pte{D}']);
    expect(f.nrpages).toBe(1);
    expect(m.load(4096, 1)[0]).toBe(9);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 64, fences: 1 });
    emu.checkInvariants();
  });

  it('S7: a PMD read fault on a hole gives a ZERO-PMD entry over 512 pages and the huge zero page', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f);
    expect(m.fault(0, 'read')).toEqual({ result: 'zero-pmd', fallback: false });
    expect(short(f.entries())).toEqual([`0..511:zero-pmd{${readDirties ? 'D' : ''}}`]);
    expect(f.nrpages).toBe(512);
    expect(m.msync(0, 4 * MiB, { sync: true })).toMatchObject({ lines: readDirties ? 32768 : 0, fences: 1 });
    emu.checkInvariants();
  });

  it('a 4 KiB write fault on a ZERO-PMD downgrades it: the 2 MiB is unmapped and the entry becomes one DATA-PTE', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const a = emu.mmap(f);
    a.load(0, 1); // ZERO-PMD, mapped huge in a
    const b = emu.mmap(f, { offset: 4096, length: 8192 }); // colour differs: PTE faults
    b.store(0, new Uint8Array([3]));
    expect(short(f.entries())).toEqual(['1:data-pte{D}']);
    expect(f.nrpages).toBe(1);
    expect(a.load(4096, 1)[0]).toBe(3); // a faults again and sees the data
    emu.checkInvariants();
  });

  it('ORACLE W2 variant A: 1024 one-byte stores over an aligned 4 MiB mapping give the (name, flags, result) multiset of a real kernel: 2 PMD faults W -> NOPAGE, 2 PMD writebacks', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f);
    const t = emu.startTrace();
    for (let p = 0; p < 1024; p++) m.store(p * 4096, new Uint8Array([1]));
    const r = m.msync(0, 4 * MiB, { sync: true });
    const ev = t.stop();
    // A real kernel's trace of this program: two PMD write faults that end NOPAGE (the PMD
    // path never reports MAJOR), one writeback range, two 512-page writeback_one events.
    expect(eventCounts(ev)).toEqual({
      'dax_pmd_fault W -': 2,
      'dax_pmd_fault_done W NOPAGE': 2,
      'dax_writeback_one - -': 2,
      'dax_writeback_range - -': 1,
      'dax_writeback_range_done - -': 1,
    });
    expect(ev.filter((e) => e.name === 'dax_pmd_fault_done').map((e) => e.result)).toEqual(['NOPAGE', 'NOPAGE']);
    expect(ev.filter((e) => e.name === 'dax_writeback_one').map((e) => [e.pgoff, e.pglen])).toEqual([[0, 512], [512, 512]]);
    expect(ev.filter((e) => e.name === 'dax_writeback_range').map((e) => [e.start, e.end])).toEqual([[0, 1023]]);
    // range_done prints where the walk stopped: off the end of the shift-6 top node, 0x1000.
    expect(ev.filter((e) => e.name === 'dax_writeback_range_done').map((e) => [e.start, e.end])).toEqual([[0x1000, 1023]]);
    expect(r).toMatchObject({ pmdEntries: 2, lines: 65536, dirtyLines: 1024 });
  });

  it('ORACLE W2 variant U: with the colour off by 4 KiB the (name, flags, result) multiset is 3 PMD faults W -> FALLBACK, 1024 PTE faults W -> MAJOR|NOPAGE, 1024 writebacks', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f, { address: 0x7e00_0000_1000 });
    const t = emu.startTrace();
    for (let p = 0; p < 1024; p++) m.store(p * 4096, new Uint8Array([1]));
    m.msync(0, 4 * MiB, { sync: true });
    const ev = t.stop();
    // A real kernel's trace: one PMD attempt per 2 MiB slot the mapping touches while it is
    // empty (3), each FALLBACK; then a PTE write fault per page that allocates (MAJOR|NOPAGE);
    // one writeback range with 1024 one-page writeback_one events.
    expect(eventCounts(ev)).toEqual({
      'dax_pmd_fault W -': 3,
      'dax_pmd_fault_done W FALLBACK': 3,
      'dax_pte_fault W -': 1024,
      'dax_pte_fault_done W MAJOR|NOPAGE': 1024,
      'dax_writeback_one - -': 1024,
      'dax_writeback_range - -': 1,
      'dax_writeback_range_done - -': 1,
    });
    expect(ev.filter((e) => e.name === 'dax_pmd_fault_done' && e.result === 'FALLBACK').length).toBe(3);
    expect(ev.filter((e) => e.name === 'dax_pte_fault_done' && e.result === 'MAJOR|NOPAGE').length).toBe(1024);
    expect(ev.filter((e) => e.name === 'dax_writeback_one' && e.pglen === 1).length).toBe(1024);
    emu.checkInvariants();
  });

  it('S11: truncate deletes entries past the new end, dirty or not, unmaps them; a later access is SIGBUS', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    for (let p = 0; p < 4; p++) m.store(p * 4096, new Uint8Array([p + 1]));
    f.truncate(8192);
    expect(short(f.entries())).toEqual(['0:data-pte{D}', '1:data-pte{D}']);
    expect(f.nrpages).toBe(2);
    expect(f.fsync()).toMatchObject({ lines: 128, fences: 1 });
    expectCode(() => m.load(2 * 4096, 1), 'SIGBUS');
    emu.checkInvariants();
  });

  it('S12: punching a hole deletes the entries in it; a later load reads the zero page', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    for (let p = 0; p < 4; p++) m.store(p * 4096, new Uint8Array([p + 1]));
    f.punchHole(4096, 8192);
    expect(short(f.entries())).toEqual(['0:data-pte{D}', '3:data-pte{D}']);
    expect(f.fsync()).toMatchObject({ lines: 128 });
    expect(m.load(4096, 1)[0]).toBe(0);
    expect(short(f.entries())[1]).toBe(`1:zero-pte{${readDirties ? 'D' : ''}}`);
    emu.checkInvariants();
  });

  it('S15: write(2) that allocates over clean zero entries deletes and unmaps them, so mmap reads see the data', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    for (let p = 0; p < 4; p++) m.load(p * 4096, 1);
    expect(f.nrpages).toBe(4);
    f.pwrite(0, new Uint8Array(8192).fill(5));
    // linux-6.1 dirtied the zero entries on read, so they are not clean and stay; the range
    // is unmapped either way, and the next read fault replaces a ZERO entry with DATA.
    expect(f.nrpages).toBe(readDirties ? 4 : 2);
    expect(m.load(0, 1)[0]).toBe(5);
    expect(short(f.entries())[0]).toBe(`0:data-pte{${readDirties ? 'D' : ''}}`);
  });

  it('S15, PMD variant (generic/428): write(2) into a 2 MiB hole read through a ZERO-PMD deletes the entry, and mmap reads the data', async () => {
    const emu = await make('linux-6.12');
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f, { offset: 2 * MiB, length: 2 * MiB });
    m.load(0, 1);
    expect(short(f.entries())).toEqual(['512..1023:zero-pmd{}']);
    f.pwrite(2 * MiB, new TextEncoder().encode('HELLO WORLD!'));
    expect(f.nrpages).toBe(0);
    expect(new TextDecoder().decode(m.load(0, 12))).toBe('HELLO WORLD!');
    emu.checkInvariants();
  });

  it('S16: a MAP_SYNC write fault on a hole returns NEEDDSYNC, fdatasyncs in the fault (no lines, one fence), then dirties the entry', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f, { sync: true });
    const fences = emu.stats().dax.writebackFences;
    expect(m.fault(0, 'write').result).toBe('needdsync');
    expect(emu.stats().dax.writebackFences).toBe(fences + 1);
    expect(short(f.entries())).toEqual(['0:data-pte{D}']);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ lines: 64, fences: 1 });
    // The allocation is durable: a crash keeps the block.
    const image = await emu.crash();
    expect(image.open('/f').blocks.has(0)).toBe(true);
    emu.checkInvariants();
  });

  it('S17: a MAP_SYNC PMD write fault allocates an extent, fdatasyncs 2 MiB in the fault, and ends DATA-PMD{D} with a writable PMD', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f, { sync: true });
    expect(m.fault(0, 'write')).toEqual({ result: 'needdsync', fallback: false });
    expect(short(f.entries())).toEqual(['0..511:data-pmd{D}']);
    m.store(100, new Uint8Array([1])); // no further fault: the PMD is writable
    expect(emu.stats().dax.faults).toBe(1);
    emu.checkInvariants();
  });

  it('S18: MAP_PRIVATE writes copy the page and never dirty the tree; msync of a private mapping does nothing', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    f.pwrite(0, new Uint8Array([4]));
    const m = emu.mmap(f, { shared: false });
    expect(m.load(0, 1)[0]).toBe(4);
    m.store(0, new Uint8Array([8]));
    expect(m.load(0, 1)[0]).toBe(8);
    expect(f.pread(0, 1)[0]).toBe(4);
    expect(f.entries().some((e) => e.dirty && e.kind === 'data' && !readDirties)).toBe(false);
    expect(m.msync(0, 16 * KiB, { sync: true })).toMatchObject({ entries: 0, lines: 0, fences: 0 });
    emu.checkInvariants();
  });

  it('S14: reclaim evicts nothing from a DAX address_space and leaves no shadow entry', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    m.load(0, 1);
    m.load(4096, 1);
    m.store(8192, new Uint8Array([1]));
    const before = short(f.entries());
    expect(emu.reclaim(100)).toBe(0);
    expect(short(f.entries())).toEqual(before);
    emu.checkInvariants();
  });

  it('S26: sync(2) writes back every file (the WB_SYNC_ALL pass)', async () => {
    const emu = await make(kernel);
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    for (let p = 0; p < 4; p++) m.store(p * 4096, new Uint8Array([1]));
    expect(emu.sync()).toMatchObject({ lines: 256, fences: 1 });
  });

  it('S27: unlink, then munmap, deletes every entry and frees the blocks', async () => {
    const emu = await make(kernel);
    const free = emu.freeBlocks();
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    m.store(0, new Uint8Array([1]));
    emu.unlink('/f');
    expect(f.nrpages).toBe(1); // still mapped
    m.munmap();
    expect(f.nrpages).toBe(0);
    expect(emu.freeBlocks()).toBe(free);
    expectCode(() => emu.open('/f'), 'ENOENT');
  });
});

describe('PMD fallback conditions (linux-6.12, docs/kernel-rules.md §3.4)', () => {
  const cases: [string, (emu: Emulator) => { m: ReturnType<Emulator['mmap']>; off: number; write: boolean }][] = [
    ['the colour of the address differs from the file offset', (emu) => ({ m: emu.mmap(emu.createFile('/f', { size: 4 * MiB }), { address: 0x7e00_0000_1000 }), off: 0, write: true })],
    ['a write to a private mapping (copy-on-write)', (emu) => ({ m: emu.mmap(emu.createFile('/f', { size: 4 * MiB }), { shared: false }), off: 0, write: true })],
    ['the 2 MiB range runs past the mapping', (emu) => ({ m: emu.mmap(emu.createFile('/f', { size: 4 * MiB }), { length: 1 * MiB }), off: 0, write: true })],
    ['the 2 MiB range runs past the end of the file', (emu) => ({ m: emu.mmap(emu.createFile('/f', { size: 3 * MiB }), { length: 4 * MiB }), off: 2 * MiB, write: true })],
    ['a PTE entry already lies in the range', (emu) => {
      const f = emu.createFile('/f', { size: 4 * MiB });
      emu.mmap(f, { offset: 8192, length: 4096 }).store(0, new Uint8Array([1]));
      return { m: emu.mmap(f), off: 0, write: true };
    }],
    ['the blocks are not one 2 MiB extent', (emu) => {
      const f = emu.createFile('/f', { size: 4 * MiB });
      f.pwrite(4096, new Uint8Array([1])); // a single 4 KiB block in the first 2 MiB
      return { m: emu.mmap(f), off: 0, write: true };
    }],
    ['no whole 2 MiB extent is free', (emu) => {
      const f = emu.createFile('/f', { size: 4 * MiB });
      while (emu.freeBlocks() > 0) emu.allocate(); // nothing left
      return { m: emu.mmap(f), off: 0, write: false };
    }],
  ];
  it.each(cases)('falls back when %s', async (_, setup) => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const { m, off, write } = setup(emu);
    let r;
    try {
      r = m.fault(off, write ? 'write' : 'read');
    } catch (err) {
      // Media full: the PTE fault after the fallback then fails with ENOSPC.
      expect((err as PmemError).code).toBe('ENOSPC');
      expect(emu.stats().dax.fallbacks).toBe(1);
      return;
    }
    expect(r.fallback || r.result === 'zero-pmd').toBe(true);
    expect(emu.stats().dax.fallbacks).toBeGreaterThanOrEqual(r.result === 'zero-pmd' ? 0 : 1);
    emu.checkInvariants();
  });

  it('does not fall back when every precondition holds (S29): aligned VMA, matching colour, a whole free extent', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const m = emu.mmap(emu.createFile('/f', { size: 4 * MiB, allocate: 'unwritten' }));
    expect(m.fault(0, 'read')).toEqual({ result: 'zero-pmd', fallback: false });
    expect(m.fault(2 * MiB, 'write')).toEqual({ result: 'pmd', fallback: false });
  });
});

describe('bad input on the DAX paths', () => {
  it('each gives its errno-style code and leaves the invariants holding', async () => {
    const emu = await createEmulator({ capacity: 4 * MiB });
    const f = emu.createFile('/f', { size: 16 * KiB });
    expectCode(() => emu.mmap(f, { offset: 100 }), 'EINVAL');
    expectCode(() => emu.mmap(f, { length: 0 }), 'EINVAL');
    expectCode(() => emu.mmap(f, { length: 1000 }), 'EINVAL');
    expectCode(() => emu.mmap(f, { shared: false, sync: true }), 'EOPNOTSUPP');
    const m = emu.mmap(f, { length: 32 * KiB }); // past the end of the file
    expectCode(() => m.load(20 * KiB, 1), 'SIGBUS');
    expectCode(() => m.load(40 * KiB, 1), 'EFAULT');
    expectCode(() => emu.msync(m.address, 64 * KiB, { sync: true }), 'ENOMEM');
    expectCode(() => f.truncate(-1), 'EINVAL');
    expectCode(() => emu.createFile('/f'), 'EEXIST');
    m.munmap();
    expectCode(() => m.load(0, 1), 'EINVAL');
    await expect(createEmulator({ kernel: 'linux-9.9' as never })).rejects.toMatchObject({ code: 'EINVAL' });
    emu.checkInvariants();
  });

  it('media exhausted during a write fault fails it with ENOSPC and changes nothing else', async () => {
    const emu = await createEmulator({ capacity: 2 * MiB });
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f);
    while (emu.freeBlocks() > 0) emu.allocate();
    const before = f.entries();
    expectCode(() => m.store(0, new Uint8Array([1])), 'ENOSPC');
    expect(f.entries()).toEqual(before);
    expect(f.blocks.size).toBe(0);
    emu.checkInvariants();
  });
});

describe.each([...PROFILES, 'linux-4.5'] as KernelProfile[])('the durability promise (%s)', (kernel) => {
  it.each([1, 2, 3])('seed %i: every store made before an msync that covered it survives a guaranteed crash', async (seed) => {
    const emu = await createEmulator({ capacity: 16 * MiB, kernel, cacheBytes: 64 * KiB, seed });
    const rng = new Rng(seed);
    const f = emu.createFile('/f', { size: 4 * MiB, allocate: rng.chance(0.5) ? 'none' : 'written' });
    const m = emu.mmap(f, { address: rng.chance(0.5) ? undefined : 0x7e00_0000_1000 });
    const acked = new Uint8Array(4 * MiB);
    const pending = new Map<number, number>();
    for (let step = 0; step < 400; step++) {
      const off = rng.below(4 * MiB);
      const value = rng.between(1, 255);
      m.store(off, new Uint8Array([value]));
      pending.set(off, value);
      if (rng.chance(0.1)) {
        m.msync(0, 4 * MiB, { sync: true });
        for (const [o, v] of pending) acked[o] = v;
        pending.clear();
      }
    }
    const image = (await emu.crash({ mode: 'guaranteed' })).open('/f').pread(0, 4 * MiB);
    for (let o = 0; o < acked.length; o++) {
      if (acked[o] !== 0 && !pending.has(o)) expect(image[o], `byte ${o}`).toBe(acked[o]);
    }
  });
});

describe('S13: drop_caches with dirty entries (B4)', () => {
  it.each([
    ['linux-4.5', 4, 0, 0],
    ['linux-6.12', 0, 256, 1],
    ['linux-6.1', 0, 256, 1],
  ] as const)('%s: drops %i entries; fsync then flushes %i lines with %i fences', async (kernel, dropped, lines, fences) => {
    const emu = await createEmulator({ capacity: 16 * MiB, kernel });
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    for (let p = 0; p < 4; p++) m.store(p * 4096, new Uint8Array([1]));
    expect(emu.dropCaches()).toBe(dropped);
    expect(f.fsync()).toMatchObject({ lines, fences });
    emu.checkInvariants();
  });
});

describe('S29: the ndctl dax-pmd acceptance (linux-6.12)', () => {
  it('PMD faults on a fallocated file through aligned mappings succeed: at least 10 dax_pmd_fault_done NOPAGE', async () => {
    const emu = await createEmulator({ capacity: 64 * MiB });
    const f = emu.createFile('/f', { size: 32 * MiB, allocate: 'unwritten' });
    const m = emu.mmap(f);
    const t = emu.startTrace();
    for (let slot = 0; slot < 16; slot++) {
      if (slot % 2 === 0) m.load(slot * 2 * MiB, 1);
      else m.store(slot * 2 * MiB, new Uint8Array([1]));
    }
    const done = t.stop().filter((e) => e.name === 'dax_pmd_fault_done');
    expect(done.filter((e) => e.result?.endsWith('NOPAGE')).length).toBeGreaterThanOrEqual(10);
    expect(done.some((e) => e.result === 'FALLBACK')).toBe(false);
    expect(f.entries().filter((e) => e.order === 9).map((e) => e.kind)).toEqual(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 'zero' : 'data')));
    emu.checkInvariants();
  });
});

describe('S30: private PMD reads and copy-on-write PTE writes on one range (generic/437)', () => {
  it('a private write after a private PMD read splits to PTEs; the tree keeps only the shared DATA-PMD and gains no DIRTY', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB });
    const f = emu.createFile('/f', { size: 2 * MiB });
    const shared = emu.mmap(f);
    shared.store(0, new Uint8Array(2 * MiB).fill(1));
    f.fsync();
    for (let round = 0; round < 5; round++) {
      const p = emu.mmap(f, { shared: false });
      expect(p.fault(0, 'read')).toEqual({ result: 'pmd', fallback: false }); // the clean DATA-PMD, mapped read-only
      expect(p.fault(4096 * round, 'write')).toEqual({ result: 'pte', fallback: true }); // COW: the PMD splits, a private PTE
      p.store(4096 * round, new Uint8Array([9]));
      expect(p.load(4096 * round, 1)[0]).toBe(9);
      expect(short(f.entries())).toEqual(['0..511:data-pmd{}']);
      p.munmap();
    }
    emu.checkInvariants();
  });
});

describe('concurrent tasks (linux-6.12)', () => {
  it('S20: two concurrent fsyncs flush each entry exactly once between them; two fences; every entry ends clean', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB });
    const f = emu.createFile('/f', { size: 32 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    for (let p = 0; p < 8; p++) m.store(p * 4096, new Uint8Array([p + 1]));
    const [a, b] = emu.runConcurrently([{ fsync: f, cpu: 0 }, { fsync: f, cpu: 1 }]) as WritebackReport[];
    expect(a!.lines + b!.lines).toBe(64 * 8);
    expect(a!.entries > 0 && b!.entries > 0).toBe(true); // they really shared the work
    expect(a!.fences + b!.fences).toBe(2);
    expect(short(f.entries())).toEqual(Array.from({ length: 8 }, (_, p) => `${p}:data-pte{}`));
    emu.checkInvariants();
  });

  it('S22: a store racing the writeback of its entry waits for the entry lock, then faults and re-dirties it; the next fsync flushes it again', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB });
    const f = emu.createFile('/f', { size: 32 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    m.store(5 * 4096, new Uint8Array([1]));
    expect(short(f.entries())).toEqual(['5:data-pte{D}']);
    const t = emu.startTrace();
    // The fsync tags, then locks entry 5 and starts its flush; only then does the store run.
    const [report] = emu.runConcurrently(
      [{ fsync: f, cpu: 0 }, { store: { mapping: m, offset: 5 * 4096 + 8, bytes: new Uint8Array([2]) }, cpu: 1 }],
      { schedule: [0, 0, 1] },
    ) as WritebackReport[];
    const ev = t.stop().map((e) => e.name);
    expect(report!.lines).toBe(64);
    // The store's fault came after the writeback of entry 5 had finished.
    expect(ev.indexOf('dax_writeback_one')).toBeLessThan(ev.indexOf('dax_pte_fault'));
    expect(short(f.entries())).toEqual(['5:data-pte{D}']);
    expect(m.fault(5 * 4096, 'write').result).toBe('none'); // already writable again
    expect(f.fsync()).toMatchObject({ lines: 64 });
    expect(m.load(5 * 4096 + 8, 1)[0]).toBe(2);
    emu.checkInvariants();
  });

  it('a task that fails (SIGBUS past EOF) ends alone: the fsync holding an entry lock runs on and unlocks it, then the error is thrown', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB });
    const f = emu.createFile('/f', { size: 32 * KiB, allocate: 'written' });
    const m = emu.mmap(f, { length: 64 * KiB });
    for (let p = 0; p < 8; p++) m.store(p * 4096, new Uint8Array([p + 1]));
    // The fsync tags and locks entry 0, then the store past EOF takes SIGBUS mid-run.
    const run = () => emu.runConcurrently(
      [{ fsync: f, cpu: 0 }, { store: { mapping: m, offset: 40 * KiB, bytes: new Uint8Array([1]) }, cpu: 1 }],
      { schedule: [0, 0, 1] },
    );
    expectCode(run, 'SIGBUS');
    expect(f.entries().filter((e) => e.locked || e.dirty)).toEqual([]);
    expect(f.fsync()).toMatchObject({ lines: 0 });
    emu.checkInvariants();
  });

  it('a schedule naming no task is refused with EINVAL', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB });
    const f = emu.createFile('/f', { size: 8 * KiB, allocate: 'written' });
    const m = emu.mmap(f);
    m.store(0, new Uint8Array([1]));
    expect(() => emu.runConcurrently([{ fsync: f }], { schedule: [3] })).toThrowError(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('user flushes through a mapping', () => {
  it('a flush of a page that a truncate unmapped read-faults it in and flushes it, as the instruction translates its address like a load; past the end of the file it is SIGBUS', async () => {
    const emu = await make('linux-6.12');
    const f = emu.createFile('/f', { size: 4 * MiB, allocate: 'written' }); // blocks committed already
    const m = emu.mmap(f);
    m.store(0, new Uint8Array([9]));
    f.truncate(1 * MiB); // deletes the dirty PMD entry over [0, 2 MiB) and unmaps it
    expect(m.storeWouldFault(0)).toBe(true);
    m.clwb(0, 1);
    emu.sfence();
    expect((await emu.crash({ mode: 'guaranteed' })).open('/f').pread(0, 1)[0]).toBe(9);
    expectCode(() => m.clwb(3 * MiB, 1), 'SIGBUS');
  });
});
