// The seeded generator: the same stream on every run, and below(n) exact for every n up to
// 2^32, as the core's rngBelow (the reference model and the core must pick the same victims).
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/base/random.js';

describe('Rng', () => {
  it('the same seed gives the same stream, nearby seeds unrelated ones', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    const c = new Rng(6);
    const sa = Array.from({ length: 100 }, () => a.u32());
    expect(Array.from({ length: 100 }, () => b.u32())).toEqual(sa);
    const sc = Array.from({ length: 100 }, () => c.u32());
    expect(sc.filter((v, i) => v === sa[i]).length).toBe(0);
  });

  it('below(n) is floor(u32 * n / 2^32) exactly, also where the product passes 2^53', () => {
    const rng = new Rng(9);
    let u = 0;
    rng.u32 = () => u;
    const exact = (x: number, n: number): number => Number((BigInt(x) * BigInt(n)) >> 32n);
    u = 2393549483;
    expect(rng.below(67108861)).toBe(37399208);
    const source = new Rng(11);
    for (let i = 0; i < 20000; i++) {
      u = source.u32();
      const n = i % 2 === 0 ? source.u32() + 1 : source.below(1 << 26) + 1;
      expect(rng.below(n)).toBe(exact(u, n));
    }
  });
});
