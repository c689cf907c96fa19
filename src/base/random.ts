/**
 * The seeded generator behind every random choice daxemu makes (eviction, crash images,
 * workloads, tests): xoshiro128** (Blackman and Vigna, 2018), seeded through splitmix32 so
 * that nearby seeds give unrelated streams. Same seed, same sequence, on every platform.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      // splitmix32
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  /** A uniform u32. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /**
   * A uniform integer in [0, n), n <= 2^32: floor(u32 * n / 2^32), computed exactly (the
   * product can pass 2^53, so it is split at 16 bits), as the core's rngBelow does.
   */
  below(n: number): number {
    const u = this.u32();
    const high = u * Math.floor(n / 0x10000); // < 2^48: exact
    const low = u * (n % 0x10000); // < 2^48: exact
    return Math.floor(high / 0x10000) + Math.floor(((high % 0x10000) * 0x10000 + low) / 0x100000000);
  }

  /** A uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
