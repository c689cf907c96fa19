// The daxemu command, run as a user would (through tsx on the sources): flags, output
// forms, the report directory, exit codes.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daxemu, daxemuIn } from './cli-helpers.js';

/** A tag-stack check: every element opened is closed, in order. */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (m[3] === '/') continue;
    if (m[1] === '/') {
      if (stack.pop() !== m[2]) return false;
    } else {
      stack.push(m[2]!);
    }
  }
  return stack.length === 0 && svg.trimStart().startsWith('<svg');
}

const SMALL = ['--workloads', 'log-append,kv-update', '--strategies', 'msync,user-flush', '--ops', '30', '--threads', '1'];

/** A fresh directory under the system's tmp, removed after the suite. */
const made: string[] = [];
async function freshDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

describe('daxemu', () => {
  afterAll(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  it('--version prints the package version; --help lists the commands', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await daxemu('--version')).stdout.trim()).toBe(pkg.version);
    const help = await daxemu('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/bench/);
    expect(help.stdout).toMatch(/flush-cost/);
    expect(Math.max(...help.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(help.stdout).toMatch(/--wide/);
  });

  it('bad flags give one line on stderr and exit code 2', async () => {
    for (const args of [['bench', '--bogus'], ['bench', '--strategies', 'nope'], ['bench', '--ops', '-3'], ['bench', '--out', 'x', '--no-report'], ['frobnicate'], []]) {
      const r = await daxemu(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^daxemu: /);
    }
  });

  it('a negative number after a flag gets that flag\'s own message, not "ambiguous"', async () => {
    for (const [args, flag, expected] of [
      [['bench', '--ops', '-5'], '--ops', /expected an integer in \[1, 1000000\], got '-5'/],
      [['bench', '--seed', '-1'], '--seed', /expected an integer in \[0, 4294967295\], got '-1'/],
      [['flush-cost', '--seed', '-2.5'], '--seed', /got '-2\.5'/],
    ] as const) {
      const r = await daxemu(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`daxemu: ${flag}`);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).not.toMatch(/ambiguous/);
      expect(r.stdout).toBe('');
    }
    const missing = await daxemu('bench', '--ops');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^daxemu: --ops needs a value/);
    const dashed = await daxemu('bench', '--out', '-x');
    expect(dashed.stderr).toMatch(/^daxemu: --out needs a value; write --out=VALUE/);
  });

  it('a selection that plans no cell exits 2 with the reason, before running or writing anything', async () => {
    const cwd = await freshDir('daxemu-cwd-');
    const r = await daxemuIn(cwd, 'bench', '--strategies', 'user-flush', '--kernels', 'linux-4.5');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^daxemu: no cell to run: user-flush needs MAP_SYNC, which linux-4\.5 predates; on linux-4\.5 choose from msync, msync-dirty-lines$/m);
    expect(await readdir(cwd)).toEqual([]);
  });

  it('bench --json writes no report directory unless --out names one, and then says where on stderr', async () => {
    const cwd = await freshDir('daxemu-cwd-');
    const plain = await daxemuIn(cwd, 'bench', ...SMALL, '--kernels', 'linux-6.12', '--json');
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout).cells).toHaveLength(8);
    expect(await readdir(cwd)).toEqual([]);
    expect(plain.stderr).toBe('');
    const withOut = await daxemuIn(cwd, 'bench', ...SMALL, '--kernels', 'linux-6.12', '--json', '--out', 'rep');
    expect(withOut.code).toBe(0);
    expect(JSON.parse(withOut.stdout).cells).toHaveLength(8); // stdout is still only the JSON
    expect(withOut.stderr).toBe('daxemu: wrote 6 files to rep; start with rep/report.md\n');
    expect(await readdir(join(cwd, 'rep'))).toContain('results.json');
    // Without --json the table run keeps its default directory.
    const table = await daxemuIn(cwd, 'bench', ...SMALL, '--kernels', 'linux-6.12');
    expect(table.stdout).toMatch(/\n\nwrote 6 files to daxemu-report; start with daxemu-report\/report\.md\n$/);
    expect((await readdir(cwd)).sort()).toEqual(['daxemu-report', 'rep']);
  });

  it('bench --json prints one JSON report whose cells follow the plan, the same for the same seed', async () => {
    const a = await daxemu('bench', ...SMALL, '--json', '--seed', '3', '--no-report');
    expect(a.code).toBe(0);
    const report = JSON.parse(a.stdout);
    expect(report).toMatchObject({ tool: 'daxemu', seed: 3 });
    // 2 workloads x (msync on 2 kernels + user-flush on linux-6.12 only) x 2 page sizes
    expect(report.cells).toHaveLength(2 * 3 * 2);
    for (const c of report.cells) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['workload', 'strategy', 'preset', 'kernel', 'pageSize', 'nsPerOp', 'linesPerSync', 'dirtyLinesPerSync', 'cleanLinesPerSync', 'fencesPerSync', 'faults', 'mediaBytesWritten', 'writeAmplification', 'durable']));
      expect(c.durable).toBe(true);
    }
    const b = await daxemu('bench', ...SMALL, '--json', '--seed', '3', '--no-report');
    expect(JSON.parse(b.stdout).cells).toEqual(report.cells);
  });

  it('bench prints a table; --out writes results.json, results.csv, report.md and well-formed SVG charts', async () => {
    const dir = await freshDir('daxemu-cli-');
    const r = await daxemu('bench', ...SMALL, '--kernels', 'linux-6.12', '--out', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/log-append/);
    expect(r.stdout).toMatch(/user-flush/);
    const files = await readdir(dir);
    expect(files).toEqual(expect.arrayContaining(['results.json', 'results.csv', 'report.md', 'strategy.svg', 'flush-cost.svg']));
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).cells).toHaveLength(8);
    expect((await readFile(join(dir, 'results.csv'), 'utf8')).trim().split('\n')).toHaveLength(9);
    expect(wellFormed(await readFile(join(dir, 'strategy.svg'), 'utf8'))).toBe(true);
    expect(await readFile(join(dir, 'report.md'), 'utf8')).toMatch(/strategy\.svg/);
  });

  it('bench on its default selection prints a table within 100 columns with its guide and winners; --wide has every column', async () => {
    const narrow = await daxemu('bench', '--ops', '50', '--no-report');
    expect(narrow.code).toBe(0);
    const lines = narrow.stdout.trimEnd().split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(lines[0]).toMatch(/^workload\s+strategy\s+kernel\s+page\s+time\/op\s/);
    expect(narrow.stdout).toContain('\nHow to read: ');
    const winners = narrow.stdout.slice(narrow.stdout.indexOf('Cheapest durable cell per workload:'));
    for (const w of ['log-append', 'kv-update', 'page-rewrite', 'sparse']) expect(winners).toMatch(new RegExp(`\\n  ${w} +\\S.*: [\\d.]+ (ns|us|ms) per op`));
    const wide = await daxemu('bench', '--ops', '50', '--no-report', '--wide', '--workloads', 'log-append');
    expect(wide.stdout.split('\n')[0]).toMatch(/preset .*fences\/sync .*fault kinds .*WA .*durable/);
    expect(wide.stdout.split('\n')[0]!.length).toBeGreaterThan(100);
  });

  it('flush-cost --out writes what it measured and no empty strategy chart or header-only results.csv', async () => {
    const dir = await freshDir('daxemu-cli-');
    const r = await daxemu('flush-cost', '--quick', '--kernels', 'linux-6.12', '--out', dir);
    expect(r.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['flush-cost.csv', 'flush-cost.svg', 'report.md', 'results.json']);
    expect(r.stdout).toContain(`wrote 4 files to ${dir}; start with ${join(dir, 'report.md')}`);
    expect((await readFile(join(dir, 'flush-cost.csv'), 'utf8')).trim().split('\n').length).toBeGreaterThan(1);
    expect(wellFormed(await readFile(join(dir, 'flush-cost.svg'), 'utf8'))).toBe(true);
  });

  it('flush-cost --quick prints the PTE/PMD table', async () => {
    const r = await daxemu('flush-cost', '--quick', '--kernels', 'linux-6.12');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pmd/);
    expect(r.stdout).toMatch(/msync-dirty-lines/);
  });
});
