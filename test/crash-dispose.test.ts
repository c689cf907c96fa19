// Disposing crash images (issue 16, D5): dispose() and `using` release an image's memory,
// every later call on it or on what it handed out is a PmemError EBADF, disposing twice is
// harmless, and the emulator the image came from is not touched.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/index.js';
import { PmemError } from '../src/base/errors.js';

/** A 16 MiB emulator with one synced file and one store left unsynced. */
async function source(): Promise<Emulator> {
  const emu = await createEmulator({ capacity: 16 << 20, seed: 3 });
  const f = emu.createFile('/a', { size: 8192, allocate: 'written' });
  f.pwrite(0, new Uint8Array([1, 2, 3]));
  f.fsync();
  emu.mmap(f, { length: 8192 }).store(4096, new Uint8Array([9]));
  return emu;
}

const refused = (call: () => unknown): PmemError => {
  try {
    call();
  } catch (err) {
    return err as PmemError;
  }
  throw new Error('the call was not refused');
};

describe('crash image disposal', () => {
  it('a disposed image refuses every later call with EBADF naming the disposed crash image', async () => {
    const emu = await source();
    const image = await emu.crash();
    const f = image.open('/a');
    const m = image.mmap(f, { length: 4096 });
    const d = image.mmapDevice({ length: 4096 });
    expect(f.pread(0, 3)).toEqual(new Uint8Array([1, 2, 3]));
    image.dispose();
    expect(image.disposed).toBe(true);
    const calls: [string, () => unknown][] = [
      ['open', () => image.open('/a')],
      ['createFile', () => image.createFile('/b')],
      ['sfence', () => image.sfence()],
      ['stats', () => image.stats()],
      ['capacity', () => image.capacity],
      ['startTrace', () => image.startTrace()],
      ['checkInvariants', () => image.checkInvariants()],
      ['core', () => image.core],
      ['a file of the image', () => f.pread(0, 3)],
      ['a file growing (no media touched)', () => f.truncate(1 << 20)],
      ['a mapping of the image', () => m.load(0, 1)],
      ['a device mapping of the image', () => d.store(0, new Uint8Array([1]))],
    ];
    for (const [name, call] of calls) {
      const err = refused(call);
      expect(err, name).toBeInstanceOf(PmemError);
      expect(err.code, name).toBe('EBADF');
      expect(err.message, name).toMatch(/this crash image was disposed/);
    }
    await expect(image.crash()).rejects.toMatchObject({ code: 'EBADF' });
    await expect(image.save('/tmp/never.pool')).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('a disposed image\'s wasm memory can be collected while its file and mapping are still held', async () => {
    const image = await (await source()).crash();
    const f = image.open('/a');
    const m = image.mmap(f, { length: 4096 });
    const memory = new WeakRef(image.core.memory);
    image.dispose();
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 3 && memory.deref() !== undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0)); // a WeakRef target lives to the end of the job that read it
      gc();
    }
    expect(memory.deref()).toBeUndefined();
    expect([f.path, m.length]).toEqual(['/a', 4096]); // still held here
  });

  it('disposing twice is harmless, and Symbol.dispose is dispose', async () => {
    const image = await (await source()).crash();
    image.dispose();
    expect(() => image.dispose()).not.toThrow();
    expect(() => image[Symbol.dispose]()).not.toThrow();
    expect(refused(() => image.open('/a')).code).toBe('EBADF');
  });

  it('`using` disposes the image at the end of its block', async () => {
    const emu = await source();
    let kept: Emulator | undefined;
    {
      using image = await emu.crash();
      kept = image;
      expect(image.open('/a').pread(0, 3)).toEqual(new Uint8Array([1, 2, 3]));
    }
    expect(kept.disposed).toBe(true);
    expect(refused(() => kept!.open('/a')).code).toBe('EBADF');
  });

  it('the source emulator is unchanged by an image and its disposal', async () => {
    const emu = await source();
    const before = { stats: emu.stats(), now: emu.now() };
    const image = await emu.crash({ mode: 'random', seed: 5 });
    image.dispose();
    expect({ stats: emu.stats(), now: emu.now() }).toEqual(before);
    expect(emu.open('/a').pread(4095, 3)).toEqual(new Uint8Array([0, 9, 0]));
    expect(emu.disposed).toBe(false);
    emu.checkInvariants();
    // Another image of it still shows the synced bytes and not the unsynced store.
    using again = await emu.crash();
    expect(again.open('/a').pread(0, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(again.open('/a').pread(4096, 1)).toEqual(new Uint8Array([0]));
  });
});
