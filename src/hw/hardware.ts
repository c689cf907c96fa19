/**
 * The emulated machine under the file system: the core with its media, line states and
 * cost model, the CPU that calls run on, the instructions that need no mapping (fences,
 * clocks, counters, the command buffer, the block allocator), device mappings, and the
 * media half of a crash image.
 */
import { PmemError } from '../base/index.js';
import type { Core } from '../core/index.js';
import type { CommandBuilder } from './commands.js';
import { applyCrash, copyMediaWithData, type CrashMode } from './crash.js';
import { DeviceMapping, type MappingHost } from './device-mapping.js';
import { runCommands, type RunResult } from './run.js';
import { readStats, type EmulatorStats } from './stats.js';

export class Hardware implements MappingHost {
  readonly core: Core;
  private currentCpu = 0;

  constructor(core: Core) {
    this.core = core;
  }

  /** Bytes of media. */
  get capacity(): number {
    return this.core.layout.mediaSize;
  }

  /** The emulated CPU that later calls run on (its clock, flush queue and fences). */
  get cpu(): number {
    return this.currentCpu;
  }

  set cpu(cpu: number) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.core.layout.maxCpus) {
      throw new PmemError('EINVAL', `cpu must be an integer in [0, ${this.core.layout.maxCpus - 1}], got ${String(cpu)}`);
    }
    if (this.claims(cpu)) throw new PmemError('EBUSY', `cpu ${cpu} is driven by an attached worker thread: one thread per CPU`);
    this.currentCpu = cpu;
  }

  /** Whether a worker thread drives `cpu` (set by the sharing layer, src/emulator/share-server.ts). */
  claims: (cpu: number) => boolean = () => false;

  /**
   * Switches CPUs without the setter's check, for the concurrent-task scheduler: a task's
   * CPU is checked by the core on its first access, which fails that task alone.
   */
  switchCpu(cpu: number): void {
    this.currentCpu = cpu;
  }

  /** Maps [offset, offset + length) of the media directly (device-dax); 4 KiB aligned. */
  mmapDevice(options: { offset?: number; length?: number } = {}): DeviceMapping {
    const offset = options.offset ?? 0;
    const length = options.length ?? (typeof offset === 'number' ? this.capacity - offset : 0); // a bad offset is refused below
    for (const [name, value] of [['offset', offset], ['length', length]] as const) {
      if (!Number.isInteger(value) || value < 0 || value % 4096 !== 0) {
        throw new PmemError('EINVAL', `mmapDevice: ${name} must be a non-negative multiple of 4096, got ${String(value)}`);
      }
    }
    if (length === 0) throw new PmemError('EINVAL', 'mmapDevice: length must not be 0');
    if (offset + length > this.capacity) {
      throw new PmemError('EINVAL', `mmapDevice: [${offset}, ${offset + length}) runs past the ${this.capacity}-byte media`);
    }
    return new DeviceMapping(this, offset, length);
  }

  /** sfence, or mfence when `full`, on the current CPU. */
  fence(full: boolean): void {
    this.core.pmFence(this.currentCpu, full);
  }

  /** The current CPU's emulated clock, ns. */
  now(): number {
    return this.core.pmNow(this.currentCpu);
  }

  /** Every hardware counter (src/hw/stats.ts). */
  stats(): EmulatorStats {
    return readStats(this.core);
  }

  /** Runs a command buffer on the current CPU (src/hw/run.ts). */
  run(commands: CommandBuilder): RunResult {
    return runCommands(this.core, this.currentCpu, commands);
  }

  /**
   * Writes onto `image` (a rebooted machine of the same size) what a power failure now
   * would leave on this media (src/hw/crash.ts).
   */
  crashInto(image: Hardware, mode: CrashMode, seed: number): void {
    // Workers' instructions wait meanwhile: the image is of one instant, between two of them.
    this.core.withLinesHeld(() => {
      copyMediaWithData(this.core, image.core);
      applyCrash(this.core, image.core, mode, seed);
    });
  }
}
