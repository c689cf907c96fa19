// The daxemu command, run as a user would (through tsx on the sources): flags, output
// forms, the report directory, exit codes.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', new URL('../src/cli/cli.ts', import.meta.url).pathname];

async function daxemu(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

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

describe('daxemu', () => {
  it('--version prints the package version; --help lists the commands', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await daxemu('--version')).stdout.trim()).toBe(pkg.version);
    const help = await daxemu('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/bench/);
    expect(help.stdout).toMatch(/flush-cost/);
  });

  it('bad flags give one line on stderr and exit code 2', async () => {
    for (const args of [['bench', '--bogus'], ['bench', '--strategies', 'nope'], ['bench', '--ops', '-3'], ['bench', '--out', 'x', '--no-report'], ['frobnicate'], []]) {
      const r = await daxemu(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^daxemu: /);
    }
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
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-cli-'));
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

  it('flush-cost --quick prints the PTE/PMD table', async () => {
    const r = await daxemu('flush-cost', '--quick', '--kernels', 'linux-6.12');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pmd/);
    expect(r.stdout).toMatch(/msync-dirty-lines/);
  });
});
