/**
 * Loading the pool writer (pool-file.ts), which runs under Node only (node:fs, node:zlib,
 * node:crypto), without a static import that would pull those modules into a browser
 * bundle. Under Node, createEmulator loads it before it returns the first emulator, so
 * `emu.save()` still copies the media before its first await; in a page, save refuses with
 * EOPNOTSUPP. (The reader is loaded the same way by pool-open.ts.)
 */
import { PmemError } from '../base/index.js';
import { isNode } from '../core/index.js';
import type { PoolMetadata, PoolSaveReport } from './pool-format.js';

/** What the emulator calls of pool-file.ts. */
interface PoolWriter {
  writePool(path: string, layoutVersion: number, metadata: PoolMetadata, chunks: Iterable<{ offset: number; bytes: Uint8Array }>): Promise<PoolSaveReport>;
}

/** In a variable, so that bundlers do not follow it into the Node modules. */
const WRITER = './pool-file.js';

let writer: PoolWriter | undefined;
let writerLoad: Promise<PoolWriter> | undefined;

/** "pool files need Node", as the PmemError a page gets from each pool call. */
export function poolsNeedNode(what: string): PmemError {
  return new PmemError('EOPNOTSUPP', `${what}: pool files need Node's file system; this runtime has none`);
}

/** Under Node, loads the writer (once); elsewhere does nothing. */
export async function preloadPoolWriter(): Promise<void> {
  if (writer || !isNode()) return;
  writerLoad ??= import(/* @vite-ignore */ WRITER) as Promise<PoolWriter>;
  writer = await writerLoad;
}

/** The writer, already loaded: the save's copy of the media must happen before any await. */
export function poolWriter(what: string): PoolWriter {
  if (!writer) throw poolsNeedNode(what);
  return writer;
}
