// The examples as a user copies them out: each imports 'daxemu' (the package's own name),
// runs, and prints exactly the block that the README, or the docs page that explains it,
// shows after "`npx tsx examples/NAME.ts` prints:". A change of behaviour or cost shows up
// here as a stale page.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const examples = (await readdir(new URL('../examples/', import.meta.url))).filter((n) => n.endsWith('.ts')).sort();
const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
const docsDir = new URL('../docs/', import.meta.url);
const pages = [readme, ...(await Promise.all((await readdir(docsDir)).filter((n) => n.endsWith('.md')).map((n) => readFile(new URL(n, docsDir), 'utf8'))))];

/** The printed block for an example in the README or a docs page, or undefined. */
function readmeBlock(name: string): string | undefined {
  for (const page of pages) {
    const at = page.indexOf(`\`npx tsx examples/${name}\` prints:`);
    if (at < 0) continue;
    const open = page.indexOf('```\n', at);
    const close = page.indexOf('\n```', open + 4);
    return page.slice(open + 4, close + 1);
  }
  return undefined;
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
      expect(expected, `neither the README nor docs/ has a block for examples/${name}`).toBeDefined();
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}`], { cwd: REPO });
      expect(stdout).toBe(expected);
    });
  }
});
