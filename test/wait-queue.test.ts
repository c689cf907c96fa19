// The DAX entry waitqueues (src/dax/wait-queue.ts) and docs/kernel-rules.md §7 S28 through runConcurrently:
// hashed buckets, PMD-aligned keys, exclusive sleepers, WAKE_NEXT and WAKE_ALL.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import { DAX_PMD, daxMkEntry } from '../src/core/entry.js';
import type { DaxFile } from '../src/dax/file.js';
import type { FileMapping } from '../src/dax/file-mapping.js';
import { DAX_WAIT_TABLE_BITS, EntryWaitTable, entryKey, waitBucket, type WaitEvent } from '../src/dax/wait-queue.js';
import { expectCode } from './helpers.js';

const MiB = 1 << 20;

describe('entry waitqueue hashing (fs/dax.c dax_entry_waitqueue)', () => {
  it('hashes with hash_64(xa ^ index, 12): known values of the golden-ratio multiply', () => {
    expect(DAX_WAIT_TABLE_BITS).toBe(12);
    expect(waitBucket({ tree: 0, entryStart: 0 })).toBe(0);
    // 1 * 0x61C8864680B583EB >> 52 = 0x61C
    expect(waitBucket({ tree: 0, entryStart: 1 })).toBe(0x61c);
    expect(waitBucket({ tree: 1, entryStart: 0 })).toBe(0x61c); // xa and index are xor-ed
    expect(waitBucket({ tree: 3, entryStart: 2 })).toBe(0x61c);
  });

  it('a PMD entry is waited on at its PMD-aligned index, a PTE entry at its own', () => {
    const pmd = daxMkEntry(4096, DAX_PMD);
    const pte = daxMkEntry(4096, 0);
    expect(entryKey(777, 300, pmd)).toEqual({ tree: 777, entryStart: 0 });
    expect(entryKey(777, 812, pmd)).toEqual({ tree: 777, entryStart: 512 });
    expect(entryKey(777, 300, pte)).toEqual({ tree: 777, entryStart: 300 });
  });

  it('WAKE_NEXT wakes the first matching sleeper only, skipping other entries that share the bucket', () => {
    const x = { tree: 5, entryStart: 0 };
    const bucket = waitBucket(x);
    let start = 1;
    while (waitBucket({ tree: 5, entryStart: start }) !== bucket) start++;
    const y = { tree: 5, entryStart: start };
    const log: WaitEvent[] = [];
    const table = new EntryWaitTable(log);
    table.sleep(1, x);
    table.sleep(2, y);
    table.sleep(3, y);
    table.sleep(4, x);
    expect(table.wake(y, 'next', 0)).toEqual([2]); // task 1 sleeps in the bucket first but on x
    expect(table.wake(x, 'all', 0)).toEqual([1, 4]);
    expect(table.wake(x, 'next', 0)).toEqual([]);
    expect(table.isAsleep(3)).toBe(true);
    expect(table.wake(y, 'all', 0)).toEqual([3]);
    expect(log.filter((e) => e.kind === 'sleep').every((e) => e.bucket === bucket)).toBe(true);
  });
});

/** A 2 MiB file written through an aligned shared mapping (one DATA-PMD), then fsynced: the PMD is write-protected, so the next store faults. */
async function cleanPmd(): Promise<{ emu: Emulator; f: DaxFile; m: FileMapping }> {
  const emu = await createEmulator({ capacity: 16 * MiB });
  const f = emu.createFile('/f', { size: 2 * MiB });
  const m = emu.mmap(f);
  m.store(0, new Uint8Array([9]));
  f.fsync();
  expect(f.entries().map((e) => [e.index, e.order, e.kind])).toEqual([[0, 9, 'data']]);
  return { emu, f, m };
}

const store = (m: FileMapping, page: number, value: number, cpu: number) =>
  ({ store: { mapping: m, offset: page * 4096 + 8, bytes: new Uint8Array([value]) }, cpu });

describe('S28: lock waitqueue semantics (linux-6.12)', () => {
  it('S28 steps 1-3: a PTE fault under a locked PMD entry sleeps in bucket hash(xa ^ 0); the unlock (WAKE_NEXT) wakes exactly it', async () => {
    const { emu, f, m } = await cleanPmd();
    const log: WaitEvent[] = [];
    emu.runConcurrently([{ holdEntry: { file: f, pgoff: 0, steps: 2, then: 'unlock' }, cpu: 0 }, store(m, 300, 1, 1)], { schedule: [0, 1, 0, 0], waitLog: log });
    const key = { tree: f.tree, entryStart: 0 };
    expect(log).toEqual([
      { kind: 'sleep', task: 1, bucket: waitBucket(key), ...key },
      { kind: 'wake', task: 1, bucket: waitBucket(key), ...key, mode: 'next', by: 0 },
    ]);
    expect(m.load(300 * 4096 + 8, 1)[0]).toBe(1);
    expect(f.entries().map((e) => [e.index, e.order, e.dirty])).toEqual([[0, 9, true]]); // the woken fault re-dirtied it
    emu.checkInvariants();
  });

  it('S28: with two sleepers, the holder\'s unlock wakes one; that fault\'s own unlock passes the wake to the other', async () => {
    const { emu, f, m } = await cleanPmd();
    const log: WaitEvent[] = [];
    emu.runConcurrently([{ holdEntry: { file: f, pgoff: 0, steps: 3, then: 'unlock' }, cpu: 0 }, store(m, 300, 1, 1), store(m, 400, 2, 2)], { schedule: [0, 1, 2, 0, 0, 0], waitLog: log });
    expect(log.map((e) => `${e.kind}:${e.task}${e.kind === 'wake' ? `:${e.mode}:by${e.by}` : ''}`)).toEqual(['sleep:1', 'sleep:2', 'wake:1:next:by0', 'wake:2:next:by1']);
    expect([m.load(300 * 4096 + 8, 1)[0], m.load(400 * 4096 + 8, 1)[0]]).toEqual([1, 2]);
    emu.checkInvariants();
  });

  it('S28 step 4 (B14): deleting the entry wakes every sleeper (WAKE_ALL); each faults a new entry in turn and nothing old survives', async () => {
    const { emu, f, m } = await cleanPmd();
    const log: WaitEvent[] = [];
    const t = emu.startTrace();
    emu.runConcurrently([{ holdEntry: { file: f, pgoff: 0, steps: 2, then: 'punch' }, cpu: 0 }, store(m, 300, 1, 1), store(m, 400, 2, 2)], { schedule: [0, 1, 2, 0, 0], waitLog: log });
    const faults = t.stop().filter((e) => e.name === 'dax_pmd_fault' || e.name === 'dax_pte_fault' || e.name === 'dax_pmd_fault_done');
    expect(log.map((e) => `${e.kind}:${e.task}${e.kind === 'wake' ? `:${e.mode}:by${e.by}` : ''}`)).toEqual(['sleep:1', 'sleep:2', 'wake:1:all:by0', 'wake:2:all:by0']);
    expect(faults.length).toBeGreaterThan(0); // the woken stores faulted on the punched hole
    expect(m.load(0, 1)[0]).toBe(0); // the punched data is gone
    expect([m.load(300 * 4096 + 8, 1)[0], m.load(400 * 4096 + 8, 1)[0]]).toEqual([1, 2]);
    expect(f.entries().every((e) => e.dirty)).toBe(true);
    emu.checkInvariants();
  });

  it('a store through a writable mapping takes no entry lock, so it does not sleep on a held entry', async () => {
    const { emu, f, m } = await cleanPmd();
    m.store(8, new Uint8Array([3])); // write fault: the PMD is writable again
    const log: WaitEvent[] = [];
    emu.runConcurrently([{ holdEntry: { file: f, pgoff: 0, steps: 2, then: 'unlock' } }, store(m, 300, 1, 1)], { schedule: [0, 1], waitLog: log });
    expect(log).toEqual([]);
    emu.checkInvariants();
  });

  it('bad holdEntry tasks are refused before anything runs: no entry (ENOENT), bad steps or then (EINVAL), linux-4.5 (EOPNOTSUPP: it predates entry locks)', async () => {
    const { emu, f } = await cleanPmd();
    const g = emu.createFile('/g', { size: 2 * MiB });
    expectCode(() => emu.runConcurrently([{ holdEntry: { file: g, pgoff: 0, then: 'unlock' } }]), 'ENOENT');
    expectCode(() => emu.runConcurrently([{ holdEntry: { file: f, pgoff: 0, steps: -1, then: 'unlock' } }]), 'EINVAL');
    expectCode(() => emu.runConcurrently([{ holdEntry: { file: f, pgoff: 0, then: 'drop' as 'unlock' } }]), 'EINVAL');
    expectCode(() => emu.runConcurrently([{ holdEntry: { file: f, pgoff: -1, then: 'unlock' } }]), 'EINVAL');
    expect(f.entries().map((e) => e.locked)).toEqual([false]);
    const old = await createEmulator({ capacity: 16 * MiB, kernel: 'linux-4.5' });
    const h = old.createFile('/h', { size: 2 * MiB });
    old.mmap(h).store(0, new Uint8Array([1]));
    expectCode(() => old.runConcurrently([{ holdEntry: { file: h, pgoff: 0, then: 'unlock' } }]), 'EOPNOTSUPP');
    emu.checkInvariants();
  });
});
