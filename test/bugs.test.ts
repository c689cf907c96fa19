/**
 * The bug-compat switches (src/dax/bugs.ts, docs/kernel-rules.md §6): each one shows its
 * effect with the bug on and its absence with it off, and a profile that cannot host a bug
 * refuses it with EINVAL naming why.
 */
import { describe, expect, it } from 'vitest';
import { PmemError } from '../src/base/index.js';
import { createEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js';
import type { BugName, KernelProfile } from '../src/dax/index.js';
import { expectCode } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** 4 KiB past a 2 MiB boundary: the colour differs, so every PMD attempt falls back. */
const COLOUR_OFF = 0x7e00_0000_1000;

function emulator(kernel: KernelProfile, bugs: BugName[] = [], extra: EmulatorOptions = {}): Promise<Emulator> {
  return createEmulator({ capacity: 32 * MiB, kernel, bugs, ...extra });
}

/** Bytes of `image`'s file `path` at `offset` that differ from `value` (of `length`). */
async function lostBytes(emu: Emulator, path: string, offset: number, length: number, value: number): Promise<number> {
  const image = await emu.crash({ mode: 'guaranteed' });
  const got = image.open(path).pread(offset, length);
  return got.filter((b) => b !== value).length;
}

async function refusal(options: EmulatorOptions): Promise<PmemError> {
  try {
    await createEmulator(options);
  } catch (err) {
    if (err instanceof PmemError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('bug switches: the option', () => {
  it('an unknown bug name is EINVAL listing the bugs; a non-array is EINVAL', async () => {
    const err = await refusal({ bugs: ['B99' as BugName] });
    expect(err.code).toBe('EINVAL');
    expect(err.message).toMatch(/unknown bug "B99".*B3, B4, B5/);
    expect((await refusal({ bugs: 'B4' as unknown as BugName[] })).code).toBe('EINVAL');
  });

  it.each([
    ['B3', 'linux-6.12', /XArray iterator/],
    ['B4', 'linux-4.5', /already/],
    ['B5', 'linux-4.5', /never clears DIRTY already/],
    ['B6', 'linux-4.5', /linux-4.5 does not have/],
    ['B7', 'linux-4.5', /linux-4.5 does not have/],
    ['B8', 'linux-4.5', /ZERO-PMD/],
    ['B11', 'linux-4.5', /entry locks/],
    ['B12', 'linux-4.5', /grab_mapping_entry/],
    ['B14', 'linux-4.5', /entry locks/],
    ['v3-shadow', 'linux-6.1', /hole pages/],
  ] as [BugName, KernelProfile, RegExp][])('%s on %s is refused with EINVAL saying why', async (bug, kernel, why) => {
    const err = await refusal({ kernel, bugs: [bug] });
    expect(err.code).toBe('EINVAL');
    expect(err.message).toContain(`bug ${bug} cannot be switched on in ${kernel}`);
    expect(err.message).toMatch(why);
  });

  it('the bugs are kept in the options and carried into a crash image', async () => {
    const emu = await emulator('linux-6.12', ['B4', 'B6', 'B4']);
    expect(emu.options.bugs).toEqual(['B4', 'B6']);
    expect((await emu.crash()).options.bugs).toEqual(['B4', 'B6']);
  });
});

describe('B3: linux-4.5 writeback never moves its start index (1eb643d02b21, docs/kernel-rules.md §6 B3)', () => {
  async function scanned(bugs: BugName[], entries: number): Promise<{ scanned: number; lines: number }> {
    const emu = await emulator('linux-4.5', bugs);
    const f = emu.createFile('/f', { size: entries * 4096 });
    const m = emu.mmap(f, { address: COLOUR_OFF });
    for (let p = 0; p < entries; p++) m.store(p * 4096, new Uint8Array([1]));
    const before = emu.stats().dax.writebackScanned;
    const r = f.fsync();
    return { scanned: emu.stats().dax.writebackScanned - before, lines: r.lines };
  }

  it('with the bug the lookups pass over a span quadratic in the entries; without, linear; the same lines are flushed', async () => {
    const fixed1 = await scanned([], 280);
    const fixed2 = await scanned([], 560);
    const bug1 = await scanned(['B3'], 280);
    const bug2 = await scanned(['B3'], 560);
    expect(fixed1.scanned).toBe(280);
    expect(fixed2.scanned).toBe(560);
    // 20 and 40 batches of 14, each searched from index 0 to its last entry, and a last,
    // empty lookup from index 0 over everything.
    expect(bug1.scanned).toBe((14 * (20 * 21)) / 2 + 280);
    expect(bug2.scanned).toBe((14 * (40 * 41)) / 2 + 560);
    expect(bug2.scanned / bug1.scanned).toBeGreaterThan(3.5); // twice the entries, nearly four times the span
    expect(bug1.lines).toBe(fixed1.lines);
    expect(bug2.lines).toBe(560 * 64);
  });
});

describe('B4: invalidation deletes dirty DAX entries (c6dcf52c23d2, docs/kernel-rules.md §6 B4, S13)', () => {
  async function run(bugs: BugName[]): Promise<{ dropped: number; lines: number; lost: number }> {
    const emu = await emulator('linux-6.12', bugs);
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    const m = emu.mmap(f, { address: COLOUR_OFF });
    m.store(0, new Uint8Array(64).fill(7));
    const dropped = emu.dropCaches();
    const { lines } = f.fsync();
    emu.checkInvariants();
    return { dropped, lines, lost: await lostBytes(emu, '/f', 0, 64, 7) };
  }

  it('with the bug drop_caches deletes the dirty entry, fsync flushes 0 lines, and the guaranteed crash image loses the 64 bytes', async () => {
    expect(await run(['B4'])).toEqual({ dropped: 1, lines: 0, lost: 64 });
  });

  it('without it the entry stays, fsync flushes its 64 lines, and nothing is lost', async () => {
    expect(await run([])).toEqual({ dropped: 0, lines: 64, lost: 0 });
  });
});

describe('B5: DIRTY never cleared (changed by 4b4bb46d00b3 in v4.10, docs/kernel-rules.md §6 B5, S3)', () => {
  async function run(bugs: BugName[]): Promise<number[]> {
    const emu = await emulator('linux-6.12', bugs);
    const f = emu.createFile('/f', { size: 40 * 4096 });
    const m = emu.mmap(f, { address: COLOUR_OFF });
    for (let p = 0; p < 40; p++) m.store(p * 4096, new Uint8Array([1]));
    const lines = [f.fsync().lines, f.fsync().lines, f.fsync().lines];
    emu.checkInvariants();
    return lines;
  }

  it('with the bug every fsync flushes all 40 entries again; without, only the first does', async () => {
    expect(await run(['B5'])).toEqual([2560, 2560, 2560]);
    expect(await run([])).toEqual([2560, 0, 0]);
  });
});

describe('B6: a PMD not write-protected by mkclean (f729c8c9b24f, docs/kernel-rules.md §6 B6)', () => {
  async function run(bugs: BugName[]): Promise<{ second: number; lost: number; invariants: string }> {
    const emu = await emulator('linux-6.12', bugs);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f);
    m.store(0, new Uint8Array([1]));
    expect(f.entries()[0]).toMatchObject({ order: 9, dirty: true });
    f.fsync();
    m.store(4096, new Uint8Array(64).fill(9)); // after the fsync: faults only if the PMD was write-protected
    const second = f.fsync().lines;
    let invariants = 'ok';
    try {
      emu.checkInvariants();
    } catch (err) {
      invariants = (err as Error).message;
    }
    return { second, lost: await lostBytes(emu, '/f', 4096, 64, 9), invariants };
  }

  it('with the bug the store after fsync does not fault, the entry stays clean, the next fsync flushes nothing and the crash image loses the 64 bytes', async () => {
    const r = await run(['B6']);
    expect(r.second).toBe(0);
    expect(r.lost).toBe(64);
    expect(r.invariants).toMatch(/writable but its entry is clean/);
  });

  it('without it the store faults, dirties the PMD entry again, and the next fsync flushes its 32768 lines', async () => {
    expect(await run([])).toEqual({ second: 32768, lost: 0, invariants: 'ok' });
  });
});

describe('B7: a PTE inside another mapping\'s PMD entry not write-protected (Muchun Song 2022, docs/kernel-rules.md §6 B7, S9)', () => {
  async function run(bugs: BugName[]): Promise<{ second: number; lost: number }> {
    const emu = await emulator('linux-6.12', bugs);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const a = emu.mmap(f);
    a.store(0, new Uint8Array([1])); // process A: a DATA-PMD entry over 0..511
    const b = emu.mmap(f, { offset: 4096, length: 4096 }); // process B: 4 KiB at offset 4 KiB
    b.store(0, new Uint8Array([2])); // a PTE inside A's PMD entry
    f.fsync();
    b.store(0, new Uint8Array(64).fill(5));
    const second = f.fsync().lines;
    return { second, lost: await lostBytes(emu, '/f', 4096, 64, 5) };
  }

  it("with the bug fsync leaves B's PTE writable: B's next store is not seen, the next fsync flushes nothing, the crash image loses it", async () => {
    expect(await run(['B7'])).toEqual({ second: 0, lost: 64 });
  });

  it("without it pfn_mkclean_range write-protects B's PTE too, so the store faults and is flushed", async () => {
    expect(await run([])).toEqual({ second: 32768, lost: 0 });
  });
});

describe('B8: stale mmap reads after write(2) over a PMD zero page (generic/428, docs/kernel-rules.md §6 B8, S15)', () => {
  async function run(bugs: BugName[]): Promise<string> {
    const emu = await emulator('linux-6.12', bugs);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f, { offset: 2 * MiB, length: 2 * MiB });
    m.load(0, 1);
    expect(f.entries()[0]).toMatchObject({ index: 512, kind: 'zero', order: 9 });
    f.pwrite(2 * MiB, new TextEncoder().encode('HELLO WORLD!'));
    emu.checkInvariants();
    return new TextDecoder().decode(m.load(0, 12)).replace(/\0/g, '.');
  }

  it('with the bug the huge zero page stays mapped and the mmap read sees zeros', async () => {
    expect(await run(['B8'])).toBe('............');
  });

  it('without it the write invalidates the zero entry and unmaps it, and the read sees the data', async () => {
    expect(await run([])).toBe('HELLO WORLD!');
  });
});

describe('B11: missed wakeup with PMD faults (23c84eb78375, docs/kernel-rules.md §6 B11)', () => {
  async function run(bugs: BugName[]): Promise<PmemError | undefined> {
    const emu = await emulator('linux-6.12', bugs);
    const f = emu.createFile('/f', { size: 4 * MiB, allocate: 'written' });
    emu.mmap(f, { length: 6 * 4096, address: COLOUR_OFF }).load(5 * 4096, 1); // a PTE entry at index 5
    const big = emu.mmap(f); // aligned: a store at 0 tries a PMD fault over 0..511
    try {
      emu.runConcurrently([{ holdEntry: { file: f, pgoff: 5, steps: 2, then: 'unlock' } }, { store: { mapping: big, offset: 0, bytes: new Uint8Array([1]) } }], { schedule: [0, 1, 0, 0] });
    } catch (err) {
      if (err instanceof PmemError) return err;
      throw err;
    }
    expect(f.entries().find((e) => e.index === 0)).toMatchObject({ order: 0, dirty: true });
    return undefined;
  }

  it('with the bug the PMD fault sleeps on the PMD index while the unlock wakes index 5: reported as a hang naming the sleeping store', async () => {
    const err = await run(['B11']);
    expect(err?.code).toBe('EBUSY');
    expect(err?.message).toMatch(/a hang\): task 1 \(store\) on file page 0 \(bucket \d+\)/);
  });

  it('without it the PMD fault falls back at once and the store completes through a PTE', async () => {
    expect(await run([])).toBeUndefined();
  });
});

describe('B12: PMD vs PTE conflict detection regression (6370740e5f8e, docs/kernel-rules.md §6 B12, S29)', () => {
  async function run(bugs: BugName[]): Promise<{ kind: string; order: number; fallbacks: number }> {
    const emu = await emulator('linux-6.12', bugs);
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f);
    const r = m.fault(0, 'write');
    const e = f.entries()[0]!;
    return { kind: r.result, order: e.order, fallbacks: emu.stats().dax.fallbacks };
  }

  it('with the bug an aligned write fault on an empty range falls back: a PTE entry where a PMD entry belongs', async () => {
    expect(await run(['B12'])).toEqual({ kind: 'pte', order: 0, fallbacks: 1 });
  });

  it('without it the fault maps a PMD and inserts a DATA-PMD entry', async () => {
    expect(await run([])).toEqual({ kind: 'pmd', order: 9, fallbacks: 0 });
  });
});

describe('B14: missed wakeup after invalidation (237388320def, docs/kernel-rules.md §6 B14, S28)', () => {
  async function run(bugs: BugName[]): Promise<PmemError | undefined> {
    const emu = await emulator('linux-6.12', bugs);
    const f = emu.createFile('/f', { size: 16 * KiB, allocate: 'written' });
    emu.mmap(f, { address: COLOUR_OFF }).load(0, 1);
    const holder = { holdEntry: { file: f, pgoff: 0, steps: 2, then: 'punch' as const } };
    const waiter = { holdEntry: { file: f, pgoff: 0, steps: 0, then: 'unlock' as const } };
    try {
      emu.runConcurrently([holder, waiter, waiter, waiter], { schedule: [0, 1, 2, 3, 0, 0] });
    } catch (err) {
      if (err instanceof PmemError) return err;
      throw err;
    }
    return undefined;
  }

  it('with the bug the deletion wakes one waiter, which finds nothing and wakes nobody: a hang naming the two still asleep', async () => {
    const err = await run(['B14']);
    expect(err?.code).toBe('EBUSY');
    expect(err?.message).toMatch(/task 2 \(holdEntry\) on file page 0 .*; task 3 \(holdEntry\) on file page 0/);
  });

  it('without it the deletion wakes all three (WAKE_ALL) and every task ends', async () => {
    expect(await run([])).toBeUndefined();
  });
});

describe("the seed's scenario on linux-4.5: a hole page, reclaim, a write fault (docs/kernel-rules.md §5.4, §6 B1, S14)", () => {
  async function setUp(bugs: BugName[]): Promise<{ emu: Emulator; m: ReturnType<Emulator['mmap']>; f: ReturnType<Emulator['open']> }> {
    const emu = await emulator('linux-4.5', bugs);
    const f = emu.createFile('/f', { size: 16 * KiB });
    const m = emu.mmap(f, { address: COLOUR_OFF });
    m.load(0, 1); // dax_load_hole: a hole page at index 0
    expect(f.entries()).toMatchObject([{ index: 0, kind: 'holepage' }]);
    expect(emu.reclaim(1)).toBe(1);
    return { emu, m, f };
  }

  it('as merged (v5 rule): reclaim empties the slot with no shadow, and the write fault inserts a DAX entry without a collision', async () => {
    const { emu, m, f } = await setUp([]);
    expect(f.entries()).toEqual([]);
    expect(f.nrpages).toBe(0);
    m.store(0, new Uint8Array([1]));
    expect(f.entries()).toMatchObject([{ index: 0, kind: 'data', dirty: true }]);
    expect(f.nrexceptional).toBe(1);
    emu.checkInvariants();
  });

  it("with 'v3-shadow': reclaim leaves a shadow, checkInvariants fails on it, and the write fault's insert meets it", async () => {
    const { emu, m, f } = await setUp(['v3-shadow']);
    // v4.5 counted shadows in nrexceptional beside DAX entries (recalled).
    expect(f.entries()).toMatchObject([{ index: 0, kind: 'shadow' }]);
    expect(f.nrexceptional).toBe(1);
    expectCode(() => emu.checkInvariants(), 'EFAULT');
    expect(() => emu.checkInvariants()).toThrow(/shadow entry \(eviction 1\).*§5\.4/);
    // A read of the hole meets it first: the hole page cannot replace it
    // (page_cache_tree_insert in a DAX mapping: WARN_ON, -EINVAL, mm/filemap.c v4.5), so
    // find_or_create_page fails and the fault is VM_FAULT_OOM.
    expectCode(() => m.load(0, 1), 'ENOMEM');
    // What the v3 code would have done: dax_radix_entry finds an exceptional entry at the
    // index and checks its type; a shadow's type nibble is neither PTE nor PMD, so it
    // returns -EIO and __dax_fault gives VM_FAULT_SIGBUS (fs/dax.c v4.5, v4.6). Had the
    // shadow's memcg bits happened to spell RADIX_DAX_PTE, it would instead have been taken
    // for a DAX entry and its bits flushed as a sector. The emulator reports the SIGBUS
    // with the collision named, and the shadow stays.
    expect(() => m.store(0, new Uint8Array([1]))).toThrow(/met a shadow entry/);
    expectCode(() => m.store(0, new Uint8Array([1])), 'SIGBUS');
    expect(f.entries()).toMatchObject([{ index: 0, kind: 'shadow' }]);
    expect(f.blocks.has(0)).toBe(true); // get_block allocated before the insert failed
    // Now the block is there, a read inserts a DAX entry and meets the shadow the same way.
    expectCode(() => m.load(0, 1), 'SIGBUS');
    // Truncation's clear_exceptional_entry takes the shadow down its DAX branch: the slot
    // empties and nrexceptional drops, and the tree is sound again.
    f.truncate(0);
    expect(f.entries()).toEqual([]);
    expect(f.nrexceptional).toBe(0);
    emu.checkInvariants();
  });
});
