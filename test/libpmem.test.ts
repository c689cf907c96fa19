// The libpmem layer (src/libpmem/): the functions PMDK would choose, the copy paths with
// their PMEM_F_MEM_* flags and non-temporal threshold, and what survives a crash.
import { describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import {
  choosePmemFuncs, PMEM_FILE_CREATE, PMEM_FILE_EXCL, PMEM_F_MEM_NODRAIN, PMEM_F_MEM_NOFLUSH, PMEM_F_MEM_NONTEMPORAL, PMEM_F_MEM_TEMPORAL, PMEM_MOVNT_THRESHOLD, pmemInit,
} from '../src/libpmem/index.js';

const MiB = 1 << 20;

async function setup(options: Parameters<typeof createEmulator>[0] = {}): Promise<{ emu: Emulator; lib: ReturnType<typeof pmemInit>; addr: number }> {
  const emu = await createEmulator({ capacity: 16 * MiB, ...options });
  const lib = pmemInit(emu);
  const { addr } = lib.pmem_map_file('/pool', 2 * MiB, PMEM_FILE_CREATE, 0o666);
  return { emu, lib, addr };
}

/** The counters a call moved. */
function delta(emu: Emulator, call: () => void): Record<string, number> {
  const a = emu.stats();
  call();
  const b = emu.stats();
  return { stores: b.stores - a.stores, ntBytes: b.ntBytes - a.ntBytes, clwb: b.clwb.dirty + b.clwb.clean - a.clwb.dirty - a.clwb.clean, sfences: b.sfences - a.sfences, storeBytes: b.storeBytes - a.storeBytes };
}

describe('choosePmemFuncs: the choices of PMDK init.c', () => {
  it('clwb, then clflushopt, then clflush as instructions are taken away; eADR empties the flush', () => {
    expect(choosePmemFuncs('adr')).toEqual({ flush: 'clwb', flushIsEmpty: false, movntThreshold: 256 });
    expect(choosePmemFuncs('adr', { noClwb: true }).flush).toBe('clflushopt');
    expect(choosePmemFuncs('adr', { noClwb: true, noClflushopt: true }).flush).toBe('clflush');
    expect(choosePmemFuncs('eadr').flushIsEmpty).toBe(true);
    expect(choosePmemFuncs('adr', { noMovnt: true }).movntThreshold).toBe(Infinity);
    expect(PMEM_MOVNT_THRESHOLD).toBe(256);
    expect(() => choosePmemFuncs('adr', { movntThreshold: -1 })).toThrow(/EINVAL: pmem: movntThreshold/);
  });
});

describe('libpmem over the emulator', () => {
  it('pmem_map_file maps MAP_SYNC where the kernel has it (is_pmem), a plain shared map where not', async () => {
    const { lib, addr } = await setup();
    expect(lib.pmem_is_pmem(addr, 2 * MiB)).toBe(true);
    expect(lib.pmem_is_pmem(addr, 2 * MiB + 1)).toBe(false);
    const old = await setup({ kernel: 'linux-4.5' });
    expect(old.lib.pmem_is_pmem(old.addr, 4096)).toBe(false);
    expect(() => lib.pmem_map_file('/pool', 4096, PMEM_FILE_CREATE | PMEM_FILE_EXCL)).toThrow(/EEXIST/);
    expect(lib.pmem_map_file('/pool', 0, 0).mappedLen).toBe(2 * MiB);
  });

  it('a short copy is stores, a clwb of each line and one sfence', async () => {
    const { emu, lib, addr } = await setup();
    lib.pmem_memcpy_persist(addr + 40, new Uint8Array(100).fill(1)); // fault first, outside the count
    expect(delta(emu, () => lib.pmem_memcpy_persist(addr + 40, new Uint8Array(100).fill(7)))).toEqual({ stores: 1, ntBytes: 0, clwb: 3, sfences: 1, storeBytes: 100 });
  });

  it('a copy of 256 bytes or more: head and tail stored and flushed, the aligned middle non-temporal', async () => {
    const { emu, lib, addr } = await setup();
    lib.pmem_memset_persist(addr, 0, 4096);
    expect(delta(emu, () => lib.pmem_memcpy_persist(addr + 10, new Uint8Array(300).fill(9)))).toEqual({ stores: 2, ntBytes: 192, clwb: 2, sfences: 1, storeBytes: 108 });
    expect([...lib.read('t', addr + 8, 4)]).toEqual([0, 0, 9, 9]);
  });

  it('the flags: NONTEMPORAL and TEMPORAL override the threshold, NOFLUSH and NODRAIN skip their step', async () => {
    const { emu, lib, addr } = await setup();
    lib.pmem_memset_persist(addr, 0, 8192);
    expect(delta(emu, () => lib.pmem_memcpy(addr, new Uint8Array(64), PMEM_F_MEM_NONTEMPORAL)).ntBytes).toBe(64);
    expect(delta(emu, () => lib.pmem_memcpy(addr, new Uint8Array(4096), PMEM_F_MEM_TEMPORAL))).toMatchObject({ ntBytes: 0, clwb: 64 });
    expect(delta(emu, () => lib.pmem_memset(addr, 1, 64, PMEM_F_MEM_NOFLUSH))).toMatchObject({ clwb: 0, sfences: 1 });
    expect(delta(emu, () => lib.pmem_memset(addr, 1, 64, PMEM_F_MEM_NODRAIN))).toMatchObject({ clwb: 1, sfences: 0 });
    expect(() => lib.pmem_memcpy(addr, new Uint8Array(1), 1 << 9)).toThrow(/EINVAL: pmem_memcpy: flags/);
  });

  it('persisted bytes survive a crash; bytes only stored do not', async () => {
    const { emu, lib, addr } = await setup();
    lib.pmem_memcpy_persist(addr, new TextEncoder().encode('durable'));
    lib.pmem_memcpy(addr + 4096, new TextEncoder().encode('lost'), PMEM_F_MEM_NOFLUSH | PMEM_F_MEM_NODRAIN);
    const image = await emu.crash();
    const after = pmemInit(image);
    const m = after.pmem_map_file('/pool', 0, 0);
    expect(new TextDecoder().decode(after.read('t', m.addr, 7))).toBe('durable');
    expect([...after.read('t', m.addr + 4096, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('under eADR pmem_persist issues no flush, only the fence, and the bytes survive', async () => {
    const { emu, lib, addr } = await setup({ persistence: 'eadr' });
    expect(lib.pmem_has_auto_flush()).toBe(1);
    lib.pmem_memset_persist(addr, 0, 64);
    const d = delta(emu, () => {
      lib.pmem_memcpy_persist(addr, new Uint8Array([5, 6]));
      lib.pmem_persist(addr, 64);
    });
    expect(d).toMatchObject({ clwb: 0, sfences: 2 });
    const image = await emu.crash();
    expect([...pmemInit(image).pmem_map_file('/pool', 0, 0) && image.mmap(image.open('/pool')).load(0, 2)]).toEqual([5, 6]);
  });

  it('pmem_msync writes back a plain shared map (linux-4.5)', async () => {
    const { emu, lib, addr } = await setup({ kernel: 'linux-4.5' });
    lib.pmem_memcpy(addr + 100, new Uint8Array(8).fill(3), PMEM_F_MEM_NOFLUSH | PMEM_F_MEM_NODRAIN);
    expect(lib.pmem_msync(addr + 100, 8)).toBe(0);
    expect(emu.stats().dax.writebackCalls).toBe(1);
    const image = await emu.crash();
    expect([...image.mmap(image.open('/pool')).load(100, 8)]).toEqual(new Array(8).fill(3));
  });

  it('a range outside its maps is refused with EFAULT and changes nothing', async () => {
    const { emu, lib, addr } = await setup();
    const before = emu.stats();
    expect(() => lib.pmem_persist(addr + 2 * MiB - 8, 16)).toThrow(/EFAULT: pmem_flush: \[/);
    expect(() => lib.pmem_memcpy_persist(addr - 1, new Uint8Array(4))).toThrow(/EFAULT/);
    expect(() => lib.pmem_memset_persist(addr, 0, -1)).toThrow(/EINVAL: pmem_memset: len/);
    expect(emu.stats()).toEqual(before);
  });
});
