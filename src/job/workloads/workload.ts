/**
 * A workload is a seeded list of steps: stores of some bytes at file offsets, sync points
 * where the application wants everything stored so far to be durable, and truncates of the
 * file to a new size. Strategies (src/job/strategies.ts) decide how the stores and the syncs
 * are carried out.
 */
import type { Rng } from '../../base/index.js';

export type WorkloadStep = { kind: 'store'; offset: number; length: number } | { kind: 'sync' } | { kind: 'truncate'; size: number };

export interface Workload {
  name: string;
  /** One line saying what it models. */
  description: string;
  /** Bytes of the file the workload writes into. */
  fileBytes: number;
  /** The steps, from a seeded generator. */
  steps(rng: Rng): WorkloadStep[];
}

/** How big a run is: `ops` stores, `opsPerSync` of them between sync points. */
export interface WorkloadSize {
  ops: number;
  opsPerSync: number;
}

/** Interleaves sync points: one after every `every` stores, and one at the end. */
export function withSyncs(stores: { offset: number; length: number }[], every: number): WorkloadStep[] {
  const steps: WorkloadStep[] = [];
  stores.forEach((s, i) => {
    steps.push({ kind: 'store', ...s });
    if ((i + 1) % every === 0) steps.push({ kind: 'sync' });
  });
  if (stores.length % every !== 0) steps.push({ kind: 'sync' });
  return steps;
}
