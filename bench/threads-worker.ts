/**
 * A worker of the threads suite (bench/threads.ts): attaches to the shared emulator on its
 * CPU, then runs each job it is sent after a barrier that every worker of the round reaches,
 * and answers with the wall time the job took.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachEmulator } from '../src/emulator/index.js';

export interface ThreadJob {
  /** 'mapping': stores and clwbs through a file mapping; 'commands': the same as a command buffer on a device mapping. */
  kind: 'mapping' | 'commands';
  /** mapping: the mapping's address; commands: the device offset of this worker's region. */
  at: number;
  /** The first page this worker uses and the stride between its pages (disjoint pages on one file). */
  firstPage: number;
  pageStride: number;
  pages: number;
  ops: number;
  /** Int32 [arrived]: every worker of the round waits for all `workers` before it starts. */
  barrier: SharedArrayBuffer;
  workers: number;
}

const emu = await attachEmulator(workerData.handle, { cpu: workerData.cpu });
const word = new Uint8Array(8).fill(workerData.cpu);

function offsetOf(job: ThreadJob, i: number): number {
  return (job.firstPage + (i % job.pages) * job.pageStride) * 4096 + ((i * 64) % 4096);
}

function waitForAll(job: ThreadJob): void {
  const arrived = new Int32Array(job.barrier);
  Atomics.add(arrived, 0, 1);
  while (Atomics.load(arrived, 0) < job.workers) Atomics.wait(arrived, 0, Atomics.load(arrived, 0), 10);
}

/** Store, clwb, and an sfence every 16 stores: the user-space flushing loop of a MAP_SYNC program. Returns when it started. */
function runMapping(job: ThreadJob): number {
  const m = emu.mappingAt(job.at);
  for (let i = 0; i < job.pages; i++) m.store(offsetOf(job, i), word); // faulted in before the clock starts
  waitForAll(job);
  const started = performance.now();
  for (let i = 0; i < job.ops; i++) {
    const off = offsetOf(job, i);
    m.store(off, word);
    m.clwb(off, 8);
    if ((i & 15) === 15) emu.sfence();
  }
  emu.sfence();
  return started;
}

/** The same loop as command buffers of 4096 store + clwb pairs on media addresses. */
function runCommands(job: ThreadJob): number {
  const cmds = emu.commands();
  const batch = 4096;
  for (let i = 0; i < batch; i++) {
    const off = job.at + ((i % job.pages) * 4096 + ((i * 64) % 4096));
    cmds.store(off, word).clwb(off, 8);
    if ((i & 15) === 15) cmds.sfence();
  }
  waitForAll(job);
  const started = performance.now();
  for (let done = 0; done < job.ops; done += batch) emu.run(cmds);
  return started;
}

parentPort!.on('message', (job: ThreadJob) => {
  const started = job.kind === 'mapping' ? runMapping(job) : runCommands(job);
  parentPort!.postMessage({ ms: performance.now() - started, now: emu.now() });
});
parentPort!.postMessage({ ready: true });
