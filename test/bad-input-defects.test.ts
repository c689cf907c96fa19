// Defects the bad-input sweep (test/bad-input.test.ts) and the fuzzer (test/fuzz.test.ts)
// found, each kept as a regression test: a refused call throws a PmemError naming the
// argument and leaves the media, the clock and the counters as they were.
import { describe, expect, it } from 'vitest';
import { createEmulator, PmemError, type Emulator } from '../src/index.js';
import { expectCode } from './helpers.js';

const MiB = 1 << 20;

/** Media, clocks of the first CPUs, counters. */
function state(emu: Emulator): string {
  const cpu = emu.cpu;
  const clocks = [0, 1, 2, 3].map((c) => {
    emu.cpu = c;
    return emu.now();
  });
  emu.cpu = cpu;
  return `${Buffer.from(emu.core.mediaView()).toString('base64')} ${clocks.join(',')} ${JSON.stringify(emu.stats())}`;
}

/** Asserts that `run` is refused with `code`, a message matching `names`, and no change. */
function expectRefused(emu: Emulator, run: () => unknown, code: string, names: RegExp): void {
  const before = state(emu);
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PmemError);
  expect((caught as PmemError).code).toBe(code);
  expect((caught as PmemError).message).toMatch(names);
  expect(state(emu) === before, 'the refused call changed the emulator').toBe(true);
  emu.checkInvariants();
}

async function busy(): Promise<{ emu: Emulator; f: ReturnType<Emulator['createFile']>; m: ReturnType<Emulator['mmap']> }> {
  const emu = await createEmulator({ capacity: 8 * MiB });
  const f = emu.createFile('/f', { size: 64 * 1024 });
  const m = emu.mmap(f);
  m.store(100, new Uint8Array([1, 2]));
  return { emu, f, m };
}

describe('runConcurrently checks every task before any runs', () => {
  it('a holder of 2^53 steps is EINVAL at once (it ran for ever: one turn per step)', async () => {
    const { emu, f } = await busy();
    expectRefused(emu, () => emu.runConcurrently([{ holdEntry: { file: f, pgoff: 0, steps: 2 ** 53, then: 'unlock' } }]), 'EINVAL', /holdEntry\.steps/);
  });

  it('a holder of file page 2^53 is EINVAL, not the entry of page 0 (the index wrapped to 32 bits)', async () => {
    const { emu, f } = await busy();
    expectRefused(emu, () => emu.runConcurrently([{ holdEntry: { file: f, pgoff: 2 ** 53, then: 'unlock' } }]), 'EINVAL', /holdEntry\.pgoff/);
  });

  it('an fsync task of null or a path is EINVAL, not a TypeError after the fsync was counted', async () => {
    const { emu } = await busy();
    expectRefused(emu, () => emu.runConcurrently([{ fsync: null as never }]), 'EINVAL', /task 0 fsync/);
    expectRefused(emu, () => emu.runConcurrently([{ fsync: '/f' as never }]), 'EINVAL', /task 0 fsync/);
  });

  it('a store task with no mapping, bytes that are no Uint8Array or a bad offset is refused, naming the field', async () => {
    const { emu, m } = await busy();
    expectRefused(emu, () => emu.runConcurrently([{ store: null as never }]), 'EINVAL', /task 0 store/);
    expectRefused(emu, () => emu.runConcurrently([{ store: { mapping: null as never, offset: 0, bytes: new Uint8Array(1) } }]), 'EINVAL', /store\.mapping/);
    expectRefused(emu, () => emu.runConcurrently([{ store: { mapping: m, offset: 0, bytes: [1] as never } }]), 'EINVAL', /store\.bytes/);
    expectRefused(emu, () => emu.runConcurrently([{ store: { mapping: m, offset: -1, bytes: new Uint8Array(1) } }]), 'EINVAL', /store\.offset/);
    expectRefused(emu, () => emu.runConcurrently([{ store: { mapping: m, offset: 2 ** 53, bytes: new Uint8Array(1) } }]), 'EFAULT', /store\.offset/);
  });

  it('a holder task of null or with no file is EINVAL, not a TypeError', async () => {
    const { emu } = await busy();
    expectRefused(emu, () => emu.runConcurrently([{ holdEntry: null as never }]), 'EINVAL', /holdEntry/);
    expectRefused(emu, () => emu.runConcurrently([{ holdEntry: { file: null as never, pgoff: 0, then: 'unlock' } }]), 'EINVAL', /holdEntry\.file/);
  });

  it('a task on CPU -1, 0.5 or 64 is refused before the others ran (the fsync used to run first)', async () => {
    const { emu, f } = await busy();
    for (const cpu of [-1, 0.5, 64, '1' as never]) expectRefused(emu, () => emu.runConcurrently([{ fsync: f }, { fsync: f, cpu }]), 'EINVAL', /task 1 cpu/);
    expect(emu.runConcurrently([{ fsync: f, cpu: 1 }])[0]!.entries).toBeGreaterThan(0); // a good CPU still runs
  });

  it('an fsync task of an unlinked, unmapped file is EBADF, as f.fsync() is', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const f = emu.createFile('/g', { size: 4096 });
    emu.unlink('/g');
    expectCode(() => f.fsync(), 'EBADF');
    expectRefused(emu, () => emu.runConcurrently([{ fsync: f }]), 'EBADF', /unlinked/);
  });
});

describe('the command builder refuses what is not a number or not bytes', () => {
  it('a BigInt address or length is EINVAL, not a TypeError from >>> 0', async () => {
    const emu = await createEmulator({ capacity: 4 * MiB });
    const b = emu.commands();
    expectCode(() => b.store(10n as never, new Uint8Array(1)), 'EINVAL');
    expectCode(() => b.load(0, 10n as never), 'EINVAL');
    expectCode(() => b.clwb(10n as never, 64), 'EINVAL');
    expect(b.length).toBe(0);
  });

  it('store and ntstore of null or undefined bytes are EINVAL naming bytes, not a TypeError reading length', async () => {
    const emu = await createEmulator({ capacity: 4 * MiB });
    const b = emu.commands();
    for (const bytes of [null, undefined]) {
      for (const op of ['store', 'ntstore'] as const) {
        expectCode(() => b[op](0, bytes as never), 'EINVAL');
        expect(() => b[op](0, bytes as never)).toThrow(/bytes must be a Uint8Array/);
      }
    }
    expect(b.length).toBe(0);
    expect(emu.run(b.store(0, new Uint8Array([5]))).ns).toBeGreaterThan(0);
  });
});

describe('FileMapping.flush checks its kind first', () => {
  it('kind 3 is EINVAL naming the kind, before the page is faulted in (it read-faulted, then failed)', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const f = emu.createFile('/f', { size: 64 * 1024, allocate: 'written' });
    const m = emu.mmap(f);
    for (const kind of [3, -1, 0.5, '2', null]) expectRefused(emu, () => m.flush(0, 64, kind as never), 'EINVAL', /kind/);
    expect(emu.stats().dax.pteFaults + emu.stats().dax.pmdFaults).toBe(0);
    m.flush(0, 64, 2); // a good kind faults the page and flushes
    expect(emu.stats().dax.pteFaults + emu.stats().dax.pmdFaults).toBe(1);
  });
});

describe('emu.allocate and emu.free check their arguments', () => {
  it('allocate with an extent that is not a boolean is EINVAL and allocates nothing (a string took an extent)', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const free = emu.freeBlocks();
    for (const extent of ['yes', 1, 0, null, {}]) expectRefused(emu, () => emu.allocate(extent as never), 'EINVAL', /extent/);
    expect(emu.freeBlocks()).toBe(free);
    emu.free(emu.allocate(true), 512);
    expect(emu.freeBlocks()).toBe(free);
  });

  it('free of a BigInt pfn or count is EINVAL naming it, not a TypeError; a count of 0 names the count', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const pfn = emu.allocate();
    expectRefused(emu, () => emu.free(10n as never), 'EINVAL', /free: pfn/);
    expectRefused(emu, () => emu.free(pfn, 10n as never), 'EINVAL', /free: count/);
    expectRefused(emu, () => emu.free(pfn, 0), 'EINVAL', /free: count/);
    emu.free(pfn);
  });
});

describe('a refused mmap leaves the address space as it was', () => {
  it('after an mmap refused for a length of 1e300, the next mmap at the default address still works', async () => {
    // The default address used to advance before the checks: every later mmap was EINVAL.
    const emu = await createEmulator({ capacity: 8 * MiB });
    const f = emu.createFile('/f', { size: 64 * 1024 });
    const first = emu.mmap(f, { length: 4096 });
    for (const length of [1e300, 2 ** 53]) expectCode(() => emu.mmap(f, { length }), 'EINVAL');
    const next = emu.mmap(f, { length: 4096 });
    expect(next.address).toBe(first.address + 4 * MiB);
    next.store(0, new Uint8Array([1]));
    expect(first.load(0, 1)).toEqual(new Uint8Array([1]));
  });
});

describe('createFile and mmap check the types of their options', () => {
  it("createFile with options that are no object is EINVAL (createFile('/x', 5) made a file)", async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    for (const options of [5, 'size', true]) expectRefused(emu, () => emu.createFile('/x', options as never), 'EINVAL', /options/);
    expectCode(() => emu.open('/x'), 'ENOENT');
  });

  it("mmap with shared or sync that is no boolean is EINVAL (shared: 'yes' made a mapping)", async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const f = emu.createFile('/f', { size: 4096 });
    for (const v of ['yes', 1, {}]) {
      expectRefused(emu, () => emu.mmap(f, { shared: v as never }), 'EINVAL', /shared/);
      expectRefused(emu, () => emu.mmap(f, { sync: v as never }), 'EINVAL', /sync/);
    }
    expect(f.mappings.size).toBe(0);
  });
});

describe('a Symbol where a number belongs is EINVAL, not a TypeError from the message', () => {
  it('every "got ..." message turns its value into a string that a Symbol survives', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const f = emu.createFile('/f', { size: 64 * 1024 });
    const m = emu.mmap(f);
    const d = emu.mmapDevice({ length: 4096 });
    const s = Symbol('n') as never;
    const calls: [string, () => unknown][] = [
      ['emu.cpu', () => (emu.cpu = s)], ['mmapDevice', () => emu.mmapDevice({ offset: s })], ['d.load', () => d.load(s, 1)],
      ['createFile', () => emu.createFile('/g', { size: s })], ['mmap', () => emu.mmap(f, { length: s })], ['mmap offset', () => emu.mmap(f, { offset: s })], ['emu.msync', () => emu.msync(s, 4096)],
      ['reclaim', () => emu.reclaim(s)], ['f.pread', () => f.pread(s, 1)], ['f.truncate', () => f.truncate(s)], ['m.store', () => m.store(s, new Uint8Array(1))],
      ['commands().load', () => emu.commands().load(s, 1)], ['runConcurrently', () => emu.runConcurrently([{ holdEntry: { file: f, pgoff: s, then: 'unlock' } }])],
    ];
    for (const [what, call] of calls) {
      let caught: unknown;
      try {
        call();
      } catch (err) {
        caught = err;
      }
      expect(caught, what).toBeInstanceOf(PmemError);
      expect((caught as PmemError).message, what).toMatch(/got Symbol\(n\)/);
    }
    await expect(emu.crash({ seed: s })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(createEmulator({ capacity: s })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
