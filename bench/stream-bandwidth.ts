/**
 * Sustained bandwidth of several emulated CPUs through the public API: each CPU goes through
 * its own region in accesses of `size` bytes (ntstore, store + clwb, or a load), in order or
 * at random aligned offsets, with an sfence after each write or only at the end, and the CPU
 * with the smallest clock goes next, so the DIMMs' calendars see requests in time order.
 * test/validation.test.ts checks these figures against FAST'20; the bandwidth suite
 * (bench/bandwidth.ts) prints them.
 */
import { createEmulator } from '../src/emulator/index.js';
import { PRESETS, type PresetName } from '../src/hw/presets.js';
import { Rng } from '../src/base/random.js';

const MiB = 1 << 20;

export type StreamKind = 'ntstore' | 'clwb' | 'load';

/** How each CPU walks its region: in order with a fence per write (FAST'20 Fig. 4, 12, 13), or at random without (Fig. 5). */
export interface AccessPattern {
  random: boolean;
  fencePerAccess: boolean;
}

export const SEQUENTIAL_FENCED: AccessPattern = { random: false, fencePerAccess: true };
/** FAST'20 Fig. 5 (LATTester task 4): random offsets aligned to the access size, no fence per access. */
export const RANDOM_UNFENCED: AccessPattern = { random: true, fencePerAccess: false };

/** GB/s (bytes per emulated ns) of `cpus` CPUs moving `totalBytes` together on `preset`. */
export async function streamBandwidth(preset: PresetName, cpus: number, kind: StreamKind, size: number, totalBytes = 8 * MiB, pattern = SEQUENTIAL_FENCED): Promise<number> {
  const emu = await createEmulator({ capacity: 1024 * MiB, preset });
  const m = emu.mmapDevice();
  const bytes = new Uint8Array(size).fill(0x5a);
  const accesses = Math.floor(totalBytes / cpus / size);
  // Regions about 64 MiB apart, a whole number of interleave sets (one stripe over every
  // DIMM), each starting one stripe later, so CPU c starts on DIMM c mod dimms.
  const { dimms, interleaveBytes } = PRESETS[preset];
  const set = dimms * interleaveBytes;
  const stride = Math.floor((64 * MiB) / set) * set;
  const start = Array.from({ length: cpus }, (_, cpu) => cpu * (stride + interleaveBytes));
  const next = [...start];
  const rng = new Rng(1); // the random offsets: the same every run
  const done = new Array<number>(cpus).fill(0);
  const clock = (cpu: number): number => {
    emu.cpu = cpu;
    return emu.now();
  };
  for (let left = accesses * cpus; left > 0; left--) {
    let cpu = -1;
    for (let c = 0; c < cpus; c++) if (done[c]! < accesses && (cpu < 0 || clock(c) < clock(cpu))) cpu = c;
    emu.cpu = cpu;
    const at = pattern.random ? start[cpu]! + rng.below(stride / size) * size : next[cpu]!;
    if (kind === 'load') {
      m.load(at, size);
    } else {
      if (kind === 'ntstore') m.ntstore(at, bytes);
      else {
        m.store(at, bytes);
        m.clwb(at, size);
      }
      if (pattern.fencePerAccess) emu.sfence();
    }
    next[cpu]! += size;
    done[cpu]! += 1;
  }
  // Every write is durable before the clock is read.
  for (let cpu = 0; cpu < cpus; cpu++) {
    emu.cpu = cpu;
    emu.sfence();
  }
  const end = Math.max(...Array.from({ length: cpus }, (_, cpu) => clock(cpu)));
  return (accesses * cpus * size) / end;
}
