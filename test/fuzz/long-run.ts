/**
 * The long fuzzer run (not in CI): `npm run fuzz -- --seconds N [--seed S] [--length L]`.
 * It runs batches of sequences from seed S, S + 1, ... until N seconds have passed, and
 * stops at the first failure with the minimal sequence as a runnable TypeScript snippet
 * against the public API (exit code 1). The seed of each batch is printed, so any batch can
 * be run again alone with --seed.
 */
import { parseArgs } from 'node:util';
import { describeFailure, fuzz } from './property.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    length: { type: 'string', default: '60' },
    batch: { type: 'string', default: '50' },
  },
  strict: true,
});

function integer(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name}: expected an integer of at least ${min}, got '${text}'`);
    process.exit(2);
  }
  return n;
}

const seconds = integer('seconds', values.seconds, 1);
const firstSeed = integer('seed', values.seed, 0);
const maxLength = integer('length', values.length, 1);
const batch = integer('batch', values.batch, 1);
const deadline = Date.now() + seconds * 1000;
let sequences = 0;
for (let seed = firstSeed; Date.now() < deadline; seed++) {
  const report = await fuzz({ seed, runs: batch, maxLength, timeLimitMs: deadline - Date.now() });
  sequences += report.runs;
  if (report.failure) {
    console.log(describeFailure(report));
    console.log(`\nrun it again: npm run fuzz -- --seed ${seed} --length ${maxLength} --batch ${batch} --seconds ${seconds}`);
    process.exit(1);
  }
  console.log(`seed ${seed}: ${report.runs} sequences passed (${sequences} in all, ${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left)`);
}
console.log(`no failure: ${sequences} sequences of up to ${maxLength} commands from seed ${firstSeed}`);
