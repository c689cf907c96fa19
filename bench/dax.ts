/**
 * The dax suite: write-fault throughput (PTE and PMD), msync cost as the share of dirty
 * entries varies over 256 MiB mapped, and a clean msync over 1 GiB against 2 MiB mapped
 * (its cost must not grow with the mapped size: writeback walks the DIRTY summaries), and the
 * page-cache cases (bench/page-cache.ts).
 * Rates are wall-clock operations per second of the emulator; costs are emulated ns. Last,
 * 10^5 one-page mappings of one file: made in under 2 s, and a store + fsync through 256 of
 * them costs no more than twice the same with only those 256 (writeback visits only the
 * mappings of its entry).
 */
import type { FileMapping } from '../src/dax/index.js';
import { createEmulator } from '../src/emulator/index.js';
import { metric, type MetricCase } from './case.js';
import { opsPerSecond } from './measure.js';
import { pageCacheCases } from './page-cache.js';
import type { SuiteOptions } from './suite.js';

const MiB = 1 << 20;
const GiB = 1 << 30;

/** Wall-clock faults per second for `pages` first-touch stores through one mapping. */
async function faultRate(pmd: boolean, pages: number): Promise<number> {
  const emu = await createEmulator({ capacity: 2 * pages * 4096 + 64 * MiB, cacheBytes: 4 * MiB });
  const f = emu.createFile('/f', { size: pages * 4096 });
  // A 4 KiB colour offset turns every PMD attempt into a fallback: PTE faults only.
  const m = emu.mmap(f, pmd ? {} : { address: 0x7e00_0000_1000 });
  const byte = new Uint8Array([1]);
  const step = pmd ? 512 : 1;
  const start = performance.now();
  for (let p = 0; p < pages; p += step) m.store(p * 4096, byte);
  const faults = emu.stats().dax.faults;
  return faults / ((performance.now() - start) / 1000);
}

/** A mapping of `mapped` bytes whose every 4 KiB page has a PTE entry, all clean, then `dirtyShare` of them dirtied. */
async function preparedMapping(mapped: number, dirtyShare: number, quick: boolean) {
  const emu = await createEmulator({ capacity: Math.min(3840 * MiB, mapped + 64 * MiB), cacheBytes: 8 * MiB, preset: 'optane-g1' });
  const f = emu.createFile('/f', { size: mapped, allocate: 'written' });
  const m = emu.mmap(f, { address: 0x7e00_0000_1000 }); // PTE entries
  const pages = mapped / 4096;
  const touch = quick ? Math.min(pages, 4096) : pages;
  for (let p = 0; p < touch; p++) m.load(p * 4096, 1);
  m.msync(0, mapped, { sync: true });
  const every = dirtyShare > 0 ? Math.round(1 / dirtyShare) : 0;
  if (every > 0) for (let p = 0; p < touch; p += every) m.store(p * 4096, new Uint8Array([2]));
  return { emu, m };
}

/** Emulated ns of one msync over `mapped` bytes with `dirtyShare` of its 4 KiB entries dirty. */
async function msyncCost(mapped: number, dirtyShare: number, quick: boolean): Promise<number> {
  const { m } = await preparedMapping(mapped, dirtyShare, quick);
  return m.msync(0, mapped, { sync: true }).ns;
}

/** Wall-clock msync calls per second over a clean mapping of `mapped` bytes. */
async function cleanMsyncRate(mapped: number, options: SuiteOptions): Promise<number> {
  const { m } = await preparedMapping(mapped, 0, options.quick);
  return opsPerSecond(`clean msync ${mapped}`, () => m.msync(0, mapped, { sync: true }), 1, options.timing);
}

/** A file of `count` pages, each mapped alone: `count` one-page mappings of one file. */
async function manyMappings(count: number): Promise<{ seconds: number; fsyncRate: (options: SuiteOptions) => number }> {
  const bytes = count * 4096;
  const emu = await createEmulator({ capacity: Math.ceil(bytes / (2 * MiB)) * 2 * MiB + 8 * MiB, cacheBytes: 4 * MiB });
  const f = emu.createFile('/f', { size: bytes, allocate: 'written' });
  const start = performance.now();
  const maps: FileMapping[] = [];
  for (let i = 0; i < count; i++) maps.push(emu.mmap(f, { offset: i * 4096, length: 4096 }));
  const seconds = (performance.now() - start) / 1000;
  // Each round dirties one page through its mapping, one of the first 256 whatever the
  // count, so that both sides do the same hardware work: the fsync writes that entry back and
  // write-protects it in the one mapping that maps it, found in the file's interval index.
  let round = 0;
  const fsyncRate = (options: SuiteOptions): number =>
    opsPerSecond(`fsync with ${count} mappings`, () => {
      maps[round++ % Math.min(256, maps.length)]!.store(0, new Uint8Array([round & 0xff]));
      f.fsync();
    }, 1, options.timing);
  return { seconds, fsyncRate };
}

export async function runDaxSuite(options: SuiteOptions): Promise<MetricCase[]> {
  const cases: MetricCase[] = [];
  const pages = options.quick ? 4096 : 65536;
  options.progress('write faults');
  cases.push(metric('PTE write faults (first touch)', await faultRate(false, pages), 'faults/s'));
  cases.push(metric('PMD write faults (first touch)', await faultRate(true, pages * 4), 'faults/s'));
  const mapped = options.quick ? 16 * MiB : 256 * MiB;
  for (const share of [0.01, 0.1, 1]) {
    options.progress(`msync, ${share * 100} % dirty`);
    cases.push(metric(`msync over ${mapped / MiB} MiB, ${share * 100} % of PTE entries dirty`, (await msyncCost(mapped, share, options.quick)) / 1000, 'us emulated'));
  }
  options.progress('clean msync, small and large');
  const small = await msyncCost(2 * MiB, 0, options.quick);
  const large = await msyncCost(options.quick ? 64 * MiB : 1 * GiB, 0, options.quick);
  cases.push(metric('clean msync, 1 GiB mapped / 2 MiB mapped, emulated time', large / small, 'ratio', { atMost: 2 }));
  const smallRate = await cleanMsyncRate(2 * MiB, options);
  const largeRate = await cleanMsyncRate(options.quick ? 64 * MiB : 1 * GiB, options);
  cases.push(metric('clean msync, 1 GiB mapped / 2 MiB mapped, wall time', smallRate / largeRate, 'ratio', { atMost: 2 }));
  const count = options.quick ? 10_000 : 100_000;
  options.progress(`${count} mappings of one file`);
  const many = await manyMappings(count);
  cases.push(metric(`mmap ${count} one-page mappings of one file`, many.seconds, 's', { atMost: 2 }));
  const one = await manyMappings(256);
  const rateOne = one.fsyncRate(options);
  const rateMany = many.fsyncRate(options);
  cases.push(metric(`store + fsync with ${count} mappings / with 256, wall time`, rateOne / rateMany, 'ratio', { atMost: 2 }));
  cases.push(...(await pageCacheCases(options)));
  return cases;
}
