// The strategy matrix and the flush-cost table: their numbers follow from the model.
import { describe, expect, it } from 'vitest';
import { runCell, type CellSpec } from '../src/job/cell.js';
import { runFlushCost } from '../src/job/flush-cost.js';
import { planCells, runMatrix } from '../src/job/matrix.js';
import { STRATEGY_NAMES } from '../src/job/strategies.js';
import { parseTrace, traceWorkload } from '../src/job/workloads/index.js';
import { formatCellTable } from '../src/report/table.js';
import { expectCode } from './helpers.js';

const base: CellSpec = { workload: 'log-append', strategy: 'msync', preset: 'optane-g1', kernel: 'linux-6.12', pageSize: 'pte', instruction: 'clwb', size: { ops: 100, opsPerSync: 1 }, seed: 1 };

describe('matrix cells', () => {
  it('a log append with one dirty line per sync flushes 64 lines per sync under msync with PTEs, 32768 with a PMD, 1 under msync-dirty-lines', async () => {
    expect((await runCell(base)).linesPerSync).toBe(64);
    expect((await runCell({ ...base, pageSize: 'pmd' })).linesPerSync).toBe(32768);
    const ideal = await runCell({ ...base, strategy: 'msync-dirty-lines' });
    expect(ideal.linesPerSync).toBe(1);
    expect(ideal.dirtyLinesPerSync).toBe(1);
  });

  it('linux-4.5 re-flushes every entry ever written: the lines per sync grow with the log', async () => {
    const r = await runCell({ ...base, kernel: 'linux-4.5' });
    // 64-byte records, 64 per 4 KiB page: sync k flushes every page written so far.
    let total = 0;
    for (let k = 0; k < 100; k++) total += 64 * (Math.floor(k / 64) + 1);
    expect(r.linesPerSync * r.syncs).toBe(total);
  });

  it.each(STRATEGY_NAMES)('%s keeps every acknowledged write durable at every sync point', async (strategy) => {
    for (const workload of ['kv-update', 'page-rewrite'] as const) {
      const r = await runCell({ ...base, strategy, workload, size: { ops: 60, opsPerSync: 4 } });
      expect(r.durable, `${strategy} ${workload}`).toBe(true);
      expect(r.durabilityChecks).toBe(r.syncs + 1);
    }
  });

  it('user-flush flushes exactly the written lines; user-ntstore writes pages non-temporally; eadr flushes nothing', async () => {
    const page = { ...base, workload: 'page-rewrite' as const, size: { ops: 20, opsPerSync: 1 } };
    expect((await runCell({ ...page, strategy: 'user-flush' })).linesPerSync).toBe(64);
    const nt = await runCell({ ...page, strategy: 'user-ntstore' });
    expect([nt.linesPerSync, nt.ntLinesPerSync]).toEqual([0, 64]);
    expect((await runCell({ ...page, strategy: 'eadr' })).linesPerSync).toBe(0);
  });

  it('MAP_SYNC strategies are left out on linux-4.5 (MAP_SYNC came with 4.15)', () => {
    const cells = planCells({ workloads: ['log-append'], strategies: [...STRATEGY_NAMES], presets: ['optane-g1'], kernels: ['linux-4.5'], pageSizes: ['pte'], instruction: 'clwb', ops: 10, seed: 1, threads: 1 });
    expect(cells.map((c) => c.strategy)).toEqual(['msync', 'msync-dirty-lines']);
  });

  it('the same seed gives the same results', async () => {
    const options = { workloads: ['kv-update' as const], strategies: ['msync' as const, 'user-flush' as const], presets: ['optane-g1' as const], kernels: ['linux-6.12' as const], pageSizes: ['pte' as const], instruction: 'clwb' as const, ops: 50, seed: 7, threads: 1 };
    expect(await runMatrix(options)).toEqual(await runMatrix(options));
  });

  it('a trace replays as a workload; a malformed trace is refused with the line number', async () => {
    const w = traceWorkload('# two records\nstore 0 64\nsync\nstore 4096 8\nsync\n');
    const r = await runCell({ ...base, strategy: 'user-flush' }, w);
    expect([r.ops, r.syncs, r.linesPerSync]).toEqual([2, 2, 1]);
    expectCode(() => parseTrace('store 0 64\nstore -1 8\n'), 'EINVAL');
    expect(() => parseTrace('store 0 64\nflush 1 2\n')).toThrowError(/line 2/);
    expectCode(() => parseTrace('\n# nothing\n'), 'EINVAL');
  });
});

describe('the truncate-after-store workload: the kernel loss told from a failure', () => {
  const trunc: CellSpec = { ...base, workload: 'truncate-after-store', pageSize: 'pmd' };

  it('msync with a PMD mapping loses the 256 bytes below the new size: not durable, reported as the kernel loss', async () => {
    for (const strategy of ['msync', 'msync-dirty-lines'] as const) {
      const r = await runCell({ ...trunc, strategy });
      expect([r.ops, r.syncs, r.durable, r.kernelLoss], strategy).toEqual([1024, 1, false, true]);
    }
  });

  it('the same workload keeps every byte with PTE entries, on linux-4.5, with the truncate-writeback fix, and with user flushes', async () => {
    const cases: Partial<CellSpec>[] = [{ pageSize: 'pte' }, { kernel: 'linux-4.5' }, { fixes: ['truncate-writeback'] }, { strategy: 'user-flush' }, { strategy: 'eadr' }];
    for (const c of cases) {
      const r = await runCell({ ...trunc, ...c });
      expect([r.durable, r.kernelLoss], JSON.stringify(c)).toEqual([true, false]);
    }
  });

  it("the durability column says 'kernel loss' for that cell, 'yes' for a durable one", async () => {
    const cells = [await runCell(trunc), await runCell({ ...trunc, pageSize: 'pte' })];
    const rows = formatCellTable(cells, { columns: ['page', 'durable'] }).split('\n').slice(2).map((l) => l.trim());
    expect(rows).toEqual(['pmd   kernel loss', 'pte   yes']);
  });

  it('a bad fix name in a cell is refused with EINVAL', async () => {
    await expect(runCell({ ...trunc, fixes: ['nope' as never] })).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('an unknown workload name is refused with EINVAL listing the workloads', async () => {
    await expect(runCell({ ...trunc, workload: 'truncate-after-stor' as never })).rejects.toThrowError(/truncate-after-store/);
    await expect(runCell({ ...trunc, workload: 'nope' as never })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('flush cost per PTE and PMD', () => {
  it('msync flushes the whole entry whatever the dirty lines; the ideal kernel and user-flush only the dirty ones; 6.12 re-dirtying costs a fault', async () => {
    const rows = await runFlushCost({ presets: ['optane-g1'], kernels: ['linux-6.12', 'linux-4.5'], instructions: ['clwb'], dirtyCounts: [1, 64, 512] });
    const row = (kernel: string, pageSize: string, strategy: string, dirty: number) => rows.find((r) => r.kernel === kernel && r.pageSize === pageSize && r.strategy === strategy && r.dirtyLines === dirty)!;
    expect(row('linux-6.12', 'pte', 'msync', 1).lines).toBe(64);
    expect(row('linux-6.12', 'pmd', 'msync', 1).lines).toBe(32768);
    expect(row('linux-6.12', 'pmd', 'msync-dirty-lines', 512).lines).toBe(512);
    expect(row('linux-6.12', 'pmd', 'user-flush', 512).lines).toBe(512);
    expect(row('linux-6.12', 'pte', 'msync', 64).lines).toBe(64);
    expect(rows.some((r) => r.pageSize === 'pte' && r.dirtyLines > 64)).toBe(false);
    // Cost grows with dirty lines for the ideal kernel, barely for the whole-entry flush.
    expect(row('linux-6.12', 'pmd', 'msync-dirty-lines', 512).ns).toBeGreaterThan(row('linux-6.12', 'pmd', 'msync-dirty-lines', 1).ns * 10);
    expect(row('linux-6.12', 'pmd', 'msync', 1).ns).toBeGreaterThan(row('linux-6.12', 'pmd', 'user-flush', 1).ns * 100);
    // 6.12 write-protects at writeback, so the next store faults; 4.5 does not.
    expect(row('linux-6.12', 'pte', 'msync', 1).refaultNs).toBeGreaterThan(1000);
    expect(row('linux-4.5', 'pte', 'msync', 1).refaultNs).toBeLessThan(1000);
    expect(rows.some((r) => r.kernel === 'linux-4.5' && r.strategy === 'user-flush')).toBe(false);
  });
});
