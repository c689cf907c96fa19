/**
 * Published sustained bandwidths that the emulated ones are set against, GB/s, from FAST'20
 * (J. Yang et al.; NVSL/OptaneStudy graphs/ @45e455f9): Fig. 12's bandwidth panel
 * (12-flush_instr_bw.csv: an sfence after each access; six threads fit it, see README) and
 * Fig. 13 (13-sfence_interval.csv: one thread, one DIMM, an sfence every N bytes; its
 * store+clwb points are task 9 runs of data/flush.csv). test/validation.test.ts checks them;
 * the bandwidth suite prints them.
 */
import type { StreamKind } from './stream-bandwidth.js';

export type PersistKind = Exclude<StreamKind, 'load'>;

export const PUBLISHED_SIZES: readonly number[] = [64, 128, 256, 512, 1024, 4096];

/** Fig. 12, 6 CPUs on six interleaved DIMMs (optane-g1-6dimm), per access size above. */
export const FIG12_GBPS: Readonly<Record<PersistKind, readonly number[]>> = {
  ntstore: [1.83, 3.55, 6.84, 13.23, 13.42, 13.45],
  clwb: [2.76, 4.98, 6.63, 6.67, 6.69, 6.89],
};

/** Fig. 13, one CPU on one DIMM (optane-g1), per bytes between fences above. */
export const FIG13_GBPS: Readonly<Record<PersistKind, readonly number[]>> = {
  ntstore: [0.3375, 0.65, 1.2625, 2.2125, 2.2375, 2.2375],
  clwb: [0.571875, 0.990625, 1.30625, 1.21875, 1.228125, 1.10625],
};

/** Fig. 4 with one DIMM (04-bandwidth_thcount_optane_ni.csv), reads by 1 to 4 threads. */
export const FIG4_READ_GBPS = [2.92, 5.66, 6.45, 6.52] as const;

/** Fig. 4 with one DIMM, writes by 1 to 8 threads (the core's CPUs), 04-bandwidth_thcount_optane_ni.csv. */
export const FIG4_NI_WRITE_GBPS: Readonly<Record<PersistKind, readonly number[]>> = {
  ntstore: [2.22, 2.21, 2.21, 2.2, 2.12, 1.96, 1.73, 1.53],
  clwb: [1.44, 1.79, 1.79, 1.71, 1.64, 1.55, 1.48, 1.4],
};

/**
 * Fig. 5 with one DIMM (05-bandwidth_accesssize_optane_ni.csv): random accesses aligned to
 * their size, no fence per access, per access size of PUBLISHED_SIZES; LATTester task 4 with
 * 4 threads loading, 1 writing with ntstore, 2 with store+clwb (subtests/41_sizebw_unalign.sh).
 */
export const FIG5_NI_GBPS: Readonly<Record<StreamKind, readonly number[]>> = {
  load: [1.675, 3.34375, 6.5046875, 6.53046875, 6.51875, 6.559375],
  ntstore: [0.5546875, 1.0984375, 2.20703125, 2.209375, 2.2234375, 2.23125],
  clwb: [0.51328125, 0.92734375, 1.7546875, 1.7609375, 1.7765625, 1.77421875],
};
export const FIG5_NI_THREADS: Readonly<Record<StreamKind, number>> = { load: 4, ntstore: 1, clwb: 2 };

/** One row per kind and thread count of FIG4_NI_WRITE_GBPS. */
export const FIG4_NI_WRITE_ROWS = (['ntstore', 'clwb'] as const).flatMap((kind) => FIG4_NI_WRITE_GBPS[kind].map((gbps, i) => ({ kind, cpus: i + 1, gbps })));

/** One row per kind and size: what it.each and the suite iterate. */
export function publishedRows(table: Readonly<Record<PersistKind, readonly number[]>>): { kind: PersistKind; size: number; gbps: number }[] {
  return (['ntstore', 'clwb'] as const).flatMap((kind) => PUBLISHED_SIZES.map((size, i) => ({ kind, size, gbps: table[kind][i]! })));
}
