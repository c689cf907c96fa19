/**
 * The streamed replay of a long trace file, run in a child process of its own so that its
 * peak resident memory (maxRSS) is the replay's alone: `node --import tsx
 * bench/traces-stream.ts FILE` replays FILE (the check pass, then the run pass, each
 * reading 1 MiB chunks) and prints {"operations", "ms", "maxRssMiB", "fileMiB"} as JSON.
 * writeLongTrace makes such a file (the parent writes it, so that the child only replays).
 */
import { open, stat } from 'node:fs/promises';
import { fileLines, replay } from '../src/trace/index.js';

/**
 * A generated trace of `lines` operations on one device mapping: 64-byte stores with
 * their bytes written out, each flushed and fenced, written in blocks of 10^5 lines.
 */
export async function writeLongTrace(path: string, lines: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.write('daxemu-trace 1.1\nemulator capacity=67108864 seed=1\ndev d0 0 33554432\n');
    const data = `x${'5a'.repeat(64)}`;
    let block: string[] = [];
    for (let i = 0; i < lines; i++) {
      const off = ((i / 3) | 0) * 64 % (32 << 20);
      block.push(i % 3 === 0 ? `store d0 ${off} 64 ${data}` : i % 3 === 1 ? `clwb d0 ${off} 64` : 'sfence');
      if (block.length === 100_000) {
        await fh.write(`${block.join('\n')}\n`);
        block = [];
      }
    }
    if (block.length) await fh.write(`${block.join('\n')}\n`);
  } finally {
    await fh.close();
  }
}

async function main(path: string): Promise<void> {
  const fileMiB = (await stat(path)).size / (1 << 20);
  const started = performance.now();
  const r = await replay(fileLines(path));
  const ms = performance.now() - started;
  process.stdout.write(`${JSON.stringify({ operations: r.operations, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, fileMiB })}\n`);
}

if (process.argv[1]?.endsWith('traces-stream.ts')) await main(process.argv[2]!);
