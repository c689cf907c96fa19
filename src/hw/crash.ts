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

/** Writes onto `image` (a copy of the newest media) what survives a crash of `source`. */
export function applyCrash(source: Core, image: Uint8Array, mode: CrashMode, seed: number): void {
  const rng = new Rng(seed);
  const lines = source.pmUndoList().sort((a, b) => a.line - b.line);
  for (const { line, data, state } of lines) {
    const durable = source.readMemory(data, LINE_BYTES);
    const at = line * LINE_BYTES;
    if (mode === 'guaranteed' || (mode === 'adversarial' && (state & LINE_PENDING) !== 0)) {
      image.set(durable, at);
    } else if (mode === 'random') {
      const choice = rng.below(3);
      if (choice === 1) image.set(durable, at);
      if (choice === 2) {
        for (let w = 0; w < LINE_BYTES; w += WORD_BYTES) {
          if (rng.below(2) === 1) image.set(durable.subarray(w, w + WORD_BYTES), at + w);
        }
      }
    }
  }
}

/** The media is scanned for data 2 MiB at a time before it is cut into chunks. */
const SCAN_BYTES = 2 << 20;

/** Whether the 2 MiB of `media` from `offset` are all zero (no page of it made resident). */
function regionIsZero(media: Uint8Array, offset: number): boolean {
  return isAllZero(media.subarray(offset, offset + SCAN_BYTES));
}

/**
 * Copies the newest media of `source` onto `image` (a fresh media of the same size, all
 * zeros), region by region, leaving the regions that hold nothing untouched: an image
 * costs memory for the data it holds, not for the device's size.
 */
export function copyMediaWithData(source: Uint8Array, image: Uint8Array): void {
  for (let region = 0; region < source.length; region += SCAN_BYTES) {
    if (!regionIsZero(source, region)) image.set(source.subarray(region, region + SCAN_BYTES), region);
  }
}

/**
 * The media as a guaranteed crash now would leave it, in `chunkBytes` pieces (a power of
 * two up to 2 MiB), skipping the pieces that would read as zeros: each as its media offset
 * and its bytes. This is the durable state a pool file keeps, read without building a
 * whole crash image. A piece with no undo copy in it is a live view of the media: use it
 * before the emulator runs again.
 */
export function* durableChunks(source: Core, chunkBytes: number): Generator<{ offset: number; bytes: Uint8Array }> {
  const lines = source.pmUndoList().sort((a, b) => a.line - b.line);
  const size = source.layout.mediaSize;
  let next = 0; // the first undo record not yet applied
  const undoBefore = (end: number): boolean => next < lines.length && lines[next]!.line * LINE_BYTES < end;
  for (let region = 0; region < size; region += SCAN_BYTES) {
    const media = source.mediaView();
    // A region with no undo copy is durable as it stands; memcmp against zeros is the cheap test.
    if (!undoBefore(region + SCAN_BYTES) && regionIsZero(media, region)) continue;
    for (let offset = region; offset < region + SCAN_BYTES; offset += chunkBytes) {
      const live = media.subarray(offset, offset + chunkBytes);
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
