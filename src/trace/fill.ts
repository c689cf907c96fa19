/**
 * The seeded fill of a store without recorded bytes: `len` bytes from the project's
 * generator (src/base/random.ts) seeded with `seed`, four bytes per u32, little-endian.
 * Same seed, same bytes; a replay of an imported trace stores what the importer meant.
 */
import { Rng } from '../base/index.js';

export function fillBytes(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  fillInto(out, 0, len, seed);
  return out;
}

/** Writes the fill of (`len`, `seed`) into `out` from byte `at` on. */
export function fillInto(out: Uint8Array, at: number, len: number, seed: number): void {
  const rng = new Rng(seed);
  const end = at + len;
  let i = at;
  for (; i + 4 <= end; i += 4) {
    const v = rng.u32();
    out[i] = v & 0xff;
    out[i + 1] = (v >>> 8) & 0xff;
    out[i + 2] = (v >>> 16) & 0xff;
    out[i + 3] = v >>> 24;
  }
  if (i < end) {
    let v = rng.u32();
    for (; i < end; i++, v >>>= 8) out[i] = v & 0xff;
  }
}
