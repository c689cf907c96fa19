/**
 * The DAX entry waitqueues (fs/dax.c, linux 6.12): a task that finds an entry locked sleeps,
 * exclusively, in one of 4096 shared buckets chosen by hashing the tree's address with the
 * entry's first index (PMD-aligned for a PMD entry). An unlock wakes the next matching
 * sleeper (WAKE_NEXT); deleting the entry wakes them all (WAKE_ALL), since none of them
 * will find it again. Sleepers of other entries that hash to the same bucket are skipped
 * and do not use up the wake (wake_exceptional_entry_func returns 0 for them).
 *
 * Simplification: the tree's "address" is its arena offset (DaxFile.tree), so the bucket
 * numbers are the kernel's function of different addresses; the hashing rule is the same.
 */
import { PMD_NR, daxIsPmdEntry } from '../core/index.js';

/** DAX_WAIT_TABLE_BITS in fs/dax.c. */
export const DAX_WAIT_TABLE_BITS = 12;
/** GOLDEN_RATIO_64 in include/linux/hash.h. */
const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;

/** dax_wake_entry's modes. */
export type WakeMode = 'next' | 'all';

/** What a sleeper waits for: exceptional_entry_key { xa, entry_start }. */
export interface EntryKey {
  readonly tree: number;
  readonly entryStart: number;
}

/** One sleep or wake, in order, for tests and traces. */
export type WaitEvent =
  | { kind: 'sleep'; task: number; bucket: number; tree: number; entryStart: number }
  | { kind: 'wake'; task: number; bucket: number; tree: number; entryStart: number; mode: WakeMode; by: number };

/** The key of the entry `word` found at `index`: a PMD entry is waited on at its first index. */
export function entryKey(tree: number, index: number, word: number): EntryKey {
  const entryStart = daxIsPmdEntry(word) ? index - (index % PMD_NR) : index;
  return { tree, entryStart };
}

/** hash_long(xa ^ index, DAX_WAIT_TABLE_BITS) on a 64-bit kernel (hash_64_generic). */
export function waitBucket(key: EntryKey): number {
  const mixed = BigInt.asUintN(64, BigInt(key.tree) ^ BigInt(key.entryStart));
  return Number(BigInt.asUintN(64, mixed * GOLDEN_RATIO_64) >> BigInt(64 - DAX_WAIT_TABLE_BITS));
}

interface Sleeper {
  readonly task: number;
  readonly key: EntryKey;
}

/** The bucket table; sleepers are task numbers of one runConcurrently call. */
export class EntryWaitTable {
  private readonly buckets = new Map<number, Sleeper[]>();
  private readonly sleeping = new Set<number>();

  constructor(private readonly log?: WaitEvent[]) {}

  /** Puts `task` to sleep, exclusively, at the tail of its key's bucket. */
  sleep(task: number, key: EntryKey): void {
    const bucket = waitBucket(key);
    const queue = this.buckets.get(bucket) ?? [];
    queue.push({ task, key });
    this.buckets.set(bucket, queue);
    this.sleeping.add(task);
    this.log?.push({ kind: 'sleep', task, bucket, tree: key.tree, entryStart: key.entryStart });
  }

  /** The tasks asleep now, in task order, with the key and bucket each waits on. */
  sleepers(): { task: number; key: EntryKey; bucket: number }[] {
    const out: { task: number; key: EntryKey; bucket: number }[] = [];
    for (const [bucket, queue] of this.buckets) for (const s of queue) out.push({ task: s.task, key: s.key, bucket });
    return out.sort((a, b) => a.task - b.task);
  }

  isAsleep(task: number): boolean {
    return this.sleeping.has(task);
  }

  /** dax_wake_entry by task `by`: wakes the first matching sleeper ('next') or every one ('all'); returns them. */
  wake(key: EntryKey, mode: WakeMode, by: number): number[] {
    const bucket = waitBucket(key);
    const queue = this.buckets.get(bucket);
    if (!queue) return [];
    const woken: number[] = [];
    for (let i = 0; i < queue.length; ) {
      const s = queue[i]!;
      if (s.key.tree !== key.tree || s.key.entryStart !== key.entryStart) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      this.sleeping.delete(s.task);
      woken.push(s.task);
      this.log?.push({ kind: 'wake', task: s.task, bucket, tree: key.tree, entryStart: key.entryStart, mode, by });
      if (mode === 'next') break;
    }
    if (queue.length === 0) this.buckets.delete(bucket);
    return woken;
  }
}
