// Every bad input is a typed error, with the state intact (issue item 3). Each public entry
// point is called with negative, fractional, NaN, infinite, huge and unaligned numbers and
// with values of the wrong type, after munmap, unlink and on a crash image. Each call must
// throw a PmemError with an errno code (not SIGBUS, not the EFAULT of a core trap) whose
// message names the argument, and leave the media, the undo copies (what a crash keeps), the
// clock and the counters as they were, with checkInvariants() holding.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPool, createEmulator, openEmulator, PmemError, type DaxFile, type DeviceMapping, type Emulator, type FileMapping } from '../src/index.js';

const MiB = 1 << 20;

/** Numbers no count, offset or length may be. */
const BAD_NUMBERS: unknown[] = [-1, -4096, 0.5, 4096.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 64, 1e300];
/** Numbers wrong only where 4 KiB alignment is asked for. */
const UNALIGNED: unknown[] = [1, 4095, 4097];
/** Values of the wrong type for a number. */
const NOT_NUMBERS: unknown[] = ['4096', null, {}, [], true, 10n, Symbol('n'), () => 0];
/** Values of the wrong type for bytes (a Uint8Array). */
const NOT_BYTES: unknown[] = ['abc', null, undefined, 7, [1, 2, 3], new Uint16Array(2), new ArrayBuffer(4), {}, Symbol('b')];
/** Values of the wrong type or value for a string argument. */
const NOT_STRINGS: unknown[] = ['', null, undefined, 7, {}, [], Symbol('s'), true];

const show = (v: unknown): string => (typeof v === 'symbol' ? v.toString() : typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? 'a function' : JSON.stringify(v) ?? String(v));

/** What must not change when a call is refused: the media, the undo copies, the clock of every CPU, the counters. */
function snapshot(emu: Emulator): string {
  const media = createHash('sha256').update(emu.core.mediaView()).digest('hex');
  const undo = JSON.stringify(emu.core.pmUndoList().map((u) => [u.line, u.state, u.cpu]));
  const cpu = emu.cpu;
  const clocks: number[] = [];
  for (let c = 0; c < 4; c++) {
    emu.cpu = c;
    clocks.push(emu.now());
  }
  emu.cpu = cpu;
  return `${media} ${undo} ${clocks.join(',')} ${JSON.stringify(emu.stats())}`;
}

/** The world a sweep calls into: an emulator with durable and dirty data, a file, mappings, a device window. */
interface World {
  emu: Emulator;
  f: DaxFile;
  m: FileMapping;
  d: DeviceMapping;
  deviceOffset: number;
  dir: string;
}

async function makeWorld(dir: string): Promise<World> {
  const emu = await createEmulator({ capacity: 4 * MiB, cacheBytes: 64 * 1024, seed: 5 });
  const f = emu.createFile('/f', { size: 64 * 1024 });
  const m = emu.mmap(f);
  m.store(100, new Uint8Array([1, 2, 3]));
  f.fsync();
  m.store(5000, new Uint8Array([4, 5])); // dirty, not durable
  const deviceOffset = emu.allocate(true) * 4096;
  const d = emu.mmapDevice({ offset: deviceOffset, length: 2 * MiB });
  d.store(64, new Uint8Array([9])); // dirty in the cache
  return { emu, f, m, d, deviceOffset, dir };
}

/** A crash image of a world, with its own handles: the same calls must be refused there too. */
async function crashWorld(w: World): Promise<World> {
  const emu = await w.emu.crash({ mode: 'guaranteed' });
  const f = emu.open('/f');
  const m = emu.mmap(f);
  m.store(5000, new Uint8Array([4, 5])); // dirty again, as in the world it came from
  const d = emu.mmapDevice({ offset: w.deviceOffset, length: 2 * MiB });
  return { emu, f, m, d, deviceOffset: w.deviceOffset, dir: w.dir };
}

/** One argument of one entry point: its name as the message must say it, and a call with `v` in its place. */
interface Slot {
  entry: string;
  arg: RegExp;
  values: unknown[];
  call: (w: World, v: unknown) => unknown;
}

const numeric = (aligned = false): unknown[] => [...BAD_NUMBERS, ...NOT_NUMBERS, ...(aligned ? UNALIGNED : [])];
/** For a field of an options object, where null, like undefined, asks for the default (`??`). */
const optional = (aligned = false): unknown[] => numeric(aligned).filter((v) => v !== null);
/** Counts that are an upper bound ("up to"): any integer is valid, however large. */
const notInteger: unknown[] = [...BAD_NUMBERS.filter((v) => !Number.isInteger(v) || (v as number) < 0), ...NOT_NUMBERS];
const u8 = new Uint8Array([7, 7]);
const any = (v: unknown): never => v as never;

const SLOTS: Slot[] = [
  // The hardware.
  { entry: 'emu.mmapDevice', arg: /offset|runs past/, values: optional(true), call: (w, v) => w.emu.mmapDevice({ offset: any(v), length: 4096 }) },
  { entry: 'emu.mmapDevice', arg: /length|runs past/, values: [...optional(true), 0, 16 * MiB], call: (w, v) => w.emu.mmapDevice({ offset: 0, length: any(v) }) },
  { entry: 'emu.cpu =', arg: /cpu/, values: [...numeric(), 64, 2 ** 31], call: (w, v) => (w.emu.cpu = any(v)) },
  { entry: 'emu.run', arg: /CommandBuilder|run/, values: [null, undefined, {}, [], 'store', 5], call: (w, v) => w.emu.run(any(v)) },
  { entry: 'emu.allocate', arg: /extent/, values: ['yes', 1, 0, null, {}, Symbol('e')], call: (w, v) => w.emu.allocate(any(v)) },
  { entry: 'emu.free', arg: /pfn|blocks/, values: [...numeric(), 2 ** 32 - 1], call: (w, v) => w.emu.free(any(v), 1) },
  { entry: 'emu.free', arg: /count|blocks/, values: [...numeric(), 0, 2 ** 32 - 1], call: (w, v) => w.emu.free(0, any(v)) },
  { entry: 'commands().store', arg: /address/, values: numeric(), call: (w, v) => w.emu.commands().store(any(v), u8) },
  { entry: 'commands().store', arg: /bytes/, values: NOT_BYTES, call: (w, v) => w.emu.commands().store(0, any(v)) },
  { entry: 'commands().ntstore', arg: /bytes/, values: NOT_BYTES, call: (w, v) => w.emu.commands().ntstore(0, any(v)) },
  { entry: 'commands().load', arg: /length/, values: numeric(), call: (w, v) => w.emu.commands().load(0, any(v)) },
  { entry: 'commands().clwb', arg: /address/, values: numeric(), call: (w, v) => w.emu.commands().clwb(any(v), 64) },
  { entry: 'commands().clflush', arg: /length/, values: numeric(), call: (w, v) => w.emu.commands().clflush(0, any(v)) },
  { entry: 'emu.run(store outside the media)', arg: /record 0|outside the media/, values: [2 ** 32 - 4, 4 * MiB], call: (w, v) => w.emu.run(w.emu.commands().store(any(v), u8)) },
  // Device mappings.
  ...(['store', 'ntstore'] as const).flatMap((op): Slot[] => [
    { entry: `d.${op}`, arg: /offset|outside/, values: numeric(), call: (w, v) => w.d[op](any(v), u8) },
    { entry: `d.${op}`, arg: /bytes/, values: NOT_BYTES, call: (w, v) => w.d[op](0, any(v)) },
  ]),
  ...(['load', 'clwb', 'clflushopt', 'clflush'] as const).flatMap((op): Slot[] => [
    { entry: `d.${op}`, arg: /offset|outside/, values: numeric(), call: (w, v) => w.d[op](any(v), 64) },
    { entry: `d.${op}`, arg: /length|outside/, values: [...numeric(), 2 * MiB + 1], call: (w, v) => w.d[op](0, any(v)) },
  ]),
  // Files.
  { entry: 'emu.createFile', arg: /path/, values: NOT_STRINGS, call: (w, v) => w.emu.createFile(any(v), { size: 4096 }) },
  { entry: 'emu.createFile', arg: /size|bytes/, values: optional(), call: (w, v) => w.emu.createFile('/new', { size: any(v) }) },
  { entry: 'emu.createFile', arg: /allocate/, values: ['all', 7, {}, Symbol('a'), true], call: (w, v) => w.emu.createFile('/new', { size: 4096, allocate: any(v) }) },
  { entry: 'emu.createFile', arg: /blocks|\/new/, values: [64 * MiB], call: (w, v) => w.emu.createFile('/new', { size: any(v), allocate: 'written' }) },
  { entry: 'emu.createFile', arg: /options/, values: [5, 'size'], call: (w, v) => w.emu.createFile('/new', any(v)) },
  { entry: 'emu.open', arg: /file|path/, values: NOT_STRINGS, call: (w, v) => w.emu.open(any(v)) },
  { entry: 'emu.unlink', arg: /file|path/, values: NOT_STRINGS, call: (w, v) => w.emu.unlink(any(v)) },
  { entry: 'f.pwrite', arg: /offset|bytes/, values: numeric(), call: (w, v) => w.f.pwrite(any(v), u8) },
  { entry: 'f.pwrite', arg: /bytes/, values: NOT_BYTES, call: (w, v) => w.f.pwrite(0, any(v)) },
  { entry: 'f.pread', arg: /offset|bytes/, values: numeric(), call: (w, v) => w.f.pread(any(v), 4) },
  { entry: 'f.pread', arg: /length|bytes/, values: numeric(), call: (w, v) => w.f.pread(0, any(v)) },
  { entry: 'f.truncate', arg: /size|bytes/, values: numeric(), call: (w, v) => w.f.truncate(any(v)) },
  { entry: 'f.punchHole', arg: /offset|bytes/, values: numeric(), call: (w, v) => w.f.punchHole(any(v), 4096) },
  { entry: 'f.punchHole', arg: /length|bytes/, values: numeric(), call: (w, v) => w.f.punchHole(0, any(v)) },
  // Mappings.
  { entry: 'emu.mmap', arg: /file/, values: [null, undefined, {}, '/f', 3], call: (w, v) => w.emu.mmap(any(v)) },
  { entry: 'emu.mmap', arg: /offset/, values: optional(true), call: (w, v) => w.emu.mmap(w.f, { offset: any(v), length: 4096 }) },
  { entry: 'emu.mmap', arg: /length|outside the user address space/, values: [...optional(true), 0], call: (w, v) => w.emu.mmap(w.f, { length: any(v) }) },
  { entry: 'emu.mmap', arg: /address|outside the user address space/, values: [...optional(true), 0, 2 ** 47], call: (w, v) => w.emu.mmap(w.f, { length: 4096, address: any(v) }) },
  { entry: 'emu.mmap', arg: /overlaps/, values: [0], call: (w) => w.emu.mmap(w.f, { length: 4096, address: w.m.address }) },
  { entry: 'emu.mmap', arg: /shared/, values: ['yes', 1, {}, Symbol('s')], call: (w, v) => w.emu.mmap(w.f, { length: 4096, shared: any(v) }) },
  { entry: 'emu.mmap', arg: /sync/, values: ['yes', 1, {}, Symbol('s')], call: (w, v) => w.emu.mmap(w.f, { length: 4096, sync: any(v) }) },
  { entry: 'emu.msync', arg: /address|not mapped/, values: numeric(true), call: (w, v) => w.emu.msync(any(v), 4096) },
  { entry: 'emu.msync', arg: /length/, values: notInteger, call: (w, v) => w.emu.msync(w.m.address, any(v)) },
  { entry: 'emu.reclaim', arg: /pages/, values: notInteger, call: (w, v) => w.emu.reclaim(any(v)) },
  ...(['store', 'ntstore'] as const).flatMap((op): Slot[] => [
    { entry: `m.${op}`, arg: /offset|outside/, values: numeric(), call: (w, v) => w.m[op](any(v), u8) },
    { entry: `m.${op}`, arg: /bytes/, values: NOT_BYTES, call: (w, v) => w.m[op](0, any(v)) },
  ]),
  ...(['load', 'clwb', 'clflushopt', 'clflush', 'msync'] as const).flatMap((op): Slot[] => [
    { entry: `m.${op}`, arg: /offset|outside/, values: numeric(), call: (w, v) => w.m[op](any(v), 64) },
    { entry: `m.${op}`, arg: /length|outside/, values: [...numeric(), 64 * 1024 + 1], call: (w, v) => w.m[op](0, any(v)) },
  ]),
  { entry: 'm.flush', arg: /kind/, values: [3, -1, 0.5, '2', null, Symbol('k')], call: (w, v) => w.m.flush(0, 64, any(v)) },
  { entry: 'm.fault', arg: /offset|outside/, values: numeric(), call: (w, v) => w.m.fault(any(v), 'write') },
  { entry: 'm.fault', arg: /kind/, values: ['execute', null, 1, Symbol('k')], call: (w, v) => w.m.fault(0, any(v)) },
  { entry: 'm.storeWouldFault', arg: /offset|outside/, values: numeric(), call: (w, v) => w.m.storeWouldFault(any(v)) },
  // Concurrent tasks.
  { entry: 'emu.runConcurrently', arg: /tasks/, values: [null, undefined, 5, 'fsync', {}], call: (w, v) => w.emu.runConcurrently(any(v)) },
  { entry: 'emu.runConcurrently', arg: /task 0/, values: [null, 5, 'x', {}, { fsync: null }, { fsync: '/f' }, { store: null }, { store: { mapping: null, offset: 0, bytes: u8 } }, { holdEntry: null }, { holdEntry: { file: null, pgoff: 0, then: 'unlock' } }], call: (w, v) => w.emu.runConcurrently([any(v)]) },
  { entry: 'emu.runConcurrently store', arg: /offset|bytes|outside/, values: [...numeric(), ...NOT_BYTES.map((b) => ({ bytes: b }))], call: (w, v) => w.emu.runConcurrently([{ store: typeof v === 'object' && v !== null && 'bytes' in v ? { mapping: w.m, offset: 0, bytes: any((v as { bytes: unknown }).bytes) } : { mapping: w.m, offset: any(v), bytes: u8 } }]) },
  { entry: 'emu.runConcurrently holdEntry', arg: /pgoff|entry/, values: [...numeric(), 9999], call: (w, v) => w.emu.runConcurrently([{ holdEntry: { file: w.f, pgoff: any(v), then: 'unlock' } }]) },
  { entry: 'emu.runConcurrently holdEntry', arg: /steps/, values: numeric(), call: (w, v) => w.emu.runConcurrently([{ holdEntry: { file: w.f, pgoff: 0, steps: any(v), then: 'unlock' } }]) },
  { entry: 'emu.runConcurrently holdEntry', arg: /then/, values: ['drop', null, 3], call: (w, v) => w.emu.runConcurrently([{ holdEntry: { file: w.f, pgoff: 0, then: any(v) } }]) },
  { entry: 'emu.runConcurrently', arg: /schedule/, values: [5, 'a', {}, [7], [-1], [0.5], [null]], call: (w, v) => w.emu.runConcurrently([{ fsync: w.f }], { schedule: any(v) }) },
  { entry: 'emu.runConcurrently', arg: /cpu/, values: [...numeric(), 64], call: (w, v) => w.emu.runConcurrently([{ fsync: w.f, cpu: any(v) }]) },
];

/** Async entry points: crash images, pool files, the emulator's options. */
const ASYNC_SLOTS: { entry: string; arg: RegExp; values: unknown[]; call: (w: World, v: unknown) => Promise<unknown> }[] = [
  { entry: 'emu.crash', arg: /mode/, values: ['lucky', 3, {}, Symbol('m')], call: (w, v) => w.emu.crash({ mode: any(v) }) },
  { entry: 'emu.crash', arg: /seed/, values: optional(), call: (w, v) => w.emu.crash({ mode: 'random', seed: any(v) }) },
  { entry: 'emu.save', arg: /path/, values: NOT_STRINGS, call: (w, v) => w.emu.save(any(v)) },
  { entry: 'emu.save', arg: /no-such-folder|path/, values: ['/'], call: (w) => w.emu.save(join(w.dir, 'no-such-folder', 'p.pool')) },
  { entry: 'openEmulator', arg: /path/, values: NOT_STRINGS, call: (_w, v) => openEmulator(any(v)) },
  { entry: 'openEmulator', arg: /missing\.pool/, values: ['missing'], call: (w) => openEmulator(join(w.dir, 'missing.pool')) },
  { entry: 'checkPool', arg: /path/, values: NOT_STRINGS, call: (_w, v) => checkPool(any(v)) },
  ...(['capacity', 'seed', 'cacheBytes'] as const).map((name) => ({
    entry: `createEmulator ${name}`, arg: new RegExp(name), values: optional(name !== 'seed'), call: (_w: World, v: unknown) => createEmulator({ [name]: any(v) }),
  })),
  ...(['build', 'kernel', 'flush', 'writeback', 'persistence', 'preset'] as const).map((name) => ({
    entry: `createEmulator ${name}`, arg: new RegExp(name === 'preset' ? 'preset|cost model' : name), values: ['bogus', 7, {}, Symbol('o')],
    call: (_w: World, v: unknown) => createEmulator({ [name]: any(v) }),
  })),
  { entry: 'createEmulator fixes', arg: /fix/, values: ['truncate-writeback', ['bogus'], [7], {}], call: (_w, v) => createEmulator({ fixes: any(v) }) },
  { entry: 'createEmulator', arg: /options/, values: [null, 5, 'x'], call: (_w, v) => createEmulator(any(v)) },
  // A misspelt option is refused, naming it, rather than left silently at its default.
  { entry: 'createEmulator', arg: /unknown option (cost|capactiy)/, values: ['cost', 'capactiy'], call: (_w, v) => createEmulator(any({ [String(v)]: 1 })) },
];

/** What is wrong with what a refused call threw (a PmemError with an errno code, no trap, naming the argument), or null. */
function refusalProblem(err: unknown, arg: RegExp): string | null {
  if (!(err instanceof PmemError)) return err === undefined ? 'returned' : `threw ${(err as Error)?.name}: ${(err as Error)?.message}`;
  if (err.code === 'SIGBUS' || !(err.errno > 0)) return `threw ${err.code}, not an errno`;
  if (/trapped/.test(err.message) || err.cause instanceof WebAssembly.RuntimeError) return `a core trap reached the user: ${err.message}`;
  if (!arg.test(err.message)) return `the message does not name the argument (${String(arg)}): ${err.message}`;
  return null;
}

/** Calls every slot with every value; returns the calls made and every problem found. */
async function sweep(w: World): Promise<{ calls: number; problems: string[] }> {
  const problems: string[] = [];
  let calls = 0;
  let before = snapshot(w.emu);
  const judge = (what: string, err: unknown, arg: RegExp): void => {
    const problem = refusalProblem(err, arg);
    if (problem) problems.push(`${what}: ${problem}`);
    const after = snapshot(w.emu);
    if (after !== before) problems.push(`${what}: changed the media, the undo copies, a clock or a counter`);
    try {
      w.emu.checkInvariants();
    } catch (e) {
      problems.push(`${what}: checkInvariants failed after it: ${(e as Error).message}`);
    }
    before = after;
    calls++;
  };
  for (const slot of SLOTS) {
    for (const v of slot.values) {
      let err: unknown;
      try {
        slot.call(w, v);
      } catch (e) {
        err = e;
      }
      judge(`${slot.entry}(${show(v)})`, err, slot.arg);
    }
  }
  for (const slot of ASYNC_SLOTS) {
    for (const v of slot.values) {
      let err: unknown;
      try {
        await slot.call(w, v);
      } catch (e) {
        err = e;
      }
      judge(`${slot.entry}(${show(v)})`, err, slot.arg);
    }
  }
  // The durable data is what it was: the fsync'd bytes survive a guaranteed crash, the dirty ones are still there.
  const image = await w.emu.crash({ mode: 'guaranteed' });
  expect(image.open('/f').pread(100, 3)).toEqual(new Uint8Array([1, 2, 3]));
  expect(w.m.load(5000, 2)).toEqual(new Uint8Array([4, 5]));
  return { calls, problems };
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daxemu-bad-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Calls on handles that are gone: after munmap, after unlink (no mapping left), on the crash image's predecessor's handles. */
function useAfter(w: World): string[] {
  const problems: string[] = [];
  const g = w.emu.createFile('/gone', { size: 8192 });
  const gm = w.emu.mmap(g);
  gm.store(0, new Uint8Array([1]));
  const dm = w.emu.mmapDevice({ offset: w.deviceOffset, length: 4096 });
  gm.munmap();
  dm.munmap();
  w.emu.unlink('/gone');
  const calls: [string, string, RegExp, () => unknown][] = [
    ...(['store', 'ntstore'] as const).map((op): [string, string, RegExp, () => unknown] => [`m.${op} after munmap`, 'EINVAL', /unmapped/, () => gm[op](0, u8)]),
    ...(['load', 'clwb', 'clflushopt', 'clflush', 'msync'] as const).map((op): [string, string, RegExp, () => unknown] => [`m.${op} after munmap`, 'EINVAL', /unmapped/, () => gm[op](0, 64)]),
    ['m.fault after munmap', 'EINVAL', /unmapped/, () => gm.fault(0, 'read')],
    ['m.munmap twice', 'EINVAL', /unmapped/, () => gm.munmap()],
    ...(['store', 'ntstore'] as const).map((op): [string, string, RegExp, () => unknown] => [`d.${op} after munmap`, 'EINVAL', /unmapped/, () => dm[op](0, u8)]),
    ...(['load', 'clwb', 'clflushopt', 'clflush'] as const).map((op): [string, string, RegExp, () => unknown] => [`d.${op} after munmap`, 'EINVAL', /unmapped/, () => dm[op](0, 64)]),
    ['d.munmap twice', 'EINVAL', /unmapped/, () => dm.munmap()],
    ['f.pwrite after unlink', 'EBADF', /unlinked/, () => g.pwrite(0, u8)],
    ['f.pread after unlink', 'EBADF', /unlinked/, () => g.pread(0, 1)],
    ['f.truncate after unlink', 'EBADF', /unlinked/, () => g.truncate(0)],
    ['f.punchHole after unlink', 'EBADF', /unlinked/, () => g.punchHole(0, 4096)],
    ['f.fsync after unlink', 'EBADF', /unlinked/, () => g.fsync()],
    ['f.fdatasync after unlink', 'EBADF', /unlinked/, () => g.fdatasync()],
    ['mmap after unlink', 'EBADF', /file/, () => w.emu.mmap(g)],
    ['unlink twice', 'ENOENT', /gone/, () => w.emu.unlink('/gone')],
    ['open after unlink', 'ENOENT', /gone/, () => w.emu.open('/gone')],
    ['runConcurrently fsync after unlink', 'EBADF', /unlinked/, () => w.emu.runConcurrently([{ fsync: g }])],
    ['runConcurrently store after munmap', 'EINVAL', /mapping/, () => w.emu.runConcurrently([{ store: { mapping: gm, offset: 0, bytes: u8 } }])],
  ];
  let before = snapshot(w.emu);
  for (const [what, code, names, call] of calls) {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    const problem = refusalProblem(err, names);
    if (problem) problems.push(`${what}: ${problem}`);
    else if ((err as PmemError).code !== code) problems.push(`${what}: ${(err as PmemError).code}, expected ${code}`);
    const after = snapshot(w.emu);
    if (after !== before) problems.push(`${what}: changed the media, the undo copies, a clock or a counter`);
    before = after;
  }
  w.emu.checkInvariants();
  return problems;
}

describe('every bad input is a typed error, with the state intact', () => {
  it('on a running emulator', async () => {
    const { calls, problems } = await sweep(await makeWorld(dir));
    expect(problems).toEqual([]);
    expect(calls).toBeGreaterThan(500);
  });

  it('on handles that are gone: after munmap and after unlink', async () => {
    expect(useAfter(await makeWorld(dir))).toEqual([]);
    expect(useAfter(await crashWorld(await makeWorld(dir)))).toEqual([]);
  });

  it('on a crash image', async () => {
    const { problems } = await sweep(await crashWorld(await makeWorld(dir)));
    expect(problems).toEqual([]);
  });
});
