// The explorer's controls and session without a page (examples/explorer): each control
// checks its fields before it calls the emulator, shows the emulator's own code when the
// emulator refuses, and leaves the state the emulator has; the trace comes out in the
// kernel's text format.
import { describe, expect, it } from 'vitest';
import { runControl } from '../examples/explorer/controls.js';
import { FieldError, parseBytes, parseCount } from '../examples/explorer/fields.js';
import { cHex, ftraceLine } from '../examples/explorer/ftrace.js';
import { Session } from '../examples/explorer/session.js';
import { lineClass, lineStates } from '../examples/explorer/lines-view.js';
import { flagNames, parseDump } from '../examples/explorer/tree-view.js';
import { DAX_LOCKED, DAX_PMD, daxMkEntry } from '../src/index.js';

const start = () => Session.create({ capacity: 16 << 20, kernel: 'linux-6.12', preset: 'optane-g1', seed: 1 });

describe('explorer fields', () => {
  it('reads counts in decimal, hex and K/M/G, and refuses the rest with the field named', () => {
    expect(parseCount('size', '4M')).toBe(4 << 20);
    expect(parseCount('offset', '0x1000')).toBe(4096);
    expect(parseCount('n', '12')).toBe(12);
    expect(() => parseCount('offset', 'abc')).toThrow(/^offset: expected an integer/);
    expect(() => parseCount('offset', '-1')).toThrow(FieldError);
    expect(() => parseCount('pages', '10', 0, 5)).toThrow(/pages: expected a value in \[0, 5\]/);
    expect([...parseBytes('bytes', 'de ad BE ef')]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(() => parseBytes('bytes', 'abc')).toThrow(/hex pairs/);
  });
});

describe('explorer session', () => {
  it('runs a PMD write fault, a msync and a truncate, and shows SIGBUS past the new end', async () => {
    const s = await start();
    expect((await runControl(s, 'create', { size: '4M' })).ok).toBe(true);
    await runControl(s, 'mmap');
    await runControl(s, 'store', { offset: '0x1000', bytes: '01 02' });
    await runControl(s, 'store', { offset: '0x200000', bytes: '03' });
    expect(s.file!.entries().map((e) => [e.index, e.order, e.dirty])).toEqual([[0, 9, true], [512, 9, true]]);
    expect(s.mapping!.mapping.pt.pmds.size).toBe(2);
    expect((await runControl(s, 'msync', { length: '4M' })).ok).toBe(true);
    expect(s.lastReport).toMatchObject({ entries: 2, pmdEntries: 2, lines: 65536, dirtyLines: 2 });
    expect(s.file!.entries().every((e) => !e.dirty)).toBe(true);
    await runControl(s, 'truncate', { size: '2M' });
    expect(s.file!.entries().map((e) => e.index)).toEqual([0]);
    const refused = await runControl(s, 'store', { offset: '0x200000' });
    expect(refused).toMatchObject({ ok: false, code: 'SIGBUS' });
    expect(refused.message).toMatch(/beyond the end of \/data/);
    expect(s.file!.entries().map((e) => e.index)).toEqual([0]); // the state the emulator has
    const trace = s.traceLines.join('\n');
    expect(trace).toContain('dax_pmd_fault: dev 259:0 ino 0xc shared WRITE|ALLOW_RETRY|KILLABLE|USER|INTERRUPTIBLE address 0x7f0000001000 vm_start 0x7f0000000000 vm_end 0x7f0000400000 pgoff 0x1 max_pgoff 0x400 ');
    // The PMD path never reports MAJOR (fs/dax.c dax_iomap_pmd_fault).
    expect(trace).toMatch(/dax_pmd_fault_done: dev 259:0 ino 0xc shared WRITE\|\S+ address 0x7f0000001000 .* NOPAGE$/m);
    expect(trace).toContain('dax_writeback_range: dev 259:0 ino 0xc pgoff 0-0x3ff');
    expect(trace).toContain('dax_writeback_one: dev 259:0 ino 0xc pgoff 0x200 pglen 0x200');
    expect(trace).toMatch(/dax_pmd_fault_done: .* address 0x7f0000200000 .* pgoff 0x200 max_pgoff 0x200 SIGBUS$/m);
  });

  it('checks fields before the emulator is called, and shows the emulator\'s own codes', async () => {
    const s = await start();
    const noMapping = await runControl(s, 'store');
    expect(noMapping).toMatchObject({ ok: false, code: 'EINVAL', message: 'mapping: no mapping yet: mmap a file first' });
    expect(await runControl(s, 'create', { size: 'lots' })).toMatchObject({ ok: false, code: 'EINVAL', message: expect.stringMatching(/^size: expected an integer/) });
    expect(s.files.size).toBe(0);
    // 32 MiB written on 16 MiB of media: the emulator's ENOSPC, and no file is left behind.
    const full = await runControl(s, 'create', { size: '32M', allocate: 'written' });
    expect(full).toMatchObject({ ok: false, code: 'ENOSPC' });
    expect(s.files.size).toBe(0);
    await runControl(s, 'create', { size: '8K' });
    // An offset that is not page-aligned: the emulator's EINVAL with its message.
    expect(await runControl(s, 'mmap', { offset: '100' })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(s.mappings).toEqual([]);
    expect(await runControl(s, 'store', { mapping: '7' })).toMatchObject({ ok: false, code: 'EINVAL', message: 'mapping: no mapping #7 in this session' });
    expect(s.traceLines).toEqual([]);
  });

  it('load shows the bytes; punch and reclaim change the tree as the emulator does', async () => {
    const s = await start();
    await runControl(s, 'create', { size: '64K' });
    await runControl(s, 'mmap');
    await runControl(s, 'store', { offset: '0x2000', bytes: 'ca fe' });
    expect(await runControl(s, 'load', { offset: '0x2000', length: '3' })).toMatchObject({ ok: true, result: 'ca fe 00' });
    await runControl(s, 'store', { offset: '0x3000', bytes: '01' });
    expect(s.file!.entries().map((e) => e.index)).toEqual([2, 3]);
    await runControl(s, 'punch', { offset: '0x2000', length: '4K' });
    expect(s.file!.entries().map((e) => e.index)).toEqual([3]);
    expect(await runControl(s, 'punch', { offset: '0x2000', length: '4x' })).toMatchObject({ ok: false, code: 'EINVAL', message: expect.stringMatching(/^length:/) });
    // Reclaim never evicts a DAX entry, dirty or clean.
    await runControl(s, 'msync', { length: '64K' });
    expect(await runControl(s, 'reclaim', { pages: '512' })).toMatchObject({ ok: true, result: '0' });
    expect(s.file!.entries().map((e) => e.index)).toEqual([3]);
    // linux-4.5 reads a hole through a page-cache page, which reclaim does evict.
    await runControl(s, 'session', { kernel: 'linux-4.5' });
    await runControl(s, 'create', { size: '64K' });
    await runControl(s, 'mmap');
    await runControl(s, 'load', { offset: '0x1000', length: '1' });
    expect(s.file!.entries().map((e) => [e.index, e.kind])).toEqual([[1, 'holepage']]);
    expect(await runControl(s, 'reclaim', { pages: '512' })).toMatchObject({ ok: true, result: '1' });
    expect(s.file!.entries()).toEqual([]);
  });

  it('crash boots the image: files by name with their committed blocks, no mapping, the clock at 0', async () => {
    const s = await start();
    await runControl(s, 'create', { size: '4M' });
    await runControl(s, 'mmap');
    await runControl(s, 'store', { offset: '0', bytes: 'aa' });
    await runControl(s, 'msync');
    await runControl(s, 'store', { offset: '0x40', bytes: 'bb' });
    const before = s.emu;
    expect((await runControl(s, 'crash', { mode: 'guaranteed' })).ok).toBe(true);
    expect(s.emu).not.toBe(before);
    expect(s.mappings).toEqual([]);
    expect(s.emu.now()).toBe(0);
    expect([...s.fileAt('/data').pread(0, 1), ...s.fileAt('/data').pread(0x40, 1)]).toEqual([0xaa, 0]);
    expect(await runControl(s, 'crash', { mode: 'sideways' })).toMatchObject({ ok: false, code: 'EINVAL', message: expect.stringMatching(/^mode: expected one of guaranteed/) });
  });

  it('a new session takes the kernel profile and the preset', async () => {
    const s = await start();
    await runControl(s, 'create');
    expect((await runControl(s, 'session', { kernel: 'linux-4.5', preset: 'optane-g1' })).ok).toBe(true);
    expect(s.emu.options.kernel).toBe('linux-4.5');
    expect(s.files.size).toBe(0);
    expect(await runControl(s, 'session', { kernel: 'linux-2.6' })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(s.emu.options.kernel).toBe('linux-4.5');
  });
});

describe('explorer views', () => {
  it('reads the core\'s tree dump into nodes and entries', async () => {
    const s = await start();
    await runControl(s, 'create', { size: '4M' });
    await runControl(s, 'mmap');
    await runControl(s, 'store', { offset: '0x200000' });
    const records = parseDump(s.emu.core.dump(s.file!.tree));
    expect(records[0]).toMatchObject({ kind: 'node', depth: 0, shift: 6, from: 0 });
    expect(records[1]).toMatchObject({ kind: 'entry', depth: 1, offset: 8, index: 512, order: 9, marks: ['DIRTY'] });
  });

  it('reads an entry\'s line states in one copy, each what pmLineState says', async () => {
    const s = await start();
    await runControl(s, 'create', { size: '4M' });
    await runControl(s, 'mmap');
    await runControl(s, 'store', { offset: '0x1000', bytes: '01' });
    await runControl(s, 'flush', { offset: '0x1000', length: '64' });
    await runControl(s, 'store', { offset: '0x1040', bytes: '02' });
    const states = lineStates(s.emu, 0, 32768);
    expect([...states].map((_, i) => s.emu.core.pmLineState(i))).toEqual([...states]);
    expect([lineClass(states[64]!), lineClass(states[65]!), lineClass(states[66]!)]).toEqual(['flushed', 'dirty', 'durable']);
  });

  it('names the DAX flags and the line classes', () => {
    expect(flagNames(daxMkEntry(5, DAX_PMD | DAX_LOCKED))).toBe('LOCKED|PMD');
    expect(flagNames(daxMkEntry(5, 0))).toBe('-');
    expect([lineClass(1 | 4 | 8), lineClass(2 | 8), lineClass(4), lineClass(1 | 4)]).toEqual(['dirty', 'flushed', 'durable', 'durable']);
  });

  it('prints numbers as %#lx does, and the ftrace prefix', () => {
    expect([cHex(0), cHex(255)]).toEqual(['0', '0xff']);
    const ctx = { ino: 12, maxPgoff: 1024, entryWord: 0, ns: 1_234_567_890, cpu: 1, interruptible: false };
    expect(ftraceLine({ name: 'dax_writeback_one', pgoff: 512, pglen: 512 }, ctx)).toBe('          daxemu-1       [001] .....     1.234567: dax_writeback_one: dev 259:0 ino 0xc pgoff 0x200 pglen 0x200');
  });
});
