// The page path of the writeback copy (assembly/page-copy.ts: a page, a run of lines or a
// media line at a time, and a fence that frees a whole pending list at once) against the
// per-line path it must equal (Core.setPageCopyPath('line'): one pmNtStore per page, line by
// line, and fences that free slot by slot). Both cores run the same seeded operations, and
// the comparison is of the hardware state itself, byte for byte: the wasm memory from the
// CPU records to the end of the undo slots (clocks, pipes, flush queues, counters, pending
// lists, the DIMMs' buffers, write queues, calendars and media counters, the media, every
// line state, the undo records, copies, free stack and hash), with Buffer.compare.
//
// Direct part: stores, NT stores, loads, the three flushes and both fences on three CPUs
// over a few hot pages, between batches of pmNtStorePages, so that a copied page finds its
// lines cached, dirty, pending on this CPU or another, with or without undo slots; few undo
// slots (the page path then gives way to the per-line one, evictions scramble the free
// stack) and many; eADR; cost models with pages straddling DIMM interleave boundaries
// (1 KiB and 3 KiB interleave, which the presets never have), media lines of 64, 192 and
// 4096 bytes, no buffer, a tiny buffer, no write queue, no read-modify-write, no contention.
//
// Emulator part: seeded page-cache workloads (write(2), mmap stores, msync, fsync, the
// background flusher, DAX stores and msync beside them, on two CPUs) on two emulators, one
// per path; clocks, stats, media and crash images of all three modes must be equal.
// A failure names its seed and configuration.
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { Core } from '../src/core/index.js';
import { coreCostParams, type CostModel } from '../src/hw/cost-model.js';
import { resolveCostModel, type PresetName } from '../src/hw/presets.js';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import { Rng } from '../src/base/random.js';
import { BUILDS } from './helpers.js';

const PAGE = 4096;
const MEDIA_BYTES = 2 << 20;
const CPUS = 3;

const optane = resolveCostModel('optane-g1');

interface Config {
  label: string;
  cost: CostModel;
  undoSlots: number;
}

/** Models the core takes although the presets' checks refuse them (the core must still agree with itself). */
const unchecked = (label: string, fields: Partial<CostModel>): CostModel => ({ ...optane, ...fields, name: label });

const CONFIGS: Config[] = [
  { label: 'optane-g1, many slots', cost: optane, undoSlots: 4096 },
  { label: 'optane-g1, few slots', cost: optane, undoSlots: 150 },
  { label: 'optane-g1-6dimm', cost: resolveCostModel('optane-g1-6dimm'), undoSlots: 2048 },
  { label: 'dram (no buffer)', cost: resolveCostModel('dram'), undoSlots: 2048 },
  { label: 'cxl', cost: resolveCostModel('cxl'), undoSlots: 1024 },
  { label: 'nvdimm-n', cost: resolveCostModel('nvdimm-n'), undoSlots: 1024 },
  { label: 'eadr', cost: { ...optane, name: 'eadr', persistence: 'eadr' }, undoSlots: 1024 },
  { label: '1 KiB interleave over 3 DIMMs', cost: unchecked('il1k', { dimms: 3, interleaveBytes: 1024 }), undoSlots: 2048 },
  { label: '3 KiB interleave, 192 B media lines', cost: unchecked('il3k', { dimms: 2, interleaveBytes: 3072, mediaLineBytes: 192 }), undoSlots: 2048 },
  { label: '4 KiB media lines, 4-line buffer', cost: unchecked('big', { mediaLineBytes: 4096, bufferLines: 4, dimms: 2, maxOutstanding: 3 }), undoSlots: 2048 },
  { label: 'congested, no rmw, no contention', cost: unchecked('flat', { wpqLines: 1, rmwNs: 0, contentionWriters: 0, mediaWriteBytesPerNs: 0.5, bufferLines: 2 }), undoSlots: 512 },
  { label: 'no write queue', cost: unchecked('nowpq', { wpqLines: 0, clwbInvalidates: false }), undoSlots: 512 },
];

/** The hardware state of a core, from its CPU records to the end of its undo slots: a view (read it at once). */
function hardwareState(core: Core): Buffer {
  const x = (core as unknown as { x: Record<string, WebAssembly.Global> }).x;
  const from = (x.CPUS_OFFSET!.value as number) >>> 0;
  return Buffer.from(core.attachment().memory.buffer, from, core.layout.heapOffset - from);
}

function expectSameState(a: Core, b: Core, where: string): void {
  const sa = hardwareState(a);
  const sb = hardwareState(b);
  if (Buffer.compare(sa, sb) !== 0) {
    let at = 0;
    while (sa[at] === sb[at]) at++;
    expect.fail(`${where}: the hardware states differ first at byte ${at} after the CPU records`);
  }
}

async function corePair(build: (typeof BUILDS)[number], config: Config, seed: number): Promise<[Core, Core]> {
  const make = async (): Promise<Core> => {
    const core = await Core.create({ build, mediaBytes: MEDIA_BYTES, undoSlots: config.undoSlots, maximumPages: 4096 });
    core.initHardware(coreCostParams(config.cost), seed);
    return core;
  };
  const page = await make();
  const line = await make();
  line.setPageCopyPath('line');
  return [page, line];
}

/** A random page-aligned address among a few hot pages (so that states pile up), now and then anywhere. */
function pageAddr(rng: Rng): number {
  return rng.chance(0.85) ? rng.below(12) * PAGE : rng.below(MEDIA_BYTES / PAGE) * PAGE;
}

function bytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const fill = rng.below(256);
  for (let i = 0; i < n; i++) out[i] = (fill + i * 7) & 0xff;
  return out;
}

/** One seeded run: the same operations on both cores, compared after every page copy and at the end. */
async function directRun(build: (typeof BUILDS)[number], config: Config, seed: number, steps: number): Promise<void> {
  const rng = new Rng(seed);
  const [a, b] = await corePair(build, config, seed);
  const both = (f: (core: Core) => void): void => {
    f(a);
    f(b);
  };
  let copies = 0;
  for (let step = 0; step < steps; step++) {
    const cpu = rng.below(CPUS);
    const where = `${build} ${config.label} seed ${seed} step ${step}`;
    const addr = pageAddr(rng) + (rng.chance(0.5) ? 0 : rng.below(PAGE));
    const len = Math.min(MEDIA_BYTES - addr, 1 + rng.below(rng.chance(0.2) ? 9000 : 300));
    switch (rng.below(8)) {
      case 0:
      case 1: {
        const data = bytes(rng, len);
        both((core) => core.pmStore(cpu, addr, data));
        break;
      }
      case 2: {
        const data = bytes(rng, len);
        both((core) => core.pmStore(cpu, addr, data, true));
        break;
      }
      case 3: {
        const kind = rng.below(3);
        both((core) => core.pmFlush(cpu, kind, addr, len));
        break;
      }
      case 4: {
        const full = rng.chance(0.3);
        if (rng.chance(0.5)) both((core) => core.pmFence(cpu, full));
        else both((core) => void core.pmLoad(cpu, addr, len));
        break;
      }
      default: {
        // A batch of page copies: repeats and neighbours included.
        const n = 1 + rng.below(rng.chance(0.2) ? 40 : 6);
        const addrs: number[] = [];
        const pages: Uint8Array[] = [];
        for (let i = 0; i < n; i++) {
          addrs.push(i > 0 && rng.chance(0.4) ? Math.min(addrs[i - 1]! + PAGE, MEDIA_BYTES - PAGE) : pageAddr(rng));
          pages.push(bytes(rng, PAGE));
        }
        both((core) => core.pmNtStorePages(cpu, addrs, pages));
        copies++;
        expectSameState(a, b, where);
      }
    }
  }
  for (let cpu = 0; cpu < CPUS; cpu++) both((core) => core.pmFence(cpu, false));
  expectSameState(a, b, `${build} ${config.label} seed ${seed} at the end`);
  expect(a.pmSnapshot()).toEqual(b.pmSnapshot());
  a.checkLines();
  expect(copies).toBeGreaterThan(0);
}

describe('page path of the writeback copy = per-line NT stores, byte for byte', () => {
  for (const build of BUILDS) {
    for (const config of CONFIGS) {
      it(`${build}: ${config.label}`, async () => {
        for (const seed of build === 'debug' ? [1] : [1, 2, 3]) await directRun(build, config, seed * 7919 + config.undoSlots, 300);
      });
    }
  }

  it('takes the page path: a page copy with free slots costs fewer wasm steps than it would line by line (sanity of the switch)', async () => {
    const [a, b] = await corePair('release', CONFIGS[0]!, 5);
    const page = new Uint8Array(PAGE).fill(9);
    const addrs = Array.from({ length: 64 }, (_, i) => i * PAGE);
    const pages = addrs.map(() => page);
    a.pmNtStorePages(0, addrs, pages);
    b.pmNtStorePages(0, addrs, pages);
    expectSameState(a, b, 'a fresh copy of 64 pages');
    // A fence over 4096 pending lines frees them at once on the page path, slot by slot on the other.
    a.pmFence(0, false);
    b.pmFence(0, false);
    expectSameState(a, b, 'the fence after it');
    expect(a.pmUndoUsed()).toBe(0);
    a.checkLines();
  });

  it('refuses an unknown path with EINVAL', async () => {
    const [a] = await corePair('release', CONFIGS[0]!, 1);
    expect(() => a.setPageCopyPath('fast' as 'page')).toThrowError(/EINVAL/);
  });
});

// ---- the emulator: page-cache writeback on either path -------------------------------------

const FILE_BYTES = 256 * 1024;

async function emulatorPair(seed: number, preset: PresetName, persistence?: 'eadr'): Promise<[Emulator, Emulator]> {
  const make = (): Promise<Emulator> => createEmulator({ capacity: 16 << 20, seed, cacheBytes: 64 * 1024, preset, persistence });
  const page = await make();
  const line = await make();
  line.core.setPageCopyPath('line');
  return [page, line];
}

async function emulatorRun(seed: number, preset: PresetName, persistence?: 'eadr'): Promise<void> {
  const rng = new Rng(seed);
  const emus = await emulatorPair(seed, preset, persistence);
  const setups = emus.map((emu) => {
    const pc = emu.createFile('/pc', { size: FILE_BYTES, dax: false });
    const dax = emu.createFile('/dax', { size: FILE_BYTES });
    return { emu, pc, dax, pm: emu.mmap(pc), dm: emu.mmap(dax, { address: 0x7e00_0000_1000 }) };
  });
  for (let step = 0; step < 300; step++) {
    const what = rng.below(9);
    const off = rng.below(FILE_BYTES);
    const len = Math.min(FILE_BYTES - off, 1 + rng.below(rng.chance(0.3) ? 3 * PAGE : 300));
    const data = new Uint8Array(len).fill(1 + rng.below(255));
    for (const { emu, pc, pm, dm } of setups) {
      switch (what) {
        case 0:
        case 1:
          pc.pwrite(off, data);
          break;
        case 2:
          pm.store(off, data);
          break;
        case 3:
          dm.store(off, data);
          break;
        case 4:
          pm.msync(0, FILE_BYTES);
          break;
        case 5:
          pc.fsync();
          break;
        case 6:
          dm.msync(0, FILE_BYTES);
          break;
        case 7:
          emu.backgroundWriteback({ expireNs: 0 });
          break;
        default:
          void pm.load(off, len);
      }
    }
    const [a, b] = emus;
    if (a!.now() !== b!.now()) expect.fail(`seed ${seed} ${preset} step ${step}: clocks ${a!.now()} and ${b!.now()}`);
  }
  const [a, b] = emus;
  expect(a!.stats()).toEqual(b!.stats());
  expectSameState(a!.core, b!.core, `seed ${seed} ${preset}`);
  for (const mode of ['guaranteed', 'random', 'adversarial'] as const) {
    const [ia, ib] = [await a!.crash({ mode, seed }), await b!.crash({ mode, seed })];
    expect(Buffer.compare(Buffer.from(ia.core.mediaView()), Buffer.from(ib.core.mediaView())), `seed ${seed} ${preset} ${mode} crash image`).toBe(0);
    ia.dispose();
    ib.dispose();
  }
  a!.dispose();
  b!.dispose();
}

describe('page-cache writeback on the page path = on the per-line path', () => {
  for (const [preset, persistence] of [['optane-g1'], ['optane-g1-6dimm'], ['dram'], ['optane-g1', 'eadr']] as const) {
    it(`${preset}${persistence ? ' eADR' : ''}: clocks, stats, hardware state and crash images`, async () => {
      for (const seed of [11, 12]) await emulatorRun(seed, preset, persistence);
    });
  }
});
