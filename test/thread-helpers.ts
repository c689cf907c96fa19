/**
 * Workers for the thread tests: each attaches to a shared emulator (test/threads/remote.mjs)
 * and runs the functions it is sent, one at a time, so that a test orders the threads' steps.
 */
import { Worker } from 'node:worker_threads';
import type { Emulator, AttachedEmulator } from '../src/index.js';

export interface RemoteError {
  code: string;
  message: string;
}

export class RemoteWorker {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;

  constructor(emu: Emulator, readonly cpu: number) {
    this.worker = new Worker(new URL('./threads/remote.mjs', import.meta.url), { workerData: { handle: emu.share(), cpu } });
    this.exited = new Promise((resolve) => this.worker.on('exit', resolve));
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.on('message', (m: { ready?: boolean; id?: number; ok?: boolean; result?: unknown; code?: string; message?: string }) => {
        if (m.ready) return resolve();
        const w = this.waiting.get(m.id!);
        this.waiting.delete(m.id!);
        if (m.ok) w?.resolve(m.result);
        else w?.reject(Object.assign(new Error(m.message), { code: m.code }));
      });
    });
  }

  /** Runs `fn(emu, args, state)` on the worker; its result, or its error (with `code`). */
  run<T, A = unknown>(fn: (emu: AttachedEmulator, args: A, state: Record<string, unknown>) => T, args?: A): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, fn: fn.toString(), args });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Starts workers on `cpus` and waits until each has attached. */
export async function startWorkers(emu: Emulator, cpus: number[]): Promise<RemoteWorker[]> {
  const workers = cpus.map((cpu) => new RemoteWorker(emu, cpu));
  await Promise.all(workers.map((w) => w.ready));
  return workers;
}
