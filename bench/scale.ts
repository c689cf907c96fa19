/**
 * The scale suite. For now one case: the default matrix sharded in two (`bench --shard K/N`,
 * one thread each, both at once on this machine's two cores) and merged (`daxemu merge`),
 * against one unsharded run on two worker threads. Goal: at most 1.1x its wall time.
 * Both sides run the command from the build (dist/cli/cli.js), as CI would.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { metric, type MetricCase } from './case.js';
import type { SuiteOptions } from './suite.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../dist/cli/cli.js', import.meta.url));

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

export async function runScaleSuite(options: SuiteOptions): Promise<MetricCase[]> {
  const dir = await mkdtemp(join(tmpdir(), 'daxemu-bench-scale-'));
  const daxemu = (...args: string[]) => run(process.execPath, [CLI, ...args, ...(options.quick ? ['--quick'] : [])], { maxBuffer: 64 << 20 });
  try {
    options.progress('unsharded, 2 threads');
    const whole = await timed(() => daxemu('bench', '--threads', '2', '--out', join(dir, 'whole')));
    options.progress('2 shards at once, 1 thread each, then merge');
    const sharded = await timed(async () => {
      await Promise.all([1, 2].map((k) => daxemu('bench', '--threads', '1', '--shard', `${k}/2`, '--out', join(dir, `shard${k}`))));
      await daxemu('merge', join(dir, 'shard1'), join(dir, 'shard2'), '--out', join(dir, 'merged'));
    });
    return [
      metric('default matrix, unsharded on 2 threads', whole, 's'),
      metric('default matrix as 2 shards at once + merge', sharded, 's'),
      metric('sharded + merge / unsharded, wall time', sharded / whole, 'ratio', { atMost: 1.1 }),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
