/**
 * Bug-compat switches: historical kernel bugs switched back on by name, to show what each
 * one cost (docs/kernel-rules.md §6). The profile's behaviour is the default;
 * createEmulator({ kernel, bugs: [...] }) turns bugs on. Like the fixes (src/dax/fixes.ts),
 * each bug names where it applies and says why it does not elsewhere; resolved once.
 *
 *   B3         linux-4.5 writeback searches every batch of 14 TOWRITE entries from the
 *              range's start again (1eb643d02b21 fixed it, June 2017): correct, but the
 *              index span the lookups pass over grows with the square of the entries.
 *   B4         invalidation (drop_caches, fadvise DONTNEED, pwrite's invalidation) deletes
 *              dirty DAX entries too, as clear_exceptional_entry did before c6dcf52c23d2
 *              (v4.10): a later fsync flushes nothing for them.
 *   B5         writeback never clears DIRTY (v4.5-v4.9, changed by 4b4bb46d00b3 in v4.10):
 *              every fsync flushes every entry ever dirtied.
 *   B6         writeback's mkclean write-protects PTEs but not a huge PMD (fixed by
 *              f729c8c9b24f, December 2016): stores after an fsync do not fault, the entry
 *              stays clean, the next fsync flushes nothing.
 *   B7         writeback write-protects only the mappings that contain the entry's first
 *              index (dax_entry_mkclean before Muchun Song's 2022 pfn_mkclean_range fix): a
 *              PTE another mapping has inside a PMD entry stays writable.
 *   B8         write(2) over new blocks invalidates nothing (dax_iomap_actor before "dax: fix
 *              data corruption due to stale mmap reads", 2017): a mapped zero page stays and
 *              mmap reads see zeros.
 *   B11        a PMD fault that meets a locked PTE entry in its range sleeps on the PMD
 *              index's waitqueue while the unlock wakes the PTE index's (b15cd800682f, fixed
 *              by 23c84eb78375 in v5.3): the fault never wakes.
 *   B12        no entry counts as a smaller-order conflict (23c84eb78375, fixed by
 *              6370740e5f8e in v5.4-rc): every PMD fault on an empty range falls back.
 *   B14        deleting a locked entry wakes one waiter, not all (fixed by 237388320def, May
 *              2021): a waiter that finds nothing passes no wake on, the rest sleep for ever.
 *   v3-shadow  the rule of v3 of the dirty-DAX-entry series (December 2015): reclaim leaves
 *              a workingset shadow in the slot of an evicted hole page of a DAX file, and a
 *              DAX insert or clear_exceptional_entry meets it (§5.4, B1).
 */
import { PmemError } from '../base/index.js';
import type { KernelProfile } from './kernel.js';

export const BUG_NAMES = ['B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B11', 'B12', 'B14', 'v3-shadow'] as const;
export type BugName = (typeof BUG_NAMES)[number];

/** The bugs an emulator runs with, decided once; every field false by default. */
export interface KernelBugs {
  /** B3: linux-4.5 writeback searches each batch from the range's start. */
  rescanFromStart: boolean;
  /** B4: invalidation deletes dirty DAX entries. */
  invalidateDirty: boolean;
  /** B5: writeback never clears DIRTY. */
  keepDirty: boolean;
  /** B6: writeback leaves huge PMDs writable. */
  pmdStaysWritable: boolean;
  /** B7: writeback write-protects only mappings holding the entry's first index. */
  mkcleanFirstIndexOnly: boolean;
  /** B8: write(2) over new blocks leaves clean entries and mappings alone. */
  noWriteInvalidate: boolean;
  /** B11: a PMD fault waits on the PMD index for a locked PTE entry in its range. */
  pmdWaitsOnWrongQueue: boolean;
  /** B12: an empty range is a conflict for a PMD fault. */
  emptyIsConflict: boolean;
  /** B14: a deletion wakes one waiter only. */
  deleteWakesOne: boolean;
  /** v3-shadow: reclaim leaves shadow entries in DAX trees. */
  shadowsInDax: boolean;
}

const FIELD: Record<BugName, keyof KernelBugs> = {
  B3: 'rescanFromStart',
  B4: 'invalidateDirty',
  B5: 'keepDirty',
  B6: 'pmdStaysWritable',
  B7: 'mkcleanFirstIndexOnly',
  B8: 'noWriteInvalidate',
  B11: 'pmdWaitsOnWrongQueue',
  B12: 'emptyIsConflict',
  B14: 'deleteWakesOne',
  'v3-shadow': 'shadowsInDax',
};

const XARRAY_ONLY = (what: string) => (profile: KernelProfile): string | null =>
  profile === 'linux-4.5' ? `${what}, which linux-4.5 does not have` : null;

/** Why a bug cannot be hosted by a profile, or null when it can. */
const NOT_ON: Record<BugName, (profile: KernelProfile) => string | null> = {
  B3: (p) => (p === 'linux-4.5' ? null : 'the bug is in the v4.5 radix-tree writeback loop; the XArray iterator moves on by itself'),
  B4: (p) => (p === 'linux-4.5' ? 'linux-4.5 deletes dirty entries on invalidation already (its own behaviour)' : null),
  B5: (p) => (p === 'linux-4.5' ? 'linux-4.5 never clears DIRTY already (its own behaviour)' : null),
  B6: XARRAY_ONLY('it needs writeback that cleans entries and write-protects mappings (v4.10 on)'),
  B7: XARRAY_ONLY('it needs writeback that cleans entries and write-protects mappings (v4.10 on)'),
  B8: XARRAY_ONLY('it needs ZERO-PMD entries and the v4.10 invalidation on write(2)'),
  B11: XARRAY_ONLY('it needs DAX entry locks and their waitqueues'),
  B12: XARRAY_ONLY('it needs the XArray conflict check of grab_mapping_entry (v5.3)'),
  B14: XARRAY_ONLY('it needs DAX entry locks and their waitqueues'),
  'v3-shadow': (p) => (p === 'linux-4.5' ? null : 'only linux-4.5 keeps page-cache hole pages in a DAX tree, the pages whose eviction could leave a shadow'),
};

/** Why `profile` cannot host `bug`, or null when it can. */
export function bugRefusal(bug: BugName, profile: KernelProfile): string | null {
  return NOT_ON[bug](profile);
}

/** No bug switched on. */
export function noBugs(): KernelBugs {
  return {
    rescanFromStart: false, invalidateDirty: false, keepDirty: false, pmdStaysWritable: false, mkcleanFirstIndexOnly: false, noWriteInvalidate: false,
    pmdWaitsOnWrongQueue: false, emptyIsConflict: false, deleteWakesOne: false, shadowsInDax: false,
  };
}

/**
 * Resolves the `bugs` option for `profile`: EINVAL for anything but an array of known
 * names (listing them), or for a bug the profile cannot host (saying why).
 */
export function resolveBugs(profile: KernelProfile, bugs: unknown = []): { names: BugName[]; bugs: KernelBugs } {
  if (!Array.isArray(bugs)) throw new PmemError('EINVAL', `bugs must be an array of bug names (${BUG_NAMES.join(', ')}), got ${String(bugs)}`);
  const names: BugName[] = [];
  const resolved = noBugs();
  for (const name of bugs) {
    if (!BUG_NAMES.includes(name as BugName)) throw new PmemError('EINVAL', `unknown bug ${JSON.stringify(name)}; the bugs are: ${BUG_NAMES.join(', ')}`);
    const why = NOT_ON[name as BugName](profile);
    if (why !== null) throw new PmemError('EINVAL', `bug ${name} cannot be switched on in ${profile}: ${why}`);
    if (!names.includes(name as BugName)) names.push(name as BugName);
    resolved[FIELD[name as BugName]] = true;
  }
  return { names, bugs: resolved };
}
