// Randomized differential test: long seeded sequences of tree operations run on the wasm
// core (both builds) and on the reference model (src/model/xarray.ts); every result and,
// periodically, the full contents must be equal, and the core's invariants must hold.
// A failure names its seed and step: rerun with DIFF_SEED=<seed> to replay it.
import { describe, expect, it } from 'vitest';
import { BatchBuilder } from '../src/core/batch.js';
import type { Core } from '../src/core/index.js';
import { daxMkEntry, PMD_NR, XA_MAX_INDEX } from '../src/core/entry.js';
import { ModelForest } from '../src/model/xarray.js';
import { Rng } from '../src/base/random.js';
import type { Forest } from '../src/core/tree.js';
import { attempt, BUILDS, makeCore, pickIndex } from './helpers.js';

function randomWord(rng: Rng): number {
  if (rng.chance(0.05)) return (rng.u32() & ~3) >>> 0 || 4; // a pointer entry (a page)
  return daxMkEntry(rng.below(1 << 20), rng.below(16));
}

/** One random operation, applied to a forest; the same rng state gives the same op. */
function randomOp(rng: Rng, trees: number[]): { name: string; run: (f: Forest) => unknown } {
  const tree = rng.chance(0.01) ? 999 : rng.pick(trees); // now and then a tree that does not exist
  const index = pickIndex(rng);
  const mark = rng.chance(0.01) ? 3 : rng.below(3);
  const order = rng.chance(0.3) ? 9 : rng.chance(0.01) ? 4 : 0;
  const roll = rng.below(100);
  if (roll < 35) {
    const word = rng.chance(0.01) ? 1026 : randomWord(rng);
    return { name: `store(${tree}, ${index}, ${order}, ${word})`, run: (f) => f.store(tree, index, order, word) };
  }
  if (roll < 45) return { name: `erase(${tree}, ${index})`, run: (f) => f.erase(tree, index) };
  if (roll < 48) return { name: `store0(${tree}, ${index}, ${order})`, run: (f) => f.store(tree, index, order, 0) };
  if (roll < 62) return { name: `setMark(${tree}, ${index}, ${mark})`, run: (f) => f.setMark(tree, index, mark) };
  if (roll < 70) return { name: `clearMark(${tree}, ${index}, ${mark})`, run: (f) => f.clearMark(tree, index, mark) };
  if (roll < 75) return { name: `getMark(${tree}, ${index}, ${mark})`, run: (f) => f.getMark(tree, index, mark) };
  if (roll < 82) return { name: `load(${tree}, ${index})`, run: (f) => f.load(tree, index) };
  const end = Math.min(XA_MAX_INDEX, index + rng.below(rng.chance(0.5) ? 64 : 4 * PMD_NR));
  const start = rng.chance(0.05) ? end + 1 : index; // sometimes an empty range
  if (roll < 88) return { name: `findMarked(${tree}, ${start}, ${end}, ${mark})`, run: (f) => f.findMarked(tree, start, end, mark) };
  if (roll < 92) return { name: `findPresent(${tree}, ${start}, ${end})`, run: (f) => f.findPresent(tree, start, end) };
  if (roll < 97) return { name: `tagTowrite(${tree}, ${start}, ${end})`, run: (f) => f.tagTowrite(tree, start, end) };
  return { name: `count(${tree})`, run: (f) => f.count(tree) };
}

/** Runs `steps` random operations on both forests, comparing as it goes. */
function runDifferential(core: Core, seed: number, steps: number): void {
  const rng = new Rng(seed);
  const model = new ModelForest();
  const trees = [1, 2, 3].map(() => {
    const id = core.createTree();
    expect(model.createTree()).toBe(id);
    return id;
  });
  const batch = new BatchBuilder();
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} step ${step}`;
    if (rng.chance(0.0005)) {
      // Destroy and recreate a tree: ids are reused LIFO by both.
      const victim = rng.pick(trees);
      core.destroyTree(victim);
      model.destroyTree(victim);
      const id = core.createTree();
      expect(model.createTree(), where).toBe(id);
      trees[trees.indexOf(victim)] = id;
      continue;
    }
    if (rng.chance(0.02)) {
      // A short batch through the command path, compared result for result.
      batch.reset();
      for (let i = rng.between(1, 40); i > 0; i--) {
        const tree = rng.pick(trees);
        const index = pickIndex(rng);
        const kind = rng.below(6);
        if (kind === 0) batch.store(tree, index, rng.chance(0.3) ? 9 : 0, randomWord(rng));
        else if (kind === 1) batch.setMark(tree, index, rng.below(3));
        else if (kind === 2) batch.load(tree, index);
        else if (kind === 3) batch.walkMarked(tree, index, rng.chance(0.3) ? XA_MAX_INDEX : Math.min(XA_MAX_INDEX, index + rng.below(4096)), rng.below(3));
        else if (kind === 4) batch.tagTowrite(tree, index, Math.min(XA_MAX_INDEX, index + rng.below(4096)));
        else batch.erase(tree, index);
      }
      const ops = batch.finish();
      expect(Array.from(core.runBatch(ops)), `${where} batch`).toEqual(Array.from(model.runBatch(ops)));
      continue;
    }
    const op = randomOp(rng, trees);
    const got = attempt(() => op.run(core));
    const want = attempt(() => op.run(model));
    expect(got, `${where}: ${op.name}`).toEqual(want);
    if (step % 500 === 0 || step === steps - 1) {
      for (const tree of trees) {
        expect(core.entries(tree), `${where}: entries of tree ${tree}`).toEqual(model.entries(tree));
        core.check(tree);
      }
    }
  }
}

const fixedSeed = process.env.DIFF_SEED ? Number(process.env.DIFF_SEED) : undefined;
const SEEDS = fixedSeed !== undefined ? [fixedSeed] : [1, 2, 3, 4, 5, 6];

describe.each(BUILDS)('differential: wasm core (%s build) against the reference model', (build) => {
  it.each(SEEDS)('seed %i: 20000 random operations give identical results and contents', async (seed) => {
    const core = await makeCore(build);
    try {
      runDifferential(core, seed, 20_000);
    } catch (err) {
      console.error(`differential failure with seed ${seed} (${build} build); replay: DIFF_SEED=${seed} npx vitest run test/differential.test.ts`);
      throw err;
    }
  });
});

// Runs of mark records in one batch: the wasm loop walks a run's paths side by side first
// and then updates each entry from the slot its walk found (assembly/batch.ts markGroup).
// Set, clear and get on the same and on other entries (often the entry of the record
// before, whose walk the record shares), order-9 entries (reached through
// sibling slots), holes, indices past the root's reach, a tree that does not exist, a
// destroyed tree and bad marks, in runs longer than a group, must give the model's results
// and leave the same entries and marks.
describe.each(BUILDS)('differential: runs of mark records in a batch (%s build)', (build) => {
  it.each([11, 12, 13])('seed %i: mark runs give the model\'s results, entries and marks', async (seed) => {
    const core = await makeCore(build);
    const model = new ModelForest();
    const rng = new Rng(seed);
    const trees = [core.createTree(), core.createTree()];
    for (const _ of trees) model.createTree();
    const gone = core.createTree();
    model.createTree();
    core.destroyTree(gone);
    model.destroyTree(gone);
    const present: number[] = [];
    const build0 = new BatchBuilder();
    for (let i = 0; i < 400; i++) {
      const tree = rng.pick(trees);
      const order = rng.chance(0.2) ? 9 : 0;
      const index = pickIndex(rng);
      build0.store(tree, index, order, randomWord(rng));
      present.push(index + (order === 9 ? rng.below(PMD_NR) : 0)); // somewhere inside the entry
    }
    expect(Array.from(core.runBatch(build0.finish()))).toEqual(Array.from(model.runBatch(build0.finish())));
    const batch = new BatchBuilder();
    for (let round = 0; round < 40; round++) {
      batch.reset();
      let tree = trees[0]!;
      let index = 0;
      for (let i = rng.between(1, 80), first = i; i > 0; i--) {
        // Often the tree and index of the record before (a set and a clear of one entry): such
        // a record shares the walk of the one before.
        if (i === first || !rng.chance(0.3)) {
          tree = rng.chance(0.03) ? (rng.chance(0.5) ? 999 : gone) : rng.pick(trees);
          index = rng.chance(0.7) ? rng.pick(present) : rng.chance(0.5) ? pickIndex(rng) : XA_MAX_INDEX;
        }
        const mark = rng.chance(0.03) ? 3 + rng.below(13) : rng.below(3);
        const kind = rng.below(rng.chance(0.1) ? 4 : 3); // now and then a load breaks the run
        if (kind === 0) batch.setMark(tree, index, mark);
        else if (kind === 1) batch.clearMark(tree, index, mark);
        else if (kind === 2) batch.getMark(tree, index, mark);
        else batch.load(tree, index);
      }
      const ops = batch.finish();
      expect(Array.from(core.runBatch(ops)), `seed ${seed} round ${round}`).toEqual(Array.from(model.runBatch(ops)));
    }
    for (const tree of trees) {
      expect(core.entries(tree)).toEqual(model.entries(tree));
      core.check(tree);
    }
  });
});
