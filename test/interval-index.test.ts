// The interval index behind a file's mappings and the address space (src/dax/interval-index.ts),
// held to a plain list on seeded random inserts, moves, deletes and queries.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/base/index.js';
import { IntervalIndex } from '../src/dax/interval-index.js';

describe('IntervalIndex', () => {
  it('finds exactly the items overlapping a half-open range, in rising start then insertion order', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const index = new IntervalIndex<number>();
      const list = new Map<number, { start: number; end: number; seq: number }>();
      let seq = 0;
      for (let step = 0; step < 3000; step++) {
        const id = rng.below(300);
        const op = rng.below(10);
        if (op < 5) {
          const start = rng.below(2000);
          const end = start + 1 + rng.below(rng.chance(0.1) ? 1500 : 30);
          index.add(id, start, end);
          list.set(id, { start, end, seq: seq++ });
        } else if (op < 7) {
          expect(index.delete(id)).toBe(list.delete(id));
        } else {
          const lo = rng.below(2100) - 50;
          const hi = lo + rng.below(200);
          const want = [...list].filter(([, r]) => lo < hi && r.start < hi && r.end > lo).sort(([, a], [, b]) => a.start - b.start || a.seq - b.seq).map(([k]) => k);
          expect([...index.overlapping(lo, hi)], `seed ${seed} step ${step} [${lo}, ${hi})`).toEqual(want);
        }
        expect(index.size).toBe(list.size);
      }
      expect([...index].sort((a, b) => a - b)).toEqual([...list.keys()].sort((a, b) => a - b));
    }
  });

  it('an empty range and ranges that only touch find nothing', () => {
    const index = new IntervalIndex<string>();
    index.add('a', 10, 20);
    expect([...index.overlapping(20, 30)]).toEqual([]);
    expect([...index.overlapping(0, 10)]).toEqual([]);
    expect([...index.overlapping(15, 15)]).toEqual([]);
    expect([...index.overlapping(19, 20)]).toEqual(['a']);
    expect(index.has('a')).toBe(true);
  });
});
