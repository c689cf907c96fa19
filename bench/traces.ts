/**
 * The traces suite: replaying a recorded trace through the command buffer (goal: 5 M
 * recorded operations per second or more, for the binary twin; the text is reported
 * beside it), and the analysis over the same trace (goal: at most 2x the replay's time).
 * The trace is a persistent log recorded by startRecording: 64-byte records appended to a
 * device mapping with their bytes, each flushed (clwb) and fenced, and one in ten read
 * back. Wall-clock times, best of a few runs, less the time to make the emulator. Last,
 * a generated trace file of 10^7 lines (10^6 with --quick) is replayed streamed, in a child
 * process (bench/traces-stream.ts), whose peak resident memory is reported: it must not
 * grow with the file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Rng } from '../src/base/index.js';
import { createEmulator } from '../src/emulator/index.js';
import { analyze, encodeBinaryTrace, replay, replayBinary, startRecording } from '../src/trace/index.js';
import { bestWallMs } from './measure.js';
import { writeLongTrace } from './traces-stream.js';
import { metric, type MetricCase } from './case.js';
import type { SuiteOptions } from './suite.js';

const MiB = 1 << 20;

/** A recorded trace of about `ops` operations. */
async function recordedTrace(ops: number): Promise<string> {
  const emu = await createEmulator({ capacity: 64 * MiB, seed: 1 });
  const rec = startRecording(emu);
  const d = rec.mmapDevice({ length: 32 * MiB });
  const rng = new Rng(1);
  const record = new Uint8Array(64);
  for (let i = 0, at = 0; i < ops; at = (at + 64) % (32 * MiB)) {
    const off = at;
    record.fill(i & 0xff);
    d.store(off, record);
    d.clwb(off, 64);
    rec.sfence();
    i += 3;
    if (rng.chance(0.1)) {
      d.load(off, 64);
      i++;
    }
  }
  return rec.stop();
}


interface Streamed {
  operations: number;
  ms: number;
  maxRssMiB: number;
  fileMiB: number;
}

/** Writes a generated file of `lines` lines, replays it in a child process; its time and peak RSS. */
async function streamedReplay(lines: number): Promise<Streamed> {
  const dir = await mkdtemp(join(tmpdir(), 'daxemu-stream-'));
  try {
    const path = join(dir, 'long.trace');
    await writeLongTrace(path, lines);
    const script = fileURLToPath(new URL('./traces-stream.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, path], { maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as Streamed;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runTracesSuite(options: SuiteOptions): Promise<MetricCase[]> {
  const sizes = options.sizes ?? (options.quick ? [1e5] : [1e6]);
  const runs = options.quick ? 1 : 3;
  const cases: MetricCase[] = [];
  for (const size of sizes) {
    options.progress(`recording ${size} operations`);
    const trace = await recordedTrace(size);
    const ops = trace.split('\n').length - 3;
    // Emulator creation is timed apart and taken off: the goal is about the operations.
    const createMs = await bestWallMs(runs, () => createEmulator({ capacity: 64 * MiB, seed: 1 }));
    const binary = encodeBinaryTrace(trace);
    options.progress(`replaying ${ops} operations`);
    const textMs = (await bestWallMs(runs, () => replay(trace))) - createMs;
    const binaryMs = (await bestWallMs(runs, () => replayBinary(binary))) - createMs;
    options.progress(`analyzing ${ops} operations`);
    const analyzeTextMs = (await bestWallMs(runs, () => analyze(trace))) - createMs;
    const analyzeBinaryMs = (await bestWallMs(runs, () => analyze(binary))) - createMs;
    cases.push(
      metric(`replay, binary twin, ${ops} operations (check + run)`, ops / (binaryMs / 1000), 'ops/s', { atLeast: 5e6 }),
      metric(`replay, text, ${ops} operations (check + run)`, ops / (textMs / 1000), 'ops/s'),
      metric(`analyze / replay time, binary twin`, analyzeBinaryMs / binaryMs, 'ratio', { atMost: 2 }),
      metric(`analyze / replay time, text`, analyzeTextMs / textMs, 'ratio', { atMost: 2 }),
    );
  }
  // Bounded: at most 128 MiB over the peak for a 10^5-line file, whatever the length (the
  // garbage of each chunk lets V8's heap grow some before it collects).
  const long = options.quick ? 1e6 : 1e7;
  options.progress(`replaying a ${long}-line trace file, streamed, in a child process`);
  const [small, big] = [await streamedReplay(1e5), await streamedReplay(long)];
  cases.push(
    metric(`replay from a file, streamed, ${big.operations} operations (${big.fileMiB.toFixed(0)} MiB; check + run)`, big.operations / (big.ms / 1000), 'ops/s'),
    metric(`peak RSS of that replay (a 10^5-line file's: ${small.maxRssMiB.toFixed(0)} MiB)`, big.maxRssMiB, 'MiB', { atMost: small.maxRssMiB + 128 }),
  );
  return cases;
}
