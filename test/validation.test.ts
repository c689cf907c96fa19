// The optane-g1 preset against published measurements, through the public API and
// emu.now() only (docs/cost-model.md §5.1 and §5.7; J. Yang et al., FAST'20, Fig. 2 and Fig. 12).
// The model is built from the formulas of docs/cost-model.md §2 and the preset's sourced
// parameters; these tests check that the results land within the stated tolerances.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import { FIG12_GBPS, FIG13_GBPS, FIG4_NI_WRITE_ROWS, FIG5_NI_GBPS, FIG5_NI_THREADS, publishedRows } from '../bench/published-bandwidth.js';
import { RANDOM_UNFENCED, streamBandwidth } from '../bench/stream-bandwidth.js';
import { FIG12_PERSIST_NS } from './helpers.js';

const MiB = 1 << 20;
const within = (got: number, want: number, tolerance: number): void => {
  expect(Math.abs(got - want) / want, `${got.toFixed(2)} against ${want}`).toBeLessThanOrEqual(tolerance);
};

async function optane(): Promise<Emulator> {
  return createEmulator({ capacity: 64 * MiB, preset: 'optane-g1' });
}

/** Emulated ns of `run` on the current CPU. */
function timed(emu: Emulator, run: () => void): number {
  const start = emu.now();
  run();
  return emu.now() - start;
}

describe('optane-g1 against FAST\'20 Fig. 2 (best-case latency, idle, one thread), within 10 %', () => {
  it('a random idle load of one line takes about 305 ns, a sequential one about 169 ns', async () => {
    const emu = await optane();
    const m = emu.mmapDevice();
    within(timed(emu, () => m.load(40 * MiB, 64)), 305.0, 0.1);
    within(timed(emu, () => m.load(40 * MiB + 64, 64)), 169.4, 0.1);
    within(timed(emu, () => m.load(7 * MiB + 4096 * 3, 64)), 305.0, 0.1);
  });

  // LATTester task 1 (NVSL/OptaneStudy src/kernel/tasks.c, common.h) times one 64 B write per
  // iteration with an mfence; its sequential run goes 64 B at a time, so the line before the
  // timed one is in the same media line, written by the previous iteration (src/presets.ts).
  it('one cached line made durable with store + clwb + mfence takes about 62 ns', async () => {
    const emu = await optane();
    const m = emu.mmapDevice();
    const line = new Uint8Array(64).fill(1);
    m.load(0, 256); // the previous iteration: its 256 B loaded, its line stored and written back
    m.store(0, line);
    m.clwb(0, 64);
    emu.mfence();
    m.load(64, 256); // this iteration's line and the 192 B after it are in the cache
    emu.mfence();
    within(timed(emu, () => { m.store(64, line); m.clwb(64, 64); emu.mfence(); }), 62.3, 0.1);
  });

  it('one line made durable with ntstore + mfence takes about 90 ns', async () => {
    const emu = await optane();
    const m = emu.mmapDevice();
    const line = new Uint8Array(64).fill(1);
    m.ntstore(4096, line); // the previous iteration
    emu.mfence();
    m.clflush(4160, 256); // the tool flushes the 256 B from the timed line (clean here), then fences
    emu.mfence();
    within(timed(emu, () => { m.ntstore(4160, line); emu.mfence(); }), 90.4, 0.1);
  });
});

/**
 * One access of `size` bytes at a fresh address, as task 1's random run does it (its 64–256 B
 * variants; the larger sizes are assumed to be timed the same way): store+clwb loads its lines
 * first, ntstore flushes them; then the write, its flushes and an mfence are timed.
 */
async function persistLatency(kind: 'ntstore' | 'clwb', size: number): Promise<number> {
  const emu = await optane();
  const m = emu.mmapDevice();
  const at = 16 * MiB; // never touched: the DIMM's buffer does not hold it
  const bytes = new Uint8Array(size).fill(0x5a);
  if (kind === 'clwb') m.load(at, Math.max(size, 256));
  else m.clflush(at, size);
  emu.mfence();
  return timed(emu, () => {
    if (kind === 'ntstore') m.ntstore(at, bytes);
    else { m.store(at, bytes); m.clwb(at, size); }
    emu.mfence();
  });
}

describe('optane-g1 against FAST\'20 Fig. 12 (persist latency by access size), within 25 %', () => {
  it.each(FIG12_PERSIST_NS)('$size B: store + clwb + mfence and ntstore + mfence', async ({ size, ntstore, clwb }) => {
    within(await persistLatency('clwb', size), clwb, 0.25);
    within(await persistLatency('ntstore', size), ntstore, 0.25);
  });

  it('non-temporal stores become the faster way between 256 and 512 bytes', async () => {
    expect(await persistLatency('clwb', 256)).toBeLessThan(await persistLatency('ntstore', 256));
    expect(await persistLatency('ntstore', 512)).toBeLessThan(await persistLatency('clwb', 512));
  });
});

describe('Sustained bandwidth against FAST\'20 Fig. 12 and Fig. 13, within 25 %', () => {
  // Fig. 12's CSV gives no thread count. Six threads, one per DIMM, fit the data: per thread
  // its ntstore figures match the one-thread Fig. 13 access for access, and its store+clwb
  // plateau (6.7 GB/s) is six times Fig. 13's one-thread 1.1 GB/s.
  // Why each curve has its shape:
  // - ntstore, small accesses: each waits for the read-modify-write of the one before it in the
  //   same 256-byte media line (rmwNs); 256 B and up: one claim of a buffer entry a fence
  //   (bufferMissNs), then the media's bandwidth.
  // - store+clwb: every store misses (task 9 streams a 2 GB region per thread), so each line is
  //   read for ownership and written back through the thread's fill buffers (fillBufferLines):
  //   from 512 B on a thread streams at 64 B / (readLineNs + flushLineNs) whatever the DIMMs take.
  it.each(publishedRows(FIG12_GBPS))('$kind + sfence of $size B from 6 CPUs on six interleaved DIMMs: about $gbps GB/s (Fig. 12)', async ({ kind, size, gbps }) => {
    within(await streamBandwidth('optane-g1-6dimm', 6, kind, size), gbps, 0.25);
  });

  it.each(publishedRows(FIG13_GBPS))('one CPU, one DIMM, an sfence every $size B of $kind: about $gbps GB/s (Fig. 13)', async ({ kind, size, gbps }) => {
    within(await streamBandwidth('optane-g1', 1, kind, size), gbps, 0.25);
  });

  // Threads on one DIMM share its media, and past four writers it slows down (docs/cost-model.md
  // §2.6, contentionWriters and contentionExponent): 4 KiB accesses, an sfence after each.
  it.each(FIG4_NI_WRITE_ROWS)('$cpus CPUs on one DIMM, $kind of 4 KiB + sfence: about $gbps GB/s (Fig. 4)', async ({ cpus, kind, gbps }) => {
    within(await streamBandwidth('optane-g1', cpus, kind, 4096), gbps, 0.25);
  });

  // Random writes, no fence per access: small ones cost a whole 256-byte media line each (an
  // NT line's is read first; a store's came with its read for ownership).
  it.each(publishedRows(FIG5_NI_GBPS))('$kind at random, $size B accesses, on one DIMM: about $gbps GB/s (Fig. 5)', async ({ kind, size, gbps }) => {
    within(await streamBandwidth('optane-g1', FIG5_NI_THREADS[kind], kind, size, 8 << 20, RANDOM_UNFENCED), gbps, 0.25);
  });

  it('one CPU on each of six DIMMs writes six times as fast as one CPU alone: streams on different DIMMs do not contend', async () => {
    const one = await streamBandwidth('optane-g1', 1, 'ntstore', 4096);
    const spread = await streamBandwidth('optane-g1-6dimm', 6, 'ntstore', 4096);
    expect(spread).toBeGreaterThan(5.9 * one);
  });
});

describe('optane-g1 against FAST\'20 Fig. 9 (inferring the XPBuffer), within 25 %', () => {
  /**
   * LATTester task 10 (cacheprobe): one CPU walks a region of 256-byte media lines, storing
   * and clflushing the first 128 B of each, then an mfence, then the second 128 B, then an
   * mfence, over and over. The DIMM's write amplification, media bytes over bytes received.
   */
  async function probeWriteAmplification(region: number): Promise<number> {
    const emu = await optane();
    const m = emu.mmapDevice();
    const line = new Uint8Array(64).fill(7);
    for (let written = 0; written < 4 * MiB; written += region) {
      for (const half of [0, 128]) {
        for (let at = MiB + half; at < MiB + region; at += 256) {
          m.store(at, line);
          m.clflush(at, 64);
          m.store(at + 64, line);
          m.clflush(at + 64, 64);
        }
        emu.mfence();
      }
    }
    return emu.stats().writeAmplification;
  }

  it('past the buffer each half-written media line costs a whole media write: about 2 from 32 KiB up', async () => {
    for (const [region, published] of [[32 * 1024, 1.8196], [64 * 1024, 2.043], [MiB, 2.075]] as const) {
      within(await probeWriteAmplification(region), published, 0.25);
    }
  });

  // Within 16 KiB both halves merge in the buffer, and each round the whole line reaches the
  // media once, when it is written again. (The published knee lies 2-4 KiB further out, and a
  // single 256 B line measures 0.80: neither is tested; README.)
  it('within the 16 KiB buffer the halves merge: about one media write per line written', async () => {
    for (const [region, published] of [[1024, 0.9703], [4096, 1.0344], [16 * 1024, 1.0363]] as const) {
      within(await probeWriteAmplification(region), published, 0.25);
    }
  });
});
