/**
 * A cell's durability check (src/job/cell.ts), with the kernel's documented losses told
 * apart from emulator failures.
 *   - At every sync point no acknowledged byte of the file may sit on a line that is not
 *     durable, and no block allocation may be uncommitted.
 *   - At the end a guaranteed crash image must hold every acknowledged byte.
 * A documented loss: a truncate that deletes a dirty PMD entry straddling the new size
 * (src/dax/file.ts truncate). The stores below the new size that the entry covered and no
 * sync point had made durable yet are then beyond the reach of the kernel's writeback. When
 * a workload truncates, the check notes those bytes; a byte lost there is the kernel's loss,
 * a byte lost anywhere else is a failure.
 */
import { PAGECACHE_TAG_DIRTY } from '../core/index.js';
import type { DaxFile } from '../dax/index.js';
import type { Emulator } from '../emulator/index.js';

const PAGE = 4096;
const LINE = 64;
const PMD_PAGES = 512;

/** What the check found. */
export interface DurabilityVerdict {
  /** Every acknowledged byte was durable at every check. */
  durable: boolean;
  /** Not durable, and every byte lost is one the kernel itself loses (a documented loss). */
  kernelLoss: boolean;
  /** Sync points looked at, the final crash image included. */
  checks: number;
  /** Acknowledged bytes the final guaranteed crash image does not hold. */
  lostBytes: number;
}

export class DurabilityCheck {
  /** The bytes the workload stored, as the file should read (0: nothing acknowledged). */
  private readonly expected: Uint8Array;
  /** Stores since the last sync point. */
  private pending: [number, number][] = [];
  /** Byte ranges the kernel's documented loss may take. */
  private readonly mayLose: [number, number][] = [];
  private failed = false;
  private lostToKernel = false;
  private syncs = 0;

  constructor(private readonly emu: Emulator, private readonly file: DaxFile, fileBytes: number) {
    this.expected = new Uint8Array(fileBytes);
  }

  /** The workload stored `length` bytes of `value` at `offset`; a new store is not a loss the kernel may take. */
  stored(offset: number, length: number, value: number): void {
    this.expected.fill(value, offset, offset + length);
    this.pending.push([offset, offset + length]);
    const end = offset + length;
    const kept = this.mayLose.flatMap(([a, b]): [number, number][] =>
      b <= offset || a >= end ? [[a, b]] : ([[a, offset], [end, b]] as [number, number][]).filter(([x, y]) => y > x));
    this.mayLose.splice(0, this.mayLose.length, ...kept);
  }

  /**
   * The workload is about to truncate to `size`. Where the kernel deletes a dirty PMD entry
   * that straddles the new size (the XArray era; not with the fix 'truncate-writeback'), the
   * pending stores between the entry's start and the new size may be lost.
   */
  truncating(size: number): void {
    const keep = Math.ceil(size / PAGE);
    const { kernel, fixes } = this.emu.options;
    if (kernel !== 'linux-4.5' && !fixes.includes('truncate-writeback')) {
      for (const e of this.file.entries()) {
        if (e.order === 0 || !e.dirty || e.index >= keep || e.index + PMD_PAGES <= keep) continue;
        for (const [a, b] of this.pending) {
          const lo = Math.max(a, e.index * PAGE);
          const hi = Math.min(b, size);
          if (hi > lo) this.mayLose.push([lo, hi]);
        }
      }
    }
  }

  /** The file was truncated to `size`: nothing past it is expected any more. */
  truncated(size: number): void {
    if (size < this.expected.length) this.expected.fill(0, size);
  }

  /** A sync point: every acknowledged byte on a durable line, every allocation committed. */
  syncPoint(): void {
    this.syncs++;
    this.pending = [];
    if (this.file.hasUncommitted()) this.failed = true;
    // A page-cache file: a page still dirty holds acknowledged bytes that are only in DRAM.
    if (!this.file.dax && this.emu.core.findMarked(this.file.tree, 0, 0xffffffff, PAGECACHE_TAG_DIRTY) !== null) this.failed = true;
    if (this.emu.stats().nonDurableLines === 0) return;
    // Lines of freed blocks or past the end of the file hold nothing acknowledged.
    const pageOfPfn = new Map<number, number>();
    for (const [page, b] of this.file.blocks) if (page < this.file.pages) pageOfPfn.set(b.pfn, page);
    for (const { line } of this.emu.core.pmUndoList()) {
      const page = pageOfPfn.get(Math.floor((line * LINE) / PAGE));
      if (page === undefined) continue;
      const at = page * PAGE + ((line * LINE) % PAGE);
      for (let i = at; i < at + LINE && i < this.expected.length; i++) if (this.expected[i] !== 0) this.lose(i);
    }
  }

  /** The last check: a guaranteed crash image must hold every acknowledged byte. */
  async finish(): Promise<DurabilityVerdict> {
    const image = (await this.emu.crash({ mode: 'guaranteed' })).open(this.file.path).pread(0, this.expected.length);
    let lostBytes = 0;
    for (let i = 0; i < this.expected.length; i++) {
      if (this.expected[i] !== 0 && image[i] !== this.expected[i]) {
        this.lose(i);
        lostBytes++;
      }
    }
    const durable = !this.failed && !this.lostToKernel;
    return { durable, kernelLoss: !this.failed && this.lostToKernel, checks: this.syncs + 1, lostBytes };
  }

  /** Byte `at` was lost: the kernel's documented loss, or a failure. */
  private lose(at: number): void {
    if (this.mayLose.some(([a, b]) => at >= a && at < b)) this.lostToKernel = true;
    else this.failed = true;
  }
}
