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
