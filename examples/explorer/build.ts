/**
 * Builds the explorer into a static folder (default build/explorer): the page, its script
 * and the Worker's, bundled by esbuild for the browser from the package's browser entry
 * (src/index.ts, so the build needs no dist/), and the release wasm beside them.
 *
 *   node --import tsx examples/explorer/build.ts [OUT]
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_OUT = fileURLToPath(new URL('../../build/explorer/', import.meta.url));

/** Builds into `out`; returns the bytes of each script. */
export async function buildExplorer(out = DEFAULT_OUT): Promise<Record<string, number>> {
  await mkdir(out, { recursive: true });
  const result = await build({
    entryPoints: { explorer: `${HERE}main.ts`, worker: `${HERE}worker.ts` },
    outdir: out,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    alias: { daxemu: `${REPO}src/index.ts` },
    metafile: true,
    logLevel: 'warning',
  });
  await copyFile(`${HERE}index.html`, `${out}/index.html`);
  await copyFile(`${REPO}build/release.wasm`, `${out}/release.wasm`);
  return Object.fromEntries(Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js')).map(([f, o]) => [f.split('/').pop()!, o.bytes]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? DEFAULT_OUT;
  const sizes = await buildExplorer(out);
  console.log(`explorer built into ${out}: ${Object.entries(sizes).map(([f, b]) => `${f} ${(b / 1024).toFixed(1)} KiB`).join(', ')}`);
}
