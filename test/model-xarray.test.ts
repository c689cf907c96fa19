/**
 * The reference model against the shared Forest contract, plus what only the model
 * promises: error messages that name the offending argument.
 */
import { describe, expect, it } from 'vitest';
import { ModelForest } from '../src/model/xarray.js';
import { forestContract } from './forest-contract.js';

forestContract('reference model', () => new ModelForest());

describe('reference model error messages', () => {
  /** The message of the PmemError `call` throws. */
  function messageOf(call: () => unknown): string {
    try {
      call();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected the call to throw');
  }

  it('name the offending argument and its value', () => {
    const forest = new ModelForest();
    const tree = forest.createTree();
    expect(messageOf(() => forest.store(tree, 0, 3, 1))).toBe('EINVAL: order must be 0 or 9, got 3');
    expect(messageOf(() => forest.getMark(tree, 0, 5))).toContain('mark');
    expect(messageOf(() => forest.store(tree, 0, 0, 1026))).toContain('word');
    expect(messageOf(() => forest.load(tree, -1))).toContain('index');
    expect(messageOf(() => forest.findPresent(tree, 0, 2 ** 32))).toContain('end');
    expect(messageOf(() => forest.tagTowrite(tree, 0.5, 1))).toContain('start');
    expect(messageOf(() => forest.count(77))).toContain('tree 77');
  });
});
