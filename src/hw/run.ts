/**
 * Running a hardware command buffer (emu.run): the records go to the core in as few wasm
 * calls as its scratch buffers allow, every record checked before any runs, and the result
 * hands back the counters the run changed, its emulated time and the loaded bytes.
 */
import { ERRNO, PmemError } from '../base/index.js';
import type { Core } from '../core/index.js';
import { CommandBuilder, PM_LOAD, PM_MFENCE, PM_NTSTORE, PM_SFENCE, PM_STORE } from './commands.js';
import { changedCounters, statsFromSnapshot } from './stats.js';

export interface RunResult {
  /** Counters the run changed (after − before; flattened names such as clwb.dirty). */
  readonly counters: Record<string, number>;
  /** Emulated ns the run took on this CPU. */
  readonly ns: number;
  /** The bytes of each load record, in order. */
  readonly loads: Uint8Array[];
}

/**
 * What run() returns. The loaded bytes are cut out of one copy of the data buffer only when
 * asked for: a typed-array view costs about as much as a small operation.
 */
class CompletedRun implements RunResult {
  private cut: Uint8Array[] | undefined;
  private changed: Record<string, number> | undefined;

  constructor(
    /** after − before of the raw counters (Core.pmSnapshot), turned into names on demand. */
    private readonly delta: Float64Array,
    private readonly cpus: number,
    readonly ns: number,
    /** Copies of the records and data, kept only when the run loaded something. */
    private readonly records: Uint32Array | undefined,
    private readonly data: Uint8Array | undefined,
  ) {}

  get counters(): Record<string, number> {
    this.changed ??= changedCounters(statsFromSnapshot(this.delta, this.cpus, 0));
    return this.changed;
  }

  get loads(): Uint8Array[] {
    if (!this.cut) {
      this.cut = [];
      const { records, data } = this;
      if (records && data) {
        for (let i = 0; i < records.length; i += 4) {
          if (records[i] === PM_LOAD) this.cut.push(data.subarray(records[i + 3]!, records[i + 3]! + records[i + 2]!));
        }
      }
    }
    return this.cut;
  }
}

/**
 * Runs a command buffer on CPU `cpu`, in as few wasm calls as the scratch buffers allow.
 * Every record is checked first: a bad one fails the call and runs nothing.
 */
export function runCommands(core: Core, cpu: number, commands: CommandBuilder): RunResult {
  if (!(commands instanceof CommandBuilder)) throw new PmemError('EINVAL', 'run: expects a CommandBuilder from emu.commands()');
  const { records, data } = commands.encoded();
  const room = core.layout.scratchDataSize;
  const maxRecords = core.layout.scratchCmdSize / 16;
  const loads = commands.loads > 0;
  const before = core.pmSnapshot();
  const start = core.pmNow(cpu);
  if (records.length / 4 <= maxRecords && data.length <= room) {
    // The usual case, one wasm call: the core checks every record before it runs any.
    runChunk(core, cpu, records, data, loads);
  } else {
    checkRecords(records, room, core.layout.mediaSize);
    core.pmReserveRecords(records); // ENOMEM before the first piece runs
    runInChunks(core, cpu, records, data, room, maxRecords, loads);
  }
  const after = core.pmSnapshot();
  for (let i = 0; i < after.length; i++) after[i]! -= before[i]!;
  // Loaded bytes are cut out later, on demand, from copies made now.
  return new CompletedRun(after, core.layout.maxCpus, core.pmNow(cpu) - start, loads ? new Uint32Array(records) : undefined, loads ? new Uint8Array(data) : undefined);
}

/** Checks every record on the host, for buffers too long for one core call. */
function checkRecords(records: Uint32Array, room: number, capacity: number): void {
  for (let i = 0; i < records.length; i += 4) {
    const op = records[i]!;
    const len = records[i + 2]!;
    if (op < PM_STORE || op > PM_MFENCE) throw new PmemError('EINVAL', `run: record ${i / 4} has no operation ${op}`);
    if (op <= PM_NTSTORE && len > room) throw new PmemError('EINVAL', `run: record ${i / 4} moves ${len} bytes, more than the ${room}-byte data buffer`);
    if (op < PM_SFENCE && records[i + 1]! + len > capacity) {
      throw new PmemError('ERANGE', `run: record ${i / 4} touches [${records[i + 1]}, ${records[i + 1]! + len}), outside the media`);
    }
  }
}

function runChunk(core: Core, cpu: number, records: Uint32Array, data: Uint8Array, readBack: boolean, firstRecord = 0): void {
  const failure = core.pmRun(cpu, records, data, readBack);
  if (failure) throw runFailure(core, firstRecord + failure.failed, failure.errno);
}

/**
 * Runs `count` records that a caller encoded in place into the core's scratch buffers
 * (Core.pmScratch), checked by the core before any runs, as emu.run does for one chunk.
 */
export function runScratch(core: Core, cpu: number, count: number): void {
  const failure = core.pmRunScratch(cpu, count);
  if (failure) throw runFailure(core, failure.failed, failure.errno);
}

/** The error of a refused record. */
function runFailure(core: Core, record: number, errno: number): PmemError {
  if (errno === ERRNO.EDEADLK) {
    // Found while running, not by the check: the records before it ran (assembly/pmcmd.ts).
    return new PmemError('EDEADLK', `run: record ${record} found the hardware state's lock held by a thread that died or stopped; the ${record} records before it ran`);
  }
  const why =
    errno === ERRNO.ERANGE ? 'it touches bytes outside the media'
    : errno === ERRNO.ENOMEM ? `the media chunks it writes or loads need more memory than the resident budget of ${core.layout.poolSize} bytes (the residentBytes option) has left`
    : 'its operation or data length is invalid';
  return PmemError.fromErrno(errno, `run: record ${record} was refused, nothing ran: ${why}`);
}

/** Splits a long buffer into chunks that fit the scratch buffers, data offsets rebased. */
function runInChunks(core: Core, cpu: number, records: Uint32Array, data: Uint8Array, room: number, maxRecords: number, readBack: boolean): void {
  const usesData = (op: number): boolean => op === PM_STORE || op === PM_LOAD || op === PM_NTSTORE;
  let first = 0;
  while (first < records.length) {
    let end = first;
    let dataStart = -1;
    let dataEnd = 0;
    while (end < records.length && (end - first) / 4 < maxRecords) {
      if (usesData(records[end]!)) {
        const off = records[end + 3]!;
        if (dataStart < 0) dataStart = off;
        if (off + records[end + 2]! - dataStart > room) break;
        dataEnd = off + records[end + 2]!;
      }
      end += 4;
    }
    const base = Math.max(dataStart, 0);
    const chunk = records.slice(first, end);
    for (let i = 0; i < chunk.length; i += 4) if (usesData(chunk[i]!)) chunk[i + 3]! -= base;
    // The view writes loaded bytes back in place, where run() finds them.
    runChunk(core, cpu, chunk, data.subarray(base, Math.max(base, dataEnd)), readBack, first / 4);
    first = end;
  }
}
