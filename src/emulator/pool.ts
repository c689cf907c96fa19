/**
 * Opening and checking pool files (src/emulator/pool-file.ts has the format and the save).
 * A pool is read in one pass that checks every field and checksum before anything of it is
 * used: openEmulator returns an emulator only when the whole file is sound, and a bad pool
 * is refused with a PmemError naming the first bad spot (EBADMSG for a wrong magic,
 * version, checksum or field, EIO for a file cut short, EINVAL for a capacity this build
 * cannot hold).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { PmemError } from '../base/index.js';
import type { DurableFile } from '../dax/index.js';
import { createEmulator, type Emulator } from './emulator.js';
import { CAPACITY_ALIGN, MAX_CAPACITY, optionsLike, resolveOptions, type ResolvedOptions } from './options.js';
import {
  POOL_FORMAT_VERSION, POOL_HEADER_BYTES, POOL_MAGIC, POOL_RECORD_HEAD_BYTES, chunkChecksum, fileError, headerChecksum, type PoolHeader, type PoolMetadata,
} from './pool-file.js';

const PAGE = 4096;
/**
 * Memory-map versions (assembly/layout.ts) whose pools this build opens besides its own: a
 * pool's bytes do not depend on the map, and version 2, the flat media's, saved the same
 * media chunks that version 3, the sparse one, saves.
 */
const POOL_LAYOUTS_READ = [2, 3];

/** What `daxemu pool info` shows: the header, the options and the files. */
export interface PoolInfo extends PoolHeader {
  path: string;
  options: ResolvedOptions;
  files: { path: string; size: number; blocks: number }[];
}

const bad = (path: string, at: number, why: string): PmemError => new PmemError('EBADMSG', `${path} at byte ${at}: ${why}`);

async function readExactly(fh: FileHandle, length: number, position: number, path: string): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  if (bytesRead !== length) throw new PmemError('EIO', `${path}: the file ends at byte ${position + bytesRead}, inside a record of ${length} bytes at ${position}`);
  return buf;
}

/** Checks the metadata's shape and that its files fit the capacity, without trusting any of it. */
function checkMetadata(path: string, at: number, value: unknown, capacity: number): PoolMetadata {
  const fail = (why: string): never => {
    throw bad(path, at, `the metadata ${why}`);
  };
  if (typeof value !== 'object' || value === null) fail('is not an object');
  const { options, files } = value as { options?: unknown; files?: unknown };
  let resolved: ResolvedOptions;
  try {
    const o = options as ResolvedOptions;
    resolved = resolveOptions(optionsLike(o));
  } catch (err) {
    return fail(`holds options this build refuses (${(err as Error).message})`);
  }
  if (resolved.capacity !== capacity) fail(`says ${resolved.capacity} bytes where the header says ${capacity}`);
  if (!Array.isArray(files)) fail('has no file list');
  const paths = new Set<string>();
  const pfns = new Set<number>();
  const blocks = capacity / PAGE;
  for (const f of files as DurableFile[]) {
    if (typeof f?.path !== 'string' || f.path.length === 0 || paths.has(f.path)) fail(`names a file twice or without a path (${String(f?.path)})`);
    paths.add(f.path);
    if (!Number.isSafeInteger(f.size) || f.size < 0) fail(`gives ${f.path} the size ${String(f.size)}`);
    if (!Array.isArray(f.blocks)) fail(`has no block list for ${f.path}`);
    const pages = new Set<number>();
    for (const b of f.blocks) {
      const [page, pfn, unwritten] = Array.isArray(b) ? b : [];
      if (!Number.isInteger(page) || page! < 0 || pages.has(page!)) fail(`maps page ${String(page)} of ${f.path} twice or not at all`);
      if (!Number.isInteger(pfn) || pfn! < 0 || pfn! >= blocks || pfns.has(pfn!)) fail(`gives ${f.path} block ${String(pfn)}, outside the media or another file's`);
      if (unwritten !== 0 && unwritten !== 1) fail(`marks block ${pfn} of ${f.path} neither written nor unwritten`);
      pages.add(page!);
      pfns.add(pfn!);
    }
  }
  return { options: resolved, files: files as DurableFile[] };
}

/** An open pool whose header and metadata have been checked. */
interface OpenPool {
  fh: FileHandle;
  header: PoolHeader;
  metadata: PoolMetadata;
  /** Where the first chunk record starts. */
  chunksAt: number;
}

/** Opens `path` and checks its header and metadata; the caller closes the handle. */
async function openPool(path: string): Promise<OpenPool> {
  if (typeof path !== 'string' || path.length === 0) throw new PmemError('EINVAL', 'pool path must be a non-empty string');
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError('cannot open pool', path, err);
  }
  try {
    const size = (await fh.stat()).size;
    if (size < POOL_HEADER_BYTES) throw new PmemError('EIO', `${path}: ${size} bytes is shorter than a pool header (${POOL_HEADER_BYTES})`);
    const fixed = await readExactly(fh, POOL_HEADER_BYTES, 0, path);
    if (fixed.toString('latin1', 0, 8) !== POOL_MAGIC) throw bad(path, 0, 'this is not a daxemu pool (no DAXEMUPL magic)');
    const header: PoolHeader = {
      formatVersion: fixed.readUInt32LE(8), layoutVersion: fixed.readUInt32LE(12), capacity: fixed.readDoubleLE(16), chunkBytes: fixed.readUInt32LE(24),
      chunks: fixed.readUInt32LE(28), metadataBytes: fixed.readUInt32LE(32), fileBytes: fixed.readDoubleLE(40),
    };
    if (header.formatVersion !== POOL_FORMAT_VERSION) throw bad(path, 8, `format version ${header.formatVersion}; this build reads version ${POOL_FORMAT_VERSION}`);
    if (POOL_HEADER_BYTES + header.metadataBytes > size) throw new PmemError('EIO', `${path}: the file ends at byte ${size}, inside its ${header.metadataBytes}-byte metadata`);
    const json = await readExactly(fh, header.metadataBytes, POOL_HEADER_BYTES, path);
    if (headerChecksum(fixed, json) >>> 0 !== fixed.readUInt32LE(48)) throw bad(path, 0, 'the header checksum does not match');
    if (header.fileBytes !== size) throw new PmemError('EIO', `${path}: the pool is ${header.fileBytes} bytes long but the file has ${size}: it was cut short or grew`);
    if (!Number.isInteger(header.capacity) || header.capacity <= 0 || header.capacity % CAPACITY_ALIGN !== 0 || header.capacity > MAX_CAPACITY) {
      throw new PmemError('EINVAL', `${path}: a ${header.capacity}-byte device no longer fits; this build holds multiples of 2 MiB up to ${MAX_CAPACITY} bytes`);
    }
    const chunkBytes = header.chunkBytes;
    if (chunkBytes < 64 || chunkBytes > CAPACITY_ALIGN || (chunkBytes & (chunkBytes - 1)) !== 0) throw bad(path, 24, `a chunk size of ${chunkBytes} bytes`);
    const chunksAt = POOL_HEADER_BYTES + header.metadataBytes;
    if (chunksAt + header.chunks * (POOL_RECORD_HEAD_BYTES + chunkBytes) !== size) {
      throw bad(path, 28, `${header.chunks} chunks of ${chunkBytes} bytes do not fill the ${size}-byte file`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json.toString('utf8'));
    } catch {
      throw bad(path, POOL_HEADER_BYTES, 'the metadata is not JSON');
    }
    return { fh, header, metadata: checkMetadata(path, POOL_HEADER_BYTES, parsed, header.capacity), chunksAt };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Reads every chunk of an open pool in media order, checking each, and hands it to `chunk`. */
async function readChunks(path: string, pool: OpenPool, chunk?: (offset: number, bytes: Uint8Array) => void): Promise<void> {
  const { header, fh } = pool;
  const recordBytes = POOL_RECORD_HEAD_BYTES + header.chunkBytes;
  let previous = -1;
  for (let i = 0, at = pool.chunksAt; i < header.chunks; i++, at += recordBytes) {
    const record = await readExactly(fh, recordBytes, at, path);
    const data = record.subarray(POOL_RECORD_HEAD_BYTES);
    const offset = record.readDoubleLE(0);
    if (chunkChecksum(record, data) >>> 0 !== record.readUInt32LE(8)) throw bad(path, at, `chunk ${i} fails its checksum`);
    if (!Number.isInteger(offset) || offset % header.chunkBytes !== 0 || offset <= previous || offset + header.chunkBytes > header.capacity) {
      throw bad(path, at, `chunk ${i} sits at media offset ${offset}, out of order or outside the media`);
    }
    previous = offset;
    chunk?.(offset, data);
  }
}

/** The pool's header, options and files, after checking every byte of it (daxemu pool info, check). */
export async function checkPool(path: string): Promise<PoolInfo> {
  const pool = await openPool(path);
  try {
    await readChunks(path, pool);
    const { header, metadata } = pool;
    return { path, ...header, options: metadata.options, files: metadata.files.map((f) => ({ path: f.path, size: f.size, blocks: f.blocks.length })) };
  } finally {
    await pool.fh.close();
  }
}

/**
 * Opens a pool saved by `emu.save(path)`: a rebooted emulator with the pool's options,
 * whose media and files are what the pool holds. The emulator is returned only when every
 * checksum and field of the file held; a pool that fails midway leaves nothing behind.
 */
export async function openEmulator(path: string): Promise<Emulator> {
  const pool = await openPool(path);
  try {
    const { header, metadata } = pool;
    const emu = await createEmulator(optionsLike(metadata.options));
    if (emu.core.layout.version !== header.layoutVersion && !POOL_LAYOUTS_READ.includes(header.layoutVersion)) {
      throw bad(path, 12, `saved by a build whose memory map is version ${header.layoutVersion}; this build has version ${emu.core.layout.version}`);
    }
    // Only the chunks the pool holds get memory (the media is sparse: the rest reads as zeros).
    await readChunks(path, pool, (offset, bytes) => emu.core.writeMedia(offset, bytes));
    emu.bootFrom(metadata.files);
    return emu;
  } finally {
    await pool.fh.close();
  }
}
