#!/usr/bin/env node
// The daxemu command: the writeback-strategy matrix (bench) and the flush cost of one PTE
// or PMD entry (flush-cost), as a table, as JSON, or as a report directory with charts.
// cli: the program behind the `daxemu` bin (this file), its flag parsing and progress bar.
// May import: base, hw, dax, emulator, trace, job, report.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { PmemError } from '../base/index.js';
import { BUG_NAMES, KERNEL_PROFILES, bugRefusal, type BugName, type KernelProfile } from '../dax/index.js';
import { PRESET_NAMES, type PresetName } from '../hw/index.js';
import {
  MAX_SHARED_CPUS, DEFAULT_DIRTY_COUNTS, FLUSH_COST_STRATEGIES, OPT_IN_STRATEGIES, STRATEGY_NAMES, WORKLOAD_NAMES, parseShard, planCells, runFlushCost, runMatrix, shardCells,
  type FlushInstruction, type MatrixOptions, type MatrixReport, type Shard,
} from '../job/index.js';
import { CHARTS_NEED, chartsAvailable, formatBenchText, formatFlushCostTable, writeReport } from '../report/index.js';
import { UsageError, joinDashValues, parseArgsMessage } from './args.js';
import { poolCommand } from './pool-command.js';
import { mergeCommand } from './merge-command.js';
import { emptySelectionReason } from './selection.js';
import { ProgressBar } from './progress.js';
import { traceCommand, TRACE_COMMANDS_HELP } from './trace-commands.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const INSTRUCTIONS: readonly FlushInstruction[] = ['clwb', 'clflushopt', 'clflush'];
const PAGE_SIZES = ['pte', 'pmd'] as const;

const HELP = `usage: daxemu <command> [options]

Emulates persistent memory and Linux DAX writeback, and prices every flush and fence.

commands:
  bench        run the writeback-strategy matrix (workloads x strategies x presets x
               kernel profiles x page sizes) and print what each strategy costs
  flush-cost   the cost of one msync of one PTE or PMD entry against its dirty lines
  merge DIR...  merge the reports of a sharded bench run (--shard K/N) into the report one
               run of the whole matrix gives (--out DIR to write it)
  pool info|check|create FILE
               a pool file (emu.save): what it holds, whether it is whole, or a new one
${TRACE_COMMANDS_HELP}

options (bench):
  --workloads LIST    ${WORKLOAD_NAMES.join(', ')}
                      (default: all)
  --strategies LIST   ${[...STRATEGY_NAMES, ...OPT_IN_STRATEGIES].join(', ')}
                      (default: all but ${OPT_IN_STRATEGIES.join(', ')}, a non-DAX file)
  --presets LIST      ${PRESET_NAMES.join(', ')} (default: optane-g1)
  --kernels LIST      ${KERNEL_PROFILES.join(', ')} (default: linux-6.12,linux-4.5)
  --page-sizes LIST   pte, pmd (default: both)
  --instruction NAME  ${INSTRUCTIONS.join(', ')}: the flush kernel writeback and user-flush
                      use (default: clwb)
  --ops N             stores per workload run (default: 1000; --quick: 200)
  --threads N         worker threads that run cells side by side (default: the
                      machine's cores)
  --cpus N            also run each cell with N worker CPUs on one shared emulator,
                      each on a file of its own and all on one file (1-7; default: 1,
                      none); workloads that truncate run on one CPU only
  --wide              every table column (default: those that fit 100 columns)
  --shard K/N         run shard K of N of the matrix (every N-th cell from the K-th)
  --bugs LIST         historical kernel bugs to switch on (docs/kernel-rules.md §6):
                      ${BUG_NAMES.join(', ')}; each cell runs
                      with those its kernel can host, and the durable column shows
                      the bytes they lost (default: none)
options (pool create):
  --capacity SIZE     device size, e.g. 64M or 2G (default: 64M)
  --kernel NAME, --preset NAME (defaults: linux-6.12, optane-g1)
options (flush-cost):
  --presets LIST, --kernels LIST, --instructions LIST (default: clwb,clflushopt,clflush)
  --strategies LIST   ${[...FLUSH_COST_STRATEGIES, 'page-cache'].join(', ')}
                      (default: all but page-cache)
common:
  --seed N            drives every random choice (default: 1)
  --quick             a small run (CI)
  --json              print one JSON object instead of the table; bench then writes no
                      report directory unless --out is given
  --out DIR           also write results.json, the CSV, report.md and SVG charts to DIR
                      (bench: default ./daxemu-report; --no-report to skip)
  --no-report         bench: write no report directory
  --help, --version`;

function list<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T[]): T[] {
  if (value === undefined) return fallback;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) if (!allowed.includes(item as T)) throw new UsageError(`--${flag}: unknown '${item}' (choose from ${allowed.join(', ')})`);
  if (items.length === 0) throw new UsageError(`--${flag}: the list is empty`);
  return items as T[];
}

/** --shard K/N, refused as a usage error with the shape it wants. */
function shardFlag(text: string): Shard {
  try {
    return parseShard(text);
  } catch (err) {
    throw new UsageError(`--shard: ${(err as Error).message.replace(/^EINVAL: /, '')}`);
  }
}

function integer(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag}: expected an integer in [${min}, ${max}], got '${value}'`);
  return n;
}

const OPTIONS = {
  help: { type: 'boolean' }, version: { type: 'boolean' }, quick: { type: 'boolean' }, json: { type: 'boolean' },
  out: { type: 'string' }, seed: { type: 'string' }, ops: { type: 'string' }, threads: { type: 'string' }, cpus: { type: 'string' },
  workloads: { type: 'string' }, strategies: { type: 'string' }, presets: { type: 'string' }, kernels: { type: 'string' },
  'page-sizes': { type: 'string' }, instruction: { type: 'string' }, instructions: { type: 'string' },
  'no-report': { type: 'boolean' }, wide: { type: 'boolean' }, shard: { type: 'string' }, bugs: { type: 'string' }, capacity: { type: 'string' }, kernel: { type: 'string' }, preset: { type: 'string' },
} as const;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'replay' || argv[0] === 'analyze' || argv[0] === 'ftrace-diff') return traceCommand(argv, process.stdout, process.stderr);
  let parsed;
  try {
    parsed = parseArgs({ args: joinDashValues(argv, OPTIONS), allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    process.stderr.write(`daxemu: ${parseArgsMessage(err as Error)} (see --help)\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const command = positionals[0];
  try {
    const seed = integer('seed', v.seed, 1, 0, 0xffffffff);
    if (command === 'pool') {
      const args = { positionals: positionals.slice(1), json: v.json ?? false, capacity: v.capacity, kernel: v.kernel, preset: v.preset, seed };
      return await poolCommand(args, (text) => process.stdout.write(text));
    }
    if (command === 'merge') {
      const args = { dirs: positionals.slice(1), json: v.json ?? false, out: v.out, wide: v.wide ?? false };
      return await mergeCommand(args, (text) => process.stdout.write(text), (text) => process.stderr.write(text));
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    const quick = v.quick ?? false;
    const progress = new ProgressBar(process.stderr, command ?? '');
    const started = performance.now();
    if (command === 'bench') {
      const options: MatrixOptions = {
        workloads: list('workloads', v.workloads, WORKLOAD_NAMES, [...WORKLOAD_NAMES]),
        strategies: list('strategies', v.strategies, [...STRATEGY_NAMES, ...OPT_IN_STRATEGIES], [...STRATEGY_NAMES]),
        presets: list('presets', v.presets, PRESET_NAMES, ['optane-g1'] as PresetName[]),
        kernels: list('kernels', v.kernels, KERNEL_PROFILES, (quick ? ['linux-6.12'] : ['linux-6.12', 'linux-4.5']) as KernelProfile[]),
        pageSizes: list('page-sizes', v['page-sizes'], PAGE_SIZES, [...PAGE_SIZES]),
        instruction: list('instruction', v.instruction, INSTRUCTIONS, ['clwb'])[0]!,
        ops: integer('ops', v.ops, quick ? 200 : 1000, 1, 1_000_000),
        seed,
        threads: integer('threads', v.threads, availableParallelism(), 1, 64),
        ...(v.cpus === undefined ? {} : { cpus: integer('cpus', v.cpus, 1, 1, MAX_SHARED_CPUS) }),
        shard: v.shard === undefined ? undefined : shardFlag(v.shard),
      };
      if (v.bugs !== undefined) {
        const bugs = list('bugs', v.bugs, BUG_NAMES, []);
        for (const bug of bugs) {
          if (options.kernels.every((k) => bugRefusal(bug, k) !== null)) {
            throw new UsageError(`--bugs: no selected kernel can host ${bug} (${options.kernels.map((k) => `${k}: ${bugRefusal(bug, k)}`).join('; ')})`);
          }
        }
        options.bugs = bugs as BugName[];
      }
      if (v['no-report'] && v.out !== undefined) throw new UsageError('--out and --no-report contradict each other');
      // Refused before anything runs or is written: an empty table would look like a result.
      const plan = planCells(options);
      if (plan.length === 0) throw new UsageError(emptySelectionReason(options.strategies, options.kernels));
      if (options.shard && shardCells(plan, options.shard).length === 0) {
        throw new UsageError(`--shard ${options.shard.index}/${options.shard.count}: the selection has ${plan.length} cells, too few for this shard`);
      }
      const cells = await runMatrix(options, (done, total) => progress.update(done, total));
      // The report's second chart: flush cost per PTE and PMD with the same presets, kernels and
      // instruction; in a sharded run only shard 1 measures it, so the merge holds it once.
      const flushCost = (options.shard?.index ?? 1) === 1
        ? await runFlushCost({ presets: options.presets, kernels: options.kernels, instructions: [options.instruction], dirtyCounts: quick ? [1, 64, 4096] : DEFAULT_DIRTY_COUNTS, seed })
        : [];
      progress.done();
      const { threads: _threads, shard, ...selection } = options;
      const report: MatrixReport = { tool: 'daxemu', version: VERSION, seed, cells, flushCost, wallMs: performance.now() - started, selection, ...(shard ? { shard } : {}) };
      // The report with its charts is what a table run is for: written unless asked not to.
      // A --json run is read by a program, which did not ask for a directory in its cwd.
      const out = v['no-report'] ? undefined : (v.out ?? (v.json ? undefined : 'daxemu-report'));
      return await finish(report, v.json ?? false, out, () => formatBenchText(cells, { wide: v.wide ?? false }));
    }
    if (command === 'flush-cost') {
      const rows = await runFlushCost(
        {
          presets: list('presets', v.presets, PRESET_NAMES, ['optane-g1'] as PresetName[]),
          kernels: list('kernels', v.kernels, KERNEL_PROFILES, ['linux-6.12', 'linux-4.5'] as KernelProfile[]),
          instructions: list('instructions', v.instructions, INSTRUCTIONS, quick ? ['clwb'] : [...INSTRUCTIONS]),
          dirtyCounts: quick ? [1, 64, 4096] : DEFAULT_DIRTY_COUNTS,
          seed,
          strategies: list('strategies', v.strategies, [...FLUSH_COST_STRATEGIES, 'page-cache'], [...FLUSH_COST_STRATEGIES]),
        },
        (done, total) => progress.update(done, total),
      );
      progress.done();
      const report: MatrixReport = { tool: 'daxemu', version: VERSION, seed, cells: [], flushCost: rows, wallMs: performance.now() - started };
      return await finish(report, v.json ?? false, v.out, () => formatFlushCostTable(rows));
    }
    throw new UsageError(command === undefined ? 'a command is needed: bench, flush-cost or pool (see --help)' : `unknown command '${command}' (see --help)`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`daxemu: ${err.message}\n`);
      return 2;
    }
    if (err instanceof PmemError) {
      process.stderr.write(`daxemu: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** Prints the table or the JSON, and writes the report directory when asked. */
async function finish(report: MatrixReport, json: boolean, out: string | undefined, table: () => string): Promise<number> {
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${table()}\n`);
  if (out !== undefined) {
    const files = await writeReport(out, report);
    // The directory and where to start, rather than six paths that wrap a terminal line.
    const wrote = `wrote ${files.length} files to ${out}; start with ${files.find((f) => f.endsWith('report.md'))}`;
    // stdout stays one JSON object under --json, so the note goes to stderr there.
    if (json) process.stderr.write(`daxemu: ${wrote}\n`);
    else process.stdout.write(`\n${wrote}\n`);
    if (!(await chartsAvailable())) process.stderr.write(`daxemu: no charts in the report: ${CHARTS_NEED}\n`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
