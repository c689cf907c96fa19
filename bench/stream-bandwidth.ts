/**
 * Sustained bandwidth of several emulated CPUs through the public API: each CPU streams
 * through its own region in accesses of `size` bytes (ntstore + sfence, store + clwb +
 * sfence, or a load), and the CPU with the smallest clock goes next, so the DIMMs' calendars
 * see requests in time order. test/validation.test.ts checks these figures against FAST'20;
 * the bandwidth suite (bench/bandwidth.ts) prints them.
 */
import { createEmulator } from '../src/emulator.js';
import { PRESETS, type PresetName } from '../src/presets.js';

const MiB = 1 << 20;

export type StreamKind = 'ntstore' | 'clwb' | 'load';

/** GB/s (bytes per emulated ns) of `cpus` CPUs moving `totalBytes` together on `preset`. */
export async function streamBandwidth(preset: PresetName, cpus: number, kind: StreamKind, size: number, totalBytes = 8 * MiB): Promise<number> {
  const emu = await createEmulator({ capacity: 1024 * MiB, preset });
  const m = emu.mmapDevice();
  const bytes = new Uint8Array(size).fill(0x5a);
  const accesses = Math.floor(totalBytes / cpus / size);
  // Regions about 64 MiB apart, a whole number of interleave sets (one stripe over every
  // DIMM), each starting one stripe later, so CPU c starts on DIMM c mod dimms.
  const { dimms, interleaveBytes } = PRESETS[preset];
  const set = dimms * interleaveBytes;
  const stride = Math.floor((64 * MiB) / set) * set;
  const next = Array.from({ length: cpus }, (_, cpu) => cpu * (stride + interleaveBytes));
  const done = new Array<number>(cpus).fill(0);
  const clock = (cpu: number): number => {
    emu.cpu = cpu;
    return emu.now();
  };
  for (let left = accesses * cpus; left > 0; left--) {
    let cpu = -1;
    for (let c = 0; c < cpus; c++) if (done[c]! < accesses && (cpu < 0 || clock(c) < clock(cpu))) cpu = c;
    emu.cpu = cpu;
    if (kind === 'load') {
      m.load(next[cpu]!, size);
    } else {
      if (kind === 'ntstore') m.ntstore(next[cpu]!, bytes);
      else {
        m.store(next[cpu]!, bytes);
        m.clwb(next[cpu]!, size);
      }
      emu.sfence();
    }
    next[cpu]! += size;
    done[cpu]! += 1;
  }
  const end = Math.max(...Array.from({ length: cpus }, (_, cpu) => clock(cpu)));
  return (accesses * cpus * size) / end;
}
