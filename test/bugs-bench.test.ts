/**
 * `daxemu bench --bugs`: the matrix runs with historical kernel bugs switched on, each cell
 * with those its profile can host, and the durable column shows the loss they caused
 * (src/job/matrix.ts, src/report/cell-columns.ts, docs/kernel-rules.md §6).
 */
import { describe, expect, it } from 'vitest';
import { planCells, runMatrix, type MatrixOptions } from '../src/job/index.js';
import { formatBenchText } from '../src/report/index.js';
import { daxemu } from './cli-helpers.js';

const BASE: MatrixOptions = {
  workloads: ['log-append'], strategies: ['msync'], presets: ['optane-g1'], kernels: ['linux-6.12', 'linux-4.5'], pageSizes: ['pmd'],
  instruction: 'clwb', ops: 40, seed: 1, threads: 1,
};

describe('bench with bug switches', () => {
  it('each cell gets the bugs its kernel can host; none at all leaves the cells as they were', () => {
    const cells = planCells({ ...BASE, bugs: ['B4', 'B6', 'B3'] });
    expect(cells.map((c) => [c.kernel, c.bugs])).toEqual([['linux-6.12', ['B4', 'B6']], ['linux-4.5', ['B3']]]);
    expect(planCells(BASE).every((c) => !('bugs' in c))).toBe(true);
  });

  it('B6 on PMD mappings loses the stores made after each msync: the durable column names the bytes and the bug; without it the cell is durable', async () => {
    const [buggy] = await runMatrix({ ...BASE, kernels: ['linux-6.12'], bugs: ['B6'] });
    const [fixed] = await runMatrix({ ...BASE, kernels: ['linux-6.12'] });
    expect(buggy!.durable).toBe(false);
    expect(buggy!.bugs).toEqual(['B6']);
    // 40 records of 64 bytes; only the first, stored before the first msync's mkclean, was flushed.
    expect(buggy!.lostBytes).toBe(39 * 64);
    expect(formatBenchText([buggy!])).toContain('lost 2.5k B (B6)');
    expect(fixed!.durable).toBe(true);
    expect('bugs' in fixed! || 'lostBytes' in fixed!).toBe(false);
  });

  it('--bugs with a bug no selected kernel can host is a usage error naming why; an unknown bug too', async () => {
    const r = await daxemu('bench', '--bugs', 'v3-shadow', '--kernels', 'linux-6.12', '--no-report');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--bugs: no selected kernel can host v3-shadow \(linux-6\.12: only linux-4\.5 keeps page-cache hole pages/);
    const u = await daxemu('bench', '--bugs', 'B99', '--no-report');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--bugs: unknown 'B99'/);
  });
});
