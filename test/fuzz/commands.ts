/**
 * The fuzzer's vocabulary: an emulator configuration and the commands a sequence is made
 * of, as plain data, with their fast-check arbitraries. A command names its handles (file,
 * mapping, device mapping) by a number that the runner takes modulo the handles that exist
 * then, so any subsequence of a sequence is a sequence too: that is what lets fast-check
 * shrink a failure to a short one by deleting commands.
 */
import fc from 'fast-check';
import type { CrashMode, KernelProfile, PresetName } from '../../src/index.js';

export const MiB = 1 << 20;
/** Files stay below this many bytes (a whole PMD and part of the next), so two files and the device never fill the media. */
export const MAX_FILE = 3 * MiB;
/** Two names: with the mapped leftovers of unlinked files, at most four files hold blocks. */
export const PATHS = ['/a', '/b'] as const;
export const CAPACITY = 16 * MiB;

export interface FuzzConfig {
  kernel: KernelProfile;
  preset: PresetName;
  persistence: 'adr' | 'eadr';
  build: 'debug' | 'release';
  flush: 'clwb' | 'clflushopt' | 'clflush';
  writeback: 'kernel' | 'dirty-lines';
  truncateWriteback: boolean;
  seed: number;
  /** The emulated cache in lines: small caches make evictions (early write-backs) common. */
  cacheLines: number;
}

/** A concurrent task of a 'concurrent' command. */
export type TaskSpec =
  | { fsync: number }
  | { store: number; at: number; len: number; fill: number }
  | { hold: number; entry: number; steps: number; then: 'unlock' | 'punch' };

export type Command =
  | { op: 'create'; path: number; size: number; allocate: 'none' | 'unwritten' | 'written' }
  | { op: 'unlink'; path: number }
  | { op: 'mmap'; file: number; page: number; pages: number; shared: boolean; sync: boolean; misalign: boolean }
  | { op: 'munmap'; map: number }
  | { op: 'store' | 'ntstore'; map: number; at: number; len: number; fill: number }
  | { op: 'load'; map: number; at: number; len: number }
  | { op: 'flush'; map: number; at: number; len: number; kind: 0 | 1 | 2 }
  | { op: 'fault'; map: number; at: number; write: boolean }
  | { op: 'msync'; map: number; at: number; len: number; viaEmu: boolean; async: boolean }
  | { op: 'fsync'; file: number; data: boolean }
  | { op: 'sync' }
  | { op: 'pwrite'; file: number; at: number; len: number; fill: number }
  | { op: 'pread'; file: number; at: number; len: number }
  | { op: 'truncate'; file: number; size: number }
  | { op: 'punch'; file: number; at: number; len: number }
  | { op: 'fence'; full: boolean }
  | { op: 'cpu'; cpu: number }
  | { op: 'reclaim'; pages: number }
  | { op: 'dropCaches' }
  | { op: 'dev'; dev: number; kind: 'store' | 'ntstore' | 'load' | 'clwb' | 'clflushopt' | 'clflush'; at: number; len: number; fill: number }
  | { op: 'devMap' }
  | { op: 'devUnmap'; dev: number }
  | { op: 'devRun'; at: number; len: number; fill: number; flush: boolean; fence: boolean }
  | { op: 'concurrent'; tasks: TaskSpec[]; schedule: number[] }
  | { op: 'crash'; mode: CrashMode; seed: number; reboot: boolean }
  | { op: 'pool' };

/** Byte offsets that meet page and PMD boundaries often, and land anywhere otherwise. */
const offset = (max: number): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: 0, max }) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(0, 4096, 8192, MiB, 2 * MiB - 4096, 2 * MiB, 2 * MiB + 4096, MAX_FILE - 4096, MAX_FILE), fc.integer({ min: -70, max: 70 }))
        .map(([base, delta]) => Math.max(0, base + delta)),
    },
  );
const length = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 130 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9000 }) });
const handle = fc.integer({ min: 0, max: 7 });
const fill = fc.integer({ min: 0, max: 255 });
const pageCount = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom(512, 513, 768, 769), fc.integer({ min: 1, max: 800 }));

export const configArb: fc.Arbitrary<FuzzConfig> = fc
  .record({
    kernel: fc.constantFrom<KernelProfile>('linux-6.12', 'linux-6.1', 'linux-4.5'),
    preset: fc.constantFrom<PresetName>('optane-g1', 'optane-g1-6dimm', 'dram', 'cxl', 'nvdimm-n'),
    persistence: fc.constantFrom<'adr' | 'eadr'>('adr', 'adr', 'eadr'),
    build: fc.constantFrom<'debug' | 'release'>('debug', 'release'),
    flush: fc.constantFrom<'clwb' | 'clflushopt' | 'clflush'>('clwb', 'clflushopt', 'clflush'),
    writeback: fc.constantFrom<'kernel' | 'dirty-lines'>('kernel', 'dirty-lines'),
    truncateWriteback: fc.boolean(),
    seed: fc.integer({ min: 0, max: 0xffff }),
    cacheLines: fc.constantFrom(16, 256, 4096),
  })
  // The fix 'truncate-writeback' is for the XArray era only (src/dax/fixes.ts).
  .map((c) => ({ ...c, truncateWriteback: c.truncateWriteback && c.kernel !== 'linux-4.5' }));

const taskArb: fc.Arbitrary<TaskSpec> = fc.oneof(
  fc.record({ fsync: handle }),
  fc.record({ store: handle, at: offset(MAX_FILE), len: length, fill }),
  fc.record({ hold: handle, entry: fc.nat(20), steps: fc.integer({ min: 0, max: 3 }), then: fc.constantFrom<'unlock' | 'punch'>('unlock', 'punch') }),
);

const devMapArb = fc.constant({ op: 'devMap' as const });
const createArb = fc.record({ op: fc.constant('create' as const), path: fc.nat(1), size: offset(MAX_FILE), allocate: fc.constantFrom<'none' | 'unwritten' | 'written'>('none', 'none', 'unwritten', 'written') });
const mmapArb = fc.record({
  op: fc.constant('mmap' as const), file: handle, page: fc.oneof(fc.constant(0), fc.constant(0), fc.constantFrom(1, 511, 512), fc.nat(800)), pages: pageCount,
  shared: fc.constantFrom(true, true, true, false), sync: fc.boolean(), misalign: fc.constantFrom(false, false, true),
});

export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: createArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unlink' as const), path: fc.nat(1) }) },
  { weight: 4, arbitrary: mmapArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('munmap' as const), map: handle }) },
  { weight: 10, arbitrary: fc.record({ op: fc.constantFrom('store' as const, 'store' as const, 'ntstore' as const), map: handle, at: offset(MAX_FILE + 8192), len: length, fill }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('load' as const), map: handle, at: offset(MAX_FILE + 8192), len: length }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flush' as const), map: handle, at: offset(MAX_FILE + 8192), len: length, kind: fc.constantFrom<0 | 1 | 2>(0, 1, 2) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fault' as const), map: handle, at: offset(MAX_FILE + 8192), write: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('msync' as const), map: handle, at: offset(MAX_FILE), len: fc.oneof(length, fc.constant(MAX_FILE)), viaEmu: fc.boolean(), async: fc.constantFrom(false, false, false, true) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('fsync' as const), file: handle, data: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'sync' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('pwrite' as const), file: handle, at: offset(MAX_FILE), len: length, fill }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pread' as const), file: handle, at: offset(MAX_FILE), len: length }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), file: handle, size: offset(MAX_FILE) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('punch' as const), file: handle, at: offset(MAX_FILE), len: fc.oneof(length, fc.integer({ min: 4096, max: 3 * MiB })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fence' as const), full: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cpu' as const), cpu: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reclaim' as const), pages: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'dropCaches' as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('dev' as const), dev: handle, kind: fc.constantFrom('store' as const, 'store' as const, 'ntstore' as const, 'load' as const, 'clwb' as const, 'clflushopt' as const, 'clflush' as const), at: fc.nat(2 * MiB), len: length, fill }) },
  { weight: 1, arbitrary: devMapArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('devUnmap' as const), dev: handle }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('devRun' as const), at: fc.nat(2 * MiB - 9000), len: length, fill, flush: fc.boolean(), fence: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('concurrent' as const), tasks: fc.array(taskArb, { minLength: 1, maxLength: 3 }), schedule: fc.array(fc.nat(2), { maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('crash' as const), mode: fc.constantFrom<CrashMode>('guaranteed', 'random', 'adversarial'), seed: fc.nat(1000), reboot: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'pool' as const }) },
);

/**
 * A configuration and a sequence that starts by creating a file and mapping it (so that the
 * rest has handles to work on), then any commands.
 */
export const sequenceArb = (maxLength: number): fc.Arbitrary<[FuzzConfig, Command[]]> =>
  fc
    .tuple(configArb, createArb, mmapArb, fc.array(fc.oneof(createArb, mmapArb, devMapArb), { maxLength: 3 }), fc.array(commandArb, { minLength: 1, maxLength, size: 'max' }))
    .map(([config, create, mmap, setup, body]) => [config, [create, mmap, ...setup, ...body]]);

/** The bytes a store of `fill` puts down: distinct from one offset to the next, so a misplaced byte shows. */
export function pattern(fill: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (fill + i * 7) & 255;
  return out;
}
