// The main entry as a page gets it: src/index.ts bundled by esbuild for the browser platform,
// where a `node:` import cannot resolve and fails the build. The bundle must come out, import
// nothing from outside, and stay under the budget of 300 KiB of JS; its sizes, raw and
// gzipped, with the release wasm beside them, go to test-output/bundle-size.json.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const gz = (bytes: Uint8Array): number => gzipSync(bytes, { level: 9 }).length;

const OPTIONS = { absWorkingDir: REPO, bundle: true, platform: 'browser', format: 'esm', minify: true, write: false, metafile: true, logLevel: 'silent' } as const;

async function bundle(entry: string) {
  return build({ ...OPTIONS, entryPoints: [entry] });
}

/** A one-line page script importing `specifier` as a user's would (the package by its name: dist/). */
async function bundleImport(specifier: string) {
  return build({ ...OPTIONS, stdin: { contents: `import * as m from '${specifier}'; console.log(m);`, resolveDir: REPO } });
}

describe('the browser bundle of the main entry', () => {
  it('bundles for the browser with no node: import, and is under 300 KiB', async () => {
    const result = await bundle('src/index.ts');
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.startsWith('node:'))).toBe(false);
    // Nothing of the Node-only code: the pool reader and writer, the job, the report, the CLI.
    for (const nodeOnly of ['src/emulator/pool-file.ts', 'src/emulator/pool.ts']) expect(inputs).not.toContain(nodeOnly);
    expect(inputs.filter((f) => /^src\/(job|report|cli)\//.test(f))).toEqual([]);
    expect(inputs).toContain('src/emulator/emulator.ts');
    const [out] = Object.values(result.metafile.outputs);
    expect(out!.imports).toEqual([]);
    const js = result.outputFiles[0]!.contents;
    // The one "node:" left is the specifier Node reads the wasm with, never imported in a page.
    expect(new TextDecoder().decode(js).match(/node:[a-z/]+/g)).toEqual(['node:fs/promises']);
    const wasm = await readFile(new URL('../build/release.wasm', import.meta.url));
    const sizes = { js: js.length, jsGzip: gz(js), wasm: wasm.length, wasmGzip: gz(wasm) };
    expect(sizes.js).toBeLessThan(300 * 1024);
    await mkdir(new URL('../test-output/', import.meta.url), { recursive: true });
    await writeFile(new URL('../test-output/bundle-size.json', import.meta.url), JSON.stringify(sizes, null, 2) + '\n');
    console.log(`browser bundle of src/index.ts: ${sizes.js} B (${sizes.jsGzip} B gzip) + release.wasm ${sizes.wasm} B (${sizes.wasmGzip} B gzip)`);
  });

  it('the built package, imported by its name as a page does, bundles for the browser too', async () => {
    const result = await bundleImport('daxemu');
    expect(Object.keys(result.metafile.inputs)).toContain('dist/emulator/emulator.js');
    expect(Object.keys(result.metafile.inputs).filter((f) => f.startsWith('node:') || /dist\/(job|report|cli)\/|dist\/emulator\/pool(-file)?\.js$/.test(f))).toEqual([]);
    expect(result.outputFiles[0]!.contents.length).toBeLessThan(300 * 1024);
  });

  it('the Node-only entries do not bundle for the browser', async () => {
    // daxemu/bench runs cells on worker threads: a page cannot have it, and the bundler says so.
    await expect(bundle('src/job/index.ts')).rejects.toThrow(/node:/);
    // By name, a browser bundler finds no entry for them: they are exported under the node condition only.
    for (const entry of ['daxemu/bench', 'daxemu/report']) {
      await expect(bundleImport(entry)).rejects.toThrow(new RegExp(`Could not resolve "${entry}"`));
    }
  });
});
