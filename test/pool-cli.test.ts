// `daxemu pool info|check|create FILE`, run as a user would.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator } from '../src/emulator/index.js';
import { daxemu } from './cli-helpers.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daxemu-pool-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('daxemu pool', () => {
  it('create makes a pool with the options given, and info shows them and the files', async () => {
    const path = join(dir, 'new.pool');
    const made = await daxemu('pool', 'create', path, '--capacity', '32M', '--kernel', 'linux-6.1', '--preset', 'dram', '--seed', '9');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/a fresh 32 MiB dram device \(linux-6\.1\)/);
    const info = await daxemu('pool', 'info', path, '--json');
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ capacity: 32 << 20, chunks: 0, files: [], options: { kernel: 'linux-6.1', seed: 9 } });
  });

  it('info names each file with its committed blocks; check says the pool is whole', async () => {
    const emu = await createEmulator({ capacity: 16 << 20 });
    const f = emu.createFile('/log', { size: 1 << 20 });
    emu.mmap(f).store(0, new Uint8Array([1]));
    f.fsync();
    const path = join(dir, 'files.pool');
    await emu.save(path);
    const info = await daxemu('pool', 'info', path);
    expect(info.stdout).toMatch(/^ {2}\/log {2}1048576 bytes, 1 committed blocks$/m);
    expect(info.stdout).toMatch(/checksums: all good/);
    const check = await daxemu('pool', 'check', path);
    expect(check).toMatchObject({ code: 0 });
    expect(check.stdout).toMatch(/whole \(1 chunks, 1 files, every checksum good\)/);
  });

  it('check of a damaged pool exits 1 with the error and the byte', async () => {
    const emu = await createEmulator({ capacity: 8 << 20 });
    const d = emu.mmapDevice();
    d.ntstore(0, new Uint8Array([7]));
    emu.sfence();
    const path = join(dir, 'bad.pool');
    await emu.save(path);
    const bytes = await readFile(path);
    bytes[bytes.length - 1]! ^= 1;
    await writeFile(path, bytes);
    const check = await daxemu('pool', 'check', path);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/^daxemu: EBADMSG: .* at byte \d+: chunk 0 fails its checksum$/m);
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    expect(await daxemu('pool')).toMatchObject({ code: 2, stderr: expect.stringMatching(/expected `pool info\|check\|create FILE`/) });
    expect(await daxemu('pool', 'frob', 'x')).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown subcommand 'frob'/) });
    expect(await daxemu('pool', 'create', join(dir, 'x.pool'), '--capacity', '3X')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--capacity: expected a size/) });
    expect(await daxemu('pool', 'create', join(dir, 'y.pool'), '--kernel', 'linux-9')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--kernel: unknown 'linux-9'/) });
    expect(await daxemu('pool', 'info', join(dir, 'absent.pool'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/ENOENT/) });
  });
});
