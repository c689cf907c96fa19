/**
 * Truncate after store: one byte stored in each 4 KiB page of a 4 MiB file, the file
 * truncated to 1 MiB, then one sync. With a 2 MiB-aligned mapping the first 2 MiB is one
 * dirty PMD entry when the truncate comes; the truncate deletes it whole without writing it
 * back, so the kernel's writeback never makes the 256 bytes below the new size durable
 * (src/dax/file.ts truncate; docs/dax.md). A fixed sequence: the run's
 * size does not change it.
 */
import type { Workload } from './workload.js';

const FILE_BYTES = 4 << 20;
const NEW_SIZE = 1 << 20;
const PAGE = 4096;

export function truncateAfterStore(): Workload {
  return {
    name: 'truncate-after-store',
    description: `a byte in each page of ${FILE_BYTES >> 20} MiB, truncate to ${NEW_SIZE >> 20} MiB, then one sync`,
    fileBytes: FILE_BYTES,
    steps: () => [
      ...Array.from({ length: FILE_BYTES / PAGE }, (_, p) => ({ kind: 'store' as const, offset: p * PAGE, length: 1 })),
      { kind: 'truncate' as const, size: NEW_SIZE },
      { kind: 'sync' as const },
    ],
  };
}
