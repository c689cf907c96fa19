/**
 * The kinds of finding the analysis reports (src/trace/analyze.ts), what each means, and
 * whether it costs time (performance) or risks data (durability).
 */
export type FindingKind = 'clean-flush' | 'double-flush' | 'empty-fence' | 'empty-sync' | 'entry-waste' | 'not-durable' | 'late-durable';
export type Verdict = 'performance' | 'durability';

export const FINDING_KINDS: Readonly<Record<FindingKind, { verdict: Verdict; meaning: string }>> = {
  'clean-flush': { verdict: 'performance', meaning: 'flush of lines that were clean (nothing stored since they were last durable)' },
  'double-flush': { verdict: 'performance', meaning: 'flush of lines already flushed and waiting for a fence' },
  'empty-fence': { verdict: 'performance', meaning: 'fence with no flush or non-temporal store outstanding on its CPU' },
  'empty-sync': { verdict: 'performance', meaning: 'msync, fsync, fdatasync or sync of a range with nothing dirty' },
  'entry-waste': { verdict: 'performance', meaning: 'kernel writeback flushed clean lines of a whole dirty entry' },
  'not-durable': { verdict: 'durability', meaning: 'store never made durable before the crash or the end of the trace' },
  'late-durable': { verdict: 'durability', meaning: 'store whose flush was undone by a later store to the same line before the fence: durable only with a fence after the later store' },
};

export interface Finding {
  kind: FindingKind;
  verdict: Verdict;
  /** The line of the trace (or of the imported file) of the operation at fault. */
  line: number;
  /** Cache lines involved. */
  lines: number;
  /** Emulated ns the operation wasted (0 for durability findings). */
  ns: number;
  /** ns / the run's total emulated ns. */
  share: number;
  detail: string;
}

export interface FindingSummary {
  kind: FindingKind;
  verdict: Verdict;
  count: number;
  lines: number;
  ns: number;
  share: number;
}

export interface AnalysisReport {
  /** Where the trace came from. */
  source: string;
  operations: number;
  /** Emulated ns of the whole run, summed over CPUs. */
  totalNs: number;
  summary: FindingSummary[];
  /** The findings in trace order (at most `limit` of each kind; `omitted` counts the rest). */
  findings: Finding[];
  omitted: number;
}
