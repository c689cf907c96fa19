// Defects a hostile run found (issue notes D1-D3 and the smaller ones), each kept as a
// regression test that names the rule the fix follows.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import { MAX_FILE_BYTES } from '../src/dax/file.js';
import type { KernelProfile } from '../src/dax/index.js';
import { expectCode } from './helpers.js';

const MiB = 1 << 20;

/** Media, clock and counters, to hold a refused call to "changes nothing". */
function snapshot(emu: Emulator): { media: string; now: number; stats: string } {
  return { media: Buffer.from(emu.core.mediaView()).toString('base64'), now: emu.now(), stats: JSON.stringify(emu.stats()) };
}

describe('D1: a hole punched inside a dirty PMD entry', () => {
  // The kernel writes the range back before punching (xfs_flush_unmap_range,
  // fs/xfs/xfs_bmap_util.c; ext4_punch_hole, fs/ext4/inode.c; v6.1, v6.12).
  for (const kernel of ['linux-6.12', 'linux-6.1'] as KernelProfile[]) {
    for (const hole of [3 << 20, 2 << 20]) {
      it(`${kernel}: punching ${hole / MiB} MiB + 4 KiB keeps the fsync'd store outside the hole (write back before punch)`, async () => {
        const emu = await createEmulator({ capacity: 32 * MiB, kernel });
        const f = emu.createFile('/f', { size: 4 * MiB });
        const m = emu.mmap(f);
        const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
        m.store(3697302, bytes);
        expect(f.entries().find((e) => e.index === 512)).toMatchObject({ order: 9, dirty: true });
        f.punchHole(hole, 4096);
        f.fsync();
        const image = await emu.crash({ mode: 'guaranteed' });
        expect(image.open('/f').pread(3697302, 8)).toEqual(bytes);
        expect(m.load(3697302, 8)).toEqual(bytes);
        emu.checkInvariants();
      });
    }
  }

  it('linux-4.5: the punch deletes the dirty entry unwritten, the kernel\'s own loss (ext4 before v4.9)', async () => {
    // "ext4: allow DAX writeback for hole punch" came in v4.9: ext4_punch_hole of v4.5 looked
    // for dirty page-cache pages only, so a DAX entry's stores were lost with it.
    const emu = await createEmulator({ capacity: 32 * MiB, kernel: 'linux-4.5' });
    const f = emu.createFile('/f', { size: 4 * MiB });
    const m = emu.mmap(f);
    m.store(2 * MiB + 100, new Uint8Array([9]));
    f.punchHole(2 * MiB, 4096); // the PMD entry sits at its aligned index, inside the hole
    f.fsync();
    const image = await emu.crash({ mode: 'guaranteed' });
    expect(image.open('/f').pread(2 * MiB + 100, 1)).toEqual(new Uint8Array([0]));
  });
});

describe('D2: a createFile refused for ENOSPC leaves no trace', () => {
  it('the media it would zero, the clock and the counters are as before the call', async () => {
    const emu = await createEmulator({ capacity: 16 * MiB });
    const d = emu.mmapDevice();
    d.ntstore(8 * MiB, new Uint8Array(4096).fill(0xee)); // data in free blocks
    emu.sfence();
    const before = snapshot(emu);
    const free = emu.freeBlocks();
    expectCode(() => emu.createFile('/big', { size: 64 * MiB, allocate: 'written' }), 'ENOSPC');
    expect(snapshot(emu)).toEqual(before);
    expect(emu.freeBlocks()).toBe(free);
    expectCode(() => emu.open('/big'), 'ENOENT');
    const image = await emu.crash({ mode: 'guaranteed' });
    expect(image.mmapDevice().load(8 * MiB, 4)).toEqual(new Uint8Array(4).fill(0xee));
  });
});

describe('D3: file sizes and I/O lengths are bounded', () => {
  it('sizes past 2^32 pages (16 TiB, s_maxbytes here) are EFBIG, and nothing changes', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    expectCode(() => emu.createFile('/a', { size: 2 ** 53 }), 'EFBIG');
    expectCode(() => emu.createFile('/b', { size: MAX_FILE_BYTES + 1 }), 'EFBIG');
    const f = emu.createFile('/c', { size: 4096 });
    expectCode(() => f.truncate(2 ** 53), 'EFBIG');
    expectCode(() => f.pwrite(MAX_FILE_BYTES, new Uint8Array(1)), 'EFBIG');
    expect(f.size).toBe(4096);
    const big = emu.createFile('/max', { size: MAX_FILE_BYTES });
    expect(big.pages).toBe(2 ** 32);
    emu.checkInvariants();
  });

  it('a read longer than one call moves is EINVAL naming the limit, not a RangeError', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const f = emu.createFile('/f', { size: 2 ** 42 });
    let caught: unknown;
    try {
      f.pread(0, 2 ** 40);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: 'PmemError', code: 'EINVAL' });
    expect((caught as Error).message).toMatch(/more than one call moves/);
  });
});

describe('smaller defects', () => {
  it('mmap outside the user address space is EINVAL: address 0, 2^60', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    const f = emu.createFile('/f', { size: 1 * MiB });
    expectCode(() => emu.mmap(f, { address: 0 }), 'EINVAL');
    expectCode(() => emu.mmap(f, { address: 2 ** 60 }), 'EINVAL');
    expectCode(() => emu.mmap(f, { address: 2 ** 47 - 4096 }), 'EINVAL'); // ends past TASK_SIZE
    expect(emu.mmap(f, { address: 0x10000 }).address).toBe(0x10000);
  });

  it('runConcurrently with null or a non-object task is EINVAL, not a TypeError', async () => {
    const emu = await createEmulator({ capacity: 8 * MiB });
    expectCode(() => emu.runConcurrently(null as never), 'EINVAL');
    expectCode(() => emu.runConcurrently([null as never]), 'EINVAL');
    expectCode(() => emu.runConcurrently([], { schedule: 3 as never }), 'EINVAL');
  });

  it('a store that crosses the end of the file writes the bytes before it, then SIGBUS, as hardware does', async () => {
    // src/base/errors.ts: SIGBUS is a fault the access took, not a refused call.
    const emu = await createEmulator({ capacity: 8 * MiB });
    const f = emu.createFile('/f', { size: 4096 });
    const m = emu.mmap(f, { length: 8192 });
    expectCode(() => m.store(4094, new Uint8Array([1, 2, 3, 4])), 'SIGBUS');
    expect(m.load(4094, 2)).toEqual(new Uint8Array([1, 2]));
    expect(emu.stats().dax.sigbus).toBe(1);
    emu.checkInvariants();
  });
});
