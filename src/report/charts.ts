/**
 * The matrix results as charts: Vega-Lite specs, compiled to Vega and rendered to an SVG
 * string headless (vega's 'none' renderer needs no browser or canvas). The specs carry
 * their data inline and nothing time- or random-dependent, so the same input always gives
 * the same SVG bytes.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { PmemError } from '../base/index.js';
import type { CellResult, FlushCostRow } from '../job/index.js';
import { PAGE_SIZE_LABEL, formatNs } from './format.js';

/** Distinct values in the order they first appear: the chart's order follows the matrix's. */
function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** A log scale cannot place zero, negative or non-finite values, so those points are left out. */
const onLogScale = (value: number): boolean => Number.isFinite(value) && value > 0;

const FONT = 'Helvetica, Arial, sans-serif';

/** Shared look: a white background (viewers differ on transparent ones), readable sizes, plain-weight titles. */
const CONFIG = {
  background: 'white',
  font: FONT,
  title: { fontSize: 15, subtitleFontSize: 12, anchor: 'start', offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  header: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  view: { stroke: '#ccc' },
} as const;

const STRATEGY_TITLE = 'Emulated time per operation by writeback strategy';
const FLUSH_COST_TITLE = 'Cost of one flush of one page-table entry by its dirty lines';

/** A titled chart that says there is nothing to plot: vega fails on an empty faceted spec. */
function nothingToPlotSpec(title: string, message: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    config: CONFIG,
    width: 360,
    height: 60,
    data: { values: [{ message }] },
    mark: { type: 'text', fontSize: 13, color: '#555' },
    encoding: { text: { field: 'message', type: 'nominal' } },
  } as TopLevelSpec;
}

/** The Vega-Lite spec of the ns-per-operation chart: bars per strategy, a panel per workload and page size. */
export function strategyChartSpec(cells: readonly CellResult[]): TopLevelSpec {
  const plotted = cells.filter((c) => onLogScale(c.nsPerOp));
  if (plotted.length === 0) return nothingToPlotSpec(STRATEGY_TITLE, 'no cell with a positive ns per operation to plot');
  const strategies = distinct(plotted.map((c) => c.strategy));
  const configs = distinct(plotted.map((c) => `${c.preset} / ${c.kernel}`));
  // One preset and kernel: a bar per strategy. Several: a group per preset/kernel, a bar per strategy in it.
  const grouped = configs.length > 1;
  const values = plotted.map((c) => ({
    workload: c.workload,
    page: PAGE_SIZE_LABEL[c.pageSize] ?? c.pageSize,
    strategy: c.strategy,
    config: `${c.preset} / ${c.kernel}`,
    nsPerOp: c.nsPerOp,
    label: formatNs(c.nsPerOp),
  }));
  const strategyScale = { domain: strategies };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: STRATEGY_TITLE,
      subtitle: grouped
        ? 'ns per workload operation, log scale; bars grouped by preset / kernel'
        : `ns per workload operation, log scale; ${configs[0]}`,
    },
    config: CONFIG,
    data: { values },
    facet: {
      row: { field: 'page', type: 'nominal', title: 'page size', sort: distinct(values.map((v) => v.page)) },
      column: { field: 'workload', type: 'nominal', title: 'workload', sort: distinct(values.map((v) => v.workload)) },
    },
    spec: {
      // A fixed panel width: a step-based width multiplies out across the offset bands.
      width: grouped ? 40 * Math.max(strategies.length, 1) * configs.length : { step: 36 },
      height: 220,
      mark: { type: 'bar' },
      encoding: {
        x: grouped
          ? { field: 'config', type: 'nominal', title: 'preset / kernel', sort: configs, axis: { labelAngle: -30, labelLimit: 240 } }
          : { field: 'strategy', type: 'nominal', title: 'strategy', sort: strategies, axis: { labelAngle: -30 } },
        ...(grouped ? { xOffset: { field: 'strategy', type: 'nominal', sort: strategies, scale: strategyScale } } : {}),
        y: {
          field: 'nsPerOp',
          type: 'quantitative',
          title: 'emulated ns per operation (log scale)',
          stack: null,
          scale: { type: 'log' },
          axis: { format: '~s' },
        },
        color: { field: 'strategy', type: 'nominal', title: 'strategy', scale: strategyScale },
        tooltip: [
          { field: 'workload' },
          { field: 'strategy' },
          { field: 'config', title: 'preset / kernel' },
          { field: 'page', title: 'page size' },
          { field: 'label', title: 'per operation' },
        ],
      },
    },
    resolve: { scale: { x: 'shared', y: 'shared' } },
  } as TopLevelSpec;
}

/** The Vega-Lite spec of the flush-cost chart: ns of one flush against dirty lines, both axes log scale. */
export function flushCostChartSpec(rows: readonly FlushCostRow[]): TopLevelSpec {
  const plotted = rows.filter((r) => onLogScale(r.ns) && onLogScale(r.dirtyLines));
  if (plotted.length === 0) return nothingToPlotSpec(FLUSH_COST_TITLE, 'no flush-cost row with positive ns and dirty lines to plot');
  const instructions = distinct(plotted.map((r) => r.instruction));
  const configs = distinct(plotted.map((r) => `${r.preset} / ${r.kernel}`));
  const strategies = distinct(plotted.map((r) => r.strategy));
  const pages = distinct(plotted.map((r) => PAGE_SIZE_LABEL[r.pageSize] ?? r.pageSize));
  const values = plotted.map((r) => ({
    config: `${r.preset} / ${r.kernel}`,
    instruction: r.instruction,
    page: PAGE_SIZE_LABEL[r.pageSize] ?? r.pageSize,
    strategy: r.strategy,
    // One line per page size x strategy (x instruction): the detail channel keeps them apart.
    series: `${r.pageSize} ${r.strategy} ${r.instruction}`,
    dirtyLines: r.dirtyLines,
    ns: r.ns,
    label: formatNs(r.ns),
  }));
  const panel = {
    width: 360,
    height: 240,
    mark: { type: 'line', point: { size: 36, filled: true }, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'dirtyLines',
        type: 'quantitative',
        title: 'dirty cache lines in the entry (log scale)',
        scale: { type: 'log', base: 2 },
        // Ticks at the measured counts only: 1, 8, 64, 512 read better than 2^k everywhere.
        axis: { values: distinct(plotted.map((r) => r.dirtyLines)).sort((a, b) => a - b), format: 'd' },
      },
      y: {
        field: 'ns',
        type: 'quantitative',
        title: 'emulated ns per flush (log scale)',
        scale: { type: 'log' },
        axis: { format: '~s' },
      },
      color: { field: 'strategy', type: 'nominal', title: 'strategy', scale: { domain: strategies } },
      strokeDash: { field: 'page', type: 'nominal', title: 'page size', scale: { domain: pages } },
      shape: { field: 'page', type: 'nominal', title: 'page size', scale: { domain: pages } },
      detail: { field: 'series', type: 'nominal' },
      order: { field: 'dirtyLines', type: 'quantitative' },
      tooltip: [
        { field: 'config', title: 'preset / kernel' },
        { field: 'instruction' },
        { field: 'page', title: 'page size' },
        { field: 'strategy' },
        { field: 'dirtyLines', title: 'dirty lines' },
        { field: 'label', title: 'flush' },
      ],
    },
  };
  const facet = {
    ...(configs.length > 1 ? { row: { field: 'config', type: 'nominal', title: 'preset / kernel', sort: configs } } : {}),
    ...(instructions.length > 1
      ? { column: { field: 'instruction', type: 'nominal', title: 'flush instruction', sort: instructions } }
      : {}),
  };
  const single = configs.length <= 1 && instructions.length <= 1;
  const title = {
    text: FLUSH_COST_TITLE,
    subtitle: single
      ? `${configs[0]}, ${instructions[0]}; msync or user flush + fence, log-log`
      : 'msync or user flush + fence, log-log; a panel per preset / kernel and instruction',
  };
  return (
    single
      ? { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, config: CONFIG, data: { values }, ...panel }
      : {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          title,
          config: CONFIG,
          data: { values },
          facet,
          spec: panel,
          resolve: { scale: { x: 'shared', y: 'shared' } },
        }
  ) as TopLevelSpec;
}

/** Compiles a Vega-Lite spec and renders it to an SVG string without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega logs dataflow errors and carries on with an empty scene; collect them to fail instead.
  const errors: unknown[] = [];
  const logger = vega.logger(vega.Warn, undefined, (method, level, args) => {
    if (level === 'ERROR') errors.push(args.length === 1 ? args[0] : args);
    else console[method](level, ...args);
  });
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none', logger });
  try {
    // Clip and gradient ids come from module-wide counters; restart them so output does not depend on earlier renders.
    vega.resetSVGDefIds();
    const svg = await view.toSVG();
    if (errors.length > 0) {
      const first = errors[0] instanceof Error ? errors[0].message : String(errors[0]);
      throw new PmemError('EINVAL', `vega could not render the chart: ${first}`);
    }
    return svg;
  } finally {
    view.finalize();
  }
}

/** Emulated ns per operation by strategy, a panel per workload and page size, as SVG. */
export function strategyChart(cells: CellResult[]): Promise<string> {
  return renderSvg(strategyChartSpec(cells));
}

/** Flush cost in ns against dirty lines, a line per page size x strategy, as SVG. */
export function flushCostChart(rows: FlushCostRow[]): Promise<string> {
  return renderSvg(flushCostChartSpec(rows));
}
