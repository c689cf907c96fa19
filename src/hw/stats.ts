/**
 * The emulator's counters (emu.stats()): the per-CPU counters of assembly/cpu.ts summed
 * over CPUs, the shared media counters of assembly/cost.ts, and each CPU's clock.
 */
import type { Core } from '../core/index.js';

/** Per-CPU counter names, in assembly/cpu.ts C_* order. */
const CPU_COUNTER_NAMES = [
  'loads', 'loadBytes', 'loadMisses', 'stores', 'storeBytes', 'storeMisses', 'ntStores', 'ntLines', 'ntBytes',
  'clflushDirty', 'clflushClean', 'clflushoptDirty', 'clflushoptClean', 'clwbDirty', 'clwbClean',
  'sfences', 'mfences', 'evictions', 'fenceWaitNs',
] as const;
type CpuCounter = (typeof CPU_COUNTER_NAMES)[number];

/** Shared media counters, in assembly/cost.ts M_* order. */
const MEDIA_COUNTER_NAMES = ['dimmBytesWritten', 'mediaBytesWritten', 'mediaBytesRead', 'bufferHits'] as const;
type MediaCounter = (typeof MEDIA_COUNTER_NAMES)[number];

export interface FlushCounts {
  dirty: number;
  clean: number;
}

export interface EmulatorStats extends Record<Exclude<CpuCounter, `${'clflush' | 'clflushopt' | 'clwb'}${'Dirty' | 'Clean'}`>, number>, Record<MediaCounter, number> {
  /** Lines flushed per instruction, by whether they were dirty (a write-back) or clean (wasted). */
  clflush: FlushCounts;
  clflushopt: FlushCounts;
  clwb: FlushCounts;
  linesFlushed: number;
  dirtyLinesFlushed: number;
  cleanLinesFlushed: number;
  fences: number;
  /** Media bytes written per byte that reached the DIMMs (XPLine read-modify-write and merging). */
  writeAmplification: number;
  /** Lines whose newest contents are not durable yet. */
  nonDurableLines: number;
  /** Each CPU's emulated clock, ns. */
  nsPerCpu: number[];
}

/** Reads every counter from the core. */
export function readStats(core: Core): EmulatorStats {
  return statsFromSnapshot(core.pmSnapshot(), core.layout.maxCpus, core.pmUndoUsed());
}

/** Builds the stats from a raw snapshot (Core.pmSnapshot) of `cpus` CPUs. */
export function statsFromSnapshot(snapshot: Float64Array, cpus: number, nonDurableLines: number): EmulatorStats {
  const perCpu = 1 + CPU_COUNTER_NAMES.length;
  const sum = (i: number): number => {
    let total = 0;
    for (let cpu = 0; cpu < cpus; cpu++) total += snapshot[cpu * perCpu + 1 + i]!;
    return total;
  };
  const c = Object.fromEntries(CPU_COUNTER_NAMES.map((name, i) => [name, sum(i)])) as Record<CpuCounter, number>;
  const m = Object.fromEntries(MEDIA_COUNTER_NAMES.map((name, i) => [name, snapshot[cpus * perCpu + i]!])) as Record<MediaCounter, number>;
  const flush = (dirty: number, clean: number): FlushCounts => ({ dirty, clean });
  const dirtyLinesFlushed = c.clflushDirty + c.clflushoptDirty + c.clwbDirty;
  const cleanLinesFlushed = c.clflushClean + c.clflushoptClean + c.clwbClean;
  return {
    loads: c.loads,
    loadBytes: c.loadBytes,
    loadMisses: c.loadMisses,
    stores: c.stores,
    storeBytes: c.storeBytes,
    storeMisses: c.storeMisses,
    ntStores: c.ntStores,
    ntLines: c.ntLines,
    ntBytes: c.ntBytes,
    clflush: flush(c.clflushDirty, c.clflushClean),
    clflushopt: flush(c.clflushoptDirty, c.clflushoptClean),
    clwb: flush(c.clwbDirty, c.clwbClean),
    linesFlushed: dirtyLinesFlushed + cleanLinesFlushed,
    dirtyLinesFlushed,
    cleanLinesFlushed,
    sfences: c.sfences,
    mfences: c.mfences,
    fences: c.sfences + c.mfences,
    fenceWaitNs: c.fenceWaitNs,
    evictions: c.evictions,
    ...m,
    writeAmplification: m.dimmBytesWritten === 0 ? 0 : m.mediaBytesWritten / m.dimmBytesWritten,
    nonDurableLines,
    nsPerCpu: Array.from({ length: cpus }, (_, cpu) => snapshot[cpu * perCpu]!),
  };
}

/**
 * The non-zero counters of stats built from a difference of two snapshots (after − before),
 * flattened (clwb.dirty, nsPerCpu[0], ...). Derived ratios and levels are left out.
 */
export function changedCounters(delta: EmulatorStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(delta)) {
    if (key === 'writeAmplification' || key === 'nonDurableLines') continue;
    if (typeof value === 'number') {
      if (value !== 0) out[key] = value;
    } else if (Array.isArray(value)) {
      value.forEach((v: number, i: number) => { if (v !== 0) out[`${key}[${i}]`] = v; });
    } else {
      for (const [k, v] of Object.entries(value as FlushCounts)) if (v !== 0) out[`${key}.${k}`] = v;
    }
  }
  return out;
}
