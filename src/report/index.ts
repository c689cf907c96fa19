/**
 * report: what a matrix or flush-cost run looks like to a person: the terminal tables, CSV,
 * Markdown and the SVG charts (vega-lite, rendered headless), and the report directory.
 *
 * May import: base, job (the result types).
 *
 * @module daxemu/report
 */
export { formatCellTable, formatFlushCostTable, type CellTableOptions } from './table.js';
export { writeReport, REPORT_FILES } from './write.js';
export { strategyChart, flushCostChart } from './charts.js';
export { cellsToCsv, flushCostToCsv } from './csv.js';
export { reportMarkdown } from './markdown.js';
