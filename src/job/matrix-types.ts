/**
 * The shapes of the strategy matrix's results (src/job/matrix.ts makes them; src/report/ writes
 * them as JSON, CSV, Markdown and SVG charts; the daxemu command prints them).
 */

/** One cell: a workload run under one strategy, preset, kernel profile and page size. */
export interface CellResult {
  workload: string;
  strategy: string;
  preset: string;
  kernel: string;
  /** 'pte': mappings whose PMD faults fall back (4 KiB entries); 'pmd': 2 MiB-aligned mappings. */
  pageSize: 'pte' | 'pmd';
  /**
   * A cell run by several worker CPUs on one emulator (daxemu bench --cpus N,
   * src/job/shared-cell.ts): how many, and whether each had a file of its own or a slice of
   * one shared file. Absent for a cell run on one CPU.
   */
  cpus?: number;
  layout?: 'files' | 'one-file';
  /** Workload operations (stores of one record or update) and sync points. */
  ops: number;
  syncs: number;
  /** Bytes the workload asked to make durable. */
  bytesSynced: number;
  /** Emulated time: total, per operation, per synced byte. */
  ns: number;
  nsPerOp: number;
  nsPerSyncedByte: number;
  /** Cache lines flushed per sync point, of which dirty (useful) and clean (wasted). */
  linesPerSync: number;
  dirtyLinesPerSync: number;
  cleanLinesPerSync: number;
  /** Non-temporal lines and fences per sync point. */
  ntLinesPerSync: number;
  fencesPerSync: number;
  faults: { pte: number; pmd: number; mkwrite: number; needdsync: number; fallback: number; total: number };
  mediaBytesWritten: number;
  writeAmplification: number;
  /** A guaranteed crash image at every checked sync point held every acknowledged write. */
  durable: boolean;
  /**
   * Not durable, but every byte lost is one the kernel itself loses: a truncate deleted a
   * dirty PMD entry straddling the new size before any writeback (docs/dax.md). The
   * durability column shows "kernel loss". Absent in older results.
   */
  kernelLoss?: boolean;
  /** How many sync points the durability check looked at. */
  durabilityChecks: number;
  /**
   * The historical kernel bugs the cell ran with (src/dax/bugs.ts), and the acknowledged
   * bytes the final guaranteed crash image lost. Present only when the run switched bugs on
   * (daxemu bench --bugs); the durability column then shows the loss with the bugs' names.
   */
  bugs?: string[];
  lostBytes?: number;
}

/** One row of the flush-cost table: one msync (or user flush) of one entry with `dirtyLines` dirty lines. */
export interface FlushCostRow {
  preset: string;
  kernel: string;
  instruction: 'clwb' | 'clflushopt' | 'clflush';
  pageSize: 'pte' | 'pmd';
  strategy: 'msync' | 'msync-dirty-lines' | 'user-flush' | 'page-cache';
  dirtyLines: number;
  /** Lines flushed and the emulated ns of the flush itself (sync call or user flush + fence). */
  lines: number;
  ns: number;
  /** Emulated ns of the write-protect faults that re-dirtying the entry costs afterwards. */
  refaultNs: number;
}

export interface MatrixReport {
  tool: 'daxemu';
  version: string;
  seed: number;
  cells: CellResult[];
  flushCost: FlushCostRow[];
  /** Wall-clock milliseconds the run took. */
  wallMs: number;
  /**
   * The matrix selection the cells come from (MatrixOptions less threads) and, for a shard of
   * a run (bench --shard K/N), which one: what `daxemu merge` checks and re-plans from.
   */
  selection?: Readonly<Record<string, unknown>>;
  shard?: { index: number; count: number };
}
