/**
 * Matrix cells on one shared emulator (daxemu bench --cpus N, src/job/shared-cell.ts): worker
 * CPUs attached to one emulator run the cell's workload at once, kept within a quantum of
 * emulated time of each other. The workers run the build (dist/), as the command does.
 */
import { describe, expect, it } from 'vitest';
import { planCells, runCell, shardCells, type CellSpec, type MatrixOptions } from '../dist/job/index.js';
import { runSharedCell } from '../dist/job/shared-cell.js';
import { workloadByName } from '../dist/job/workloads/index.js';
import { daxemu } from './cli-helpers.js';

const base: CellSpec = { workload: 'kv-update', strategy: 'user-flush', preset: 'optane-g1', kernel: 'linux-6.12', pageSize: 'pte', instruction: 'clwb', size: { ops: 96, opsPerSync: 8 }, seed: 3 };

describe('shared cells', () => {
  it.each([
    { workload: 'kv-update', strategy: 'user-flush', pageSize: 'pte' },
    { workload: 'kv-update', strategy: 'msync', pageSize: 'pmd' },
    { workload: 'log-append', strategy: 'user-ntstore', pageSize: 'pte' },
    { workload: 'sparse', strategy: 'msync-dirty-lines', pageSize: 'pmd' },
    { workload: 'page-rewrite', strategy: 'eadr', pageSize: 'pte' },
  ] as const)('one worker CPU on a shared emulator gives exactly the one-CPU cell: $workload, $strategy, $pageSize', async (cell) => {
    const spec: CellSpec = { ...base, ...cell };
    const alone = await runCell(spec);
    const shared = await runSharedCell({ ...spec, cpus: 1, layout: 'files' }, workloadByName(spec.workload, spec.size));
    const { cpus, layout, durabilityChecks, ...figures } = shared;
    const { durabilityChecks: _checks, ...aloneFigures } = alone;
    expect({ cpus, layout, durabilityChecks }).toEqual({ cpus: 1, layout: 'files', durabilityChecks: 1 });
    expect(figures).toEqual(aloneFigures);
  });

  it.each(['files', 'one-file'] as const)('two CPUs, %s: each runs the whole workload, every byte both acknowledged survives a guaranteed crash, and neither is faster than one CPU alone', async (layout) => {
    for (const cell of [{ workload: 'log-append', strategy: 'user-flush', pageSize: 'pte' }, { workload: 'kv-update', strategy: 'msync', pageSize: 'pmd' }] as const) {
      const spec: CellSpec = { ...base, ...cell };
      const alone = await runCell(spec);
      const two = await runCell({ ...spec, cpus: 2, layout });
      expect(two).toMatchObject({ cpus: 2, layout, ops: 2 * alone.ops, syncs: 2 * alone.syncs, durable: true, durabilityChecks: 1 });
      expect(two.bytesSynced).toBe(2 * alone.bytesSynced);
      // The slowest CPU's time per operation: CPUs sharing a DIMM can only slow each other down.
      expect(two.nsPerOp).toBeGreaterThanOrEqual(alone.nsPerOp * 0.999);
      expect(two.nsPerOp).toBeLessThan(alone.nsPerOp * 3);
      if (cell.strategy === 'user-flush') expect(two.dirtyLinesPerSync).toBe(alone.dirtyLinesPerSync); // each CPU flushes only its own lines
    }
  });

  it('the plan puts each cell\'s shared runs right after it, in both layouts, and leaves out workloads that truncate; shards still cover the plan once', () => {
    const o: MatrixOptions = { workloads: ['log-append', 'truncate-after-store'], strategies: ['msync'], presets: ['optane-g1'], kernels: ['linux-6.12'], pageSizes: ['pte'], instruction: 'clwb', ops: 10, seed: 1, threads: 1, cpus: 3 };
    const plan = planCells(o);
    expect(plan.map((c) => `${c.workload} ${c.cpus ?? 1} ${c.layout ?? ''}`.trim())).toEqual(['log-append 1', 'log-append 3 files', 'log-append 3 one-file', 'truncate-after-store 1']);
    const dealt = [1, 2].flatMap((index) => shardCells(plan, { index, count: 2 }));
    expect(dealt).toHaveLength(plan.length);
    expect(new Set(dealt)).toEqual(new Set(plan));
  });

  it('daxemu bench --cpus 2 shows the cpus column and durable cells; --cpus outside 1-7 is a usage error naming it', async () => {
    const r = await daxemu('bench', '--cpus', '2', '--workloads', 'log-append', '--strategies', 'user-flush', '--kernels', 'linux-6.12', '--page-sizes', 'pte', '--ops', '20', '--threads', '1', '--no-report');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\bcpus\b/);
    expect(r.stdout).toMatch(/2 files/);
    expect(r.stdout).toMatch(/2 one-file/);
    expect(r.stdout).not.toMatch(/\bNO\b/);
    for (const bad of ['0', '8', 'x']) {
      const e = await daxemu('bench', '--cpus', bad, '--no-report');
      expect(e.code, bad).toBe(2);
      expect(e.stderr).toMatch(/--cpus/);
    }
  });
});
