/**
 * Crash-image memory, in the pool suite: the resident memory (RSS) that crash images of a
 * 512 MiB emulator with 1 MiB not durable add while they are alive, and what stays of it
 * after they are disposed, before and after a garbage collection. dispose() makes an
 * image's wasm memory unreachable; the engine returns it at its next collection, which a
 * small JS heap does not hurry, so the figure without a collection shows what a program
 * that never collects would hold.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEmulator } from '../src/emulator/index.js';
import { metric, type MetricCase } from './case.js';
import type { SuiteOptions } from './suite.js';

const MiB = 1 << 20;
const IMAGES = 20;

/**
 * Full collections (the engine's gc, reached without --expose-gc), with a turn of the event
 * loop between them: the backing store of a shared memory goes only once it is collected.
 */
async function collect(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const rssMiB = (): number => process.memoryUsage().rss / MiB;

export async function crashImageMemoryCases(options: SuiteOptions): Promise<MetricCase[]> {
  options.progress(`${IMAGES} crash images of a 512 MiB emulator with 1 MiB not durable`);
  const emu = await createEmulator({ capacity: 512 * MiB, cacheBytes: 2 * MiB });
  emu.mmapDevice().store(0, new Uint8Array(MiB).fill(0x5a)); // written, never flushed
  await collect();
  // Made and disposed one after the other, first, while nothing else has run.
  let start = rssMiB();
  for (let i = 0; i < IMAGES; i++) (await emu.crash()).dispose();
  const disposed = rssMiB() - start;
  await collect();
  const collected = rssMiB() - start;
  // Alive: every image held at once.
  start = rssMiB();
  const images = [];
  for (let i = 0; i < IMAGES; i++) images.push(await emu.crash());
  const alive = (rssMiB() - start) / IMAGES;
  for (const image of images) image.dispose();
  return [
    metric('crash image of a 512 MiB emulator, 1 MiB not durable: RSS per live image', alive, 'MiB', { atMost: 8 }),
    metric(`${IMAGES} such images made and disposed: RSS growth, no collection`, disposed, 'MiB'),
    metric(`${IMAGES} such images made and disposed: RSS growth after a collection`, collected, 'MiB'),
  ];
}
