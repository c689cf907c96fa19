/**
 * The cost model's parameters: one CostModel object per emulator, chosen at creation (a
 * preset name from src/hw/presets.ts or a custom object) and never re-decided per operation,
 * as PMDK picks its flush and fence functions once at load. The formulas that use them are
 * docs/cost-model.md §2; assembly/cost.ts implements them and src/model/ holds
 * the reference. Times are emulated nanoseconds, throughputs bytes per nanosecond (= GB/s).
 *
 * Per thread (emulated CPU), with `now` its clock:
 *   load of k lines:   each cached line loadHitNs; the first miss of the access loadSeqNs when
 *                      its media line is the same as, or follows, the previous miss on that
 *                      DIMM, else loadRandNs; later misses of the same access are pipelined
 *                      at 64 / readBytesPerNs each.
 *   store of k lines:  each cached line storeHitNs; the first miss of the access storeMissNs
 *                      (read for ownership); later misses of the same access are prefetched
 *                      by the hardware and cost storeHitNs.
 *   clflush(line):     serialised: now = max(now, previous clflush done) + (dirty ?
 *                      writebackNs : clflushCleanNs); durable when it completes; no fence.
 *   clflushopt/clwb:   if maxOutstanding are in flight, wait for the oldest; now +=
 *                      flushIssueNs; slot = max(now, flush pipe free); the pipe is busy for
 *                      64 / flushBytesPerNs; done = slot + (dirty ? writebackNs : 0).
 *   ntstore per line:  like clwb with ntIssueNs, 64 / ntBytesPerNs and ntLatencyNs.
 *   line budget:       (when fillBufferLines > 0) the CPU's fill buffers carry its reads for
 *                      ownership and its write-backs: each store miss takes 64 / readBytesPerNs
 *                      of a budget, each dirty clwb/clflushopt 64 / flushBytesPerNs. A line
 *                      starts no earlier than the budget's end minus fillBufferLines × (both),
 *                      so a burst runs at the pace above and a long cold stream at one line
 *                      per 64 / readBytesPerNs + 64 / flushBytesPerNs (a store miss stalls the
 *                      clock; a write-back starts later).
 *   sfence / mfence:   now = max(now + sfenceNs (mfenceNs), every outstanding done).
 * Media (Optane's XPLine and XPBuffer, docs/cost-model.md §2.5): a 64-byte write reaching a DIMM
 * merges into its buffer of bufferLines media lines. A line goes to the media (a media write
 * of mediaLineBytes) when the buffer evicts it, the least recently written, to make room, or,
 * if it was written whole, when it is written again. A line written only in part is read
 * first (a read-modify-write), unless the DIMM holds its old contents (a read brought them,
 * or it was whole). A read that misses the buffer (a load miss, a store's read for ownership)
 * fills an entry with its media line, known and unwritten: a free one, or the least recently
 * written if that holds no write; else it passes by. DIMM = (address / interleaveBytes) mod dimms.
 * The DIMM's timeline (docs/cost-model.md §2.5 "media time per DIMM"; on when wpqLines > 0), one
 * per DIMM and shared by every CPU:
 *   media work:        a line's write to the media costs mediaLineBytes / mediaWriteBytesPerNs,
 *                      plus mediaLineBytes / mediaReadBytesPerNs for a read-modify-write; a
 *                      read that misses the buffer (a load miss, a store's read for
 *                      ownership) costs mediaLineBytes / mediaReadBytesPerNs. Work is booked
 *                      on a calendar of 32 ns buckets, each booked up to some time: a request
 *                      starts after that in its bucket (or when it arrives, if later) and
 *                      runs on through free time, so requests in time order queue as one
 *                      queue would, and a CPU behind in time uses the idle time before work
 *                      another CPU booked for later (assembly/media-calendar.ts).
 *   write acceptance:  the memory controller's write queue holds wpqLines writes per DIMM. A
 *                      write arriving at t (the done time above) is accepted, and durable under
 *                      ADR, at max(t, when the write wpqLines before it left the queue: the end
 *                      of its booked work, or its acceptance if it had none); fences wait for
 *                      acceptance. A read waits for the work booked ahead of it.
 * So one DIMM's media bandwidth bounds what all CPUs together write to it, while a CPU alone
 * below that bandwidth sees the latencies above unchanged.
 *   read-modify-write: a request (one CPU's writes between two fences) that writes part of a
 *                      buffered media line whose old contents the DIMM does not hold (its last
 *                      read was another line: an NT store, say) keeps that line busy until
 *                      its acceptance + rmwNs; a later request to the line is accepted no
 *                      earlier. A line written whole, or read first (held from a read, the
 *                      writing CPU's last read, or a read whose 4 KiB block the DIMM's DRAM
 *                      still holds: aitBufferBlocks), is not busy.
 *   writer contention: (when contentionWriters > 0; docs/cost-model.md §2.6, a fit to [S1] Fig.4)
 *                      a DIMM's writers are the CPUs whose latest write went to it, less those
 *                      quiet there for over 32.8 µs; with k > contentionWriters of them, each
 *                      media write takes (k / contentionWriters) ^ contentionExponent as long.
 *   buffer miss:       the DIMM claims a buffer entry for a media line it holds no write of
 *                      (not held, or held from a read), one line at a time. The claim stays open while writes to that line keep
 *                      coming; it completes bufferMissNs after the last of them, and they
 *                      are all acknowledged then (fences wait for that). A write after the
 *                      claim completed, or to a line held, is acknowledged when accepted.
 */
export interface CostModel {
  /** The preset's name, or the caller's for a custom model. */
  name: string;
  /** The platform's persistence domain: 'adr' (memory controller) or 'eadr' (CPU caches too). */
  persistence: 'adr' | 'eadr';

  loadHitNs: number;
  loadSeqNs: number;
  loadRandNs: number;
  readBytesPerNs: number;

  storeHitNs: number;
  storeMissNs: number;

  writebackNs: number;
  clflushCleanNs: number;
  flushIssueNs: number;
  flushBytesPerNs: number;
  maxOutstanding: number;
  /** Whether clwb evicts the line (as commonly assumed for Cascade Lake) or keeps it cached clean. */
  clwbInvalidates: boolean;

  ntIssueNs: number;
  ntLatencyNs: number;
  ntBytesPerNs: number;

  sfenceNs: number;
  mfenceNs: number;

  mediaLineBytes: number;
  bufferLines: number;
  dimms: number;
  interleaveBytes: number;
  mediaReadBytesPerNs: number;
  mediaWriteBytesPerNs: number;
  /** Writes the memory controller queues per DIMM; 0 turns the DIMM timeline off (the default for a custom model without it). */
  wpqLines: number;
  /**
   * How long a read-modify-write keeps a media line busy: a request that writes part of a
   * buffered media line whose old contents the DIMM never read (no read for ownership came
   * first) makes the DIMM read, merge and write it; a later request to that line waits until
   * then. 0 (the default for a custom model without it) turns the rule off.
   */
  rmwNs: number;
  /**
   * How long the DIMM takes to claim a buffer entry for a media line it does not hold (a
   * buffer miss): the writes that reach the line while the claim is open are acknowledged
   * bufferMissNs after the last of them. 0 (the default for a custom model without it)
   * turns it off.
   */
  bufferMissNs: number;
  /**
   * The per-CPU line budget: how many lines of reads for ownership and write-backs a CPU's
   * fill buffers let it run ahead of their sustained rate. 0 (the default for a custom model
   * without it) turns the budget off.
   */
  fillBufferLines: number;
  /**
   * Writer contention (docs/cost-model.md §2.6): how many CPUs may write to one DIMM at once
   * before its media writes slow down. 0 (the default for a custom model without it) turns
   * it off.
   */
  contentionWriters: number;
  /** With k > contentionWriters writers, each media write takes (k / contentionWriters) ^ contentionExponent as long. */
  contentionExponent: number;
  /**
   * How many 4 KiB blocks each DIMM's own DRAM keeps of what it read from the media (the AIT
   * buffer of Optane's controller; at most 4096, direct-mapped). A write to part of a media
   * line whose block is still there needs no read-modify-write: the DIMM knows the old
   * contents, as after a read for ownership. 0 (the default for a custom model without it)
   * turns it off.
   */
  aitBufferBlocks: number;
}

/** The fields added after the first release: a custom model may leave them out (0: off). */
export const LATER_FIELDS = ['wpqLines', 'rmwNs', 'bufferMissNs', 'fillBufferLines', 'contentionWriters', 'contentionExponent', 'aitBufferBlocks'] as const;
type LaterField = (typeof LATER_FIELDS)[number];

/**
 * What a caller may pass for a custom model: a CostModel without the later fields, if it
 * likes (models written before they existed keep their meaning: no DIMM timeline, no
 * read-modify-write wait, no buffer-miss cost, no line budget, no writer contention).
 */
export type CostModelInput = Omit<CostModel, LaterField> & Partial<Pick<CostModel, LaterField>>;

/** Every numeric field of CostModel, in the order the core stores them (assembly/cost.ts). */
export const COST_FIELDS = [
  'loadHitNs', 'loadSeqNs', 'loadRandNs', 'readBytesPerNs',
  'storeHitNs', 'storeMissNs',
  'writebackNs', 'clflushCleanNs', 'flushIssueNs', 'flushBytesPerNs', 'maxOutstanding',
  'ntIssueNs', 'ntLatencyNs', 'ntBytesPerNs',
  'sfenceNs', 'mfenceNs',
  'mediaLineBytes', 'bufferLines', 'dimms', 'interleaveBytes', 'mediaReadBytesPerNs', 'mediaWriteBytesPerNs',
  'wpqLines', 'rmwNs', 'bufferMissNs', 'fillBufferLines', 'contentionWriters', 'contentionExponent',
  'aitBufferBlocks',
] as const satisfies readonly (keyof CostModel)[];

/** Where the flags and the slowdown table go in the core's parameter block (assembly/cost.ts P_CLWB_INVALIDATES, P_EADR, P_WRITER_SLOWDOWN). */
const P_CLWB_INVALIDATES = 30;
const P_EADR = 31;
const P_WRITER_SLOWDOWN = 32;
/** The most CPUs that can write to one DIMM (assembly/layout.ts MAX_CPUS). */
const MAX_WRITERS = 8;

/**
 * The CPU's line budget per cold line written back, ns: one read for ownership plus one
 * write-back (64 / readBytesPerNs + 64 / flushBytesPerNs); fillBufferLines of them is how
 * far the budget may run ahead (assembly/cost.ts fillBurstNs).
 */
export function coldLineNs(cost: CostModel): number {
  return 64 / cost.readBytesPerNs + 64 / cost.flushBytesPerNs;
}

/**
 * How much longer a DIMM's media write takes with `writers` CPUs writing to it (docs/cost-model.md
 * §2.6): 1 up to contentionWriters, then (writers / contentionWriters) ^ contentionExponent.
 */
export function contentionSlowdown(cost: CostModel, writers: number): number {
  if (cost.contentionWriters === 0 || writers <= cost.contentionWriters) return 1;
  return (writers / cost.contentionWriters) ** cost.contentionExponent;
}

/**
 * The core's parameter block (what costSet takes, index by index): COST_FIELDS in order, the
 * flags, then contentionSlowdown for 1 to 8 writers, computed here once so that the core and the
 * reference model use the same numbers.
 */
export function coreCostParams(cost: CostModel): number[] {
  const params: number[] = COST_FIELDS.map((field) => cost[field]);
  while (params.length < P_CLWB_INVALIDATES) params.push(0);
  params[P_CLWB_INVALIDATES] = cost.clwbInvalidates ? 1 : 0;
  params[P_EADR] = cost.persistence === 'eadr' ? 1 : 0;
  for (let k = 1; k <= MAX_WRITERS; k++) params[P_WRITER_SLOWDOWN + k - 1] = contentionSlowdown(cost, k);
  return params;
}
