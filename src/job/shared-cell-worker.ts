// One CPU of a shared cell (src/job/shared-cell.ts): attaches to the shared emulator, runs
// the workload on its slice through the cell's strategy, and answers with what it stored.
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../base/index.js';
import { attachEmulator, type ShareHandle } from '../emulator/index.js';
import type { SharedCellJob, SharedCellReport } from './shared-cell.js';
import { startStrategy, type StrategyMapping } from './strategies.js';
import { workloadByName } from './workloads/index.js';
import { QuantumBarrier } from './quantum-barrier.js';

const { handle, cpu, job, cpus, barrierWords, quantumNs } = workerData as { handle: ShareHandle; cpu: number; job: SharedCellJob; cpus: number; barrierWords: SharedArrayBuffer; quantumNs: number };
const { spec, address, base } = job;
const emu = await attachEmulator(handle, { cpu });
const workload = workloadByName(spec.workload, spec.size);
const m = emu.mappingAt(address);
// This CPU's slice of the mapping: its offsets start at `base`; msync covers the whole mapping.
const slice: StrategyMapping = {
  length: m.length,
  file: m.file,
  store: (offset, bytes) => m.store(base + offset, bytes),
  ntstore: (offset, bytes) => m.ntstore(base + offset, bytes),
  flush: (offset, length, kind) => m.flush(base + offset, length, kind),
  msync: (offset, length, options) => m.msync(offset, length, options),
};
const run = startStrategy(spec.strategy, emu, slice, spec.instruction);
const expected = new Uint8Array(workload.fileBytes);
const steps = workload.steps(new Rng(spec.seed));
const barrier = new QuantumBarrier(barrierWords, cpus);
let next = 0;
let ops = 0;
let syncs = 0;
let bytesSynced = 0;
let pending = 0;
barrier.arrive(); // every CPU attached and ready: the clocks start together
for (let end = quantumNs; ; end += quantumNs) {
  while (next < steps.length && emu.now() < end) {
    const step = steps[next++]!;
    if (step.kind === 'store') {
      const value = (ops % 255) + 1;
      run.store(step.offset, new Uint8Array(step.length).fill(value));
      expected.fill(value, step.offset, step.offset + step.length);
      pending += step.length;
      ops++;
    } else if (step.kind === 'sync') {
      run.sync();
      syncs++;
      bytesSynced += pending;
      pending = 0;
    }
  }
  if (next === steps.length) barrier.finished();
  if (!barrier.arrive()) break;
}
const report: SharedCellReport = { ops, syncs, bytesSynced, expected };
parentPort!.postMessage(report, [expected.buffer]);
emu.detach();
