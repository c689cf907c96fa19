/**
 * The page cache against its reference model (src/model/page-cache.ts), with DAX files in
 * the same emulator: seeded random write(2), read(2), mmap stores and loads, fsync, msync,
 * reclaim and truncate on two page-cache files and a DAX file, and drop_caches every 40th step. After every step the
 * page-cache files' entries (page or shadow, dirty), nrpages, refaults and refault
 * distances must equal the model's, and every read the model's bytes; the DAX file must
 * read and look (entries less their pfns) as it does in a second emulator that holds only
 * it. At the end the crash images must agree too.
 */
import { describe, expect, it } from 'vitest';
import { PmemError, Rng } from '../src/base/index.js';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import type { DaxFile, FileMapping, KernelProfile } from '../src/dax/index.js';
import { ModelPageCache } from '../src/model/page-cache.js';

const SIZE = 64 * 1024;
const PC = ['/pc1', '/pc2'];

/** The outcome of a call: its value, or the code of the PmemError it threw. */
function attempt<T>(run: () => T): T | string {
  try {
    return run();
  } catch (err) {
    if (err instanceof PmemError) return err.code;
    throw err;
  }
}

const daxView = (f: DaxFile): unknown => f.entries().map(({ index, order, kind, dirty, towrite }) => ({ index, order, kind, dirty, towrite }));

async function run(kernel: KernelProfile, seed: number, steps: number): Promise<void> {
  const rng = new Rng(seed);
  const options = { capacity: 16 << 20, kernel, seed };
  const emu: Emulator = await createEmulator(options);
  const alone: Emulator = await createEmulator(options);
  const model = new ModelPageCache();
  const files = new Map<string, DaxFile>();
  const maps = new Map<string, FileMapping>();
  for (const path of PC) {
    files.set(path, emu.createFile(path, { size: SIZE, dax: false }));
    maps.set(path, emu.mmap(files.get(path)!));
    model.createFile(path, SIZE);
    model.mmap(path);
  }
  const dax = emu.createFile('/dax', { size: SIZE });
  const daxAlone = alone.createFile('/dax', { size: SIZE });
  const dm = emu.mmap(dax, { address: 0x7e00_0000_1000 });
  const dmAlone = alone.mmap(daxAlone, { address: 0x7e00_0000_1000 });

  let dropped = 0;
  for (let step = 0; step < steps; step++) {
    const what = rng.below(10);
    const path = PC[rng.below(PC.length)]!;
    const f = files.get(path)!;
    const m = maps.get(path)!;
    const off = rng.below(SIZE);
    const len = Math.min(SIZE - off, 1 + rng.below(rng.chance(0.3) ? 9000 : 200));
    const bytes = new Uint8Array(len).fill(1 + rng.below(255));
    const where = `${kernel} seed ${seed} step ${step} op ${what} ${path} [${off}, +${len})`;
    switch (what) {
      case 0:
        f.pwrite(off, bytes);
        model.pwrite(path, off, bytes);
        break;
      case 1:
        expect(f.pread(off, len), where).toEqual(model.pread(path, off, len));
        break;
      case 2:
        expect(attempt(() => m.store(off, bytes)), where).toEqual(attempt(() => model.store(path, off, bytes)));
        break;
      case 3:
        expect(attempt(() => m.load(off, len)), where).toEqual(attempt(() => model.load(path, off, len)));
        break;
      case 4:
        expect(rng.chance(0.5) ? f.fsync().entries : m.msync(0, SIZE).entries, where).toBe(model.fsync(path));
        break;
      case 5: {
        const n = rng.below(6);
        expect(emu.reclaim(rng.chance(0.5) ? n : { pages: n, seed }), where).toBe(model.reclaim(n));
        break;
      }
      case 6: {
        const size = rng.below(SIZE + 1);
        f.truncate(size);
        model.truncate(path, size);
        break;
      }
      default: {
        // The DAX file, the same call in both emulators.
        const d = rng.below(4);
        const both = <T>(call: (file: DaxFile, map: FileMapping) => T): void => {
          expect(attempt(() => call(dax, dm)), `${where} dax ${d}`).toEqual(attempt(() => call(daxAlone, dmAlone)));
        };
        if (d === 0) both((_, map) => map.store(off, bytes));
        else if (d === 1) both((_, map) => map.msync(0, SIZE).entries);
        else if (d === 2) both((file) => file.pread(off, len));
        else both((file) => file.pwrite(off, bytes));
        expect(daxView(dax), `${where} dax tree`).toEqual(daxView(daxAlone));
      }
    }
    if (step % 40 === 39) {
      // drop_caches, on a fixed beat so that the seeded sequence of the other operations stays.
      const n = model.dropCaches();
      expect(emu.dropCaches(), `${where}: dropCaches`).toBe(n);
      dropped += n;
      expect(alone.dropCaches(), `${where}: dropCaches without page-cache files`).toBe(0);
    }
    for (const p of PC) {
      const file = files.get(p)!;
      expect(file.entries().map(({ index, kind, dirty }) => ({ index, kind, dirty })), `${where}: ${p} entries`).toEqual(model.entries(p));
      expect(file.nrpages, `${where}: ${p} nrpages`).toBe(model.nrpages(p));
      expect(file.size, `${where}: ${p} size`).toBe(model.size(p));
    }
    const s = emu.stats().dax;
    expect({ refaults: s.refaults, distance: s.refaultDistance, nodes: s.shadowNodesReclaimed }, where).toEqual({ refaults: model.refaults, distance: model.refaultDistance, nodes: model.shadowNodesReclaimed });
    if (step % 25 === 0) emu.checkInvariants();
  }
  emu.checkInvariants();
  // The run reached what it is for: shadows refaulted, dirty pages written back.
  expect(model.refaults, `${kernel} seed ${seed}: refaults`).toBeGreaterThan(0);
  expect(model.shadowNodesReclaimed, `${kernel} seed ${seed}: shadow nodes freed`).toBeGreaterThan(0);
  expect(dropped, `${kernel} seed ${seed}: entries drop_caches deleted`).toBeGreaterThan(0);
  expect(model.crashImage(PC[0]!).some((b) => b !== 0) || model.crashImage(PC[1]!).some((b) => b !== 0)).toBe(true);
  const image = await emu.crash();
  for (const p of PC) expect(image.open(p).pread(0, SIZE), `${kernel} seed ${seed}: ${p} crash image`).toEqual(model.crashImage(p));
  expect(image.open('/dax').pread(0, SIZE)).toEqual((await alone.crash()).open('/dax').pread(0, SIZE));
}

describe('page-cache files against the model, DAX files beside them', () => {
  for (const kernel of ['linux-6.12', 'linux-6.1'] as KernelProfile[]) {
    for (const seed of [1, 2, 3, 4]) {
      it(`${kernel}, seed ${seed}: 400 random operations give the same entries, counters, bytes and crash image`, async () => {
        await run(kernel, seed, 400);
      });
    }
  }
});
