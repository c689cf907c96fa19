/**
 * The threads suite: worker threads on one emulator (emu.share, attachEmulator) against one
 * worker, in one run. Each worker stores 8 bytes, clwbs the line and fences every 16 stores,
 * through a shared DAX mapping (the file system's faults done before the clock starts), or
 * the same loop as command buffers. Two workers on two files must reach 1.6x one worker's
 * stores+flushes per second, two on disjoint pages of one file 1.3x. Rates are total
 * operations over the slowest worker's wall time, best of a few rounds taken in turns.
 */
import { Worker } from 'node:worker_threads';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import type { BenchCase } from './case.js';
import type { SuiteOptions } from './suite.js';
import type { ThreadJob } from './threads-worker.js';

const MiB = 1 << 20;
const FILE_BYTES = 2 * MiB;

type Job = Omit<ThreadJob, 'barrier' | 'workers'>;

class BenchWorker {
  private readonly worker: Worker;
  readonly ready: Promise<void>;

  constructor(emu: Emulator, cpu: number) {
    this.worker = new Worker(new URL('./threads-worker-boot.mjs', import.meta.url), { workerData: { handle: emu.share(), cpu } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', () => resolve());
      this.worker.once('error', reject);
    });
  }

  run(job: ThreadJob): Promise<{ ms: number }> {
    return new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
      this.worker.postMessage(job);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Runs one job per worker together; operations per second over the slowest worker's time. */
async function round(workers: BenchWorker[], jobs: Job[]): Promise<number> {
  const barrier = new SharedArrayBuffer(4);
  const results = await Promise.all(jobs.map((job, i) => workers[i]!.run({ ...job, barrier, workers: jobs.length })));
  const ops = jobs.reduce((sum, job) => sum + job.ops, 0);
  return ops / (Math.max(...results.map((r) => r.ms)) / 1000);
}

export async function runThreadsSuite(options: SuiteOptions): Promise<BenchCase[]> {
  const ops = options.quick ? 20_000 : 200_000;
  const rounds = options.quick ? 1 : 4;
  const emu = await createEmulator({ capacity: 64 * MiB, cacheBytes: 16 * MiB, seed: 7 });
  const maps = ['/a', '/b'].map((path) => emu.mmap(emu.createFile(path, { size: FILE_BYTES, allocate: 'written' }), { length: FILE_BYTES }));
  const workers = [new BenchWorker(emu, 1), new BenchWorker(emu, 2)];
  try {
    await Promise.all(workers.map((w) => w.ready));
    const pages = FILE_BYTES / 4096;
    const onFile = (k: number, firstPage: number, pageStride: number, n: number): Job => ({ kind: 'mapping', at: maps[k]!.address, firstPage, pageStride, pages: n, ops });
    const onDevice = (k: number): Job => ({ kind: 'commands', at: 32 * MiB + k * 4 * MiB, firstPage: 0, pageStride: 1, pages: 512, ops });
    const configs = {
      one: [onFile(0, 0, 1, pages)],
      twoFiles: [onFile(0, 0, 1, pages), onFile(1, 0, 1, pages)],
      oneHalf: [onFile(0, 0, 2, pages / 2)],
      twoOneFile: [onFile(0, 0, 2, pages / 2), onFile(0, 1, 2, pages / 2)],
      oneDevice: [onDevice(0)],
      twoDevice: [onDevice(0), onDevice(1)],
    };
    const best: Record<keyof typeof configs, number> = { one: 0, twoFiles: 0, oneHalf: 0, twoOneFile: 0, oneDevice: 0, twoDevice: 0 };
    for (let r = -1; r < rounds; r++) {
      options.progress(r < 0 ? 'warming up' : `round ${r + 1} of ${rounds}`);
      // In turns, so that a busy moment of the machine does not decide a ratio alone.
      for (const [name, jobs] of Object.entries(configs) as [keyof typeof configs, Job[]][]) {
        const rate = await round(workers, jobs);
        if (r >= 0) best[name] = Math.max(best[name], rate); // the first round only warms the code up
      }
    }
    const ratio = (name: string, two: number, one: number, goal?: number): BenchCase => ({
      name,
      wasmOpsPerSec: two,
      modelOpsPerSec: one,
      ratio: two / one,
      ...(goal === undefined ? {} : { goal, met: two / one >= goal }),
      baseline: 'one worker',
    });
    return [
      ratio('two workers on two files: stores+flushes per second', best.twoFiles, best.one, 1.6),
      ratio('two workers on disjoint pages of one file: stores+flushes per second', best.twoOneFile, best.oneHalf, 1.3),
      ratio('two workers, command buffers on the device: stores+flushes per second', best.twoDevice, best.oneDevice),
    ];
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    emu.stopSharing();
  }
}
