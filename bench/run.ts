/**
 * The benchmark entry point (`npm run bench -- [flags]`):
 *
 *   --suite NAME   a suite to run; repeatable or a comma list (default: every suite)
 *   --json         one JSON object per suite on stdout, one per line, and nothing else there
 *   --quick        a smoke run: the smallest size only, short timing
 *   --sizes LIST   sizes to run instead of the suite's own, e.g. 1e3,1e5
 *
 * Progress goes to stderr. Exit status: 0 done, 1 a suite failed, 2 bad flags.
 * npm itself prints a "> daxemu bench" banner on stdout before this script starts: to keep
 * stdout pure JSON, run `npm run -s bench -- --json` (or `node --import tsx bench/run.ts`).
 */
import { parseArgs } from 'node:util';
import { machineInfo, gitCommit } from './machine.js';
import { timingFor } from './measure.js';
import { formatJson, formatTable, type SuiteResult } from './report.js';
import { SUITES } from './suites.js';

/** A mistake in the command line: reported on one line, exit status 2. */
class UsageError extends Error {}

interface RunOptions {
  suites: string[];
  json: boolean;
  quick: boolean;
  sizes?: number[];
}

/** The suite names asked for, checked against the registry, in the order given. */
function suiteNames(values: string[] | undefined): string[] {
  if (!values || values.length === 0) return [...SUITES.keys()];
  const names = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!SUITES.has(name)) throw new UsageError(`unknown suite "${name}" (known: ${[...SUITES.keys()].join(', ')})`);
  }
  return [...new Set(names)];
}

/** "1e3,1e5" as positive integers. */
function parseSizes(text: string): number[] {
  return text.split(',').map((part) => {
    const n = Number(part.trim());
    if (part.trim() === '' || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--sizes: "${part}" is not a positive integer`);
    return n;
  });
}

/** The command line as run options; UsageError when it is wrong. */
function parseCommandLine(args: string[]): RunOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        suite: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        sizes: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    suites: suiteNames(values.suite),
    json: values.json,
    quick: values.quick,
    sizes: values.sizes === undefined ? undefined : parseSizes(values.sizes),
  };
}

/** Runs the suites one after the other, printing each result as soon as it is complete. */
async function run(options: RunOptions): Promise<void> {
  const timing = timingFor(options.quick);
  const machine = machineInfo();
  const commit = gitCommit();
  for (const [n, suite] of options.suites.entries()) {
    const started = performance.now();
    const cases = await SUITES.get(suite)!({
      quick: options.quick,
      sizes: options.sizes,
      timing,
      progress: (line) => process.stderr.write(`[${suite}] ${line}\n`),
    });
    process.stderr.write(`[${suite}] done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    const result: SuiteResult = { suite, cases, machine, commit };
    if (options.json) {
      process.stdout.write(`${formatJson(result)}\n`);
    } else {
      process.stdout.write(`${n > 0 ? '\n' : ''}${formatTable(result)}\n`);
    }
  }
}

try {
  await run(parseCommandLine(process.argv.slice(2)));
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
