// The package as a user meets it: `npm pack` of this build, installed alone into a fresh
// folder, a consumer (test/package-consumer/consumer.ts) that imports and uses every export
// of 'daxemu', 'daxemu/bench' and 'daxemu/report' compiled with tsc against the installed
// types, then run; and the installed command, which draws no chart without the optional
// chart packages and says so.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const CONSUMER = join(REPO, 'test', 'package-consumer', 'consumer.ts');
const ENTRIES = {
  daxemu: 'dist/index.d.ts', 'daxemu/bench': 'dist/job/index.d.ts', 'daxemu/report': 'dist/report/index.d.ts', 'daxemu/libpmem': 'dist/libpmem/index.d.ts',
  'daxemu/trace': 'dist/trace/index.d.ts',
} as const;
let dir = '';

/** Every name (value or type) the module at `dts` exports, as the compiler sees it. */
function exportNames(dts: string): string[] {
  const program = ts.createProgram([dts], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(dts)!)!;
  return checker.getExportsOfModule(symbol).map((s) => s.name);
}

/** The names a consumer imports from `specifier`. */
function importedNames(source: string, specifier: string): string[] {
  const sf = ts.createSourceFile('consumer.ts', source, ts.ScriptTarget.ES2022);
  const names: string[] = [];
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || (st.moduleSpecifier as ts.StringLiteral).text !== specifier) continue;
    const bindings = st.importClause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) names.push(...bindings.elements.map((e) => (e.propertyName ?? e.name).text));
  }
  return names;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daxemu-package-'));
  // --ignore-scripts: pack the build that the tests run on, without rebuilding it.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: REPO });
  const tarball = join(dir, stdout.trim().split('\n').pop()!);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: dir });
  await copyFile(CONSUMER, join(dir, 'consumer.ts'));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUnusedLocals: true, skipLibCheck: false,
      // Node's own types from this repository: the package itself needs none.
      typeRoots: [join(REPO, 'node_modules', '@types')], types: ['node'],
    },
    files: ['consumer.ts'],
  }));
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the build, the wasm, the docs and the license, and no tests or sources', async () => {
    const installed = join(dir, 'node_modules', 'daxemu');
    const top = await readdir(installed);
    expect(top).toEqual(expect.arrayContaining(['dist', 'build', 'docs', 'README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']));
    expect(top).not.toContain('test');
    expect(top).not.toContain('src');
    expect((await readdir(join(installed, 'build'))).sort()).toEqual(['debug.wasm', 'release.wasm']);
  });

  it('has no runtime dependency to install', async () => {
    const pkg = JSON.parse(await readFile(join(dir, 'node_modules', 'daxemu', 'package.json'), 'utf8')) as { dependencies?: object };
    expect(Object.keys(pkg.dependencies ?? {})).toEqual([]);
  });

  it('source maps carry their sources, since src/ is not shipped', async () => {
    const map = JSON.parse(await readFile(join(dir, 'node_modules', 'daxemu', 'dist', 'emulator', 'emulator.js.map'), 'utf8')) as { sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toContain('export class Emulator');
  });

  it('the consumer imports every export of each entry', async () => {
    const source = await readFile(CONSUMER, 'utf8');
    for (const [specifier, dts] of Object.entries(ENTRIES)) {
      const exported = exportNames(join(dir, 'node_modules', 'daxemu', dts)).sort();
      expect(exported.length).toBeGreaterThan(10);
      expect(importedNames(source, specifier).sort(), `imports of ${specifier}`).toEqual(exported);
    }
  });

  it('compiles against the installed types with every import used, and runs', async () => {
    // tsc prints its errors on stdout: hand them to the failure.
    await run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir }).catch((err: { stdout?: string }) => {
      throw new Error(`the consumer does not compile:\n${err.stdout ?? String(err)}`);
    });
    const { stdout } = await run(process.execPath, ['consumer.js'], { cwd: dir });
    const seen = JSON.parse(stdout) as Record<string, Record<string, unknown>>;
    // One byte-stores under a 2 MiB-aligned mapping: a PMD fault, one PMD entry written back
    // whole (32768 lines, one dirty), and the bytes survive a crash after the msync.
    expect(seen.emulator).toMatchObject({ kind: 'pmd', fallback: false, pmdEntries: 1, lines: 32768, dirtyLines: 1, pmdFaults: 1, survived: [1, 2, 3] });
    expect(seen.disposed, 'a disposed image, and one inside its `using` block').toEqual([true, false]);
    expect(seen.emulator!.names).toEqual(['dax_pmd_fault', 'dax_pmd_fault_done', 'dax_writeback_range', 'dax_writeback_one', 'dax_writeback_range_done']);
    expect(seen.hardware).toMatchObject({ loaded: [5, 5, 5, 5], clwbDirty: 1, sameCost: true, describes: true });
    expect(seen.errors).toMatchObject({ caught: 'EINVAL', einval: 22, invariantError: 'InvariantError' });
    const trees = seen.trees as { treeResults: unknown[] };
    expect(trees.treeResults[0]).toEqual(trees.treeResults[1]); // the wasm core and the reference model agree
    expect(trees.treeResults[0]).toMatchObject({ found: 512, count: 1 });
    expect(seen.job).toMatchObject({ merged: 1, shardSizes: [1, 0], workload: 'log-append', steps: 2, runsOn45: false, cellDurable: true, cellOps: 16, planned: 1, matrixCells: 1, sameAsCell: true, flushRows: 6 });
    expect(seen.job!.ownDirty).toBe(0);
    expect(seen.job!.optInDax).toBe(false); // the page-cache strategy runs on a non-DAX file
    expect(seen.job).toMatchObject({ flushCostStrategies: 3, pageCacheLines: 64 }); // one dirty line: the whole 4 KiB page is copied
    // Two worker CPUs on one shared emulator, from the installed package: twice the operations, all durable.
    expect(seen.job).toMatchObject({ sharedCell: { cpus: 2, layout: 'files', ops: 32, durable: true } });
    // vega and vega-lite are optional peers, not installed here: the report is written without charts.
    expect(seen.report).toMatchObject({
      text: true, flushTable: true, csv: true, flushCsv: true, markdown: true, winner: 1, renderer: false, files: 4,
      written: ['flush-cost.csv', 'report.md', 'results.csv', 'results.json'], chartError: 'EOPNOTSUPP', flushChartError: 'EOPNOTSUPP', need: true,
    });
    expect(seen.pool).toEqual({ chunks: true, version: true, kept: [1, 2, 3] });
    expect(seen.rng).toBe(true);
    expect(seen.threads).toEqual({ cpu: 1, clockMoved: true, sameClock: true, none: true });
    expect(seen.wasm).toEqual({ bytes: true, laidOut: true });
    // libpmem: clwb chosen, a 300-byte copy cut into stored head and tail and 192 non-temporal bytes, durable after a crash.
    expect(seen.libpmem).toEqual({ flush: 'clwb', threshold: 256, isPmem: true, auto: 0, ntBytes: 192, kept: [7, 7], flags: true, map: true });
    // trace: a recording replays to the same counters, in text and binary, and the analysis finds the empty fence.
    // ftrace: a kernel trace of one write fault matches the emulator's events.
    expect(seen.ftrace).toEqual({ events: 4, known: true, differences: 0, streamed: 4, text: true });
    expect(seen.trace).toMatchObject({ sameText: true, sameBinary: true, binary: true, emptyFence: 1, fioBytes: 4096, pmemcheckStores: 1, lines: 3, table: true, markdown: true, streamedBytes: 512, streamedFence: 'empty-fence', writer: true, chunkedSame: true });
  }, 60_000);

  it('the installed command runs the main job and says the charts need the optional packages', async () => {
    const cli = join(dir, 'node_modules', '.bin', 'daxemu');
    const out = join(dir, 'report');
    const { stdout, stderr } = await run(cli, ['bench', '--quick', '--workloads', 'log-append', '--out', out], { cwd: dir });
    expect(stdout).toMatch(/Cheapest durable cell per workload/);
    expect(stderr).toMatch(/no charts in the report: the charts need the optional packages vega and vega-lite/);
    expect((await readdir(out)).sort()).toEqual(['flush-cost.csv', 'report.md', 'results.csv', 'results.json']);
  }, 60_000);
});
