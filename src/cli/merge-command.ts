/**
 * `daxemu merge DIR...`: the reports that the shards of one bench run wrote (`bench --shard
 * K/N --out DIR`), merged into the report one run of the whole matrix gives: printed as the
 * bench table (or JSON), and written to --out when given.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PmemError } from '../base/index.js';
import { mergeShards, type MatrixReport } from '../job/index.js';
import { formatBenchText, writeReport, REPORT_FILES } from '../report/index.js';
import { UsageError } from './args.js';

export interface MergeArgs {
  dirs: readonly string[];
  json: boolean;
  out?: string;
  wide: boolean;
}

/** A shard's results.json; EINVAL naming the file when it is not a daxemu report. */
async function readReport(dir: string): Promise<MatrixReport> {
  const path = join(dir, REPORT_FILES.json);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PmemError('ENOENT', `merge: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let report: MatrixReport;
  try {
    report = JSON.parse(text) as MatrixReport;
  } catch {
    throw new PmemError('EINVAL', `merge: ${path} is not JSON`);
  }
  if (report?.tool !== 'daxemu' || !Array.isArray(report.cells) || !Array.isArray(report.flushCost)) throw new PmemError('EINVAL', `merge: ${path} is not a daxemu report`);
  return report;
}

/** Runs `daxemu merge`; returns the exit code. */
export async function mergeCommand(args: MergeArgs, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  if (args.dirs.length === 0) throw new UsageError('merge: name the report directories of the shards (see --help)');
  const merged = mergeShards(await Promise.all(args.dirs.map(readReport)));
  out(args.json ? `${JSON.stringify(merged)}\n` : `${formatBenchText(merged.cells, { wide: args.wide })}\n`);
  if (args.out !== undefined) {
    const files = await writeReport(args.out, merged);
    err(`daxemu: wrote ${files.length} files to ${args.out}\n`);
  }
  return 0;
}
