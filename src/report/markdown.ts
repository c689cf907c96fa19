/**
 * The matrix results as report.md: what was run, the cell table, the flush-cost tables, the
 * charts, and a plain-words guide to the columns. Uses the same column definitions as the
 * terminal table so both read alike.
 */
import type { MatrixReport } from '../job/index.js';
import { CELL_COLUMN_DEFS, cellColumnsFor } from './cell-columns.js';
import { flushCostGrids } from './flush-cost-grid.js';
import { formatNs, formatWallMs } from './format.js';
import { cheapestPerWorkload } from './winners.js';

/** Escapes what would end a table cell or turn into markup; names are shown as written. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\|*_`<>[\]]/g, (ch) => `\\${ch}`).replace(/\r?\n/g, ' ');
}

function markdownTable(header: readonly string[], rows: readonly string[][], align: readonly ('left' | 'right')[]): string {
  const line = (fields: readonly string[]): string => `| ${fields.join(' | ')} |`;
  const rule = `|${align.map((a) => (a === 'right' ? ' ---: ' : ' --- ')).join('|')}|`;
  return [line(header.map(escapeMarkdown)), rule, ...rows.map((row) => line(row.map(escapeMarkdown)))].join('\n');
}

function cellSection(report: MatrixReport): string {
  const defs = cellColumnsFor(report.cells).map((column) => CELL_COLUMN_DEFS[column]);
  const withBugs = (c: MatrixReport['cells'][number]): boolean => (c.bugs?.length ?? 0) > 0;
  const failed = report.cells.filter((c) => c.durabilityChecks > 0 && !c.durable && !c.kernelLoss && !withBugs(c)).length;
  const bugLosses = report.cells.filter((c) => c.durabilityChecks > 0 && !c.durable && withBugs(c)).length;
  const unchecked = report.cells.filter((c) => c.durabilityChecks === 0).length;
  const summary = [
    `${report.cells.length} cells.`,
    failed === 0 ? 'Every checked cell passed the durability check.' : `**${failed} cell(s) failed the durability check** (durable: NO).`,
    bugLosses === 0 ? '' : `${bugLosses} cell(s) lost data to the historical kernel bugs they ran with (durable: lost, with the bugs named).`,
    unchecked === 0 ? '' : `${unchecked} cell(s) had no sync point to check.`,
  ]
    .filter((s) => s !== '')
    .join(' ');
  const table = markdownTable(
    defs.map((d) => d.header),
    report.cells.map((cell) => defs.map((d) => d.value(cell))),
    defs.map((d) => d.align),
  );
  return `${summary}\n\n${table}`;
}

function flushCostSection(report: MatrixReport): string {
  if (report.flushCost.length === 0) return 'The run measured no flush costs.';
  const intro =
    'Emulated time of one flush of one page-table entry (msync, or a user-space flush plus fence) ' +
    'by how many of its cache lines are dirty; a dash where that count was not measured.';
  const grids = flushCostGrids(report.flushCost).map((grid) => {
    const heading = `### ${escapeMarkdown(`${grid.preset} / ${grid.kernel} / ${grid.instruction}`)}`;
    const table = markdownTable(
      ['page', 'strategy', ...grid.dirtyLines.map((n) => `${n} dirty`)],
      grid.rows.map((r) => [r.pageSize, r.strategy, ...r.ns.map((ns) => (ns === undefined ? '-' : formatNs(ns)))]),
      ['left', 'left', ...grid.dirtyLines.map(() => 'right' as const)],
    );
    return `${heading}\n\n${table}`;
  });
  return [intro, ...grids].join('\n\n');
}

function chartSection(chartFiles: readonly string[]): string {
  if (chartFiles.length === 0) return 'No charts were written.';
  return chartFiles
    .map((file) => {
      // encodeURI keeps '/' but makes spaces and the like safe inside the link target.
      const target = encodeURI(file).replace(/[()]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
      const name = escapeMarkdown(file.replace(/^.*\//, ''));
      return `![${name}](${target})\n\n[${name}](${target})`;
    })
    .join('\n\n');
}

const HOW_TO_READ = [
  'Each cell-table row is one workload run under one writeback strategy, hardware preset, kernel profile and page size',
  '(pte: 4 KiB entries; pmd: 2 MiB entries). **time/op** is emulated time per workload operation, flushing included, in the unit each cell names; lower is better.',
  '**lines/sync** is the cache lines flushed per sync point: dirty lines are useful (they carried data to media),',
  'clean lines are wasted (they cost time and bandwidth and save nothing, as when msync flushes a whole 2 MiB entry for a few dirty lines).',
  '**fences/sync** counts the ordering fences per sync point.',
  '**faults** is the run\'s page faults and **fault kinds** the kinds seen: pte and pmd map a 4 KiB or 2 MiB entry,',
  'mkwrite is the write fault that re-dirties a write-protected entry (the price of a writeback that cleaned it),',
  'needdsync is a MAP_SYNC write fault that had to sync metadata first, fallback a 2 MiB fault that fell back to 4 KiB.',
  '**WA** (write amplification) is bytes written to the media per byte that reached the DIMMs; 1x means none extra.',
  '**durable** is the crash check: yes if, at every checked sync point, the image a crash is guaranteed to leave',
  'held every write acknowledged so far; NO means the strategy lost data, however fast it is; unchecked, that no sync point was checked;',
  'kernel loss, that the only data lost is what the kernel itself loses (a truncate deleting a dirty PMD entry unwritten).',
  'The figures here carry three significant digits, results.csv six; results.json has them as measured.',
].join(' ');

/** The winner of each workload as a list, ties joined with "=". */
function cheapestSection(report: MatrixReport): string {
  const items = cheapestPerWorkload(report.cells).map(({ workload, cells }) => {
    if (cells.length === 0) return `- ${escapeMarkdown(workload)}: no cell passed the durability check`;
    const names = cells.map((c) => escapeMarkdown(`${c.strategy}, ${c.preset}, ${c.kernel}, ${c.pageSize}`)).join(' = ');
    return `- ${escapeMarkdown(workload)}: ${names}: ${formatNs(cells[0]!.nsPerOp)} per operation`;
  });
  return ['The lowest time per operation among the cells that passed the durability check.', '', ...items].join('\n');
}

/**
 * The whole report.md for a run; `chartFiles` are link targets relative to report.md. A
 * flush-cost run has no cells, so its report leaves out the cell sections and their guide.
 */
export function reportMarkdown(report: MatrixReport, chartFiles: string[]): string {
  const cells = report.cells.length > 0;
  const sections = [
    cells ? '# daxemu writeback-strategy matrix' : '# daxemu flush cost per PTE and PMD entry',
    [
      `- tool: ${escapeMarkdown(report.tool)} ${escapeMarkdown(report.version)}`,
      `- seed: ${report.seed}`,
      `- wall time: ${formatWallMs(report.wallMs)}`,
    ].join('\n'),
    ...(cells ? ['## How to read this', HOW_TO_READ, '## Cells', cellSection(report), '## Cheapest per workload', cheapestSection(report)] : []),
    '## Flush cost',
    flushCostSection(report),
    '## Charts',
    chartSection(chartFiles),
  ];
  return `${sections.join('\n\n')}\n`;
}
