/**
 * The scale suite.
 *
 * Sparse media: 4 KiB pages written at random into a file that fills the largest device and
 * msync'd one by one, through 4 KiB page-table entries, against the same on a small device,
 * in one run: ops/s as a ratio (goal: the
 * large device within 0.8x of the small one) and the process's resident memory after each;
 * and how long creating the largest device takes.
 *
 * Sharding: the default matrix sharded in two (`bench --shard K/N`, one thread each, both at
 * once on this machine's two cores) and merged (`daxemu merge`), against one unsharded run
 * on two worker threads. Goal: at most 1.1x its wall time. Both sides run the command from
 * the build (dist/cli/cli.js), as CI would.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createEmulator, MAX_CAPACITY } from '../src/index.js';
import { Rng } from '../src/base/index.js';
import { metric, type MetricCase } from './case.js';
import type { SuiteOptions } from './suite.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../dist/cli/cli.js', import.meta.url));

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

const MiB = 1 << 20;
const PAGE = 4096;
const SMALL_CAPACITY = 256 * MiB;

/** Resident memory of this process, MiB. */
function rssMiB(): number {
  return process.memoryUsage.rss() / MiB;
}

/**
 * `pages` random 4 KiB pages of a file that fills all but 64 MiB of a `capacity` device,
 * each stored and msync'd; the pages per second, and the process's resident memory at the end.
 */
async function pageWrites(capacity: number, pages: number, seed: number): Promise<{ opsPerSec: number; rss: number }> {
  const emu = await createEmulator({ capacity, cacheBytes: 8 * MiB, seed });
  try {
    const size = capacity - 64 * MiB;
    // Not 2 MiB-aligned: PTE entries, so that each page write faults, zeroes and flushes one
    // 4 KiB page on either device (a PMD fault would zero 2 MiB where the small file has
    // fewer extents to fault in, and measure that instead of the device's size).
    const m = emu.mmap(emu.createFile('/data', { size }), { address: 0x7e00_0000_1000 });
    const rng = new Rng(seed);
    const page = new Uint8Array(PAGE).fill(0x5a);
    const offsets = Array.from({ length: pages }, () => rng.below(size / PAGE) * PAGE);
    const start = performance.now();
    for (const off of offsets) {
      m.store(off, page);
      m.msync(off, PAGE);
    }
    const seconds = (performance.now() - start) / 1000;
    return { opsPerSec: pages / seconds, rss: rssMiB() };
  } finally {
    emu.dispose();
  }
}

/** The median wall time of creating (and disposing) a `capacity` device, ms. */
async function creationMs(capacity: number, times: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    const emu = await createEmulator({ capacity });
    ms.push(performance.now() - start);
    emu.dispose();
  }
  return ms.sort((a, b) => a - b)[Math.floor(times / 2)]!;
}

export async function sparseMediaCases(options: SuiteOptions): Promise<MetricCase[]> {
  const pages = options.quick ? 2000 : 16384;
  options.progress(`sparse media: ${pages} random page writes + msync, ${MAX_CAPACITY / MiB} MiB and ${SMALL_CAPACITY / MiB} MiB devices`);
  await creationMs(SMALL_CAPACITY, 1); // the wasm compiled once, before anything is timed
  // Alternated, best of two each, so that neither side alone meets a busy moment.
  const small = [];
  const large = [];
  for (let round = 0; round < 2; round++) {
    small.push(await pageWrites(SMALL_CAPACITY, pages, 1 + round));
    large.push(await pageWrites(MAX_CAPACITY, pages, 1 + round));
  }
  const best = (runs: { opsPerSec: number }[]): number => Math.max(...runs.map((r) => r.opsPerSec));
  const ratio = best(large) / best(small);
  options.progress('sparse media: device creation');
  const create = await creationMs(MAX_CAPACITY, 5);
  return [
    metric(`4 KiB random page write + msync, ${SMALL_CAPACITY / MiB} MiB device`, best(small), 'ops/s'),
    metric(`4 KiB random page write + msync, ${MAX_CAPACITY / MiB} MiB device`, best(large), 'ops/s'),
    metric(`page write + msync, ${MAX_CAPACITY / MiB} MiB / ${SMALL_CAPACITY / MiB} MiB device`, ratio, 'ratio', { atLeast: 0.8 }),
    metric(`process RSS after the ${SMALL_CAPACITY / MiB} MiB device's writes`, Math.max(...small.map((r) => r.rss)), 'MiB'),
    metric(`process RSS after the ${MAX_CAPACITY / MiB} MiB device's writes`, Math.max(...large.map((r) => r.rss)), 'MiB', { atMost: 1536 }),
    metric(`creating a ${MAX_CAPACITY / MiB} MiB device (median of 5)`, create, 'ms', { atMost: 50 }),
  ];
}

export async function runScaleSuite(options: SuiteOptions): Promise<MetricCase[]> {
  const sparse = await sparseMediaCases(options);
  const dir = await mkdtemp(join(tmpdir(), 'daxemu-bench-scale-'));
  const daxemu = (...args: string[]) => run(process.execPath, [CLI, ...args, ...(options.quick ? ['--quick'] : [])], { maxBuffer: 64 << 20 });
  try {
    options.progress('unsharded, 2 threads');
    const whole = await timed(() => daxemu('bench', '--threads', '2', '--out', join(dir, 'whole')));
    options.progress('2 shards at once, 1 thread each, then merge');
    const sharded = await timed(async () => {
      await Promise.all([1, 2].map((k) => daxemu('bench', '--threads', '1', '--shard', `${k}/2`, '--out', join(dir, `shard${k}`))));
      await daxemu('merge', join(dir, 'shard1'), join(dir, 'shard2'), '--out', join(dir, 'merged'));
    });
    return [
      ...sparse,
      metric('default matrix, unsharded on 2 threads', whole, 's'),
      metric('default matrix as 2 shards at once + merge', sharded, 's'),
      metric('sharded + merge / unsharded, wall time', sharded / whole, 'ratio', { atMost: 1.1 }),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
