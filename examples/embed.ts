// Embedding daxemu in a CPU simulator: two worker threads, each one emulated CPU of one
// shared emulator, replay their store/clwb/sfence streams through the command buffer, in
// quanta of 20 us of emulated time, and report their clocks (examples/embed/cpu-worker.mjs).
// Run: npx tsx examples/embed.ts
import { Worker } from 'node:worker_threads';
import { createEmulator } from 'daxemu';

// Six DIMMs interleaved by 4 KiB: each CPU writes the pages of its own DIMM, so neither
// slows the other and the clocks come out the same on every run.
const emu = await createEmulator({ capacity: 64 << 20, preset: 'optane-g1-6dimm', cacheBytes: 8 << 20 });
const handle = emu.share();
const barrier = new SharedArrayBuffer(8);
const cpus = [1, 2];
const results = await Promise.all(
  cpus.map(
    (cpu, k) =>
      new Promise<{ cpu: number; now: number; stores: number }>((resolve, reject) => {
        const workerData = { handle, cpu, region: k * 3 * 4096, stores: 4000, quantumNs: 20_000, barrier, cpus: cpus.length };
        const worker = new Worker(new URL('./embed/cpu-worker.mjs', import.meta.url), { workerData });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  ),
);
emu.stopSharing();
for (const r of results) console.log(`cpu ${r.cpu}: ${r.stores} stores, clock ${(r.now / 1000).toFixed(2)} us`);
const s = emu.stats();
console.log(`all CPUs: ${s.stores} stores, ${s.dirtyLinesFlushed} dirty lines written back, ${s.sfences} sfences, ${s.nonDurableLines} lines not durable`);
const image = await emu.crash({ mode: 'guaranteed' });
const lastAt = 3 * 4096 + (3999 % 64) * 6 * 4096 + ((3999 * 64) % 4096); // where cpu 2 stored its record 3999
const last = new DataView(image.mmapDevice().load(lastAt, 4).buffer).getUint32(0, true);
console.log(`after a crash, cpu 2's last record reads ${last}`);
