/**
 * Writes a matrix run's report directory: the raw results (JSON and CSV), the two charts
 * (SVG) and report.md that ties them together. File-system failures become PmemErrors, the
 * one error type daxemu throws.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ERRNO, PmemError, type ErrnoName } from '../base/index.js';
import type { MatrixReport } from '../job/index.js';
import { flushCostChart, strategyChart } from './charts.js';
import { cellsToCsv, flushCostToCsv } from './csv.js';
import { reportMarkdown } from './markdown.js';

/** The file names writeReport uses inside its directory. */
export const REPORT_FILES = {
  json: 'results.json',
  cellsCsv: 'results.csv',
  flushCostCsv: 'flush-cost.csv',
  strategyChart: 'strategy.svg',
  flushCostChart: 'flush-cost.svg',
  markdown: 'report.md',
} as const;

/** A Node file-system error as a PmemError: its errno name when daxemu knows it, EINVAL otherwise. */
function fsError(error: unknown, message: string): PmemError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const known = code !== undefined && Object.hasOwn(ERRNO, code) ? (code as ErrnoName) : 'EINVAL';
  const detail = error instanceof Error ? error.message : String(error);
  const pmemError = new PmemError(known, `${message}: ${detail}`);
  pmemError.cause = error;
  return pmemError;
}

/** Writes results.json, results.csv, flush-cost.csv, strategy.svg, flush-cost.svg and report.md into `dir`; returns their paths. */
export async function writeReport(dir: string, report: MatrixReport): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fsError(error, `cannot create report directory ${JSON.stringify(dir)}`);
  }
  // Charts render one after the other: vega numbers SVG clip ids with a module-wide counter.
  const strategySvg = await strategyChart(report.cells);
  const flushCostSvg = await flushCostChart(report.flushCost);
  const contents: [string, string][] = [
    [REPORT_FILES.json, `${JSON.stringify(report, null, 2)}\n`],
    [REPORT_FILES.cellsCsv, cellsToCsv(report.cells)],
    [REPORT_FILES.flushCostCsv, flushCostToCsv(report.flushCost)],
    [REPORT_FILES.strategyChart, strategySvg],
    [REPORT_FILES.flushCostChart, flushCostSvg],
    // The links are relative so the directory can be moved or published as it is.
    [REPORT_FILES.markdown, reportMarkdown(report, [REPORT_FILES.strategyChart, REPORT_FILES.flushCostChart])],
  ];
  const written: string[] = [];
  for (const [name, text] of contents) {
    const path = join(dir, name);
    try {
      await writeFile(path, text, 'utf8');
    } catch (error) {
      throw fsError(error, `cannot write report file ${JSON.stringify(path)}`);
    }
    written.push(path);
  }
  return written;
}
