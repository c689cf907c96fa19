/**
 * The pool file: an emulator's durable state on disk, written atomically, read back only
 * when every checksum holds. What a pool keeps is what a guaranteed crash would leave:
 * the durable media, every named file with its committed blocks, and the options with the
 * seed. Lines not yet durable, uncommitted allocations, DAX entries and mappings are not
 * kept, as a reboot would not find them either.
 *
 *   offset  size  field (little-endian)
 *        0     8  magic "DAXEMUPL"
 *        8     4  format version (POOL_FORMAT_VERSION)
 *       12     4  the core's memory-map version (assembly/layout.ts LAYOUT_VERSION)
 *       16     8  capacity, bytes (f64)
 *       24     4  chunk bytes (the media is saved in chunks of this size)
 *       28     4  chunks saved
 *       32     4  metadata bytes (the JSON after the header)
 *       36     4  0
 *       40     8  the whole file's length, bytes (f64): a shorter file was cut off
 *       48     4  CRC-32 of bytes 0..47 and of the metadata
 *       52     -  metadata: JSON { options, files }
 *   then per chunk, in rising media order: media offset (f64), CRC-32 of the offset's 8
 *   bytes and then the data (u32), 0 (u32), the chunk's bytes. Chunks that would read as
 *   zeros are not saved.
 *
 * CRC-32 is node:zlib's (the gzip polynomial), available from Node 20.15. This file runs
 * under Node only: the emulator loads it on first need (pool-loader.ts); the format's
 * constants and types, which a page may name too, are in pool-format.ts.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ERRNO, PmemError, type ErrnoName } from '../base/index.js';
import {
  POOL_CHUNK_BYTES, POOL_FORMAT_VERSION, POOL_HEADER_BYTES, POOL_MAGIC, POOL_RECORD_HEAD_BYTES, type PoolHeader, type PoolMetadata, type PoolSaveReport,
} from './pool-format.js';

export {
  POOL_CHUNK_BYTES, POOL_FORMAT_VERSION, POOL_HEADER_BYTES, POOL_MAGIC, POOL_RECORD_HEAD_BYTES, type PoolHeader, type PoolMetadata, type PoolSaveReport,
} from './pool-format.js';

/** Records per write call: 4 MiB of 64 KiB chunks, well under the system's iovec limit. */
const CHUNKS_PER_WRITE = 64;

/** The header's bytes 0..47, with the metadata's length. */
export function encodeHeader(h: PoolHeader): Buffer {
  const b = Buffer.alloc(POOL_HEADER_BYTES);
  b.write(POOL_MAGIC, 0, 'latin1');
  b.writeUInt32LE(h.formatVersion, 8);
  b.writeUInt32LE(h.layoutVersion, 12);
  b.writeDoubleLE(h.capacity, 16);
  b.writeUInt32LE(h.chunkBytes, 24);
  b.writeUInt32LE(h.chunks, 28);
  b.writeUInt32LE(h.metadataBytes, 32);
  b.writeDoubleLE(h.fileBytes, 40);
  return b;
}

/** The header's checksum: its first 48 bytes, then the metadata. */
export function headerChecksum(header: Buffer, metadata: Buffer): number {
  return crc32(metadata, crc32(header.subarray(0, 48)));
}

/** A chunk record's checksum: its media offset's 8 bytes, then its data. */
export function chunkChecksum(head: Buffer, data: Uint8Array): number {
  return crc32(data, crc32(head.subarray(0, 8)));
}

/**
 * Each chunk as its whole record (head and data), copied and checksummed at once, while its
 * bytes are still in the processor's cache.
 */
function chunkRecords(chunks: Iterable<{ offset: number; bytes: Uint8Array }>): Buffer[] {
  const records: Buffer[] = [];
  for (const { offset, bytes } of chunks) {
    const record = Buffer.allocUnsafe(POOL_RECORD_HEAD_BYTES + bytes.length);
    record.set(bytes, POOL_RECORD_HEAD_BYTES);
    record.writeDoubleLE(offset, 0);
    record.writeUInt32LE(chunkChecksum(record, record.subarray(POOL_RECORD_HEAD_BYTES)) >>> 0, 8);
    record.writeUInt32LE(0, 12);
    records.push(record);
  }
  return records;
}

/** A failed file operation as a PmemError, keeping the system's errno name where daxemu has it. */
export function fileError(op: string, path: string, err: unknown): PmemError {
  const code = (err as NodeJS.ErrnoException).code;
  const name: ErrnoName = code !== undefined && code in ERRNO ? (code as ErrnoName) : 'EIO';
  return new PmemError(name, `${op} ${path}: ${(err as Error).message}`);
}

/**
 * Writes a pool atomically: into a temporary file in the same folder, synced, renamed over
 * `path`, the folder synced. The chunks are copied into their records before the first
 * await, so what the emulator does while the file is written cannot reach the pool. A crash or kill at any point leaves the old pool or the new
 * one, whole, and at worst a stray temporary file.
 */
export async function writePool(
  path: string, layoutVersion: number, metadata: PoolMetadata, chunks: Iterable<{ offset: number; bytes: Uint8Array }>,
): Promise<PoolSaveReport> {
  if (typeof path !== 'string' || path.length === 0) throw new PmemError('EINVAL', 'save: path must be a non-empty string');
  const records = chunkRecords(chunks);
  const json = Buffer.from(JSON.stringify(metadata));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx');
  } catch (err) {
    throw fileError('save: cannot create a file beside', path, err);
  }
  const header: PoolHeader = {
    formatVersion: POOL_FORMAT_VERSION, layoutVersion, capacity: metadata.options.capacity, chunkBytes: POOL_CHUNK_BYTES, chunks: 0,
    metadataBytes: json.length, fileBytes: 0,
  };
  let at = POOL_HEADER_BYTES + json.length;
  try {
    // Records go out CHUNKS_PER_WRITE at a time.
    for (let first = 0; first < records.length; first += CHUNKS_PER_WRITE) {
      const group = records.slice(first, first + CHUNKS_PER_WRITE);
      await fh.writev(group, at);
      at += group.reduce((n, b) => n + b.length, 0);
    }
    header.chunks = records.length;
    header.fileBytes = at;
    const fixed = encodeHeader(header);
    fixed.writeUInt32LE(headerChecksum(fixed, json) >>> 0, 48);
    // The header goes last: until it is written the temporary file is no pool at all.
    await fh.writev([fixed, json], 0);
    await fh.sync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw fileError('save: cannot write', path, err);
  }
  try {
    await rename(tmp, path);
    const folder = await open(dirname(path), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw fileError('save: cannot replace', path, err);
  }
  return { path, bytes: at, chunks: header.chunks, mediaBytes: header.chunks * POOL_CHUNK_BYTES };
}
