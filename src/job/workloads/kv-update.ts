/** A key-value store's pattern: 8-byte updates at random aligned offsets of a region, a sync every `opsPerSync`. */
import { withSyncs, type Workload, type WorkloadSize } from './workload.js';

export function kvUpdate(size: WorkloadSize, regionBytes = 4 << 20): Workload {
  return {
    name: 'kv-update',
    description: `8-byte updates at random over ${regionBytes >> 20} MiB, a sync every ${size.opsPerSync}`,
    fileBytes: regionBytes,
    steps: (rng) => withSyncs(Array.from({ length: size.ops }, () => ({ offset: rng.below(regionBytes / 8) * 8, length: 8 })), size.opsPerSync),
  };
}
