/**
 * The emulator's counters (emu.stats()): the per-CPU counters of assembly/cpu.ts summed
 * over CPUs, the shared media counters of assembly/cost.ts, and each CPU's clock.
 */
import type { Core } from './core.js';

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
  const cpus = core.layout.maxCpus;
  const sum = (i: number): number => {
    let total = 0;
    for (let cpu = 0; cpu < cpus; cpu++) total += core.pmCounter(cpu, i);
    return total;
  };
  const c = Object.fromEntries(CPU_COUNTER_NAMES.map((name, i) => [name, sum(i)])) as Record<CpuCounter, number>;
  const m = Object.fromEntries(MEDIA_COUNTER_NAMES.map((name, i) => [name, core.pmMediaCounter(i)])) as Record<MediaCounter, number>;
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
    nonDurableLines: core.pmUndoUsed(),
    nsPerCpu: Array.from({ length: cpus }, (_, cpu) => core.pmNow(cpu)),
  };
}

/** The counters that differ between two snapshots, as after - before (flattened names). */
export function statsDelta(before: EmulatorStats, after: EmulatorStats): Record<string, number> {
  const flat = (s: EmulatorStats): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [key, value] of Object.entries(s)) {
      if (typeof value === 'number') out.set(key, value);
      else if (Array.isArray(value)) value.forEach((v: number, i: number) => out.set(`${key}[${i}]`, v));
      else for (const [k, v] of Object.entries(value as FlushCounts)) out.set(`${key}.${k}`, v);
    }
    return out;
  };
  const a = flat(before);
  const delta: Record<string, number> = {};
  for (const [key, value] of flat(after)) {
    const d = value - (a.get(key) ?? 0);
    if (d !== 0) delta[key] = d;
  }
  return delta;
}
