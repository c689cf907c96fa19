/**
 * The pool file's format as numbers and types, without the code that reads or writes one
 * (pool-file.ts, pool.ts, both Node only): the magic, the version, the sizes of the header,
 * of a chunk and of its record head, and the shapes of the header, the metadata and a save's
 * report. The layout itself is drawn in pool-file.ts.
 */
import type { DurableFile } from '../dax/index.js';
import type { ResolvedOptions } from './options.js';

export const POOL_MAGIC = 'DAXEMUPL';
export const POOL_FORMAT_VERSION = 1;
/** Chunks of 64 KiB: small enough to skip what is empty, large enough to write fast. */
export const POOL_CHUNK_BYTES = 64 * 1024;
export const POOL_HEADER_BYTES = 52;
export const POOL_RECORD_HEAD_BYTES = 16;

/** The fixed fields of a pool's header. */
export interface PoolHeader {
  formatVersion: number;
  layoutVersion: number;
  capacity: number;
  chunkBytes: number;
  chunks: number;
  metadataBytes: number;
  fileBytes: number;
}

/** What a pool says besides the media: the options and the files. */
export interface PoolMetadata {
  options: ResolvedOptions;
  files: DurableFile[];
}

/** What a save wrote. */
export interface PoolSaveReport {
  path: string;
  /** The pool file's length. */
  bytes: number;
  /** Media chunks saved, and the media bytes they hold. */
  chunks: number;
  mediaBytes: number;
}
