// The examples as a user copies them out: each imports 'daxemu' (the package's own name),
// runs, and prints exactly the block the README shows after "`npx tsx examples/NAME.ts`
// prints:". A change of behaviour or cost shows up here as a stale README.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const examples = (await readdir(new URL('../examples/', import.meta.url))).filter((n) => n.endsWith('.ts')).sort();
const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');

/** The README's printed block for an example, or undefined. */
function readmeBlock(name: string): string | undefined {
  const at = readme.indexOf(`\`npx tsx examples/${name}\` prints:`);
  if (at < 0) return undefined;
  const open = readme.indexOf('```\n', at);
  const close = readme.indexOf('\n```', open + 4);
  return readme.slice(open + 4, close + 1);
}

describe('examples', () => {
  it('there are examples, and each imports the package by name, not a path', async () => {
    expect(examples.length).toBeGreaterThan(0);
    for (const name of examples) {
      const source = await readFile(new URL(`../examples/${name}`, import.meta.url), 'utf8');
      expect(source, name).toMatch(/from 'daxemu'/);
      expect(source, name).not.toMatch(/from '\.\.?\//);
    }
  });

  it("the README's quick start is examples/quick-start.ts, line for line after its header", async () => {
    const source = await readFile(new URL('../examples/quick-start.ts', import.meta.url), 'utf8');
    const code = source.slice(source.indexOf('import '));
    const at = readme.indexOf('## Quick start');
    const open = readme.indexOf('```ts\n', at) + 6;
    expect(readme.slice(open, readme.indexOf('```\n', open))).toBe(code);
  });

  for (const name of examples) {
    it(`${name} prints what the README shows`, async () => {
      const expected = readmeBlock(name);
      expect(expected, `the README has no block for examples/${name}`).toBeDefined();
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}`], { cwd: REPO });
      expect(stdout).toBe(expected);
    });
  }
});
