/**
 * Writes a matrix run's report directory: the raw results (JSON and CSV), the two charts
 * (SVG) and report.md that ties them together. File-system failures become PmemErrors, the
 * one error type daxemu throws.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ERRNO, PmemError, type ErrnoName } from '../base/index.js';
import type { MatrixReport } from '../job/index.js';
import { chartsAvailable, flushCostChart, strategyChart } from './charts.js';
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

/**
 * Writes the report into `dir` and returns the paths: results.json and report.md always;
 * results.csv and strategy.svg when there are cells, flush-cost.csv and flush-cost.svg when
 * there are flush-cost rows (a flush-cost run has no cells, and an empty chart or a
 * header-only CSV would only look like a failed run). The SVGs need the optional packages
 * vega and vega-lite; without them the rest is written (see chartsAvailable).
 */
export async function writeReport(dir: string, report: MatrixReport): Promise<string[]> {
  // Without the optional chart packages the report is written without its charts.
  const drawn = await chartsAvailable();
  const cells = report.cells.length > 0;
  const flushCost = report.flushCost.length > 0;
  const charts = drawn ? [...(cells ? [REPORT_FILES.strategyChart] : []), ...(flushCost ? [REPORT_FILES.flushCostChart] : [])] : [];
  const planned: [string, boolean, () => string | Promise<string>][] = [
    [REPORT_FILES.json, true, () => `${JSON.stringify(report, null, 2)}\n`],
    [REPORT_FILES.cellsCsv, cells, () => cellsToCsv(report.cells)],
    [REPORT_FILES.flushCostCsv, flushCost, () => flushCostToCsv(report.flushCost)],
    [REPORT_FILES.strategyChart, drawn && cells, () => strategyChart(report.cells)],
    [REPORT_FILES.flushCostChart, drawn && flushCost, () => flushCostChart(report.flushCost)],
    // The links are relative so the directory can be moved or published as it is.
    [REPORT_FILES.markdown, true, () => reportMarkdown(report, charts)],
  ];
  // Everything is made before the first file is written, so a failed render leaves no half report.
  // Charts render one after the other: vega numbers SVG clip ids with a module-wide counter.
  const contents: [string, string][] = [];
  for (const [name, wanted, make] of planned) if (wanted) contents.push([name, await make()]);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fsError(error, `cannot create report directory ${JSON.stringify(dir)}`);
  }
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
