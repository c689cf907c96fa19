// The wasm core beyond the shared contract: height growth and shrink, node reuse, the
// memory map, running out of memory or tree ids, the invariant checker and the dump.
import { describe, expect, it } from 'vitest';
import { BatchBuilder } from '../src/core/batch.js';
import { Core, InvariantError } from '../src/core/index.js';
import { PAGECACHE_TAG_DIRTY, XA_MAX_INDEX, xaMkError } from '../src/core/entry.js';
import { ERRNO, PmemError } from '../src/base/errors.js';
import { ModelForest } from '../src/model/xarray.js';
import { BUILDS, makeCore, wordFor } from './helpers.js';

describe.each(BUILDS)('wasm core (%s build)', (build) => {
  it('the tree grows a level per 6 index bits and shrinks back when the high entries go (xas_expand, xas_shrink)', async () => {
    const core = await makeCore(build);
    const t = core.createTree();
    core.store(t, 0, 0, wordFor(0));
    expect(core.treeNodes(t)).toBe(1); // one shift-0 node
    core.store(t, 64, 0, wordFor(64));
    expect(core.treeNodes(t)).toBe(3); // a shift-6 top over two leaves
    core.store(t, 4096, 0, wordFor(4096));
    expect(core.treeNodes(t)).toBe(6); // shift-12 top, a shift-6 node and a leaf for 4096
    core.store(t, XA_MAX_INDEX, 0, wordFor(XA_MAX_INDEX));
    expect(core.dump(t).split('\n')[1]).toMatch(/^\[0\] node shift 30 /);
    core.check(t);
    core.erase(t, XA_MAX_INDEX);
    expect(core.dump(t).split('\n')[1]).toMatch(/^\[0\] node shift 12 /);
    core.erase(t, 4096);
    core.erase(t, 64);
    expect(core.treeNodes(t)).toBe(1);
    expect(core.dump(t).split('\n')[1]).toMatch(/^\[0\] node shift 0 /);
    core.check(t);
  });

  it('a tree emptied after a million inserts holds no nodes, and refilling it reuses the freed nodes', async () => {
    const core = await makeCore(build);
    const t = core.createTree();
    const n = 1_000_000;
    const fill = new BatchBuilder(n);
    for (let i = 0; i < n; i++) fill.store(t, i * 3, 0, wordFor(i));
    core.runBatch(fill.finish());
    expect(core.count(t)).toBe(n);
    core.check(t);
    const full = core.stats();
    const empty = new BatchBuilder(n);
    for (let i = 0; i < n; i++) empty.erase(t, i * 3);
    core.runBatch(empty.finish());
    expect(core.count(t)).toBe(0);
    expect(core.treeNodes(t)).toBe(0);
    expect(core.stats().nodesInUse).toBe(0);
    expect(core.stats().nodesFree).toBe(full.nodesInUse);
    core.runBatch(fill.finish());
    expect(core.stats().heapBytes).toBe(full.heapBytes); // no new heap: freed nodes came back
    core.check(t);
  });

  it('destroying a tree returns all of its nodes to the shared heap', async () => {
    const core = await makeCore(build);
    const a = core.createTree();
    const b = core.createTree();
    for (let i = 0; i < 5000; i++) {
      core.store(a, i * 97, 0, wordFor(i));
      core.store(b, i * 89, i % 2 === 0 ? 9 : 0, wordFor(i));
    }
    const before = core.stats().nodesInUse;
    const ofA = core.treeNodes(a);
    core.destroyTree(a);
    expect(core.stats().nodesInUse).toBe(before - ofA);
    core.check(b);
  });

  it('the memory map chains its regions, sizes the chunk pool for every chunk by default and is read from the core', async () => {
    const core = await Core.create({ build, mediaBytes: 4 << 20, maximumPages: 4096 });
    const l = core.layout;
    expect(l.treesOffset).toBeGreaterThan(l.headerOffset);
    expect(l.scratchOffset).toBeGreaterThanOrEqual(l.treesOffset + l.maxTrees * 32);
    expect(l.tablesOffset).toBeGreaterThanOrEqual(l.scratchOffset + l.maxCpus * (l.scratchCmdSize + l.scratchResultSize));
    expect(l.mediaSize).toBe(4 << 20);
    expect(l.undoOffset).toBeGreaterThanOrEqual(l.tablesOffset + (l.mediaSize / l.chunkBytes) * 8); // two table slots per chunk
    expect(l.linesSize).toBe(l.mediaSize / 64); // one state byte per 64-byte line
    expect(l.poolOffset).toBeGreaterThanOrEqual(l.zeroOffset + l.chunkBytes * (1 + 1 / 64)); // the zero chunk: data and line states
    expect(l.poolSize).toBe(2 * (l.chunkBytes + l.chunkBytes / 64)); // by default, room for every chunk
    expect(l.heapOffset).toBe(l.poolOffset + l.poolSize);
    expect(l.heapOffset % 64).toBe(0); // node words need 64-byte aligned nodes
    expect(core.memory.buffer.byteLength).toBeGreaterThanOrEqual(l.heapOffset);
  });

  it('bad creation options are refused: media not a multiple of 2 MiB, more media than the memory limit, a bad page limit', async () => {
    await expect(Core.create({ build, mediaBytes: 3 << 20 })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(Core.create({ build, mediaBytes: 64 << 20, maximumPages: 512 })).rejects.toMatchObject({ code: 'ENOMEM' });
    await expect(Core.create({ build, maximumPages: 70000 })).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('an exhausted node heap fails the store with ENOMEM and changes nothing; freeing nodes lets stores succeed again', async () => {
    const probe = await makeCore(build);
    const core = await makeCore(build, Math.ceil(probe.layout.heapOffset / 65536) + 48); // 3 MiB of heap
    const t = core.createTree();
    let stored = 0;
    let failure: unknown;
    for (let i = 0; ; i++) {
      const before = stored;
      try {
        core.store(t, i * 4099, i % 3 === 0 ? 9 : 0, wordFor(i));
        stored++;
      } catch (err) {
        failure = err;
        expect(stored).toBe(before);
        break;
      }
    }
    expect(failure).toBeInstanceOf(PmemError);
    expect((failure as PmemError).code).toBe('ENOMEM');
    const entries = core.entries(t);
    expect(entries.length).toBe(stored);
    expect(() => core.store(t, 0xfffff000, 0, 5)).toThrowError(expect.objectContaining({ code: 'ENOMEM' }));
    expect(core.entries(t)).toEqual(entries);
    core.check(t);
    for (const e of entries.slice(0, 200)) core.erase(t, e.index);
    core.store(t, 0xfffff000, 0, 5);
    core.check(t);
  });

  it('tree ids run out after MAX_TREES - 1 trees with ENOSPC, and a destroyed id is handed out again', async () => {
    const core = await makeCore(build);
    const ids: number[] = [];
    for (let i = 1; i < core.layout.maxTrees; i++) ids.push(core.createTree());
    expect(ids[0]).toBe(1);
    expect(() => core.createTree()).toThrowError(expect.objectContaining({ code: 'ENOSPC' }));
    core.destroyTree(ids[100]);
    expect(core.createTree()).toBe(ids[100]);
  });

  it('xaCheck reports a broken mark summary and a wrong node count (the checker itself can fail)', async () => {
    const core = await makeCore(build);
    const t = core.createTree();
    core.store(t, 0, 0, wordFor(0)); // the first node: a leaf at the heap's start
    core.store(t, 64, 0, wordFor(64)); // then a shift-6 top, then a second leaf
    core.setMark(t, 0, PAGECACHE_TAG_DIRTY);
    core.check(t);
    const leaf = core.layout.heapOffset;
    const top = leaf + core.layout.nodeSize;
    const bytes = new Uint8Array(core.memory.buffer);
    bytes[top + 16] = 0; // the top's DIRTY summary bit for the leaf
    expect(() => core.check(t)).toThrowError(InvariantError);
    expect(() => core.check(t)).toThrowError(/mark summary/);
    bytes[top + 16] = 1;
    core.check(t);
    bytes[leaf + 2] += 1; // the leaf's count
    expect(() => core.check(t)).toThrowError(/count/);
  });

  it('xaDump prints nodes and entries with their marks, indented by depth', async () => {
    const core = await makeCore(build);
    const t = core.createTree();
    core.store(t, 5, 0, 0x21);
    core.store(t, 512, 9, 0x45);
    core.setMark(t, 700, PAGECACHE_TAG_DIRTY);
    expect(core.dump(t)).toBe(
      [
        'tree 1: 2 entries, 2 nodes',
        '[0] node shift 6 from 0x0 count 9 values 1 DIRTY:0x100',
        '  [0] node shift 0 from 0x0 count 1 values 1',
        '    [5] 0x5 order 0 word 0x21',
        '  [8] 0x200 order 9 word 0x45 DIRTY',
      ].join('\n'),
    );
  });

  it('a second instance attached to the same memory sees the same trees', async () => {
    const core = await makeCore(build);
    const t = core.createTree();
    core.store(t, 77, 0, wordFor(77));
    const other = await Core.attach(core.memory, 1, build);
    expect(other.load(t, 77)).toBe(wordFor(77));
    other.store(t, 78, 0, wordFor(78));
    expect(core.load(t, 78)).toBe(wordFor(78));
    await expect(Core.attach(new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true }), 0, build)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('a batch longer than the scratch buffer runs in chunks with the same results as the model', async () => {
    const core = await makeCore(build);
    const model = new ModelForest();
    const t = core.createTree();
    model.createTree();
    const batch = new BatchBuilder();
    for (let i = 0; i < 150_000; i++) {
      if (i % 3 === 0) batch.store(t, (i * 7) % 300_000, i % 5 === 0 ? 9 : 0, wordFor(i));
      else if (i % 3 === 1) batch.setMark(t, (i * 11) % 300_000, i % 3);
      else batch.load(t, (i * 13) % 300_000);
    }
    const ops = batch.finish();
    expect(core.runBatch(ops)).toEqual(model.runBatch(ops));
    expect(core.entries(t)).toEqual(model.entries(t));
  });
});

describe.each(BUILDS)('batched loads (%s build)', (build) => {
  it('runs of loads walked side by side give exactly what single loads give, bad trees and order-9 entries included', async () => {
    const core = await makeCore(build);
    const t = core.createTree();
    const u = core.createTree();
    for (let i = 0; i < 3000; i++) core.store(t, i * 1031, 0, wordFor(i));
    for (let i = 0; i < 50; i++) core.store(u, 4_000_000 + i * 4096, 9, wordFor(i, 2));
    core.store(u, 0, 0, wordFor(7));
    const batch = new BatchBuilder();
    const expected: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const tree = i % 97 === 0 ? 999 : i % 3 === 0 ? u : t;
      const index = tree === u ? 4_000_000 + ((i * 37) % 220_000) : i % 5 === 0 ? XA_MAX_INDEX - i : (i * 1031) % 4_000_000;
      batch.load(tree, index);
      let want: number;
      try {
        want = core.load(tree, index) | 0;
      } catch (err) {
        want = xaMkError(ERRNO.EBADF) | 0;
        expect((err as PmemError).code).toBe('EBADF');
      }
      expected.push(want, 0);
    }
    expect(Array.from(core.runBatch(batch.finish()))).toEqual(expected);
  });
});
