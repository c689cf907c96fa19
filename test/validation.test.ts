// The optane-g1 preset against published measurements, through the public API and
// emu.now() only (COST-MODEL.md 5.1 and 5.7; J. Yang et al., FAST'20, Fig. 2 and Fig. 12).
// The model is built from the formulas of COST-MODEL.md section 2 and the preset's sourced
// parameters; these tests check that the results land within the stated tolerances.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator.js';
import { FIG12_PERSIST_NS } from './helpers.js';

const MiB = 1 << 20;
const within = (got: number, want: number, tolerance: number): void => {
  expect(Math.abs(got - want) / want, `${got.toFixed(1)} ns against ${want} ns`).toBeLessThanOrEqual(tolerance);
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
