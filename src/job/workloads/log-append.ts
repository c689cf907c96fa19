/** Log append: records of `recordBytes` written one after another, a sync every `opsPerSync` records. */
import { withSyncs, type Workload, type WorkloadSize } from './workload.js';

export function logAppend(size: WorkloadSize, recordBytes = 64): Workload {
  const fileBytes = Math.ceil((size.ops * recordBytes) / (2 << 20)) * (2 << 20) + (2 << 20);
  return {
    name: 'log-append',
    description: `${recordBytes}-byte records appended, a sync every ${size.opsPerSync}`,
    fileBytes,
    steps: () => withSyncs(Array.from({ length: size.ops }, (_, i) => ({ offset: i * recordBytes, length: recordBytes })), size.opsPerSync),
  };
}
