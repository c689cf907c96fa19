/**
 * Concurrent tasks, run deterministically: fsyncs and stores, each on its own emulated CPU,
 * taking turns at the points where the kernel could be preempted (src/writeback.ts's
 * TaskYield). A store waits while the entry of its page is locked, then faults and stores
 * as usual. This is how two fsyncs meet (SPEC-DAX.md S20) and a fault meets a writeback
 * (S22). Waiters poll; the kernel's waitqueue hashing and wake modes (S28) are not modelled.
 */
import type { DaxHost } from './dax-context.js';
import { XA_MAX_INDEX, daxIsLocked } from './entry.js';
import { PmemError } from './errors.js';
import type { DaxFile } from './file.js';
import type { FileMapping } from './file-mapping.js';
import { vfsFsyncSteps, type TaskYield, type WritebackReport } from './writeback.js';

/** A task: an fsync of a file, or a store through a mapping; on `cpu` if given. */
export type ConcurrentTask =
  | { fsync: DaxFile; cpu?: number }
  | { store: { mapping: FileMapping; offset: number; bytes: Uint8Array }; cpu?: number };

/** A store as a task: it waits while the entry of its page is locked. */
function* storeSteps(m: FileMapping, offset: number, bytes: Uint8Array): Generator<TaskYield, undefined> {
  const pgoff = m.pgoff + Math.floor(offset / 4096);
  while (daxIsLocked(m.file.entryAt(pgoff))) yield 'wait';
  m.store(offset, bytes);
  return undefined;
}

/**
 * Steps the tasks to their ends: first in `schedule` order, then round robin; `onCpu`
 * switches the emulator to a task's CPU before each of its steps. EBUSY when every task
 * left only waits.
 */
export function runTasks(host: DaxHost, tasks: ConcurrentTask[], schedule: number[], onCpu: (cpu: number | undefined) => void): (WritebackReport | undefined)[] {
  const running = tasks.map((task, i): { cpu: number | undefined; steps: Generator<TaskYield, WritebackReport | undefined> } => {
    if ('fsync' in task) return { cpu: task.cpu, steps: vfsFsyncSteps(host, task.fsync, 0, XA_MAX_INDEX) };
    if ('store' in task) return { cpu: task.cpu, steps: storeSteps(task.store.mapping, task.store.offset, task.store.bytes) };
    throw new PmemError('EINVAL', `runConcurrently: task ${i} is neither { fsync } nor { store }`);
  });
  const results: (WritebackReport | undefined)[] = new Array(tasks.length);
  const finished = new Set<number>();
  const order = [...schedule];
  let turn = 0;
  let waitingInARow = 0;
  while (finished.size < running.length) {
    const i = order.length > 0 ? order.shift()! : turn++ % running.length;
    if (!Number.isInteger(i) || i < 0 || i >= running.length) throw new PmemError('EINVAL', `runConcurrently: schedule names task ${i}`);
    if (finished.has(i)) continue;
    onCpu(running[i]!.cpu);
    const r = running[i]!.steps.next();
    if (r.done) {
      results[i] = r.value;
      finished.add(i);
      waitingInARow = 0;
    } else if (r.value === 'wait') {
      if (++waitingInARow > running.length * 2) throw new PmemError('EBUSY', 'runConcurrently: every task left waits on an entry lock');
    } else {
      waitingInARow = 0;
    }
  }
  return results;
}
