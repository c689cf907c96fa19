/**
 * The fuzzer as a fast-check property: random sequences (test/fuzz/commands.ts) run by
 * test/fuzz/runner.ts, from a fixed seed, a failure shrunk to a minimal sequence. Both the
 * short run in `npm test` (test/fuzz.test.ts) and the long run (test/fuzz/long-run.ts) go
 * through `fuzz`.
 */
import fc from 'fast-check';
import { sequenceArb, type Command, type FuzzConfig } from './commands.js';
import { FuzzFailure, runSequence } from './runner.js';

export interface FuzzReport {
  seed: number;
  /** Sequences run (the failing one included). */
  runs: number;
  /** Calls made over all sequences, by command and outcome ('store ok', 'load SIGBUS', 'sync point', ...). */
  tally: Map<string, number>;
  /** The minimal failing sequence and its replay, when one failed. */
  failure?: { config: FuzzConfig; commands: Command[]; why: string; snippet: string; shrinks: number };
}

export async function fuzz(options: { seed: number; runs: number; maxLength: number; timeLimitMs?: number }): Promise<FuzzReport> {
  const tally = new Map<string, number>();
  const property = fc.asyncProperty(sequenceArb(options.maxLength), async ([config, commands]) => {
    for (const [k, n] of await runSequence(config, commands)) tally.set(k, (tally.get(k) ?? 0) + n);
  });
  const details = await fc.check(property, {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.timeLimitMs ? { interruptAfterTimeLimit: options.timeLimitMs } : {}),
  });
  const report: FuzzReport = { seed: options.seed, runs: details.numRuns, tally };
  if (!details.failed || !details.counterexample) return report;
  const [config, commands] = details.counterexample[0];
  const err = details.errorInstance;
  if (err instanceof FuzzFailure) {
    report.failure = { config, commands: commands.slice(0, err.step + 1), why: err.why, snippet: err.snippet, shrinks: details.numShrinks };
  } else {
    // Not a check of the runner: an exception it did not expect, shown with the sequence.
    const why = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
    report.failure = { config, commands, why, snippet: `// config ${JSON.stringify(config)}\n// commands ${JSON.stringify(commands)}`, shrinks: details.numShrinks };
  }
  return report;
}

/** A failure as the test and the long run print it: why, the replay snippet, the seed to run it again. */
export function describeFailure(report: FuzzReport): string {
  const f = report.failure;
  if (!f) return `no failure in ${report.runs} sequences (seed ${report.seed})`;
  return [
    `The fuzzer failed (seed ${report.seed}, after ${report.runs} sequences, shrunk ${f.shrinks} times to ${f.commands.length} commands):`,
    f.why,
    '',
    f.snippet,
    '',
    `// the sequence as data: ${JSON.stringify({ config: f.config, commands: f.commands })}`,
  ].join('\n');
}
