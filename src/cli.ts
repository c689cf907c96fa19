#!/usr/bin/env node
// The daxemu command. This foundation release knows --help and --version only; the
// `bench` and `flush-cost` commands arrive with the strategy-matrix work (see README).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const HELP = `usage: daxemu [--help] [--version]

daxemu emulates persistent memory and Linux DAX writeback.
The 'bench' and 'flush-cost' commands are not built yet: this release holds the
wasm core (the packed radix tree) and its benchmarks (npm run bench).`;

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { help: { type: 'boolean' }, version: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`daxemu: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  process.stdout.write(`${HELP}\n`);
  return values.help ? 0 : 2;
}

process.exitCode = main(process.argv.slice(2));
