/**
 * Kernel profiles: which kernel's DAX rules the emulator follows (docs/kernel-rules.md §0).
 *   linux-6.12  the modern XArray DAX (profile PMOD): writeback clears DIRTY and
 *               write-protects; one fence per vfs_fsync_range (the filesystem's device flush).
 *   linux-6.1   as 6.12, except that dax_insert_entry marks an entry DIRTY on every fault
 *               that is not synchronous, read faults and hole loads included
 *               (`dirty = !sync` where 6.12 has `dirty = write && !sync`).
 *   linux-4.5   profile P45, the era of the series that introduced dirty DAX entries:
 *               writeback clears TOWRITE but never DIRTY and never write-protects; a PMD
 *               entry is one slot at the aligned index, and PTE entries may sit beside it in
 *               its range; hole reads use page-cache hole pages (pointer entries); one
 *               wmb_pmem fence per writeback call that passes the early checks, none when it
 *               returns early (docs/kernel-rules.md §3.1, §4.2).
 */
import { PmemError } from '../base/index.js';

export type KernelProfile = 'linux-6.12' | 'linux-6.1' | 'linux-4.5';
export const KERNEL_PROFILES: readonly KernelProfile[] = ['linux-6.12', 'linux-6.1', 'linux-4.5'];

/** The rules that differ between profiles, decided once per emulator. */
export interface KernelRules {
  profile: KernelProfile;
  /** dax_insert_entry's dirty rule: true for `!sync` (6.1), false for `write && !sync` (6.12). */
  dirtyOnEveryFault: boolean;
  /** The v4.5 radix-tree era (profile P45) instead of the XArray era. */
  p45: boolean;
}

/** Resolves the `kernel` option. */
export function kernelRules(profile: unknown = 'linux-6.12'): KernelRules {
  if (!KERNEL_PROFILES.includes(profile as KernelProfile)) {
    throw new PmemError('EINVAL', `kernel must be one of ${KERNEL_PROFILES.join(', ')}, got ${String(profile)}`);
  }
  return { profile: profile as KernelProfile, dirtyOnEveryFault: profile === 'linux-6.1', p45: profile === 'linux-4.5' };
}

/** Kernel work the hardware model does not price, per docs/cost-model.md §2.8 ([S11]: MAP_SYNC v4 cover letter, 512 faults over ramdisk, averages). */
export const FAULT_COSTS = {
  /** A 4 KiB or 2 MiB fault whose block is allocated already: 10 us. */
  faultNs: 10_000,
  /** Extra for a fault that allocates a block: 22 us - 10 us. Zeroing is charged through the hardware. */
  allocateNs: 12_000,
} as const;
