// The emulator's seeded generator: xoshiro128** seeded through splitmix32, bit for bit the
// same as src/base/random.ts (Rng), so that the reference model makes the same choices. Its
// state lives in the shared header: one stream per emulator, whichever thread draws.

import { H_RNG, hdr } from './layout';

@inline function rotl(x: u32, k: u32): u32 {
  return (x << k) | (x >> (32 - k));
}

/** Seeds the stream (Rng's constructor). */
export function rngSeed(seed: u32): void {
  let s = seed;
  for (let i: u32 = 0; i < 4; i++) {
    s += 0x9e3779b9;
    let z = s;
    z = (z ^ (z >> 16)) * 0x85ebca6b;
    z = (z ^ (z >> 13)) * 0xc2b2ae35;
    store<u32>(hdr(H_RNG + (i << 2)), z ^ (z >> 16));
  }
}

/** A uniform u32 (Rng.u32). */
export function rngNext(): u32 {
  const p = hdr(H_RNG);
  let a = load<u32>(p, 0);
  let b = load<u32>(p, 4);
  let c = load<u32>(p, 8);
  let d = load<u32>(p, 12);
  const result = rotl(b * 5, 7) * 9;
  const t = b << 9;
  c ^= a;
  d ^= b;
  b ^= c;
  a ^= d;
  c ^= t;
  d = rotl(d, 11);
  store<u32>(p, a, 0);
  store<u32>(p, b, 4);
  store<u32>(p, c, 8);
  store<u32>(p, d, 12);
  return result;
}

/** A uniform integer in [0, n) (Rng.below: floor(u32 / 2^32 * n)). */
export function rngBelow(n: u32): u32 {
  return <u32>((<u64>rngNext() * <u64>n) >> 32);
}
