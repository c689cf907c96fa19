// Where the wasm comes from: by default the package's build/ file (under Node), or what
// setWasmSource names (bytes, a compiled module, a URL to fetch), checked before it is kept.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, setWasmSource, PmemError } from '../src/index.js';
import { expectCode } from './helpers.js';

const RELEASE = new URL('../build/release.wasm', import.meta.url);

describe('setWasmSource', () => {
  afterEach(async () => setWasmSource(await readFile(RELEASE)));

  it('runs an emulator on wasm handed over as bytes or as a compiled module', async () => {
    const bytes = await readFile(RELEASE);
    for (const source of [bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), await WebAssembly.compile(bytes)]) {
      setWasmSource(source, 'release');
      const emu = await createEmulator({ capacity: 4 << 20, build: 'release' });
      const m = emu.mmap(emu.createFile('/f', { size: 4096 }), { length: 4096 });
      m.store(8, new Uint8Array([7, 8]));
      expect([...m.load(8, 2)]).toEqual([7, 8]);
    }
  });

  it('under Node reads a file: URL, and names it when it is missing', async () => {
    setWasmSource(RELEASE);
    expect((await createEmulator({ capacity: 4 << 20, build: 'release' })).options.capacity).toBe(4 << 20);
    setWasmSource(new URL('../build/none.wasm', import.meta.url));
    await expect(createEmulator({ capacity: 4 << 20, build: 'release' })).rejects.toThrow(/cannot read file:.*build\/none\.wasm \(ENOENT\)/);
  });

  it('fails the next emulator, naming the URL, when the wasm cannot be fetched', async () => {
    setWasmSource(new URL('http://127.0.0.1:9/daxemu-missing.wasm'), 'release');
    await expect(createEmulator({ capacity: 4 << 20, build: 'release' })).rejects.toThrow(/cannot fetch http:\/\/127\.0\.0\.1:9\/daxemu-missing\.wasm/);
  });

  it('refuses what is not a wasm source', () => {
    expectCode(() => setWasmSource(42 as never), 'EINVAL');
    expectCode(() => setWasmSource(new Uint8Array(0), 'fast' as never), 'EINVAL');
    expect(PmemError).toBeDefined();
  });
});
