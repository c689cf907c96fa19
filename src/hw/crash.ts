/**
 * Crash images: what a power failure at this moment would leave on the media.
 *
 * Every non-durable line has an undo copy of its last durable contents (assembly/lines.ts).
 * The image starts from the newest media contents and, line by line, decides:
 *   guaranteed   every non-durable line reverts: only what is durable survives.
 *   random       each non-durable line, independently: kept at its newest contents,
 *                reverted, or torn, i.e. each of its eight 8-byte words kept or reverted
 *                on its own (8-byte stores are atomic, so nothing tears finer).
 *   adversarial  lines whose flush (or NT write) was issued but not fenced revert, while
 *                lines dirty in the cache and never flushed are kept, as if the cache had
 *                written them back: the outcome that most often exposes a missing fence,
 *                since later, unflushed data survives while earlier, flushed data is lost.
 * Lines are visited in line order and the seed drives every choice: same seed, same image.
 */
import type { Core } from '../core/index.js';
import { PmemError } from '../base/index.js';
import { Rng } from '../base/index.js';
import { isAllZero } from './zero-scan.js';

export type CrashMode = 'guaranteed' | 'random' | 'adversarial';
export const CRASH_MODES: readonly CrashMode[] = ['guaranteed', 'random', 'adversarial'];

const LINE_BYTES = 64;
const WORD_BYTES = 8;
const LINE_PENDING = 2; // assembly/lines.ts

/** Checks the crash mode named by a caller. */
export function checkCrashMode(mode: unknown): CrashMode {
  if (!CRASH_MODES.includes(mode as CrashMode)) {
    throw new PmemError('EINVAL', `crash mode must be one of ${CRASH_MODES.join(', ')}, got ${String(mode)}`);
  }
  return mode as CrashMode;
}

/**
 * Writes onto `image` (a rebooted core of the same size whose media holds a copy of the
 * newest media) what survives a crash of `source`. Lines are grouped by media chunk, so
 * each chunk's view is fetched once.
 */
export function applyCrash(source: Core, image: Core, mode: CrashMode, seed: number): void {
  const rng = new Rng(seed);
  const lines = source.pmUndoList().sort((a, b) => a.line - b.line);
  const linesPerChunk = source.layout.chunkBytes / LINE_BYTES;
  let chunk = -1;
  let view: Uint8Array | null = null;
  // The chunk's view is asked for with write access only when a line of it reverts.
  const revert = (line: number, bytes: Uint8Array, at: number): void => {
    const c = Math.floor(line / linesPerChunk);
    if (c !== chunk || view === null) {
      chunk = c;
      view = image.mediaChunk(c, true);
    }
    view!.set(bytes, (line % linesPerChunk) * LINE_BYTES + at);
  };
  for (const { line, data, state } of lines) {
    const durable = source.readMemory(data, LINE_BYTES);
    if (Math.floor(line / linesPerChunk) !== chunk) view = null;
    if (mode === 'guaranteed' || (mode === 'adversarial' && (state & LINE_PENDING) !== 0)) {
      revert(line, durable, 0);
    } else if (mode === 'random') {
      const choice = rng.below(3);
      if (choice === 1) revert(line, durable, 0);
      if (choice === 2) {
        for (let w = 0; w < LINE_BYTES; w += WORD_BYTES) {
          if (rng.below(2) === 1) revert(line, durable.subarray(w, w + WORD_BYTES), w);
        }
      }
    }
  }
}

/**
 * Copies the newest media of `source` onto `image` (a fresh core of the same size), chunk
 * by chunk: only the chunks with data of their own, and of those only the ones that hold
 * something, so that an image costs memory for the data it holds, not for the device's size.
 */
export function copyMediaWithData(source: Core, image: Core): void {
  for (const { offset, bytes } of source.mediaChunks()) {
    if (!isAllZero(bytes)) image.writeMedia(offset, bytes);
  }
}

/**
 * The media as a guaranteed crash now would leave it, in `chunkBytes` pieces (a power of
 * two up to 2 MiB), skipping the pieces that would read as zeros: each as its media offset
 * and its bytes. This is the durable state a pool file keeps, read without building a
 * whole crash image; only media chunks with data of their own are visited (a line with an
 * undo copy always has one). A piece with no undo copy in it is a live view of the media:
 * use it before the emulator runs again.
 */
export function* durableChunks(source: Core, chunkBytes: number): Generator<{ offset: number; bytes: Uint8Array }> {
  const lines = source.pmUndoList().sort((a, b) => a.line - b.line);
  let next = 0; // the first undo record not yet applied
  const undoBefore = (end: number): boolean => next < lines.length && lines[next]!.line * LINE_BYTES < end;
  for (const { offset: region, bytes: media } of source.mediaChunks()) {
    // A chunk with no undo copy is durable as it stands; memcmp against zeros is the cheap test.
    if (!undoBefore(region + media.length) && isAllZero(media)) continue;
    for (let at = 0; at < media.length; at += chunkBytes) {
      const offset = region + at;
      const live = media.subarray(at, at + chunkBytes);
      const end = offset + chunkBytes;
      if (!undoBefore(end)) {
        if (!isAllZero(live)) yield { offset, bytes: live };
        continue;
      }
      const bytes = live.slice();
      for (; undoBefore(end); next++) bytes.set(source.readMemory(lines[next]!.data, LINE_BYTES), lines[next]!.line * LINE_BYTES - offset);
      if (!isAllZero(bytes)) yield { offset, bytes };
    }
  }
}
