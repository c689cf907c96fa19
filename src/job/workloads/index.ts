// The workloads (an export list), and the built-in ones by name.
import { PmemError } from '../../base/index.js';
import { kvUpdate } from './kv-update.js';
import { logAppend } from './log-append.js';
import { pageRewrite } from './page-rewrite.js';
import { sparseUpdate } from './sparse.js';
import { truncateAfterStore } from './truncate-after-store.js';
import type { Workload, WorkloadSize } from './workload.js';

export type { Workload, WorkloadSize, WorkloadStep } from './workload.js';
export { parseTrace, traceWorkload } from './trace.js';

export const WORKLOAD_NAMES = ['log-append', 'kv-update', 'page-rewrite', 'sparse', 'truncate-after-store'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** A built-in workload of the given size. */
export function workloadByName(name: WorkloadName, size: WorkloadSize): Workload {
  switch (name) {
    case 'log-append': return logAppend(size);
    case 'kv-update': return kvUpdate(size);
    case 'page-rewrite': return pageRewrite(size);
    case 'sparse': return sparseUpdate(size);
    case 'truncate-after-store': return truncateAfterStore();
    default: throw new PmemError('EINVAL', `unknown workload ${JSON.stringify(name)}; the workloads are: ${WORKLOAD_NAMES.join(', ')}`);
  }
}
