// The persistent-memory hardware through the public API: durability per instruction and
// persistence domain (docs/cost-model.md §2.1, §2.7, §3), crash images, the bounded cache, the
// command buffer, the block allocator and bad input.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js';
import { PRESETS } from '../src/hw/presets.js';
import { BUILDS, expectCode } from './helpers.js';

const MiB = 1 << 20;
const line = (fill: number): Uint8Array => new Uint8Array(64).fill(fill);

/** What a guaranteed crash now leaves at [off, off + len). */
async function survives(emu: Emulator, off: number, len: number, mode: 'guaranteed' | 'random' | 'adversarial' = 'guaranteed', seed = 1): Promise<Uint8Array> {
  const image = await emu.crash({ mode, seed });
  return image.mmapDevice().load(off, len);
}


describe.each(BUILDS)('durability rules (%s build)', (build) => {
  const make = (options: EmulatorOptions = {}): Promise<Emulator> => createEmulator({ capacity: 4 * MiB, cacheBytes: 64 * 1024, build, ...options });

  it('a store alone is lost at a guaranteed crash under ADR', async () => {
    const emu = await make();
    emu.mmapDevice().store(128, line(7));
    expect(emu.stats().nonDurableLines).toBe(1);
    expect(await survives(emu, 128, 64)).toEqual(line(0));
  });

  it('a store alone is kept under eADR: the caches are in the persistence domain', async () => {
    const emu = await make({ persistence: 'eadr' });
    emu.mmapDevice().store(128, line(7));
    expect(emu.stats().nonDurableLines).toBe(0);
    expect(await survives(emu, 128, 64)).toEqual(line(7));
  });

  it('clflush needs no fence: the line is durable when it returns', async () => {
    const emu = await make();
    const m = emu.mmapDevice();
    m.store(0, line(3));
    m.clflush(0, 64);
    expect(await survives(emu, 0, 64)).toEqual(line(3));
  });

  it.each(['clwb', 'clflushopt'] as const)('%s without a fence is not guaranteed; after sfence it is', async (flush) => {
    const emu = await make();
    const m = emu.mmapDevice();
    m.store(0, line(5));
    m[flush](0, 64);
    expect(await survives(emu, 0, 64)).toEqual(line(0));
    emu.sfence();
    expect(await survives(emu, 0, 64)).toEqual(line(5));
  });

  it('an ntstore is durable after sfence, not before', async () => {
    const emu = await make();
    const m = emu.mmapDevice();
    m.ntstore(4096, line(9));
    expect(await survives(emu, 4096, 64)).toEqual(line(0));
    emu.sfence();
    expect(await survives(emu, 4096, 64)).toEqual(line(9));
  });

  it('a store between the flush and the fence is not made durable by that fence', async () => {
    const emu = await make();
    const m = emu.mmapDevice();
    m.store(0, line(1));
    m.clwb(0, 64);
    m.store(0, line(2));
    emu.sfence();
    expect(emu.stats().nonDurableLines).toBe(1);
    expect(await survives(emu, 0, 64)).toEqual(line(0));
  });

  it("a fence orders only its own CPU's flushes", async () => {
    const emu = await make();
    const m = emu.mmapDevice();
    m.store(0, line(4));
    m.clwb(0, 64);
    emu.cpu = 1;
    emu.sfence();
    expect(await survives(emu, 0, 64)).toEqual(line(0));
    emu.cpu = 0;
    emu.sfence();
    expect(await survives(emu, 0, 64)).toEqual(line(4));
  });

  it('a crash after eviction keeps the evicted line, and the cache never holds more than cacheBytes of dirty lines', async () => {
    const cacheBytes = 16 * 1024; // 256 lines
    const emu = await make({ cacheBytes });
    const m = emu.mmapDevice();
    const touched = 4 * cacheBytes;
    for (let off = 0; off < touched; off += 64) m.store(off, line((off / 64) % 250 + 1));
    const s = emu.stats();
    expect(s.nonDurableLines).toBe(cacheBytes / 64);
    expect(s.evictions).toBe(touched / 64 - cacheBytes / 64);
    const image = (await emu.crash()).mmapDevice().load(0, touched);
    let kept = 0;
    for (let off = 0; off < touched; off += 64) {
      const want = (off / 64) % 250 + 1;
      if (image[off] === want) kept++;
      else expect(image.subarray(off, off + 64)).toEqual(line(0));
    }
    expect(kept).toBe(s.evictions); // exactly the evicted lines survived
  });

  it('the same seed gives the same crash image; random mode tears only at 8-byte granularity', async () => {
    const emu = await make();
    const m = emu.mmapDevice();
    for (let off = 0; off < 64 * 200; off += 64) m.store(off, line(0xff));
    const a = await survives(emu, 0, 64 * 200, 'random', 42);
    const b = await survives(emu, 0, 64 * 200, 'random', 42);
    const c = await survives(emu, 0, 64 * 200, 'random', 43);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const kinds = new Set<string>();
    for (let off = 0; off < a.length; off += 64) {
      const words = Array.from({ length: 8 }, (_, w) => a.subarray(off + 8 * w, off + 8 * w + 8));
      for (const word of words) expect(word.every((x) => x === word[0])).toBe(true); // no torn 8-byte word
      const kept = words.filter((w) => w[0] === 0xff).length;
      kinds.add(kept === 8 ? 'kept' : kept === 0 ? 'reverted' : 'torn');
    }
    expect(kinds).toEqual(new Set(['kept', 'reverted', 'torn']));
  });

  it('adversarial mode reverts flushed-but-unfenced lines and keeps unflushed dirty ones', async () => {
    const emu = await make();
    const m = emu.mmapDevice();
    m.store(0, line(1));
    m.clwb(0, 64); // flushed, not fenced
    m.store(64, line(2)); // dirty, never flushed
    const image = await survives(emu, 0, 128, 'adversarial');
    expect(image.subarray(0, 64)).toEqual(line(0));
    expect(image.subarray(64, 128)).toEqual(line(2));
  });

  it('loads see the newest data, durable or not', async () => {
    const emu = await make();
    const m = emu.mmapDevice();
    m.store(100, new Uint8Array([1, 2, 3]));
    m.ntstore(200, new Uint8Array([4, 5]));
    expect(Array.from(m.load(99, 5))).toEqual([0, 1, 2, 3, 0]);
    expect(Array.from(m.load(200, 2))).toEqual([4, 5]);
  });
});

describe.each(BUILDS)('cost formulas (%s build)', (build) => {
  const round = { ...PRESETS['optane-g1'], name: 'round', writebackNs: 100, clflushCleanNs: 50, flushIssueNs: 1, flushBytesPerNs: 64 / 10, sfenceNs: 2, storeHitNs: 0, storeMissNs: 0, maxOutstanding: 64, bufferMissNs: 0 };

  it('clflush of n dirty lines costs n write-backs, one after another', async () => {
    const emu = await createEmulator({ capacity: 2 * MiB, preset: round, build });
    const m = emu.mmapDevice();
    m.store(0, new Uint8Array(64 * 10).fill(1));
    const t = emu.now();
    m.clflush(0, 640);
    expect(emu.now() - t).toBeCloseTo(10 * 100, 9);
  });

  it('clwb of n dirty lines plus one sfence costs one latency plus n-1 issue intervals', async () => {
    const emu = await createEmulator({ capacity: 2 * MiB, preset: round, build });
    const m = emu.mmapDevice();
    m.store(0, new Uint8Array(64 * 10).fill(1));
    const t = emu.now();
    m.clwb(0, 640);
    emu.sfence();
    expect(emu.now() - t).toBeCloseTo(1 + 9 * 10 + 100, 9);
  });
});

describe.each(BUILDS)('command buffer (%s build)', (build) => {
  it('the command buffer gives the same data, counters and clock as the per-op methods', async () => {
    const a = await createEmulator({ capacity: 4 * MiB, cacheBytes: 4096, build, seed: 9 });
    const b = await createEmulator({ capacity: 4 * MiB, cacheBytes: 4096, build, seed: 9 });
    const m = a.mmapDevice();
    const cmds = b.commands();
    for (let i = 0; i < 500; i++) {
      const off = (i * 1031) % (1 << 20);
      const bytes = new Uint8Array((i % 100) + 1).fill(i & 0xff);
      if (i % 7 === 0) { m.ntstore(off, bytes); cmds.ntstore(off, bytes); }
      else { m.store(off, bytes); cmds.store(off, bytes); }
      if (i % 5 === 0) { m.clwb(off, bytes.length); cmds.clwb(off, bytes.length); }
      if (i % 11 === 0) { m.clflush(off, 64); cmds.clflush(off, 64); }
      if (i % 13 === 0) { m.clflushopt(off, 64); cmds.clflushopt(off, 64); }
      if (i % 17 === 0) { a.sfence(); cmds.sfence(); }
      if (i % 19 === 0) { m.load(off, 200); cmds.load(off, 200); }
    }
    a.mfence();
    cmds.mfence();
    const result = b.run(cmds);
    expect(b.now()).toBe(a.now());
    expect(result.ns).toBe(b.now()); // the run started at 0
    expect(b.stats()).toEqual(a.stats());
    expect(b.mmapDevice().load(0, 1 << 20)).toEqual(m.load(0, 1 << 20));
    expect(result.counters.stores).toBe(a.stats().stores);
    expect(result.loads.length).toBe(Math.floor(499 / 19) + 1);
  });

  it('a bad record fails the whole run and runs nothing', async () => {
    const emu = await createEmulator({ capacity: 2 * MiB, build });
    const cmds = emu.commands().store(0, line(1)).store(2 * MiB, line(2));
    expectCode(() => emu.run(cmds), 'ERANGE');
    expect(emu.stats().stores).toBe(0);
    expect(emu.mmapDevice().load(0, 64)).toEqual(line(0));
  });
});

describe.each(BUILDS)('block allocator (%s build)', (build) => {
  it('hands out 2 MiB-aligned extents while whole ones are free, single blocks from used extents first, then ENOSPC', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB, build });
    const first = emu.allocate(true);
    expect(first % 512).toBe(0);
    const block = emu.allocate();
    expect(Math.floor(block / 512)).not.toBe(Math.floor(first / 512));
    const again = emu.allocate();
    expect(Math.floor(again / 512)).toBe(Math.floor(block / 512)); // the partly used extent first
    expect(emu.allocate(true) % 512).toBe(0);
    expect(emu.allocate(true) % 512).toBe(0);
    expectCode(() => emu.allocate(true), 'ENOSPC'); // the fourth extent is broken by two blocks
    while (emu.freeBlocks() > 0) emu.allocate();
    expectCode(() => emu.allocate(), 'ENOSPC');
    emu.free(first, 512);
    expect(emu.allocate(true)).toBe(first);
    expectCode(() => emu.free(first + 512 * 100, 1), 'EINVAL');
  });

  it('freeing a free block is refused and frees nothing', async () => {
    const emu = await createEmulator({ capacity: 2 * MiB, build });
    const a = emu.allocate();
    const free = emu.freeBlocks();
    expectCode(() => emu.free(a, 2), 'EINVAL');
    expect(emu.freeBlocks()).toBe(free);
  });
});

describe('bad input', () => {
  it('creation refuses a capacity that is not a positive multiple of 2 MiB or is too large, an unknown preset, a bad cache size', async () => {
    await expect(createEmulator({ capacity: 3 * MiB })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(createEmulator({ capacity: 0 })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(createEmulator({ capacity: 4096 * MiB })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(createEmulator({ preset: 'optane-g9' as never })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(createEmulator({ capacity: 2 * MiB, cacheBytes: 100 })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(createEmulator({ seed: -1 })).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('accesses outside the mapping, bad lengths and unaligned device mappings fail and leave the state unchanged', async () => {
    const emu = await createEmulator({ capacity: 4 * MiB });
    const m = emu.mmapDevice({ offset: 2 * MiB, length: 1 * MiB });
    m.store(0, line(1));
    const before = emu.stats();
    const t = emu.now();
    expectCode(() => m.store(MiB - 10, line(2)), 'EFAULT');
    expectCode(() => m.load(-1, 4), 'EINVAL');
    expectCode(() => m.load(0, 1.5), 'EINVAL');
    expectCode(() => m.clwb(0, -64), 'EINVAL');
    expectCode(() => m.store(0, [1, 2] as unknown as Uint8Array), 'EINVAL');
    expectCode(() => emu.mmapDevice({ offset: 100 }), 'EINVAL');
    expectCode(() => emu.mmapDevice({ offset: 2 * MiB, length: 4 * MiB }), 'EINVAL');
    expectCode(() => { emu.cpu = 8; }, 'EINVAL');
    expect(emu.stats()).toEqual(before);
    expect(emu.now()).toBe(t);
    m.munmap();
    expectCode(() => m.load(0, 1), 'EINVAL');
    await expect(emu.crash({ mode: 'sometimes' as never })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('argument checks at the wasm boundary', () => {
  it('numbers wasm would wrap are refused: a cpu of 1.5, an address of 2^32 + 64, a flush kind of 2.5', async () => {
    const emu = await createEmulator({ capacity: 2 * MiB });
    const before = emu.stats();
    expectCode(() => emu.core.pmStore(1.5, 0, line(1)), 'EINVAL');
    expectCode(() => emu.core.pmStore(0, 2 ** 32 + 64, line(1)), 'ERANGE');
    expectCode(() => emu.core.pmFlush(0, 2.5, 0, 64), 'EINVAL');
    expectCode(() => emu.core.pmLoad(8, 0, 64), 'EINVAL');
    expect(emu.stats()).toEqual(before);
  });

  it('a store longer than the scratch data buffer is one access: counted once, one first miss, refused whole when it runs off the media', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB, cacheBytes: 8 * MiB });
    const m = emu.mmapDevice();
    m.store(0, new Uint8Array(3 * MiB).fill(1));
    expect(emu.stats().stores).toBe(1);
    expect(emu.stats().storeMisses).toBe(3 * MiB / 64);
    // Each line's read for ownership takes the DIMM's media time and a share of the CPU's fill
    // buffers (fillBufferLines); the CPU's read rate, below the DIMM's, bounds a store this large.
    const lines = (3 * MiB) / 64;
    const mediaLines = (3 * MiB) / emu.cost.mediaLineBytes;
    const readNs = emu.cost.mediaLineBytes / emu.cost.mediaReadBytesPerNs;
    const readLineNs = 64 / emu.cost.readBytesPerNs;
    const burstNs = emu.cost.fillBufferLines * (readLineNs + 64 / emu.cost.flushBytesPerNs);
    expect(emu.stats().mediaBytesRead).toBe(3 * MiB);
    expect(emu.now()).toBeGreaterThanOrEqual((mediaLines - 1) * readNs);
    expect(emu.now()).toBeGreaterThanOrEqual(lines * readLineNs - burstNs);
    expect(emu.now()).toBeLessThanOrEqual(lines * readLineNs + emu.cost.storeMissNs + lines * emu.cost.storeHitNs);
    const before = emu.stats();
    expectCode(() => emu.core.pmStore(0, 6 * MiB, new Uint8Array(3 * MiB)), 'ERANGE');
    expect(emu.stats()).toEqual(before);
  });

  it('media without undo slots is refused at creation, and the command loop refuses a cpu that does not exist', async () => {
    const { Core } = await import('../src/core/index.js');
    await expect(Core.create({ mediaBytes: 2 * MiB, undoSlots: 0, maximumPages: 4096 })).rejects.toMatchObject({ code: 'EINVAL' });
    const emu = await createEmulator({ capacity: 2 * MiB });
    const { records, data } = emu.commands().store(0, line(1)).encoded();
    expect(emu.core.pmRun(9, records, data)).toMatchObject({ errno: 22 });
    expect(emu.stats().stores).toBe(0);
  });
});

describe('large media', () => {
  it('a capacity above 2 GiB is laid out and addressed as unsigned: the last line of the media stores and loads', async () => {
    const emu = await createEmulator({ capacity: 2304 * MiB, cacheBytes: 1 * MiB });
    expect(emu.core.layout.mediaSize).toBe(2304 * MiB);
    const m = emu.mmapDevice();
    m.store(2304 * MiB - 64, line(9));
    expect(m.load(2304 * MiB - 64, 64)).toEqual(line(9));
    const block = emu.allocate(true);
    expect(block).toBeGreaterThanOrEqual(0);
  });
});

describe.each(BUILDS)('zeroing in one pass (%s build)', (build) => {
  it('pmZeroDurable leaves the same media, counters and clock as non-temporal zero stores and an sfence', async () => {
    const a = await createEmulator({ capacity: 4 * MiB, cacheBytes: 1 * MiB, build, seed: 3 });
    const b = await createEmulator({ capacity: 4 * MiB, cacheBytes: 1 * MiB, build, seed: 3 });
    for (const emu of [a, b]) {
      const m = emu.mmapDevice();
      m.store(100, new Uint8Array(300).fill(7)); // dirty lines inside the range
      m.store(70_000, line(1)); // and one outside it
      m.clwb(100, 64);
    }
    a.core.pmStore(0, 0, new Uint8Array(64 * 1024), true);
    a.sfence();
    b.core.pmZeroDurable(0, 0, 64 * 1024);
    expect(b.now()).toBe(a.now());
    expect(b.stats()).toEqual(a.stats());
    expect(b.mmapDevice().load(0, 128 * 1024)).toEqual(a.mmapDevice().load(0, 128 * 1024));
    expect(b.stats().nonDurableLines).toBe(2); // the two lines the store at 70000 spans, outside the range
  });

  it('pmZeroDurable zeroes a range whose only non-zero byte is its last, and leaves a zero range zero', async () => {
    const emu = await createEmulator({ capacity: 4 * MiB, build });
    const m = emu.mmapDevice();
    m.store(2 * MiB - 1, new Uint8Array([0x5a])); // the last byte of the first 2 MiB
    emu.core.pmZeroDurable(0, 0, 2 * MiB); // media written before: must be filled
    emu.core.pmZeroDurable(0, 2 * MiB, 2 * MiB); // media never written: already zero
    expect(m.load(0, 4 * MiB).every((b) => b === 0)).toBe(true);
    expect(emu.stats().nonDurableLines).toBe(0);
  });
});
