/**
 * The public doors to pool files on disk, openEmulator and checkPool. Each loads the
 * Node-only reader (pool.ts) on its first call, through a specifier that bundlers do not
 * follow, so that importing the package in a page pulls in no Node module; in a page they
 * reject with EOPNOTSUPP.
 */
import { isNode } from '../core/index.js';
import type { Emulator } from './emulator.js';
import type { PoolInfo } from './pool.js';
import { poolsNeedNode } from './pool-loader.js';

type PoolReader = typeof import('./pool.js');

/** In a variable, so that bundlers do not follow it into the Node modules. */
const READER = './pool.js';
let readerLoad: Promise<PoolReader> | undefined;

async function poolReader(what: string): Promise<PoolReader> {
  if (!isNode()) throw poolsNeedNode(what);
  readerLoad ??= import(/* @vite-ignore */ READER) as Promise<PoolReader>;
  return readerLoad;
}

/**
 * Opens a pool saved by `emu.save(path)`: a rebooted emulator with the pool's options,
 * whose media and files are what the pool holds. The emulator is returned only when every
 * checksum and field of the file held; a pool that fails midway leaves nothing behind.
 * Node only.
 */
export async function openEmulator(path: string): Promise<Emulator> {
  return (await poolReader('openEmulator')).openEmulator(path);
}

/** The pool's header, options and files, after checking every byte of it (daxemu pool info, check). Node only. */
export async function checkPool(path: string): Promise<PoolInfo> {
  return (await poolReader('checkPool')).checkPool(path);
}
