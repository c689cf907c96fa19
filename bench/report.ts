/** A suite's result, as one JSON object or as an aligned text table. */
import type { BenchCase, MetricCase } from './case.js';
import type { MachineInfo } from './machine.js';

/** The JSON object printed per suite with --json. */
export interface SuiteResult {
  suite: string;
  cases: (BenchCase | MetricCase)[];
  machine: MachineInfo;
  commit: string;
}

/** The result as one line of JSON. */
export function formatJson(result: SuiteResult): string {
  return JSON.stringify(result);
}

const opsFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** The goal column: the goal and whether the ratio reached it. */
function goalCell(c: BenchCase | MetricCase): string {
  if (c.goal === undefined) return '';
  const bound = 'value' in c && c.higherIsBetter === false ? '<=' : '>=';
  return `${bound} ${c.goal} ${c.met ? 'ok' : 'MISSED'}`;
}

const valueFormat = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

/** The result as a table: a line naming suite, machine and commit, then one row per case. */
export function formatTable(result: SuiteResult): string {
  const { machine } = result;
  const title = `${result.suite} | ${machine.cpu}, ${machine.cores} cores | node ${machine.node} ${machine.platform} | commit ${result.commit}`;
  const header = ['case', 'wasm ops/s', 'model ops/s', 'ratio', 'goal'];
  const rows = result.cases.map((c) =>
    'value' in c
      ? [c.name, `${valueFormat.format(c.value)} ${c.unit}`, '', '', goalCell(c)]
      : [
          c.baseline ? `${c.name} (vs ${c.baseline})` : c.name,
          opsFormat.format(c.wasmOpsPerSec),
          opsFormat.format(c.modelOpsPerSec),
          `${c.ratio.toFixed(2)}x`,
          goalCell(c),
        ],
  );
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col]!.length)));
  // The case name and goal read left to right; numbers line up on the right.
  const leftAligned = new Set([0, 4]);
  const line = (cells: string[]): string =>
    cells.map((cell, col) => (leftAligned.has(col) ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [title, line(header), rule, ...rows.map(line)].join('\n');
}
