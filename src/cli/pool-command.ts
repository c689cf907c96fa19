/**
 * `daxemu pool info|check|create FILE`: pool files from the command line. info prints what a
 * pool holds (after checking all of it), check says whether it is whole, create saves a
 * fresh emulator with the options given.
 */
import { KERNEL_PROFILES, type KernelProfile } from '../dax/index.js';
import { checkPool, createEmulator, type PoolInfo } from '../emulator/index.js';
import { PRESET_NAMES, type PresetName } from '../hw/index.js';
import { UsageError } from './args.js';

const MiB = 2 ** 20;

/** What the pool command needs of the parsed command line. */
export interface PoolArgs {
  /** The positionals after `pool`: the subcommand and the file. */
  positionals: readonly string[];
  json: boolean;
  capacity?: string;
  kernel?: string;
  preset?: string;
  seed: number;
}

/** "64M", "2G", "1048576": bytes, with an optional binary K, M or G. */
export function parseSize(flag: string, text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text.trim());
  const scale = { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[(m?.[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G'];
  const bytes = m ? Number(m[1]) * scale : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`--${flag}: expected a size such as 64M or 2G, got '${text}'`);
  return bytes;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new UsageError(`--${flag}: unknown '${value}' (choose from ${allowed.join(', ')})`);
  return value as T;
}

function describe(info: PoolInfo): string {
  const o = info.options;
  const lines = [
    `${info.path}: daxemu pool, format ${info.formatVersion}, memory map ${info.layoutVersion}, ${info.fileBytes} bytes`,
    `device: ${info.capacity / MiB} MiB, ${info.chunks} chunks of ${info.chunkBytes / 1024} KiB hold data`,
    `options: kernel ${o.kernel}, persistence ${o.persistence}, flush ${o.flush}, writeback ${o.writeback}, seed ${o.seed}, cache ${o.cacheBytes / MiB} MiB`,
    `files: ${info.files.length === 0 ? 'none' : ''}`,
    ...info.files.map((f) => `  ${f.path}  ${f.size} bytes, ${f.blocks} committed blocks`),
    'checksums: all good',
  ];
  return lines.join('\n');
}

/** Runs `daxemu pool ...`; returns the exit code (a bad pool throws its PmemError). */
export async function poolCommand(args: PoolArgs, write: (text: string) => void): Promise<number> {
  const [sub, path, extra] = args.positionals;
  if (sub === undefined || path === undefined) throw new UsageError('pool: expected `pool info|check|create FILE` (see --help)');
  if (extra !== undefined) throw new UsageError(`pool: unexpected argument '${extra}'`);
  if (sub === 'info' || sub === 'check') {
    const info = await checkPool(path);
    if (args.json) write(`${JSON.stringify(info)}\n`);
    else write(sub === 'info' ? `${describe(info)}\n` : `${path}: whole (${info.chunks} chunks, ${info.files.length} files, every checksum good)\n`);
    return 0;
  }
  if (sub === 'create') {
    const capacity = args.capacity === undefined ? 64 * MiB : parseSize('capacity', args.capacity);
    const kernel: KernelProfile = oneOf('kernel', args.kernel, KERNEL_PROFILES, 'linux-6.12');
    const preset: PresetName = oneOf('preset', args.preset, PRESET_NAMES, 'optane-g1');
    const emu = await createEmulator({ capacity, kernel, preset, seed: args.seed });
    const saved = await emu.save(path);
    write(args.json ? `${JSON.stringify(saved)}\n` : `${path}: a fresh ${capacity / MiB} MiB ${preset} device (${kernel}), ${saved.bytes} bytes\n`);
    return 0;
  }
  throw new UsageError(`pool: unknown subcommand '${sub}' (info, check or create)`);
}
