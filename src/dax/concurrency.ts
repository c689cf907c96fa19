/**
 * Concurrent tasks, run deterministically: fsyncs, stores and entry-lock holders, each on
 * its own emulated CPU, taking turns at the points where the kernel could be preempted
 * (src/dax/writeback.ts's TaskYield). A task that finds an entry locked sleeps on the entry's
 * waitqueue (src/dax/wait-queue.ts) and is not run until an unlock wakes it (WAKE_NEXT) or a
 * deletion does (WAKE_ALL); then it looks again. This is how two fsyncs meet (docs/kernel-rules.md
 * S20), a fault meets a writeback (S22) and waiters meet a lock holder (S28).
 */
import type { KernelBugs } from './bugs.js';
import type { DaxHost } from './context.js';
import { PMD_NR, XA_MAX_INDEX, daxIsLocked, daxLockedEntry, daxUnlockedEntry } from '../core/index.js';
import { PmemError } from '../base/index.js';
import { DaxFile } from './file.js';
import { FileMapping } from './file-mapping.js';
import { EntryWaitTable, entryKey, type WaitEvent } from './wait-queue.js';
import { vfsFsyncSteps, type TaskYield, type WritebackReport } from './writeback.js';

/**
 * A task: an fsync of a file; a store through a mapping; or a holder that locks the entry
 * of a file page (as a fault or truncate does midway), keeps it for `steps` turns, then
 * unlocks it ('unlock', WAKE_NEXT) or punches the entry's pages out of the file ('punch',
 * WAKE_ALL). Each runs on `cpu` if given.
 */
export type ConcurrentTask =
  | { fsync: DaxFile; cpu?: number }
  | { store: { mapping: FileMapping; offset: number; bytes: Uint8Array }; cpu?: number }
  | { holdEntry: { file: DaxFile; pgoff: number; steps?: number; then: 'unlock' | 'punch' }; cpu?: number };

/**
 * A store as a task. Through a writable page-table entry it takes no lock; otherwise its
 * fault sleeps while the page's entry is locked, then faults and stores.
 */
function* storeSteps(host: DaxHost, m: FileMapping, offset: number, bytes: Uint8Array): Generator<TaskYield, undefined> {
  const pgoff = m.pgoff + Math.floor(offset / 4096);
  let slept = false;
  if (host.bugs.pmdWaitsOnWrongQueue) yield* pmdWaitOnWrongQueue(host, m, offset);
  for (let word = m.file.entryAt(pgoff); daxIsLocked(word) && m.storeWouldFault(offset); word = m.file.entryAt(pgoff)) {
    slept = true;
    yield { sleep: entryKey(m.file.tree, pgoff, word) };
  }
  let failure: { error: unknown } | undefined;
  try {
    m.store(offset, bytes);
  } catch (error) {
    failure = { error };
  }
  // The fault's unlock passes the wake on to the next sleeper, whether or not it succeeded.
  const now = m.file.entryAt(pgoff);
  if (slept && now !== 0) yield { wake: entryKey(m.file.tree, pgoff, now), mode: 'next' };
  if (failure) throw failure.error;
  return undefined;
}

/**
 * B11 (src/dax/bugs.ts): the PMD fault the store would take meets a locked PTE entry in its
 * 2 MiB and waits for it, keyed by the PMD-aligned index, where the PTE entry's unlock wakes
 * its own index's key (fs/dax.c b15cd800682f; fixed by 23c84eb78375, which falls back at
 * once). Nothing wakes that key, so the task sleeps for ever.
 */
function* pmdWaitOnWrongQueue(host: DaxHost, m: FileMapping, offset: number): Generator<TaskYield, undefined> {
  const vpage = m.vfirst + Math.floor(offset / 4096);
  const pgoff = m.pgoff + Math.floor(offset / 4096);
  const slot = Math.floor(vpage / PMD_NR);
  const aligned = pgoff - (pgoff % PMD_NR);
  // The PMD path runs only while the slot has no PTE table, for a matching colour and a whole 2 MiB inside the mapping.
  const vslot = vpage - (vpage % PMD_NR);
  const pmdTried = !m.pt.tables.has(slot) && pgoff % PMD_NR === vpage % PMD_NR && vslot >= m.vfirst && vslot + PMD_NR <= m.vfirst + m.pages;
  for (;;) {
    if (!pmdTried || !m.storeWouldFault(offset)) return undefined;
    const found = host.core.findPresent(m.file.tree, aligned, aligned + PMD_NR - 1);
    if (!found || found.order !== 0 || !daxIsLocked(found.word)) return undefined;
    yield { sleep: { tree: m.file.tree, entryStart: aligned } };
  }
}

/** A holder as a task: locks the entry of `pgoff` (sleeping while another holds it), keeps it, then unlocks or punches it. */
function* holdEntrySteps(bugs: KernelBugs, file: DaxFile, pgoff: number, steps: number, then: 'unlock' | 'punch'): Generator<TaskYield, undefined> {
  let word = file.entryAt(pgoff);
  while (daxIsLocked(word)) {
    yield { sleep: entryKey(file.tree, pgoff, word) };
    word = file.entryAt(pgoff);
  }
  if (word === 0) return undefined; // deleted while this task slept: nothing left to hold
  const key = entryKey(file.tree, pgoff, word);
  file.replaceEntry(key.entryStart, daxLockedEntry(word));
  for (let i = 0; i < steps; i++) yield 'step';
  file.replaceEntry(key.entryStart, daxUnlockedEntry(file.entryAt(key.entryStart)));
  if (then === 'unlock') {
    yield { wake: key, mode: 'next' };
    return undefined;
  }
  // Deleting the entry and waking everyone are one step: no sleeper sees it unlocked first.
  file.punchHole(key.entryStart * 4096, file.pagesOf(word) * 4096);
  // B14 (src/dax/bugs.ts): before 237388320def the deletion woke one waiter (WAKE_NEXT).
  yield { wake: key, mode: bugs.deleteWakesOne ? 'next' : 'all' };
  return undefined;
}

function taskKind(task: ConcurrentTask): string {
  return 'fsync' in task ? 'fsync' : 'store' in task ? 'store' : 'holdEntry';
}

/** The most turns a holder keeps its entry: a bound, so that a huge count cannot run for ever. */
export const MAX_HOLD_STEPS = 1_000_000;

function startTask(host: DaxHost, task: ConcurrentTask, i: number): Generator<TaskYield, WritebackReport | undefined> {
  // Every field is checked before any task runs: a bad task refuses the whole call, which changes nothing.
  const bad = (why: string): never => {
    throw new PmemError('EINVAL', `runConcurrently: task ${i} ${why}`);
  };
  if ('fsync' in task) {
    if (!(task.fsync instanceof DaxFile)) bad(`fsync must be a file of this emulator, got ${String(task.fsync)}`);
    if (task.fsync.unlinked && task.fsync.mappings.size === 0) throw new PmemError('EBADF', `runConcurrently: task ${i} fsync: ${task.fsync.path} was unlinked`);
    return vfsFsyncSteps(host, task.fsync, 0, XA_MAX_INDEX);
  }
  if ('store' in task) {
    const s: Partial<{ mapping: unknown; offset: unknown; bytes: unknown }> = task.store ?? bad('store must be { mapping, offset, bytes }');
    if (!(s.mapping instanceof FileMapping) || !s.mapping.isMapped) return bad('store.mapping must be a mapping that is mapped');
    if (!(s.bytes instanceof Uint8Array)) return bad('store.bytes must be a Uint8Array');
    const offset = s.offset as number;
    if (!Number.isInteger(offset) || offset < 0) bad(`store.offset must be a non-negative integer, got ${String(offset)}`);
    if (offset + s.bytes.length > s.mapping.length) throw new PmemError('EFAULT', `runConcurrently: task ${i} store.offset ${offset} + ${s.bytes.length} bytes is outside the ${s.mapping.length}-byte mapping`);
    return storeSteps(host, s.mapping, offset, s.bytes);
  }
  if ('holdEntry' in task) {
    if (task.holdEntry === null || typeof task.holdEntry !== 'object') bad('holdEntry must be { file, pgoff, steps, then }');
    const { file, pgoff, steps = 1, then } = task.holdEntry;
    if (!(file instanceof DaxFile)) bad(`holdEntry.file must be a file of this emulator, got ${String(file)}`);
    if (!Number.isInteger(pgoff) || pgoff < 0 || pgoff > XA_MAX_INDEX) throw new PmemError('EINVAL', `runConcurrently: task ${i} holdEntry.pgoff must be an integer in [0, ${XA_MAX_INDEX}], got ${String(pgoff)}`);
    if (!Number.isInteger(steps) || steps < 0 || steps > MAX_HOLD_STEPS) throw new PmemError('EINVAL', `runConcurrently: task ${i} holdEntry.steps must be an integer in [0, ${MAX_HOLD_STEPS}], got ${String(steps)}`);
    if (then !== 'unlock' && then !== 'punch') throw new PmemError('EINVAL', `runConcurrently: task ${i} holdEntry.then must be 'unlock' or 'punch', got ${String(then)}`);
    if (host.rules.p45) throw new PmemError('EOPNOTSUPP', `runConcurrently: task ${i} holdEntry: linux-4.5 predates DAX entry locks`);
    if (file.entryAt(pgoff) === 0) throw new PmemError('ENOENT', `runConcurrently: task ${i} holdEntry: file page ${pgoff} of ${file.path} has no entry to lock`);
    return holdEntrySteps(host.bugs, file, pgoff, steps, then);
  }
  throw new PmemError('EINVAL', `runConcurrently: task ${i} is neither { fsync }, { store } nor { holdEntry }`);
}

/**
 * Steps the tasks to their ends: first in `schedule` order, then round robin, skipping
 * sleepers; `onCpu` switches the emulator to a task's CPU before each of its steps. Sleeps
 * and wakes are appended to `waitLog` if given. EBUSY when every task left sleeps (a lost
 * wake-up). A task that throws ends there; the rest run to their ends, then the first
 * error is thrown.
 */
export function runTasks(host: DaxHost, tasks: ConcurrentTask[], schedule: number[], onCpu: (cpu: number | undefined) => void, waitLog?: WaitEvent[]): (WritebackReport | undefined)[] {
  if (!Array.isArray(tasks)) throw new PmemError('EINVAL', `runConcurrently: tasks must be an array, got ${tasks === null ? 'null' : typeof tasks}`);
  if (!Array.isArray(schedule)) throw new PmemError('EINVAL', 'runConcurrently: schedule must be an array of task numbers');
  tasks.forEach((task, i) => {
    if (task === null || typeof task !== 'object') throw new PmemError('EINVAL', `runConcurrently: task ${i} must be an object, got ${task === null ? 'null' : typeof task}`);
    const cpu: unknown = task.cpu;
    if (cpu !== undefined && (!Number.isInteger(cpu) || (cpu as number) < 0 || (cpu as number) >= host.core.layout.maxCpus)) {
      throw new PmemError('EINVAL', `runConcurrently: task ${i} cpu must be an integer in [0, ${host.core.layout.maxCpus - 1}], got ${String(cpu)}`);
    }
  });
  const running = tasks.map((task, i) => ({ cpu: task.cpu, steps: startTask(host, task, i) }));
  for (const i of schedule) {
    if (!Number.isInteger(i) || i < 0 || i >= running.length) throw new PmemError('EINVAL', `runConcurrently: schedule names task ${i}`);
  }
  const waits = new EntryWaitTable(waitLog);
  const results: (WritebackReport | undefined)[] = new Array(tasks.length);
  const finished = new Set<number>();
  const order = [...schedule];
  let turn = 0;
  let failure: { error: unknown } | undefined;
  while (finished.size < running.length) {
    const runnable = running.some((_, t) => !finished.has(t) && !waits.isAsleep(t));
    if (!runnable) {
      const who = waits.sleepers().map((s) => `task ${s.task} (${taskKind(tasks[s.task]!)}) on file page ${s.key.entryStart} (bucket ${s.bucket})`);
      throw new PmemError('EBUSY', `runConcurrently: every task left sleeps on an entry lock that nobody will wake (a hang): ${who.join('; ')}`);
    }
    const i = order.length > 0 ? order.shift()! : turn++ % running.length;
    if (finished.has(i) || waits.isAsleep(i)) continue;
    onCpu(running[i]!.cpu);
    // A wake does not give way: the task goes on in the same turn.
    for (;;) {
      let r: IteratorResult<TaskYield, WritebackReport | undefined>;
      try {
        r = running[i]!.steps.next();
      } catch (error) {
        // Like a thread that took a signal, the task ends; the others run on, so that no
        // entry stays locked, and the first failure is thrown when they are done.
        failure ??= { error };
        finished.add(i);
        break;
      }
      if (r.done) {
        results[i] = r.value;
        finished.add(i);
        break;
      }
      if (r.value === 'step') break;
      if ('sleep' in r.value) {
        waits.sleep(i, r.value.sleep);
        break;
      }
      waits.wake(r.value.wake, r.value.mode, i);
    }
  }
  if (failure) throw failure.error;
  return results;
}
