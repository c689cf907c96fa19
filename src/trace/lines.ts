/**
 * Where trace lines come from: a string, or a file read in 1 MiB chunks so that a trace of
 * any length is streamed with bounded memory; and a file's raw chunks, for a binary twin. Each source can be read more than once (the
 * check pass and the run pass). A line holding a NUL or another control byte (other than
 * tab and carriage return) is refused: the file is not text.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { PmemError } from '../base/index.js';

/**
 * A re-readable run of byte chunks (a binary twin too large to hold); `chunks()` starts
 * again. A chunk is read only until the next one is asked for, so a source may reuse its buffer.
 */
export interface ByteSource {
  readonly name: string;
  chunks(): Iterable<Uint8Array>;
}

/** Whether `t` is a ByteSource (rather than a line source, which has lines()). */
export function isByteSource(t: unknown): t is ByteSource {
  return typeof t === 'object' && t !== null && typeof (t as ByteSource).chunks === 'function';
}

/** A re-readable sequence of lines; `lines()` starts from the first one again. */
export interface LineSource {
  readonly name: string;
  lines(): Iterable<string>;
}

const CHUNK = 1 << 20;
/** A longer line is refused rather than buffered: no sane trace line is 64 MiB. */
const MAX_LINE = 64 << 20;

/** Throws EINVAL when `text` (line `line`) holds a byte a text trace never has. */
export function checkText(text: string, line: number, source: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 13) || c === 0xfffd) {
      throw new PmemError('EINVAL', `${source} line ${line}: not a text trace (byte 0x${c === 0xfffd ? 'ff' : c.toString(16).padStart(2, '0')} at column ${i + 1})`);
    }
  }
}

/** Lines of a string. */
export function stringLines(text: string, name = 'trace'): LineSource {
  return {
    name,
    *lines() {
      let at = 0;
      while (at < text.length) {
        let end = text.indexOf('\n', at);
        if (end < 0) end = text.length;
        yield text.slice(at, end);
        at = end + 1;
      }
    },
  };
}

/** Lines of a file, streamed (its chunks, decoded as UTF-8). */
export function fileLines(path: string): LineSource {
  const file = fileChunks(path);
  return {
    name: path,
    *lines() {
      const decoder = new TextDecoder('utf-8');
      let rest = '';
      // The chunks, then the decoder's flush of a sequence cut at the end.
      const texts = function* (): Generator<string> {
        for (const bytes of file.chunks()) yield decoder.decode(bytes, { stream: true });
        yield decoder.decode();
      };
      for (const piece of texts()) {
        const text = rest + piece;
        let at = 0;
        for (;;) {
          const end = text.indexOf('\n', at);
          if (end < 0) break;
          yield text.slice(at, end);
          at = end + 1;
        }
        rest = text.slice(at);
        if (rest.length > MAX_LINE) throw new PmemError('EINVAL', `${path}: a line longer than ${MAX_LINE} bytes`);
      }
      if (rest !== '') yield rest;
    },
  };
}

/** A file's bytes in chunks of up to `chunk` bytes (default 1 MiB), streamed: a binary twin too large to hold. */
export function fileChunks(path: string, chunk = CHUNK): ByteSource {
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new PmemError('EINVAL', `fileChunks: chunk must be a positive integer, got ${String(chunk)}`);
  return {
    name: path,
    *chunks() {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (err) {
        throw new PmemError('ENOENT', `cannot open ${path}: ${(err as Error).message}`);
      }
      try {
        const buf = new Uint8Array(chunk);
        for (;;) {
          const n = readSync(fd, buf, 0, chunk, null);
          if (n === 0) break;
          yield n === chunk ? buf : buf.subarray(0, n);
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}
