/**
 * What libpmem decides once, at start, and never again per call (PMDK
 * src/libpmem2/x86_64/init.c, pmem_cpuinfo_to_funcs and pmem2_arch_init; src/libpmem/pmem.c
 * for the auto-flush case):
 *   - the flush instruction: clflush when nothing better exists, clflushopt over it, clwb
 *     over both; PMEM_NO_CLFLUSHOPT / PMEM_NO_CLWB (here `noClflushopt`, `noClwb`) step down;
 *   - the drain: an sfence, for every instruction (init.c sets memory_barrier even for
 *     clflush, whose flushes are ordered already);
 *   - under eADR (pmem_has_auto_flush) the CPU caches are persistent, so the flush step is
 *     skipped and only the drain's fence is left;
 *   - the non-temporal threshold: copies of MOVNT_THRESHOLD (256) bytes or more use
 *     non-temporal stores unless a flag says otherwise; PMEM_MOVNT_THRESHOLD overrides it,
 *     PMEM_NO_MOVNT turns them off.
 * Every preset's CPU (Cascade Lake for optane-g1, dram and nvdimm-n; a Sapphire Rapids or
 * later host for cxl) has clwb, so by default the choice is clwb.
 */
import { PmemError } from '../base/index.js';
import type { Persistence } from '../hw/index.js';

/** PMDK's default threshold for non-temporal copies, bytes (init.c MOVNT_THRESHOLD). */
export const PMEM_MOVNT_THRESHOLD = 256;

export type PmemFlushInstruction = 'clwb' | 'clflushopt' | 'clflush';

export interface PmemFuncs {
  /** The instruction pmem_flush issues per line. */
  readonly flush: PmemFlushInstruction;
  /** Whether the flush step is skipped (eADR: the caches are in the persistence domain). */
  readonly flushIsEmpty: boolean;
  /** Copies this long or longer go non-temporal; Infinity when non-temporal copies are off. */
  readonly movntThreshold: number;
}

export interface PmemCpuOptions {
  /** PMEM_NO_CLWB=1. */
  noClwb?: boolean;
  /** PMEM_NO_CLFLUSHOPT=1. */
  noClflushopt?: boolean;
  /** PMEM_NO_MOVNT=1. */
  noMovnt?: boolean;
  /** PMEM_MOVNT_THRESHOLD. */
  movntThreshold?: number;
}

/** The functions libpmem would pick on a machine with this persistence domain. */
export function choosePmemFuncs(persistence: Persistence, options: PmemCpuOptions = {}): PmemFuncs {
  const threshold = options.movntThreshold ?? PMEM_MOVNT_THRESHOLD;
  if (!Number.isSafeInteger(threshold) || threshold < 0) throw new PmemError('EINVAL', `pmem: movntThreshold must be a non-negative integer, got ${threshold}`);
  // init.c tries each instruction in order and keeps the last one present and not disabled.
  let flush: PmemFlushInstruction = 'clflush';
  if (!options.noClflushopt) flush = 'clflushopt';
  if (!options.noClwb) flush = 'clwb';
  return {
    flush,
    flushIsEmpty: persistence === 'eadr',
    movntThreshold: options.noMovnt ? Infinity : threshold,
  };
}
