// Sharding the matrix (bench --shard K/N) and merging the shards' reports (daxemu merge):
// the shards partition the plan, and the merge gives, cell for cell, one run's report.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mergeShards, parseShard, planCells, runMatrix, shardCells, type CellResult, type MatrixOptions, type MatrixReport, type MatrixSelection,
} from '../src/job/index.js';
import { daxemu } from './cli-helpers.js';
import { expectCode } from './helpers.js';

const SELECTION: MatrixSelection = {
  workloads: ['log-append', 'kv-update'], strategies: ['msync', 'user-flush', 'eadr'], presets: ['optane-g1'], kernels: ['linux-6.12', 'linux-4.5'],
  pageSizes: ['pte', 'pmd'], instruction: 'clwb', ops: 40, seed: 3,
};
const options = (shard?: { index: number; count: number }): MatrixOptions => ({ ...SELECTION, threads: 1, shard });
const report = (cells: CellResult[], shard?: { index: number; count: number }, seed = 3, selection: MatrixSelection = SELECTION): MatrixReport => ({
  tool: 'daxemu', version: '0.1.0', seed, cells, flushCost: [], wallMs: 1, selection: { ...selection }, ...(shard ? { shard } : {}),
});

describe('shards', () => {
  it('K/N shards partition the plan: every cell in exactly one shard, in plan order, PTE and PMD cells in each', () => {
    const plan = planCells(options());
    for (const count of [1, 2, 3, 4]) {
      const shards = Array.from({ length: count }, (_, i) => shardCells(plan, { index: i + 1, count }));
      expect(shards.flat().length).toBe(plan.length);
      expect(new Set(shards.flat()).size).toBe(plan.length);
      for (const s of shards) expect(s).toEqual(plan.filter((c) => s.includes(c))); // plan order kept
      // The dear PMD cells are spread, not all dealt to one shard.
      if (count === 2) for (const s of shards) expect(s.filter((c) => c.pageSize === 'pmd').length).toBeGreaterThan(0);
    }
    // The deal depends only on the plan: the same on every machine.
    expect(shardCells(planCells(options()), { index: 2, count: 3 })).toEqual(shardCells(plan, { index: 2, count: 3 }));
  });

  it('a shard that is not K/N with 1 <= K <= N is EINVAL: 0/2, 3/2, a/b, 1/0', () => {
    for (const bad of ['0/2', '3/2', 'a/b', '1/0', '', '1/2/3', '-1/2']) expectCode(() => parseShard(bad), 'EINVAL');
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
  });

  it('two shards merged are, cell for cell and in order, one run of the whole matrix', async () => {
    const whole = await runMatrix(options());
    const one = await runMatrix(options({ index: 1, count: 2 }));
    const two = await runMatrix(options({ index: 2, count: 2 }));
    expect(one.length + two.length).toBe(whole.length);
    const merged = mergeShards([report(two, { index: 2, count: 2 }), report(one, { index: 1, count: 2 })]);
    expect(merged.cells).toEqual(whole);
    expect(merged.shard).toBeUndefined();
  });

  it('the merge refuses reports that are not the shards of one run, naming the difference', async () => {
    const cells = await runMatrix(options({ index: 1, count: 2 }));
    const a = report(cells, { index: 1, count: 2 });
    const refused = (reports: MatrixReport[], why: RegExp): void => {
      let caught: unknown;
      try {
        mergeShards(reports);
      } catch (err) {
        caught = err;
      }
      expect(caught).toMatchObject({ name: 'PmemError', code: 'EINVAL' });
      expect((caught as Error).message).toMatch(why);
    };
    refused([a, report(cells, { index: 2, count: 2 }, 4)], /ran with seed 4, report 1 \(shard 1\/2\) with seed 3/);
    refused([a, report(cells, { index: 2, count: 2 }, 3, { ...SELECTION, ops: 41 })], /selects other cells .*ops: 41 against 40/);
    refused([a], /shard 2\/2 missing/);
    refused([a, a], /given twice/);
    refused([a, report(cells)], /is not a shard of a matrix run/);
    refused([a, { ...report(cells, { index: 2, count: 2 }), version: '9.9.9' }], /from daxemu 9\.9\.9/);
    refused([a, report(cells, { index: 2, count: 3 })], /one of 3 shards/);
  });
});

describe('daxemu bench --shard and daxemu merge', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'daxemu-shard-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merging the two shards gives the unsharded JSON report, cells and flush cost', async () => {
    const flags = ['--quick', '--workloads', 'log-append,sparse', '--threads', '1'];
    for (const k of [1, 2]) expect((await daxemu('bench', ...flags, '--shard', `${k}/2`, '--out', join(dir, `s${k}`))).code).toBe(0);
    const merged = await daxemu('merge', join(dir, 's1'), join(dir, 's2'), '--json', '--out', join(dir, 'merged'));
    expect(merged.code).toBe(0);
    const whole = JSON.parse((await daxemu('bench', ...flags, '--json')).stdout) as MatrixReport;
    const got = JSON.parse(merged.stdout) as MatrixReport;
    expect(got.cells).toEqual(whole.cells);
    expect(got.flushCost).toEqual(whole.flushCost);
    expect(JSON.parse(await readFile(join(dir, 'merged', 'results.json'), 'utf8'))).toMatchObject({ cells: whole.cells });
  }, 120_000);

  it('bad shards exit 2 with the shape wanted; merge without directories exits 2', async () => {
    for (const bad of ['0/2', '3/2', 'a/b']) {
      expect(await daxemu('bench', '--quick', '--shard', bad, '--no-report')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--shard: shard must be K\/N with 1 <= K <= N/) });
    }
    expect(await daxemu('merge')).toMatchObject({ code: 2, stderr: expect.stringMatching(/name the report directories/) });
    expect(await daxemu('merge', join(dir, 'absent'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot read .*results\.json/) });
  });
});
