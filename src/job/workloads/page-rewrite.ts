/** 4 KiB page rewrites: whole pages at random page indices, each synced. */
import { withSyncs, type Workload, type WorkloadSize } from './workload.js';

export function pageRewrite(size: WorkloadSize, regionBytes = 4 << 20): Workload {
  return {
    name: 'page-rewrite',
    description: `whole 4 KiB pages rewritten at random over ${regionBytes >> 20} MiB, each synced`,
    fileBytes: regionBytes,
    steps: (rng) => withSyncs(Array.from({ length: size.ops }, () => ({ offset: rng.below(regionBytes / 4096) * 4096, length: 4096 })), 1),
  };
}
