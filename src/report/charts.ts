/**
 * The matrix results as charts: Vega-Lite specs, compiled to Vega and rendered to an SVG
 * string headless (vega's 'none' renderer needs no browser or canvas). The specs carry
 * their data inline and nothing time- or random-dependent, so the same input always gives
 * the same SVG bytes. vega and vega-lite are optional peer dependencies, loaded on the first
 * chart: a user who only embeds the emulator does not install them.
 */
import type { TopLevelSpec } from 'vega-lite';
import { PmemError } from '../base/index.js';
import type { CellResult, FlushCostRow } from '../job/index.js';
import { KERNEL_PROFILES, type KernelProfile } from '../dax/index.js';
import { STRATEGY_NAMES, strategyRuns, strategySetup, type StrategyName } from '../job/index.js';
import { PAGE_SIZE_LABEL, formatNs } from './format.js';
import { groupBy } from './group.js';
import { SAME_RATIO, hiddenSeries } from './hidden-series.js';
import { logTimeAxis } from './time-axis.js';

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

const isStrategy = (name: string): name is StrategyName => (STRATEGY_NAMES as readonly string[]).includes(name);
const isKernel = (name: string): name is KernelProfile => KERNEL_PROFILES.includes(name as KernelProfile);

/** The chart's strategies absent from `present` because they cannot run on `kernel` (the matrix leaves them out). */
function notRunOn(kernel: string, strategies: readonly string[], present: readonly string[]): string[] {
  return isKernel(kernel) ? strategies.filter((s) => !present.includes(s) && isStrategy(s) && !strategyRuns(s, kernel)) : [];
}

/** "a, b and c". */
function joinAnd(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** One subtitle line per kernel of the chart on which some of its strategies could not run. */
function notRunLines(drawn: readonly { kernel: string; strategy: string }[], strategies: readonly string[]): string[] {
  return distinct(drawn.map((d) => d.kernel)).flatMap((kernel) => {
    const missing = notRunOn(kernel, strategies, drawn.filter((d) => d.kernel === kernel).map((d) => d.strategy));
    if (missing.length === 0) return [];
    const verb = missing.length === 1 ? 'does' : 'do';
    return missing.every((s) => strategySetup(s as StrategyName).mapSync)
      ? [`${kernel} predates MAP_SYNC: ${joinAnd(missing)} ${verb} not run there`]
      : [`${joinAnd(missing)} ${verb} not run on ${kernel}`];
  });
}

/** The y encoding of emulated time on a log scale with decade ticks in time units. */
function timeY(field: string, title: string, ns: readonly number[]): Record<string, unknown> {
  const axis = logTimeAxis(ns);
  return {
    field,
    type: 'quantitative',
    title,
    stack: null,
    scale: { type: 'log', domain: axis.domain, nice: false },
    axis: { values: axis.values, labelExpr: axis.labelExpr },
  };
}

/** The Vega-Lite spec of the time-per-operation chart: bars per strategy, a panel per workload and page size. */
function strategyChartSpec(cells: readonly CellResult[]): TopLevelSpec {
  const plotted = cells.filter((c) => onLogScale(c.nsPerOp));
  if (plotted.length === 0) return nothingToPlotSpec(STRATEGY_TITLE, 'no cell with a positive ns per operation to plot');
  const strategies = distinct(plotted.map((c) => c.strategy));
  const configs = distinct(plotted.map((c) => `${c.preset} / ${c.kernel}`));
  // One preset and kernel: a bar per strategy. Several: a group per preset/kernel, a bar per strategy in it.
  const grouped = configs.length > 1;
  const y = timeY('nsPerOp', 'time per operation (log scale)', plotted.map((c) => c.nsPerOp));
  const bars = plotted.map((c) => ({
    kind: 'bar',
    workload: c.workload,
    page: PAGE_SIZE_LABEL[c.pageSize] ?? c.pageSize,
    strategy: c.strategy,
    config: `${c.preset} / ${c.kernel}`,
    kernel: c.kernel,
    nsPerOp: c.nsPerOp,
    label: formatNs(c.nsPerOp),
  }));
  // Where a kernel cannot run some strategies, their empty slots in its group say so, high
  // up in the panel, where the slower strategies' bars beside them do not reach.
  const [low, high] = (y.scale as { domain: [number, number] }).domain;
  const notes = grouped
    ? [...groupBy(bars, (b) => JSON.stringify([b.workload, b.page, b.config])).values()].flatMap((group) => {
        const { workload, page, config, kernel } = group[0]!;
        const missing = notRunOn(kernel, strategies, group.map((b) => b.strategy));
        if (missing.length === 0) return [];
        const mapSync = missing.every((s) => strategySetup(s as StrategyName).mapSync);
        const slot = missing[Math.floor(missing.length / 2)];
        return [{ kind: 'note', workload, page, config, strategy: slot, nsPerOp: low ** 0.25 * high ** 0.75, text: mapSync ? ['no MAP_SYNC:', 'not run'] : ['not run'] }];
      })
    : [];
  const strategyScale = { domain: strategies };
  const x = grouped
    ? { field: 'config', type: 'nominal', title: 'preset / kernel', sort: configs, axis: { labelAngle: -30, labelLimit: 240 } }
    : { field: 'strategy', type: 'nominal', title: 'strategy', sort: strategies, axis: { labelAngle: -30 } };
  const xOffset = grouped ? { xOffset: { field: 'strategy', type: 'nominal', sort: strategies, scale: strategyScale } } : {};
  const context = grouped ? 'bars grouped by preset / kernel' : configs[0];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: STRATEGY_TITLE,
      subtitle: [`emulated time per workload operation, log scale; ${context}`, ...notRunLines(plotted, strategies)],
    },
    config: CONFIG,
    data: { values: [...bars, ...notes] },
    facet: {
      row: { field: 'page', type: 'nominal', title: 'page size', sort: distinct(bars.map((v) => v.page)) },
      column: { field: 'workload', type: 'nominal', title: 'workload', sort: distinct(bars.map((v) => v.workload)) },
    },
    spec: {
      // A fixed panel width: a step-based width multiplies out across the offset bands.
      width: grouped ? 40 * Math.max(strategies.length, 1) * configs.length : { step: 36 },
      height: 220,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'bar'" }],
          mark: { type: 'bar' },
          encoding: {
            x,
            ...xOffset,
            y,
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
        ...(notes.length === 0
          ? []
          : [
              {
                transform: [{ filter: "datum.kind === 'note'" }],
                mark: { type: 'text', fontSize: 10, color: '#555', lineHeight: 13 },
                encoding: { x, ...xOffset, y, text: { field: 'text', type: 'nominal' } },
              },
            ]),
      ],
    },
    resolve: { scale: { x: 'shared', y: 'shared' } },
  } as TopLevelSpec;
}

/** What the flush-cost chart's panels are, in words that match what is drawn. */
function flushCostContext(configs: readonly string[], instructions: readonly string[]): string {
  if (configs.length > 1 && instructions.length > 1) return 'a panel per preset / kernel (rows) and flush instruction (columns)';
  if (configs.length > 1) return `a panel per preset / kernel; ${instructions[0]}`;
  if (instructions.length > 1) return `${configs[0]}; a panel per flush instruction`;
  return `${configs[0]}, ${instructions[0]}`;
}

/** Legend symbols drawn as the line layer looks, not as the pale band beneath it. */
const SOLID_SYMBOLS = { symbolOpacity: 1, symbolFillColor: '#333' } as const;

/** The Vega-Lite spec of the flush-cost chart: time of one flush against dirty lines, both axes log scale. */
function flushCostChartSpec(rows: readonly FlushCostRow[]): TopLevelSpec {
  const plotted = rows.filter((r) => onLogScale(r.ns) && onLogScale(r.dirtyLines));
  if (plotted.length === 0) return nothingToPlotSpec(FLUSH_COST_TITLE, 'no flush-cost row with positive ns and dirty lines to plot');
  const instructions = distinct(plotted.map((r) => r.instruction));
  const configs = distinct(plotted.map((r) => `${r.preset} / ${r.kernel}`));
  const strategies = distinct(plotted.map((r) => r.strategy));
  const pages = distinct(plotted.map((r) => PAGE_SIZE_LABEL[r.pageSize] ?? r.pageSize));
  const panelOf = (r: FlushCostRow): string => JSON.stringify([r.preset, r.kernel, r.instruction, r.pageSize]);
  // A series that lies on a later one (msync-dirty-lines under user-flush) is drawn as a band beneath it.
  const hidden = hiddenSeries(
    plotted.map((r) => ({ panel: panelOf(r), series: r.strategy, x: r.dirtyLines, y: r.ns })),
    strategies,
  );
  const covers = new Map<string, Set<string>>();
  for (const panel of hidden.values()) for (const [under, over] of panel) covers.set(under, (covers.get(under) ?? new Set()).add(over));
  const values = plotted.map((r) => ({
    config: `${r.preset} / ${r.kernel}`,
    instruction: r.instruction,
    page: PAGE_SIZE_LABEL[r.pageSize] ?? r.pageSize,
    strategy: r.strategy,
    // One line per page size x strategy (x instruction): the detail channel keeps them apart.
    series: `${r.pageSize} ${r.strategy} ${r.instruction}`,
    hidden: hidden.get(panelOf(r))?.has(r.strategy) ?? false,
    dirtyLines: r.dirtyLines,
    ns: r.ns,
    label: formatNs(r.ns),
  }));
  // The legend names each hidden strategy's band and what covers it.
  const legendLabels = [...covers].map(([under, over]) => [under, `${under} (pale band: under ${joinAnd([...over])})`]);
  const labelExpr = legendLabels.reduceRight((rest, [name, text]) => `datum.label === ${JSON.stringify(name)} ? ${JSON.stringify(text)} : ${rest}`, 'datum.label');
  const encoding = {
    x: {
      field: 'dirtyLines',
      type: 'quantitative',
      title: 'dirty cache lines in the entry (log scale)',
      scale: { type: 'log', base: 2 },
      // Ticks at the measured counts only: 1, 8, 64, 512 read better than 2^k everywhere.
      axis: { values: distinct(plotted.map((r) => r.dirtyLines)).sort((a, b) => a - b), format: 'd' },
    },
    y: timeY('ns', 'time per flush (log scale)', plotted.map((r) => r.ns)),
    color: { field: 'strategy', type: 'nominal', title: 'strategy', scale: { domain: strategies }, legend: { labelExpr, labelLimit: 1000, ...SOLID_SYMBOLS } },
    strokeDash: { field: 'page', type: 'nominal', title: 'page size', scale: { domain: pages }, legend: SOLID_SYMBOLS },
    shape: { field: 'page', type: 'nominal', title: 'page size', scale: { domain: pages }, legend: SOLID_SYMBOLS },
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
  };
  const line = {
    transform: [{ filter: '!datum.hidden' }],
    mark: { type: 'line', point: { size: 36, filled: true }, strokeWidth: 2 },
    encoding,
  };
  const band = {
    transform: [{ filter: 'datum.hidden' }],
    mark: { type: 'line', point: { size: 160, filled: true, opacity: 0.35 }, strokeWidth: 9, opacity: 0.35, strokeCap: 'round' },
    encoding,
  };
  const panel = { width: 360, height: 240, layer: covers.size === 0 ? [line] : [band, line] };
  const facet = {
    ...(configs.length > 1 ? { row: { field: 'config', type: 'nominal', title: 'preset / kernel', sort: configs } } : {}),
    ...(instructions.length > 1
      ? { column: { field: 'instruction', type: 'nominal', title: 'flush instruction', sort: instructions } }
      : {}),
  };
  const single = configs.length <= 1 && instructions.length <= 1;
  const title = {
    text: FLUSH_COST_TITLE,
    subtitle: [
      `msync or user flush + fence, log-log; ${flushCostContext(configs, instructions)}`,
      ...(covers.size === 0 ? [] : [`a pale band is a strategy whose every point is within ${Math.round((SAME_RATIO - 1) * 100)}% of the line drawn over it`]),
      ...notRunLines(plotted, strategies),
    ],
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

/** What a user reads when the chart packages are not installed. */
export const CHARTS_NEED = 'the charts need the optional packages vega and vega-lite: npm install vega vega-lite';

type ChartRenderer = { vega: typeof import('vega'); compile: (typeof import('vega-lite'))['compile'] };
let renderer: Promise<ChartRenderer | null> | undefined;

/** vega and vega-lite, loaded once; null when they are not installed. */
function chartRenderer(): Promise<ChartRenderer | null> {
  renderer ??= Promise.all([import('vega'), import('vega-lite')]).then(
    ([vega, vegaLite]) => ({ vega, compile: vegaLite.compile }),
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ERR_MODULE_NOT_FOUND') return null;
      throw err;
    },
  );
  return renderer;
}

/** Whether the optional chart packages are installed, so that charts can be drawn. */
export async function chartsAvailable(): Promise<boolean> {
  return (await chartRenderer()) !== null;
}

/** Compiles a Vega-Lite spec and renders it to an SVG string without a browser; EOPNOTSUPP without the chart packages. */
async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const loaded = await chartRenderer();
  if (!loaded) throw new PmemError('EOPNOTSUPP', CHARTS_NEED);
  const { vega, compile } = loaded;
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

/** Emulated time per operation by strategy, a panel per workload and page size, as SVG. */
export function strategyChart(cells: CellResult[]): Promise<string> {
  return renderSvg(strategyChartSpec(cells));
}

/** Flush cost in time against dirty lines, a line per page size x strategy, as SVG. */
export function flushCostChart(rows: FlushCostRow[]): Promise<string> {
  return renderSvg(flushCostChartSpec(rows));
}
