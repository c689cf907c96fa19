/**
 * The DAX layer against its reference model: the same seeded random sequence of faults,
 * stores, loads and msyncs over one 16 MiB file, on the emulator (wasm trees, the hardware
 * model, the host's fault and writeback paths) and on src/model/dax.ts (plain maps). Wall
 * time per operation of each; the goal is the emulator at 3x the model or better.
 */
import { Rng } from '../src/base/index.js';
import { createEmulator } from '../src/emulator/index.js';
import { ModelDax } from '../src/model/index.js';
import { checkSidesAgree, compareSides, type BenchCase, type Sides } from './case.js';
import type { SuiteOptions } from './suite.js';

const MiB = 1 << 20;
const FILE = 16 * MiB;

type Step = { op: 'store' | 'load' | 'fault'; off: number } | { op: 'msync'; off: number; len: number };

/** A seeded sequence: mostly small stores and loads, some explicit faults, an msync every 16 steps. */
function sequence(length: number, seed: number): Step[] {
  const rng = new Rng(seed);
  const steps: Step[] = [];
  for (let i = 0; i < length; i++) {
    const off = rng.below(FILE / 64) * 64;
    if (i % 16 === 15) steps.push({ op: 'msync', off: off - (off % 4096), len: 4096 * (1 + rng.below(512)) });
    else steps.push({ op: rng.chance(0.6) ? 'store' : rng.chance(0.8) ? 'load' : 'fault', off });
  }
  return steps;
}

export async function runDaxModelSuite(options: SuiteOptions): Promise<BenchCase[]> {
  const steps = sequence(options.quick ? 2000 : 20000, 42);
  const bytes = new Uint8Array(8).fill(7);
  // Both sides restart their file every run, so each run replays the sequence from a fresh state.
  const emu = await createEmulator({ capacity: 64 * MiB, cacheBytes: 8 * MiB });
  let runs = 0;
  const sides: Sides = {
    wasm: () => {
      const f = emu.createFile(`/f${runs++}`, { size: FILE });
      const m = emu.mmap(f, { address: 0x7e00_0000_1000 + runs * 2 * FILE });
      let lines = 0;
      for (const s of steps) {
        if (s.op === 'store') m.store(s.off, bytes);
        else if (s.op === 'load') m.load(s.off, 8);
        else if (s.op === 'fault') m.fault(s.off, 'write');
        else if (s.op === 'msync') lines += m.msync(s.off, Math.min(s.len, FILE - s.off)).lines;
      }
      m.munmap();
      emu.unlink(f.path);
      return lines;
    },
    model: () => {
      const model = new ModelDax({ kernel: 'linux-6.12', capacityPages: (64 * MiB) / 4096 });
      model.createFile('/f', FILE);
      const m = model.mmap('/f', { colourOff: true });
      let lines = 0;
      for (const s of steps) {
        if (s.op === 'store') model.store(m, s.off, bytes);
        else if (s.op === 'load') model.load(m, s.off, 8);
        else if (s.op === 'fault') model.fault(m, s.off, 'write');
        else if (s.op === 'msync') lines += model.msync(m, s.off, Math.min(s.len, FILE - s.off)).lines;
      }
      return lines;
    },
    opsPerIteration: steps.length,
  };
  // Both sides flush the same lines, or the case would time two different things.
  checkSidesAgree('dax-model', sides);
  return [compareSides(`${steps.length} faults, stores, loads and msyncs on a 16 MiB file, emulator against the DAX model`, sides, options.timing, 3)];
}
