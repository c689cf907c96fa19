// Pool files (src/emulator/pool-file.ts, pool.ts): what a save keeps is what a guaranteed
// crash keeps; saves are atomic; a pool that is damaged in any field is refused whole.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/base/index.js';
import { checkPool, createEmulator, openEmulator, type Emulator } from '../src/emulator/index.js';

const MiB = 1 << 20;
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daxemu-pool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An emulator with durable and non-durable data, committed and uncommitted blocks, and device data. */
async function busyEmulator(): Promise<Emulator> {
  const emu = await createEmulator({ capacity: 32 * MiB, kernel: 'linux-6.1', preset: 'optane-g1-6dimm', seed: 11 });
  const f = emu.createFile('/kept', { size: 4 * MiB });
  const m = emu.mmap(f, { address: 0x7e00_0000_1000 }); // PTE entries
  for (let page = 0; page < 64; page++) m.store(page * 4096 + 8, new Uint8Array([page + 1, 0xaa]));
  f.fsync();
  m.store(8, new Uint8Array([0x55])); // stored after the sync: not durable
  const g = emu.createFile('/fresh', { size: 1 * MiB });
  emu.mmap(g).store(0, new Uint8Array([1])); // its block is never committed
  emu.createFile('/unwritten', { size: 2 * MiB, allocate: 'unwritten' });
  const d = emu.mmapDevice({ offset: 30 * MiB, length: 4096 });
  d.store(100, new Uint8Array([9, 9]));
  d.clwb(100, 2);
  emu.sfence();
  return emu;
}

/** Every byte of the media and every file of an emulator. */
function durableView(emu: Emulator): { media: Uint8Array; files: string[] } {
  const media = emu.core.mediaView().slice();
  const files = ['/kept', '/fresh', '/unwritten'].map((p) => {
    const f = emu.open(p);
    const blocks = [...f.blocks].map(([page, b]) => `${page}:${b.pfn}:${b.unwritten}:${b.committed}`).join(',');
    return `${p} ${f.size} ${blocks}`;
  });
  return { media, files };
}

describe('pool files', () => {
  it('a saved and opened pool is exactly what a guaranteed crash leaves', async () => {
    const emu = await busyEmulator();
    const path = join(dir, 'busy.pool');
    await emu.save(path);
    const opened = await openEmulator(path);
    const crashed = await emu.crash({ mode: 'guaranteed' });
    const a = durableView(opened);
    const b = durableView(crashed);
    expect(a.files).toEqual(b.files);
    expect(Buffer.compare(Buffer.from(a.media), Buffer.from(b.media))).toBe(0);
    expect(opened.open('/kept').pread(8, 2)).toEqual(new Uint8Array([1, 0xaa])); // the later 0x55 was not durable
    expect(opened.open('/fresh').pread(0, 1)).toEqual(new Uint8Array([0])); // an uncommitted block is a hole
    expect(opened.options).toEqual(emu.options);
    opened.checkInvariants();
    expect(opened.freeBlocks()).toBe(crashed.freeBlocks());
  });

  it('saving changes nothing in the emulator: media, clock, counters', async () => {
    const emu = await busyEmulator();
    const media = emu.core.mediaView().slice();
    const now = emu.now();
    const stats = JSON.stringify(emu.stats());
    await emu.save(join(dir, 'unchanged.pool'));
    expect(emu.now()).toBe(now);
    expect(JSON.stringify(emu.stats())).toBe(stats);
    expect(Buffer.compare(Buffer.from(emu.core.mediaView()), Buffer.from(media))).toBe(0);
  });

  it('only chunks that hold data are written', async () => {
    const emu = await createEmulator({ capacity: 64 * MiB });
    const d = emu.mmapDevice();
    d.ntstore(40 * MiB, new Uint8Array(4096).fill(3));
    emu.sfence();
    const report = await emu.save(join(dir, 'sparse.pool'));
    expect(report.chunks).toBe(1);
    expect((await stat(report.path)).size).toBe(report.bytes);
    expect(report.bytes).toBeLessThan(70 * 1024);
    const back = await openEmulator(report.path);
    expect(back.mmapDevice().load(40 * MiB, 4096)).toEqual(new Uint8Array(4096).fill(3));
  });

  it('a save replaces the old pool by rename and leaves no temporary file', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const path = join(dir, 'replaced.pool');
    const d = emu.mmapDevice();
    for (const value of [1, 2]) {
      d.ntstore(0, new Uint8Array([value]));
      emu.sfence();
      await emu.save(path);
    }
    expect((await openEmulator(path)).mmapDevice().load(0, 1)).toEqual(new Uint8Array([2]));
    expect((await readdir(dir)).filter((n) => n.includes('replaced.pool'))).toEqual(['replaced.pool']);
  });

  it('a save into a missing folder fails with ENOENT and writes nothing', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    await expect(emu.save(join(dir, 'no-such-folder', 'x.pool'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(emu.save('')).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('checkPool reports the header, the options and the files', async () => {
    const emu = await busyEmulator();
    const path = join(dir, 'info.pool');
    const saved = await emu.save(path);
    const info = await checkPool(path);
    expect(info).toMatchObject({ capacity: 32 * MiB, chunks: saved.chunks, fileBytes: saved.bytes, formatVersion: 1 });
    expect(info.options.kernel).toBe('linux-6.1');
    expect(info.files).toEqual([
      { path: '/kept', size: 4 * MiB, blocks: 64 },
      { path: '/fresh', size: MiB, blocks: 0 },
      { path: '/unwritten', size: 2 * MiB, blocks: 512 },
    ]);
  });
});

describe('damaged pools are refused whole', () => {
  let good: Buffer;
  let chunkAt = 0;
  beforeAll(async () => {
    const emu = await busyEmulator();
    const path = join(dir, 'good.pool');
    await emu.save(path);
    good = await readFile(path);
    chunkAt = 52 + good.readUInt32LE(32);
  });

  /** Writes a damaged copy of the good pool and expects opening and checking it to fail with `code`, naming `what`. */
  async function refused(name: string, damage: (b: Buffer) => Buffer, code: string, what: RegExp): Promise<void> {
    const path = join(dir, name);
    await writeFile(path, damage(Buffer.from(good)));
    for (const read of [openEmulator, checkPool]) {
      const err = await read(path).then(() => undefined, (e: unknown) => e);
      expect(err, `${name} via ${read.name}`).toMatchObject({ name: 'PmemError', code });
      expect((err as Error).message).toMatch(what);
    }
  }

  /** Recomputes the header checksum after a header field was changed on purpose. */
  const resealed = (b: Buffer): Buffer => {
    b.writeUInt32LE(crc32(b.subarray(52, 52 + b.readUInt32LE(32)), crc32(b.subarray(0, 48))) >>> 0, 48);
    return b;
  };

  it('a file that is no pool: EBADMSG', () => refused('magic.pool', (b) => (b.write('NOTAPOOL', 0, 'latin1'), b), 'EBADMSG', /at byte 0: this is not a daxemu pool/));
  it('another format version: EBADMSG', () => refused('version.pool', (b) => (b.writeUInt32LE(9, 8), resealed(b)), 'EBADMSG', /format version 9/));
  it('a flipped metadata byte: EBADMSG, the header checksum', () => refused('meta.pool', (b) => ((b[60] ^= 1), b), 'EBADMSG', /header checksum/));
  it('a flipped data byte: EBADMSG naming the chunk and its offset', async () => {
    await refused('data.pool', (b) => ((b[chunkAt + 16 + 1000] ^= 0x40), b), 'EBADMSG', new RegExp(`at byte ${chunkAt}: chunk 0 fails its checksum`));
  });
  it('a cut-off file: EIO', () => refused('short.pool', (b) => b.subarray(0, b.length - 100), 'EIO', /cut short/));
  it('a capacity this build cannot hold: EINVAL', () => refused('capacity.pool', (b) => (b.writeDoubleLE(8 * 2 ** 30, 16), resealed(b)), 'EINVAL', /no longer fits/));
  it('metadata that gives a file a block outside the media: EBADMSG', async () => {
    await refused('pfn.pool', (b) => {
      const json = JSON.parse(b.subarray(52, 52 + b.readUInt32LE(32)).toString()) as { files: { blocks: number[][] }[] };
      json.files[0]!.blocks[0]![1] = 1 << 20;
      const text = Buffer.from(JSON.stringify(json));
      const out = Buffer.concat([b.subarray(0, 52), text, b.subarray(52 + b.readUInt32LE(32))]);
      out.writeUInt32LE(text.length, 32);
      out.writeDoubleLE(out.length, 40);
      return resealed(out);
    }, 'EBADMSG', /block 1048576, outside the media/);
  });
  it('a missing pool: ENOENT', async () => {
    await expect(openEmulator(join(dir, 'absent.pool'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(openEmulator('')).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('a save killed at any moment', () => {
  it('leaves the old pool or the new one, whole (5 seeded kill -9)', async () => {
    const path = join(dir, 'killed.pool');
    const saver = fileURLToPath(new URL('./fixtures/pool-saver.ts', import.meta.url));
    const rng = new Rng(2024);
    let generations = 0;
    for (let kill = 0; kill < 5; kill++) {
      const child = spawn(process.execPath, ['--import', 'tsx', saver, path], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`the saver exited (${code}) before its first save`)));
      });
      await new Promise((r) => setTimeout(r, 20 + rng.below(400)));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const emu = await openEmulator(path);
      const file = emu.open('/gen');
      const first = new Uint32Array(file.pread(0, 4).buffer)[0]!;
      for (let page = 0; page < 1024; page++) expect(new Uint32Array(file.pread(page * 4096, 4).slice().buffer)[0], `page ${page}`).toBe(first);
      expect(first).toBeGreaterThan(0);
      generations += first;
    }
    expect(generations).toBeGreaterThan(5);
  }, 90_000);
});
