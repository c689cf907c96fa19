// The optane-g1 preset against published measurements, through the public API and
// emu.now() only (COST-MODEL.md 5.1 and 5.7; J. Yang et al., FAST'20, Fig. 2 and Fig. 12).
// The model is built from the formulas of COST-MODEL.md section 2 and the preset's sourced
// parameters; these tests check that the results land within the stated tolerances.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator.js';
import { PRESETS } from '../src/presets.js';
import { streamBandwidth } from '../bench/stream-bandwidth.js';
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

  it('one cached line made durable with store + clwb + sfence takes about 62 ns', async () => {
    const emu = await optane();
    const m = emu.mmapDevice();
    m.load(0, 64); // the line is in the cache, as in the best case
    within(timed(emu, () => { m.store(0, new Uint8Array(64).fill(1)); m.clwb(0, 64); emu.sfence(); }), 62.3, 0.1);
  });

  it('one line made durable with ntstore + sfence takes about 90 ns', async () => {
    const emu = await optane();
    const m = emu.mmapDevice();
    within(timed(emu, () => { m.ntstore(4096, new Uint8Array(64).fill(1)); emu.sfence(); }), 90.4, 0.1);
  });
});

async function persistLatency(kind: 'ntstore' | 'clwb', size: number): Promise<number> {
  const emu = await optane();
  const m = emu.mmapDevice();
  const at = 16 * MiB; // cold: never touched
  const bytes = new Uint8Array(size).fill(0x5a);
  return timed(emu, () => {
    if (kind === 'ntstore') m.ntstore(at, bytes);
    else { m.store(at, bytes); m.clwb(at, size); }
    emu.sfence();
  });
}

describe('optane-g1 against FAST\'20 Fig. 12 (persist latency by access size), within 25 %', () => {
  it.each(FIG12_PERSIST_NS)('$size B: store + clwb + sfence and ntstore + sfence', async ({ size, ntstore, clwb }) => {
    within(await persistLatency('clwb', size), clwb, 0.25);
    within(await persistLatency('ntstore', size), ntstore, 0.25);
  });

  it('non-temporal stores become the faster way between 256 and 512 bytes', async () => {
    expect(await persistLatency('clwb', 256)).toBeLessThan(await persistLatency('ntstore', 256));
    expect(await persistLatency('ntstore', 512)).toBeLessThan(await persistLatency('clwb', 512));
  });
});

describe('ntstore bandwidth against FAST\'20 Fig. 12 and Fig. 13, within 25 %', () => {
  // Fig. 12's CSV gives no thread count. Six threads, one per DIMM, fit the data: per thread
  // its ntstore figures match the one-thread Fig. 13 access for access, and its store+clwb
  // plateau (6.7 GB/s) is six times Fig. 13's one-thread 1.1 GB/s.
  it.each([
    { size: 64, gbps: 1.83 },
    { size: 128, gbps: 3.55 },
    { size: 256, gbps: 6.84 },
    { size: 512, gbps: 13.23 },
    { size: 1024, gbps: 13.42 },
    { size: 4096, gbps: 13.45 },
  ])('ntstore + sfence of $size B from 6 CPUs on six interleaved DIMMs: about $gbps GB/s (Fig. 12)', async ({ size, gbps }) => {
    within(await streamBandwidth('optane-g1-6dimm', 6, 'ntstore', size), gbps, 0.25);
  });

  // Small requests are slow because each waits for the read-modify-write of the one before
  // it in the same 256-byte media line (rmwNs); large ones because the media is the limit.
  it.each([
    { size: 64, gbps: 0.3375 },
    { size: 128, gbps: 0.65 },
    { size: 256, gbps: 1.2625 },
    { size: 512, gbps: 2.2125 },
    { size: 1024, gbps: 2.2375 },
    { size: 4096, gbps: 2.2375 },
  ])('one CPU, one DIMM, an sfence every $size B of ntstore: about $gbps GB/s (Fig. 13)', async ({ size, gbps }) => {
    within(await streamBandwidth('optane-g1', 1, 'ntstore', size), gbps, 0.25);
  });

  it("CPUs share a DIMM's media: eight CPUs on one DIMM write no faster than its media, one CPU on each of six DIMMs six times as fast", async () => {
    const shared = await streamBandwidth('optane-g1', 8, 'ntstore', 4096);
    const { mediaWriteBytesPerNs } = PRESETS['optane-g1'];
    expect(shared).toBeLessThanOrEqual(mediaWriteBytesPerNs * 1.001);
    expect(shared).toBeGreaterThan(mediaWriteBytesPerNs * 0.9);
    const spread = await streamBandwidth('optane-g1-6dimm', 6, 'ntstore', 4096);
    expect(spread).toBeGreaterThan(5 * shared);
  });
});
