/**
 * The hardware suite: what line tracking costs on the store path, how many small operations
 * the command buffer runs per second, the wasm core against the reference model on one
 * command buffer, and the memory the line state takes.
 */
import type { CommandBuilder } from '../src/hw/commands.js';
import { createEmulator, type Emulator } from '../src/emulator/index.js';
import { ModelPmem } from '../src/model/pmem.js';
import { Rng } from '../src/base/random.js';
import { compareSides, metric, type BenchCase, type MetricCase } from './case.js';
import { opsPerSecond } from './measure.js';
import { runRecordsOnModel } from './model-commands.js';
import type { SuiteOptions } from './suite.js';

const MiB = 1 << 20;
const GiB = 1 << 30;
/** Operations per command buffer: enough that one run's fixed costs vanish. */
const OPS = 4096;
/** The stores' region: well inside the emulated cache, so no eviction muddies the store path. */
const STORE_REGION = 4 * MiB;

/** 4096 stores of 64 bytes, each to a random line of the region. */
function store64Commands(emu: Emulator, rng: Rng): { cmds: CommandBuilder; offsets: Uint32Array; bytes: Uint8Array } {
  const cmds = emu.commands();
  const offsets = new Uint32Array(OPS);
  const bytes = new Uint8Array(64).fill(0x5a);
  for (let i = 0; i < OPS; i++) {
    offsets[i] = rng.below(STORE_REGION / 64) * 64;
    cmds.store(offsets[i]!, bytes);
  }
  return { cmds, offsets, bytes };
}

/** 4096 8-byte operations: mostly stores, some loads, a clwb and an sfence now and then. */
function smallCommands(emu: Emulator, rng: Rng): CommandBuilder {
  const cmds = emu.commands();
  const word = new Uint8Array(8).fill(7);
  for (let i = 0; i < OPS; i++) {
    const addr = rng.below(STORE_REGION / 8) * 8;
    if (i % 64 === 63) cmds.sfence();
    else if (i % 16 === 15) cmds.clwb(addr, 8);
    else if (i % 4 === 3) cmds.load(addr, 8);
    else cmds.store(addr, word);
  }
  return cmds;
}

/** Runs the hardware suite. */
export async function runHardwareSuite(options: SuiteOptions): Promise<(BenchCase | MetricCase)[]> {
  const cases: (BenchCase | MetricCase)[] = [];
  const rng = new Rng(7);
  const emu = await createEmulator({ capacity: 64 * MiB, preset: 'optane-g1', cacheBytes: 32 * MiB, seed: 7 });

  options.progress('64-byte stores');
  const { cmds: stores, offsets, bytes } = store64Commands(emu, rng);
  const plain = new Uint8Array(64 * MiB);
  cases.push(
    compareSides(
      '64-byte stores with line tracking (command buffer)',
      {
        opsPerIteration: OPS,
        wasm: () => emu.run(stores),
        model: () => {
          for (let i = 0; i < OPS; i++) plain.set(bytes, offsets[i]!);
        },
      },
      options.timing,
      0.5,
      'typed-array writes',
    ),
  );

  options.progress('8-byte ops');
  const small = smallCommands(emu, rng);
  const rate = opsPerSecond('8-byte ops [wasm]', () => emu.run(small), OPS, options.timing);
  cases.push(metric('8-byte ops through the command buffer', rate, 'ops/s', { atLeast: 20e6 }));

  options.progress('wasm against the model');
  const model = new ModelPmem({ mediaBytes: emu.capacity, undoSlots: emu.options.cacheBytes / 64, cost: emu.cost, seed: 7 });
  cases.push(
    compareSides(
      'the same command buffer, wasm core against the reference model',
      { opsPerIteration: OPS, wasm: () => emu.run(small), model: () => runRecordsOnModel(model, small) },
      options.timing,
      3,
    ),
  );

  options.progress('memory');
  const l = emu.core.layout;
  // Line states as if every chunk had memory, the chunk tables and the block map.
  const lineStateBytes = l.linesSize + l.undoOffset - l.tablesOffset;
  cases.push(metric('line state and block map per GiB of media', (lineStateBytes / l.mediaSize) * GiB / MiB, 'MiB', { atMost: 0.02 * 1024 }));
  const undoBytes = l.zeroOffset - l.undoOffset;
  cases.push(metric('undo slots per MiB of emulated cache', undoBytes / emu.options.cacheBytes, 'MiB'));
  return cases;
}
