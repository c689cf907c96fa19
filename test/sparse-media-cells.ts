/**
 * What test/sparse-media.test.ts compares with the figures of the flat-media build
 * (test/fixtures/sparse-media/flat-figures.json, written once by that build): a few quick
 * cells of the strategy matrix, and a hardware workload whose stores, flushes, NT stores,
 * loads and faults straddle 2 MiB chunk boundaries.
 */
import type { MatrixSelection } from '../src/job/matrix.js';
import type { createEmulator as Create, Emulator } from '../src/index.js';

const MiB = 1 << 20;

/** Quick cells: every workload and default strategy on one preset and kernel, both page sizes. */
export const CELLS: MatrixSelection = {
  workloads: ['log-append', 'kv-update', 'page-rewrite', 'sparse', 'truncate-after-store'],
  strategies: ['msync', 'msync-dirty-lines', 'user-flush', 'user-ntstore', 'eadr', 'page-cache'],
  presets: ['optane-g1'],
  kernels: ['linux-6.12'],
  pageSizes: ['pte', 'pmd'],
  instruction: 'clwb',
  ops: 40,
  seed: 1,
};

/** Bytes 0..n-1 of a seeded pattern. */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

/** The whole media, as a copy (the flat build that wrote the figures read it as mediaView()). */
function mediaOf(emu: Emulator): Uint8Array {
  const core = emu.core as unknown as { readMedia?: (offset: number, length: number) => Uint8Array; mediaView(): Uint8Array };
  return core.readMedia ? core.readMedia(0, emu.options.capacity) : core.mediaView().slice();
}

/**
 * Stores, NT stores, flushes, fences, loads and file faults across the chunk boundaries of
 * a 16 MiB device with a 64 KiB cache (so that evictions happen too); the clocks, counters,
 * media and crash images at the end, the media and images as `hash`es.
 */
export async function boundaryWorkload(createEmulator: typeof Create, hash: (bytes: Uint8Array) => string): Promise<unknown> {
  const emu = await createEmulator({ capacity: 16 * MiB, cacheBytes: 64 << 10, seed: 7 });
  const dev = emu.mmapDevice({ offset: 0, length: 8 * MiB });
  const edge = 2 * MiB;
  dev.store(edge - 40, pattern(100, 1)); // a store across the first boundary, inside one line pair
  dev.clwb(edge - 64, 128);
  emu.sfence();
  dev.ntstore(2 * edge - 4096, pattern(8192, 2)); // NT pages on both sides of the second
  dev.store(3 * edge - 3 * MiB / 2, pattern(3 * MiB, 3)); // longer than the data buffer, over the third
  dev.clflushopt(3 * edge - 64, 4096);
  dev.clflush(3 * edge + 64, 192);
  emu.mfence();
  const loaded = dev.load(edge - 4096, 8192);
  dev.load(6 * MiB + 12345, 4 * 4096); // a chunk never written
  dev.clwb(6 * MiB, 2 * MiB); // flushes of a chunk never written
  emu.sfence();
  dev.munmap();
  const f = emu.createFile('/f', { size: 6 * MiB });
  const m = emu.mmap(f, { length: 6 * MiB });
  m.store(edge - 8, pattern(16, 4)); // a write fault on each side of a boundary
  m.ntstore(2 * edge - 32, pattern(64, 5));
  const before = m.load(edge - 8, 16);
  m.msync(0, 6 * MiB);
  m.store(edge + 4096 - 4, pattern(8, 6)); // left dirty for the crash images
  const media = mediaOf(emu);
  const images: Record<string, string> = {};
  for (const mode of ['guaranteed', 'random', 'adversarial'] as const) {
    const image = await emu.crash({ mode, seed: 3 });
    images[mode] = hash(mediaOf(image));
    image.dispose();
  }
  const out = { now: emu.now(), stats: emu.stats(), loaded: hash(loaded), before: hash(before), media: hash(media), images };
  emu.dispose();
  return out;
}
