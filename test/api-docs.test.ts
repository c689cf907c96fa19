// docs/api is generated from the TSDoc comments of the three entries (typedoc.json); it is
// committed so that it reads in the repository. Regenerating it must give the same files:
// a stale reference fails here (`npm run docs:api` refreshes it).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));

async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p, 'utf8'));
    }
  };
  await walk(dir);
  return out;
}

describe('docs/api', () => {
  it('is what typedoc generates from the sources now', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-api-'));
    try {
      await run(process.execPath, [join(REPO, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', dir, '--logLevel', 'Error'], { cwd: REPO });
      const fresh = await tree(dir);
      const committed = await tree(join(REPO, 'docs', 'api'));
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [file, text] of fresh) expect(committed.get(file), `docs/api/${file} is stale: run npm run docs:api`).toBe(text);
      // The three entries are there, under their package names.
      expect(fresh.get('index.md')).toMatch(/daxemu\/bench/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
