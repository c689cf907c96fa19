// A trap inside the wasm core never reaches a user as a bare RuntimeError: it is a PmemError
// EFAULT naming the core function and its arguments (src/core/trap.ts).
import { describe, expect, it } from 'vitest';
import { Core } from '../src/core/index.js';
import { BUILDS } from './helpers.js';

describe.each(BUILDS)('core traps (%s build)', (build) => {
  it('an out-of-bounds access in the core is EFAULT with the call, and the core still works after it', async () => {
    const core = await Core.create({ build, mediaBytes: 2 << 20, undoSlots: 64 });
    const tree = core.createTree();
    core.store(tree, 1, 0, 3); // something to dump
    // The host would never pass a result buffer past the end of memory; force it to see the guard.
    const x = (core as unknown as { x: { xaDump(tree: number, dst: number, max: number): number } }).x;
    let caught: unknown;
    try {
      x.xaDump(tree, 0xfffffff0, 4);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ name: 'PmemError', code: 'EFAULT' });
    expect((caught as Error).message).toMatch(new RegExp(`the ${build} core trapped in xaDump\\(${tree}, 4294967280, 4\\)`));
    expect((caught as Error).cause).toBeInstanceOf(WebAssembly.RuntimeError);
    core.store(tree, 5, 0, 7);
    expect(core.load(tree, 5)).toBe(7);
  });
});
