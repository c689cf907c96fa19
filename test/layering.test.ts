// The house rules of src/: layer folders, each importing only the layers its header names,
// those always below it, across folders only through the folder's index.ts, and no import
// circle anywhere. A move or an import that breaks the layout fails here, naming the file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
/** The layers, bottom up: a layer may only import layers before it in this list. */
const LAYERS = ['base', 'core', 'hw', 'dax', 'model', 'emulator', 'libpmem', 'trace', 'job', 'report', 'cli'] as const;
type Layer = (typeof LAYERS)[number];
/** The file whose header states what a layer owns and may import. */
const HEADER_FILE: Record<Layer, string> = Object.fromEntries(LAYERS.map((l) => [l, l === 'cli' ? 'cli.ts' : 'index.ts'])) as Record<Layer, string>;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The src/ files a file imports (static, type-only and dynamic imports, and re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.[^']+)'/g)].map((m) => m[1]!);
  return specs.map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

function layerOf(file: string): Layer | null {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? (parts[0] as Layer) : null;
}

const FILES = sourceFiles(SRC);
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));
const rel = (f: string): string => relative(SRC, f);

/** The layers a header's "May import:" line names ("nothing in src/" names none). */
function declaredImports(layer: Layer): string[] {
  const header = readFileSync(join(SRC, layer, HEADER_FILE[layer]), 'utf8');
  const line = /May import:([^.]*)\./.exec(header);
  if (!line) throw new Error(`src/${layer}/${HEADER_FILE[layer]} has no "May import:" line`);
  // Each comma-separated item starts with a layer name; what follows it in brackets is comment.
  return line[1]!.replace(/\n\s*(\*|\/\/)/g, ' ').replace(/\([^)]*\)/g, '').split(',').map((item) => item.trim().split(/\s+/)[0]!).filter((w) => (LAYERS as readonly string[]).includes(w));
}

describe('the layout of src/', () => {
  it('has exactly the layer folders, each with its header file', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory()).sort();
    expect(folders).toEqual([...LAYERS].sort());
    for (const layer of LAYERS) expect(statSync(join(SRC, layer, HEADER_FILE[layer])).isFile()).toBe(true);
  });

  it('every import resolves to a file of src/', () => {
    for (const [file, targets] of GRAPH) {
      for (const t of targets) if (t.startsWith(SRC)) expect(GRAPH.has(t), `${rel(file)} imports ${rel(t)}, which does not exist`).toBe(true);
    }
  });

  it('has no import circle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (f: string): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') throw new Error(`import circle: ${[...path.slice(path.indexOf(f)), f].map(rel).join(' -> ')}`);
      state.set(f, 'open');
      path.push(f);
      for (const t of GRAPH.get(f) ?? []) if (GRAPH.has(t)) visit(t);
      path.pop();
      state.set(f, 'done');
    };
    expect(() => FILES.forEach(visit)).not.toThrow();
  });

  it('each header names only layers below its own', () => {
    for (const layer of LAYERS) {
      for (const other of declaredImports(layer)) {
        expect(LAYERS.indexOf(other as Layer), `src/${layer} may not import ${other}, which is not below it`).toBeLessThan(LAYERS.indexOf(layer));
      }
    }
  });

  it('a layer imports only the layers its header names, through their index.ts', () => {
    for (const [file, targets] of GRAPH) {
      const mine = layerOf(file);
      if (mine === null) continue; // src/index.ts, the package's export list, names files on purpose
      const allowed = declaredImports(mine);
      for (const t of targets) {
        const theirs = layerOf(t);
        if (theirs === null || theirs === mine) continue;
        expect(allowed, `${rel(file)} imports ${rel(t)}: src/${mine} may import ${allowed.join(', ') || 'nothing'}`).toContain(theirs);
        expect(rel(t), `${rel(file)} reaches into ${rel(t)}; import src/${theirs}/index.ts instead`).toBe(join(theirs, 'index.ts'));
      }
    }
  });

  it('only src/core touches the wasm instance and its memory', () => {
    for (const file of FILES) {
      if (layerOf(file) === 'core') continue;
      const text = readFileSync(file, 'utf8');
      expect(/memory\.buffer|WebAssembly\.|\.exports\b/.test(text), `${rel(file)} touches the wasm directly`).toBe(false);
    }
  });

  it('the kernel eras\' fault paths do not import each other', () => {
    // Each era implements FaultPaths (src/dax/fault-paths.ts); the file system picks one.
    const xarray = GRAPH.get(join(SRC, 'dax', 'fault-xarray.ts'))!.map(rel);
    const p45 = GRAPH.get(join(SRC, 'dax', 'fault-p45.ts'))!.map(rel);
    expect(xarray).not.toContain(join('dax', 'fault-p45.ts'));
    expect(p45).not.toContain(join('dax', 'fault-xarray.ts'));
    expect(xarray).not.toContain(join('dax', 'fault.ts'));
    expect(p45).not.toContain(join('dax', 'fault.ts'));
  });

  it('writeback knows files only through the AddressSpace interface', () => {
    expect(GRAPH.get(join(SRC, 'dax', 'writeback.ts'))!.map(rel)).not.toContain(join('dax', 'file.ts'));
  });
});
