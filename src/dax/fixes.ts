/**
 * Fixes: named switches that change one kernel behaviour on purpose, to show what fixing it
 * would cost. The profile's behaviour is the default; createEmulator({ fixes: [...] })
 * turns fixes on. Each fix names the profiles it makes sense on and says why it does not
 * on the others. Historical bugs switched back on (`bugs: [...]`) are meant to follow the
 * same shape: a name, what it changes, and where it applies.
 *
 *   truncate-writeback   before a shrinking truncate deletes entries, write back the dirty
 *                        entry holding the new end of file, as xfs_setattr_size does with
 *                        filemap_write_and_wait_range(newsize, newsize) (fs/xfs/xfs_iops.c,
 *                        v6.1). Without it a dirty PMD entry that straddles the new size is
 *                        deleted unwritten (fs/dax.c dax_delete_mapping_entry, v6.1, v6.12)
 *                        and the stores below the new size that it covered are not durable.
 *                        linux-4.5 keeps a PMD entry in one slot at its aligned index, where
 *                        a truncate inside the 2 MiB does not look: nothing to fix there.
 */
import { PmemError } from '../base/index.js';
import type { KernelProfile } from './kernel.js';

export const FIX_NAMES = ['truncate-writeback'] as const;
export type FixName = (typeof FIX_NAMES)[number];

/** The fixes an emulator runs with, decided once. */
export interface KernelFixes {
  /** Truncate writes back the dirty entry holding the new end of file before deleting entries. */
  truncateWriteback: boolean;
}

/** Why a fix does not apply to a profile, or null when it does. */
const NOT_ON: Record<FixName, (profile: KernelProfile) => string | null> = {
  'truncate-writeback': (profile) =>
    profile === 'linux-4.5'
      ? 'linux-4.5 keeps a PMD entry in one slot at its 2 MiB-aligned index, so a truncate inside the 2 MiB does not delete it and loses nothing'
      : null,
};

/**
 * Resolves the `fixes` option for `profile`: EINVAL for anything but an array of known
 * names (listing them), or for a fix that makes no sense on the profile (saying why).
 */
export function resolveFixes(profile: KernelProfile, fixes: unknown = []): { names: FixName[]; fixes: KernelFixes } {
  if (!Array.isArray(fixes)) throw new PmemError('EINVAL', `fixes must be an array of fix names (${FIX_NAMES.join(', ')}), got ${String(fixes)}`);
  const names: FixName[] = [];
  for (const name of fixes) {
    if (!FIX_NAMES.includes(name as FixName)) throw new PmemError('EINVAL', `unknown fix ${JSON.stringify(name)}; the fixes are: ${FIX_NAMES.join(', ')}`);
    const why = NOT_ON[name as FixName](profile);
    if (why !== null) throw new PmemError('EINVAL', `fix ${name} does not apply to ${profile}: ${why}`);
    if (!names.includes(name as FixName)) names.push(name as FixName);
  }
  return { names, fixes: { truncateWriteback: names.includes('truncate-writeback') } };
}
