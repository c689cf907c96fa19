/** Sparse updates: 64-byte writes spread over a large file, a sync every `opsPerSync`. */
import { withSyncs, type Workload, type WorkloadSize } from './workload.js';

export function sparseUpdate(size: WorkloadSize, fileBytes = 64 << 20): Workload {
  return {
    name: 'sparse',
    description: `64-byte updates spread over ${fileBytes >> 20} MiB, a sync every ${size.opsPerSync}`,
    fileBytes,
    steps: (rng) => withSyncs(Array.from({ length: size.ops }, () => ({ offset: rng.below(fileBytes / 64) * 64, length: 64 })), size.opsPerSync),
  };
}
