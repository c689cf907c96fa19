/**
 * A recorded operation list replayed as a workload. Text, one operation a line:
 *   store <offset> <length>
 *   sync
 * Blank lines and lines starting with # are skipped. A malformed line is refused with
 * EINVAL naming its line number.
 */
import { PmemError } from '../../base/index.js';
import type { Workload, WorkloadStep } from './workload.js';

/** Parses a trace; throws PmemError EINVAL on the first malformed line. */
export function parseTrace(text: string): WorkloadStep[] {
  const steps: WorkloadStep[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    if (words[0] === 'sync' && words.length === 1) {
      steps.push({ kind: 'sync' });
      return;
    }
    const offset = Number(words[1]);
    const length = Number(words[2]);
    if (words[0] !== 'store' || words.length !== 3 || !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0) {
      throw new PmemError('EINVAL', `trace line ${i + 1}: expected "store <offset> <length>" or "sync", got "${line.slice(0, 80)}"`);
    }
    steps.push({ kind: 'store', offset, length });
  });
  if (steps.length === 0) throw new PmemError('EINVAL', 'trace: no operations');
  return steps;
}

/** A workload replaying `text`; the file is as large as the farthest store, rounded up to 2 MiB. */
export function traceWorkload(text: string, name = 'trace'): Workload {
  const steps = parseTrace(text);
  let end = 0;
  for (const s of steps) if (s.kind === 'store') end = Math.max(end, s.offset + s.length);
  return {
    name,
    description: `a recorded trace of ${steps.length} operations`,
    fileBytes: Math.max(2 << 20, Math.ceil(end / (2 << 20)) * (2 << 20)),
    steps: () => steps,
  };
}
