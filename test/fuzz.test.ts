// The short fuzzer run of `npm test`: random sequences over the public API from fixed seeds
// (test/fuzz/property.ts), each checked step by step against the shadow and the crash
// promise. A failure prints its seed and the minimal sequence as a runnable snippet. The
// long run is `npm run fuzz -- --seconds N` (test/fuzz/long-run.ts).
import { describe, expect, it } from 'vitest';
import { describeFailure, fuzz, type FuzzReport } from './fuzz/property.js';

const SEEDS = [20261203, 7, 4242];
const RUNS = 25;
const MAX_LENGTH = 40;

describe('the API fuzzer, short run', () => {
  const reports: FuzzReport[] = [];
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${RUNS} sequences of up to ${MAX_LENGTH + 5} commands keep every promise`, async () => {
      const report = await fuzz({ seed, runs: RUNS, maxLength: MAX_LENGTH });
      reports.push(report);
      expect(report.failure, report.failure ? describeFailure(report) : '').toBeUndefined();
      expect(report.runs).toBe(RUNS);
    });
  }

  it('the short run reached every command, the error paths and the sync points', () => {
    const tally = new Map<string, number>();
    for (const r of reports) for (const [k, n] of r.tally) tally.set(k, (tally.get(k) ?? 0) + n);
    const reached = (key: string): number => tally.get(key) ?? 0;
    for (const op of ['create', 'unlink', 'mmap', 'munmap', 'store', 'ntstore', 'load', 'flush', 'fault', 'msync', 'fsync', 'sync', 'pwrite', 'pread', 'truncate', 'punch', 'fence', 'cpu', 'reclaim', 'dropCaches', 'dev', 'devMap', 'devUnmap', 'devRun', 'concurrent', 'crash', 'pool']) {
      expect(reached(`${op} ok`), `${op} never succeeded`).toBeGreaterThan(0);
    }
    for (const key of ['store SIGBUS', 'load SIGBUS', 'store EFAULT', 'store EINVAL', 'mmap EOPNOTSUPP', 'mmap EBADF', 'fsync EBADF', 'create EEXIST', 'unlink ENOENT']) {
      expect(reached(key), `no ${key}`).toBeGreaterThan(0);
    }
    expect(reached('sync point')).toBeGreaterThan(100);
  });
});
