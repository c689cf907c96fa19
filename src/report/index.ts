/**
 * report: what a matrix or flush-cost run looks like to a person: the terminal tables, CSV,
 * Markdown and the SVG charts (vega-lite, rendered headless), and the report directory.
 *
 * May import: base, dax (the kernel profiles), job (the result types and strategies).
 *
 * @module daxemu/report
 */
export { formatCellTable, formatFlushCostTable, type CellTableOptions } from './table.js';
export { formatBenchText, type BenchTextOptions } from './bench-text.js';
export { cheapestPerWorkload, type WorkloadWinner } from './winners.js';
export { writeReport, REPORT_FILES } from './write.js';
export { strategyChart, flushCostChart, chartsAvailable, CHARTS_NEED } from './charts.js';
export { cellsToCsv, flushCostToCsv } from './csv.js';
export { reportMarkdown } from './markdown.js';
