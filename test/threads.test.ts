/**
 * Worker threads on one emulator (emu.share, attachEmulator): what they see of each other,
 * the TLB shootdown that keeps writeback honest, the locks under stress, and the bad input.
 * The workers run the built package (dist/), as a user's would.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { attachEmulator, createEmulator, PmemError, type Emulator } from '../src/index.js';
import { startWorkers, type RemoteWorker } from './thread-helpers.js';

let live: { emu: Emulator; workers: RemoteWorker[] }[] = [];

async function sharedEmulator(cpus: number[], options: Parameters<typeof createEmulator>[0] = {}): Promise<{ emu: Emulator; workers: RemoteWorker[] }> {
  const emu = await createEmulator({ capacity: 64 << 20, ...options });
  const workers = await startWorkers(emu, cpus);
  const pair = { emu, workers };
  live.push(pair);
  return pair;
}

afterEach(async () => {
  for (const { emu, workers } of live) {
    await Promise.all(workers.map((w) => w.terminate()));
    emu.stopSharing();
  }
  live = [];
});

describe('worker threads on one emulator', () => {
  it('a worker sees the owner\'s files by path and mappings by address, and the owner sees its stores', async () => {
    const { emu, workers: [w] } = await sharedEmulator([1]);
    const f = emu.createFile('/shared', { size: 1 << 20 });
    f.pwrite(4096, new Uint8Array([7, 8, 9]));
    const m = emu.mmap(f, { length: 1 << 20 });
    const seen = await w!.run((e, a) => {
      const file = e.open('/shared');
      const map = e.mappingAt(a.address + 8192);
      map.store(100, new Uint8Array([42]));
      return { read: Array.from(file.pread(4096, 3)), size: file.size, address: map.address, direct: map.direct };
    }, { address: m.address });
    expect(seen).toEqual({ read: [7, 8, 9], size: 1 << 20, address: m.address, direct: true });
    expect(m.load(100, 1)).toEqual(new Uint8Array([42]));
    emu.checkInvariants();
  });

  it('each CPU keeps its own clock: a worker\'s stores move its CPU\'s clock, not the owner\'s', async () => {
    const { emu, workers: [w] } = await sharedEmulator([2]);
    const dev = emu.mmapDevice({ offset: 0, length: 1 << 20 });
    dev.store(0, new Uint8Array(64));
    const ownerBefore = emu.now();
    const workerNs = await w!.run((e) => {
      const d = e.mmapDevice({ offset: 1 << 20, length: 1 << 20 });
      for (let i = 0; i < 100; i++) d.store(i * 64, new Uint8Array(8));
      d.clwb(0, 6400);
      e.sfence();
      return { now: e.now(), cpu: e.cpu };
    });
    expect(workerNs.cpu).toBe(2);
    expect(workerNs.now).toBeGreaterThan(0);
    expect(emu.now()).toBe(ownerBefore);
    expect(emu.stats().nsPerCpu[2]).toBe(workerNs.now);
  });

  it('writeback write-protects through the TLB shootdown: a worker\'s store after the owner\'s fsync faults again and is written back by the next (dax_writeback_one, pfn_mkclean)', async () => {
    const { emu, workers: [w] } = await sharedEmulator([1]);
    const f = emu.createFile('/wp', { size: 64 << 10, allocate: 'written' });
    f.fsync();
    const m = emu.mmap(f, { length: 64 << 10 });
    const store = (value: number): Promise<number> =>
      w!.run((e, a) => {
        const map = e.mappingAt(a.address);
        map.store(0, new Uint8Array([a.value]));
        return e.stats().dax.faults;
      }, { address: m.address, value });
    const faultsFirst = await store(1);
    expect(f.fsync().entries).toBe(1);
    const faultsSecond = await store(2);
    // The fsync write-protected the PTE the worker had cached: the second store faulted (a pfn_mkwrite).
    expect(faultsSecond).toBe(faultsFirst + 1);
    expect(f.fsync().entries).toBe(1);
    const image = await emu.crash({ mode: 'guaranteed' });
    expect(image.open('/wp').pread(0, 1)).toEqual(new Uint8Array([2]));
  });

  it('a worker\'s truncate unmaps the owner\'s pages, and a worker\'s stale translation is dropped: an access past the new end is SIGBUS', async () => {
    const { emu, workers: [w] } = await sharedEmulator([3]);
    const f = emu.createFile('/t', { size: 16 << 10, allocate: 'written' });
    const m = emu.mmap(f, { length: 16 << 10 });
    m.store(12 << 10, new Uint8Array([5]));
    const result = await w!.run((e, a) => {
      const map = e.mappingAt(a.address);
      map.store(12 << 10, new Uint8Array([6])); // caches the translation
      e.open('/t').truncate(8 << 10);
      try {
        map.load(12 << 10, 1);
        return 'no fault';
      } catch (err) {
        return (err as { code: string }).code;
      }
    }, { address: m.address });
    expect(result).toBe('SIGBUS');
    expect(() => m.load(12 << 10, 1)).toThrow(/SIGBUS/);
    emu.checkInvariants();
  });

  it('private and page-cache mappings are the owner\'s memory: a worker\'s accesses are calls, and see the same bytes', async () => {
    const { emu, workers: [w] } = await sharedEmulator([1]);
    const pc = emu.createFile('/pc', { size: 8192, dax: false });
    const m = emu.mmap(pc, { length: 8192 });
    m.store(10, new Uint8Array([3]));
    const read = await w!.run((e, a) => {
      const map = e.mappingAt(a.address);
      map.store(11, new Uint8Array([4]));
      return { direct: map.direct, bytes: Array.from(map.load(10, 2)) };
    }, { address: m.address });
    expect(read).toEqual({ direct: false, bytes: [3, 4] });
    expect(m.load(10, 2)).toEqual(new Uint8Array([3, 4]));
  });

  it('traces started on a worker see the faults that worker takes, as the kernel\'s fs_dax events', async () => {
    const { emu, workers: [w] } = await sharedEmulator([1]);
    const f = emu.createFile('/tr', { size: 4 << 20 });
    const m = emu.mmap(f, { length: 4 << 20 });
    const names = await w!.run((e, a) => {
      const trace = e.startTrace();
      e.mappingAt(a.address).store(0, new Uint8Array([1]));
      return trace.stop().map((ev) => ev.name);
    }, { address: m.address });
    expect(names).toContain('dax_pmd_fault');
    expect(names).toContain('dax_pmd_fault_done');
  });

  it('stress: three workers make 10^5 seeded random calls: store, flush, fence, fault, msync, truncate and punch at once; the counters add up exactly and the line states, trees and page tables stay sound', async () => {
    const { emu, workers } = await sharedEmulator([1, 2, 3], { capacity: 128 << 20, cacheBytes: 64 << 20 });
    const shared = emu.createFile('/shared', { size: 8 << 20 });
    const sharedMap = emu.mmap(shared, { length: 8 << 20 });
    const before = emu.stats();
    const counts = await Promise.all(
      workers.map((w, k) =>
        w.run((e, a) => {
          // A seeded xorshift: each worker's sequence is fixed, the interleaving is not.
          let x = a.seed;
          const next = (n: number): number => {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            return (x >>> 0) % n;
          };
          const own = e.createFile(`/own${a.k}`, { size: 2 << 20 });
          const ownMap = e.mmap(own, { length: 4 << 20 });
          const dev = e.mmapDevice({ offset: (64 << 20) + a.k * (4 << 20), length: 4 << 20 });
          const shared = e.mappingAt(a.address);
          const c = { stores: 0, clwb: 0, fences: 0 };
          const word = new Uint8Array(8).fill(a.k + 1);
          for (let i = 0; i < a.ops; i++) {
            const r = next(1000);
            // Disjoint pages of the shared file: worker k owns the pages p with p % 3 == k.
            const sharedOff = (next(682) * 3 + a.k) * 4096 + next(512) * 8;
            if (r < 400) {
              dev.store(next(65536) * 64, word);
              c.stores++;
            } else if (r < 550) {
              dev.clwb(next(65536) * 64, 64);
              c.clwb++;
            } else if (r < 600) {
              e.sfence();
              c.fences++;
            } else if (r < 850) {
              shared.store(sharedOff, word);
              c.stores++;
            } else if (r < 900) {
              shared.clwb(sharedOff, 8);
            } else if (r < 960) {
              try {
                ownMap.store(next(own.size > 0 ? own.size : 1), new Uint8Array([a.k]));
                c.stores++;
              } catch (err) {
                if ((err as { code: string }).code !== 'SIGBUS') throw err;
              }
            } else if (r < 975) {
              shared.msync(sharedOff - (sharedOff % 4096), 4096);
            } else if (r < 985) {
              own.truncate(next(4 << 20));
            } else if (r < 995) {
              own.punchHole(next(512) * 4096, 4096 * (1 + next(8)));
            } else {
              own.fsync();
            }
          }
          e.sfence();
          c.fences++;
          own.fsync();
          return c;
        }, { k, seed: 0x9e3779b9 ^ (k * 7919 + 1), ops: 33334, address: sharedMap.address }),
      ),
    );
    emu.checkInvariants();
    const after = emu.stats();
    // With room for every line in the cache nothing is evicted, so every write that reached a
    // DIMM (the shared counter) is a dirty line flushed or an NT line (each CPU's counters).
    expect(after.evictions - before.evictions).toBe(0);
    expect(after.dimmBytesWritten - before.dimmBytesWritten).toBe(64 * (after.dirtyLinesFlushed - before.dirtyLinesFlushed + after.ntLines - before.ntLines));
    // Every store each worker made is counted once: no update was lost.
    expect(after.stores - before.stores).toBe(counts.reduce((s, c) => s + c.stores, 0));
    expect(after.sfences - before.sfences).toBeGreaterThanOrEqual(counts.reduce((s, c) => s + c.fences, 0));
    // The crash promise: what fsync made durable is what a guaranteed crash keeps.
    shared.fsync();
    const image = await emu.crash({ mode: 'guaranteed' });
    for (const path of ['/shared', '/own0', '/own1', '/own2']) {
      const live = emu.open(path);
      // Compared as one buffer: an element-by-element toEqual of megabytes takes minutes.
      expect(Buffer.compare(image.open(path).pread(0, live.size), live.pread(0, live.size)), path).toBe(0);
    }
  }, 120_000);
});

// The concurrency scenarios on real threads. The file system runs on the owner under one
// lock (docs/threads.md), so two workers' kernel calls run one after the other, in whichever
// order they reach it; each test asserts what the scenario promises in every such order.
// S28 (a fault sleeping on a locked entry, WAKE_NEXT and WAKE_ALL) needs two kernel calls
// inside the file system at once, which that lock rules out: it stays a runConcurrently
// scenario (test/wait-queue.test.ts) until the trees get locks of their own.
describe('S20 and S22 on real worker threads (docs/kernel-rules.md §7)', () => {
  it('S20: two workers fsync one file at once: each dirty entry is flushed exactly once between them, every entry ends clean, nothing is lost', async () => {
    const { emu, workers: [a, b] } = await sharedEmulator([1, 2]);
    const pages = 64;
    for (let round = 0; round < 5; round++) {
      const f = emu.createFile(`/s20-${round}`, { size: pages * 4096, allocate: 'written' });
      const m = emu.mmap(f, { length: pages * 4096 });
      for (let p = 0; p < pages; p++) m.store(p * 4096, new Uint8Array([round + 1, p]));
      const fsync = (w: RemoteWorker) => w.run((e, args) => e.open(args.path).fsync(), { path: `/s20-${round}` });
      const [ra, rb] = await Promise.all([fsync(a!), fsync(b!)]);
      expect(ra.lines + rb.lines).toBe(64 * pages);
      expect(ra.entries + rb.entries).toBe(pages);
      expect(f.entries().every((e) => !e.dirty && !e.towrite && !e.locked)).toBe(true);
      const image = await emu.crash({ mode: 'guaranteed' });
      const g = image.open(`/s20-${round}`);
      for (let p = 0; p < pages; p++) expect(Array.from(g.pread(p * 4096, 2))).toEqual([round + 1, p]);
      image.dispose();
    }
    emu.checkInvariants();
  });

  it('S22: a worker\'s store racing another worker\'s fsync of its entry: stored before the writeback, it is written back by it; after, it faults (pfn_mkwrite), re-dirties the entry, and the next fsync flushes it', async () => {
    const { emu, workers: [flusher, storer] } = await sharedEmulator([1, 2]);
    const f = emu.createFile('/s22', { size: 32 << 10, allocate: 'written' });
    const m = emu.mmap(f, { length: 32 << 10 });
    // Both orders happen over the rounds (the store runs on the worker's cached translation,
    // the fsync on the owner); which one a round gets is up to the threads.
    for (let round = 1; round <= 20; round++) {
      m.store(5 * 4096, new Uint8Array([0xee])); // 5: DATA-PTE{D}, writable
      // The storer holds the mapping and a writable translation of page 5 before the race.
      await storer!.run((e, args, state) => {
        state.map = e.mappingAt(args.address);
        (state.map as ReturnType<typeof e.mappingAt>).store(5 * 4096 + 16, new Uint8Array([1]));
      }, { address: m.address });
      const [report, faults] = await Promise.all([
        flusher!.run((e) => e.open('/s22').fsync()),
        storer!.run((e, args, state) => {
          const before = e.stats().dax.faults;
          (state.map as ReturnType<typeof e.mappingAt>).store(5 * 4096 + 8, new Uint8Array([args.value]));
          return e.stats().dax.faults - before;
        }, { value: round }),
      ]);
      expect(report.lines).toBe(64); // the racing fsync wrote entry 5 back either way
      const storeCameAfter = faults === 1;
      // After the writeback the entry was write-protected: the store faulted and re-dirtied it.
      expect(f.entries().find((e) => e.index === 5)!.dirty).toBe(storeCameAfter);
      expect(f.fsync().lines).toBe(storeCameAfter ? 64 : 0);
      const image = await emu.crash({ mode: 'guaranteed' });
      expect(image.open('/s22').pread(5 * 4096 + 8, 1)[0]).toBe(round);
      image.dispose();
    }
    emu.checkInvariants();
  });
});

describe('crash images while workers run', () => {
  it('a crash image is of one instant between two instructions: a worker\'s fenced counter in two chunks never reads newer in the chunk copied last', async () => {
    const { emu, workers: [w] } = await sharedEmulator([1]);
    // A in chunk 0, B in chunk 1: the image copies chunk 0 first, so a copy the worker's
    // stores could run between would find B ahead of A. Durable, A is B or B + 1.
    const [A, B] = [0, (2 << 20) + 64];
    const stop = new SharedArrayBuffer(4);
    const running = w!.run((e, args) => {
      const halt = new Int32Array(args.stop);
      const d = e.mmapDevice({ offset: 0, length: 4 << 20 });
      const v = new Uint8Array(8);
      const view = new DataView(v.buffer);
      let i = 0;
      while (Atomics.load(halt, 0) === 0) {
        view.setUint32(0, ++i, true);
        d.ntstore(args.A, v);
        e.sfence();
        d.ntstore(args.B, v);
        e.sfence();
      }
      return i;
    }, { stop, A, B });
    const u32 = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const seen: [number, number][] = [];
    try {
      while (seen.length < 20) {
        const image = await emu.crash({ mode: 'guaranteed' });
        const [a, b] = [u32(image.core.readMedia(A, 4)), u32(image.core.readMedia(B, 4))];
        image.dispose();
        if (a > 0) seen.push([a, b]);
      }
    } finally {
      Atomics.store(new Int32Array(stop), 0, 1);
    }
    const rounds = await running;
    expect(rounds).toBeGreaterThan(seen[seen.length - 1]![0]);
    // Every image between two of the worker's instructions; and the images moved with it.
    for (const [a, b] of seen) expect(a - b === 0 || a - b === 1, `A ${a}, B ${b}`).toBe(true);
    expect(new Set(seen.map(([a]) => a)).size).toBeGreaterThan(1);
    emu.checkInvariants();
  });
});

describe('bad input to attachEmulator and the shared emulator', () => {
  it('a handle that is not one, or from another build, is EINVAL with the reason', async () => {
    const emu = await createEmulator({ capacity: 4 << 20 });
    const handle = emu.share();
    try {
      await expect(attachEmulator({} as never, { cpu: 1 })).rejects.toThrow(/handle must be what emu.share\(\) returned/);
      await expect(attachEmulator({ ...handle, protocol: 999 }, { cpu: 1 })).rejects.toThrow(/another daxemu build/);
    } finally {
      emu.stopSharing();
    }
  });

  it('CPU 0, a CPU beyond the count, a fractional CPU, and a CPU attached already are EINVAL; the owner may not switch to an attached CPU (EBUSY)', async () => {
    const emu = await createEmulator({ capacity: 4 << 20 });
    const handle = emu.share();
    try {
      for (const cpu of [0, 8, 1.5, -1]) await expect(attachEmulator(handle, { cpu })).rejects.toMatchObject({ code: 'EINVAL' });
      // On this thread only the hardware may be used: a call to the owner would wait for itself.
      const first = await attachEmulator(handle, { cpu: 5 });
      await expect(attachEmulator(handle, { cpu: 5 })).rejects.toThrow(/cpu 5 is attached already/);
      expect(() => {
        emu.cpu = 5;
      }).toThrow(PmemError);
      first.detach();
      const again = await attachEmulator(handle, { cpu: 5 });
      again.detach();
      expect(() => again.sfence()).toThrow(/detached/);
    } finally {
      emu.stopSharing();
    }
  });

  it('a worker that died holding the hardware lock: the next taker gets EDEADLK once, not a hang, and the emulator goes on', async () => {
    const emu = await createEmulator({ capacity: 4 << 20 });
    emu.share();
    try {
      const dev = emu.mmapDevice({ length: 4096 });
      // Thread 3 holds the lines lock (its owner word is 3 + 1) and is declared dead.
      const header = emu.core.layout.headerOffset;
      new Int32Array(emu.core.memory.buffer)[(header + 128) / 4] = 4;
      emu.workerExited(3);
      const stats = emu.stats();
      expect(() => dev.store(0, new Uint8Array([1]))).toThrow(/EDEADLK.*thread 3/);
      expect(emu.stats()).toEqual(stats);
      dev.store(0, new Uint8Array([1]));
      expect(dev.load(0, 1)).toEqual(new Uint8Array([1]));
    } finally {
      emu.stopSharing();
    }
  });

  it('a worker terminated in the middle of a long command buffer never leaves the others hanging', async () => {
    const { emu, workers: [w] } = await sharedEmulator([4]);
    const running = w!.run((e) => {
      const cmds = e.commands();
      const word = new Uint8Array(8);
      for (let i = 0; i < 60000; i++) cmds.store((i % 4096) * 64, word).clwb((i % 4096) * 64, 8);
      for (;;) e.run(cmds);
    });
    running.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await w!.terminate();
    emu.workerExited(4);
    const dev = emu.mmapDevice({ length: 4096 });
    let deadlocks = 0;
    for (let i = 0; i < 3; i++) {
      try {
        dev.store(0, new Uint8Array([9]));
      } catch (err) {
        expect((err as PmemError).code).toBe('EDEADLK');
        deadlocks++;
      }
    }
    expect(deadlocks).toBeLessThanOrEqual(1);
    expect(dev.load(0, 1)).toEqual(new Uint8Array([9]));
    live = [];
    emu.stopSharing();
  });
});
