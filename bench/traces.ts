/**
 * The traces suite: replaying a recorded trace through the command buffer (goal: 5 M
 * recorded operations per second or more, for the binary twin; the text is reported
 * beside it), and the analysis over the same trace (goal: at most 2x the replay's time).
 * The trace is a persistent log recorded by startRecording: 64-byte records appended to a
 * device mapping with their bytes, each flushed (clwb) and fenced, and one in ten read
 * back. Wall-clock times, best of a few runs, less the time to make the emulator.
 */
import { Rng } from '../src/base/index.js';
import { createEmulator } from '../src/emulator/index.js';
import { analyze, encodeBinaryTrace, replay, replayBinary, startRecording } from '../src/trace/index.js';
import { bestWallMs } from './measure.js';
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
  return cases;
}
