/**
 * The pool suite: saving an emulator's durable state against the host writing the same
 * number of bytes sequentially to a file and syncing it (goal: the save runs at half that
 * speed or better), and saving a 3.75 GiB device that holds 10 MiB (it writes only the
 * chunks that hold data). Wall-clock times, best of a few runs. First, the resident memory of
 * crash images, live and disposed (bench/crash-images.ts).
 */
import { open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import { bestWallMs } from './measure.js';
import { crashImageMemoryCases } from './crash-images.js';
import { metric, type MetricCase } from './case.js';
import type { SuiteOptions } from './suite.js';

const MiB = 1 << 20;


/** An emulator whose device holds `bytes` of durable, non-zero data. */
async function filled(capacity: number, bytes: number): Promise<Emulator> {
  const emu = await createEmulator({ capacity, cacheBytes: 4 * MiB });
  const d = emu.mmapDevice();
  const page = new Uint8Array(MiB).fill(0x5a);
  for (let at = 0; at < bytes; at += MiB) d.ntstore(at, page);
  emu.sfence();
  return emu;
}

/** Writes `bytes` to a new file in 1 MiB writes and syncs it, as the host's sequential write speed. */
async function hostWrite(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  const block = Buffer.alloc(MiB, 0x5a);
  for (let at = 0; at < bytes; at += MiB) await fh.write(block, 0, MiB, at);
  await fh.sync();
  await fh.close();
}

export async function runPoolSuite(options: SuiteOptions): Promise<MetricCase[]> {
  const dir = await mkdtemp(join(tmpdir(), 'daxemu-bench-pool-'));
  try {
    const memory = await crashImageMemoryCases(options); // first, before the big emulators below
    const data = options.quick ? 16 * MiB : 256 * MiB;
    const runs = options.quick ? 1 : 3;
    const emu = await filled(data + 8 * MiB, data);
    options.progress(`saving ${data / MiB} MiB`);
    const saveMs = await bestWallMs(runs, () => emu.save(join(dir, 'data.pool')));
    const hostMs = await bestWallMs(runs, () => hostWrite(join(dir, 'host.bin'), data));
    const saveRate = data / MiB / (saveMs / 1000);
    const hostRate = data / MiB / (hostMs / 1000);
    const cases = [
      ...memory,
      metric(`host: ${data / MiB} MiB written sequentially and synced`, hostRate, 'MiB/s'),
      metric(`emu.save of ${data / MiB} MiB of durable data`, saveRate, 'MiB/s'),
      metric('emu.save speed / host sequential write speed', saveRate / hostRate, 'ratio', { atLeast: 0.5 }),
    ];
    if (!options.quick) {
      options.progress('saving a 3.75 GiB device holding 10 MiB');
      const big = await filled(3840 * MiB, 10 * MiB);
      cases.push(metric('emu.save, 3.75 GiB device holding 10 MiB', await bestWallMs(runs, () => big.save(join(dir, 'big.pool'))), 'ms', { atMost: 1000 }));
    }
    return cases;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
