/**
 * Where the bytes of a wasm build come from. Unless told otherwise: under Node, the file
 * build/<build>.wasm of the package, read with node:fs; anywhere else (a page, a worker),
 * fetched from that same URL, relative to this module. A page whose bundler moves the files
 * names each build with setWasmSource: a URL to fetch (a file: URL is read, under Node),
 * the bytes, or a compiled module.
 *
 * The Node module is imported only inside the call, through a specifier that bundlers do not
 * follow, so a browser bundle of the package holds no `node:` import.
 */
import { PmemError } from '../base/index.js';

/** A build's name (wasm.ts WasmBuild, repeated here so that the two files do not import each other). */
type WasmBuild = 'debug' | 'release';

/** A wasm build as a page can hand it over: where to fetch it, its bytes, or the compiled module. */
export type WasmSource = URL | string | ArrayBuffer | ArrayBufferView | WebAssembly.Module;

const sources = new Map<WasmBuild, WasmSource>();
const listeners: ((build: WasmBuild) => void)[] = [];

/** Kept in a variable so that bundlers leave the import alone: only Node ever runs it. */
const NODE_FS = 'node:fs/promises';

/** True under Node (and runtimes that pass for it), where the wasm is read from the file. */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * Names where `build` comes from in this realm, for every emulator created after the call.
 * Call it before createEmulator in a page whose bundle does not keep build/ beside the
 * package's modules. A string is a URL, relative to the page.
 */
export function setWasmSource(source: WasmSource, build: WasmBuild = 'release'): void {
  if (build !== 'release' && build !== 'debug') throw new PmemError('EINVAL', `build must be 'release' or 'debug', got ${String(build)}`);
  const ok = source instanceof URL || typeof source === 'string' || source instanceof ArrayBuffer || ArrayBuffer.isView(source) || source instanceof WebAssembly.Module;
  if (!ok) throw new PmemError('EINVAL', 'a wasm source is a URL, a string URL, an ArrayBuffer, a typed array or a WebAssembly.Module');
  sources.set(build, source);
  for (const changed of listeners) changed(build);
}

/** Called with the build whose source changed (the compiled-module cache listens). */
export function onWasmSourceChange(listener: (build: WasmBuild) => void): void {
  listeners.push(listener);
}

/** The default place of a build: build/<build>.wasm two folders above this module (src/core or dist/core). */
function defaultUrl(build: WasmBuild): URL {
  return new URL(`../../build/${build}.wasm`, import.meta.url);
}

/** Compiles `build` from its source. */
export async function compileSource(build: WasmBuild): Promise<WebAssembly.Module> {
  const source = sources.get(build);
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  const url = source === undefined ? defaultUrl(build) : new URL(source, globalThis.location?.href);
  // Node's fetch takes no file: URL: read those from the file.
  if (url.protocol === 'file:' && isNode()) return WebAssembly.compile((await readWasmFile(url, build)) as BufferSource);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`daxemu: cannot fetch ${url.href} (${(err as Error).message}); name the wasm with setWasmSource()`);
  }
  if (!response.ok) throw new Error(`daxemu: cannot fetch ${url.href} (HTTP ${response.status}); name the wasm with setWasmSource()`);
  return WebAssembly.compile(await response.arrayBuffer());
}

/** Node: reads a wasm file (by default build/<build>.wasm of the package). */
async function readWasmFile(url: URL, build: WasmBuild): Promise<Uint8Array> {
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  try {
    return await fs.readFile(url);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (url.href === defaultUrl(build).href) throw new Error(`daxemu: build/${build}.wasm is missing (${code}); run "npm run asbuild" first`);
    throw new Error(`daxemu: cannot read ${url.href} (${code}); name the wasm with setWasmSource()`);
  }
}
