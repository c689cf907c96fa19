/**
 * The analysis as text: a table for the terminal, a Markdown report, and JSON (the report
 * object itself). Times are emulated ns; shares are of the run's total emulated time.
 */
import { FINDING_KINDS, type AnalysisReport } from './findings.js';

function ns(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)} ms` : v >= 1e3 ? `${(v / 1e3).toFixed(2)} µs` : `${v.toFixed(1)} ns`;
}

function pct(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** The summary per kind, then each finding, as aligned columns. */
export function formatAnalysisTable(report: AnalysisReport): string {
  const out = [`${report.source}: ${report.operations} operations, ${ns(report.totalNs)} emulated`];
  if (report.summary.length === 0) return `${out[0]}\nno findings`;
  out.push('', pad([['kind', 'verdict', 'count', 'lines', 'time', 'share'], ...report.summary.map((s) => [s.kind, s.verdict, String(s.count), String(s.lines), ns(s.ns), pct(s.share)])]));
  out.push('', pad([['line', 'kind', 'verdict', 'time', 'share', 'what'], ...report.findings.map((f) => [String(f.line), f.kind, f.verdict, ns(f.ns), pct(f.share), f.detail])]));
  if (report.omitted > 0) out.push(`(${report.omitted} more findings counted in the summary, not listed)`);
  return out.join('\n');
}

/** A Markdown report: the summary table, the meaning of each kind found, and the findings. */
export function analysisMarkdown(report: AnalysisReport): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [`# Flush and fence analysis of ${esc(report.source)}`, '', `${report.operations} operations, ${ns(report.totalNs)} of emulated time.`, ''];
  if (report.summary.length === 0) return `${lines.join('\n')}No findings.\n`;
  lines.push('| kind | verdict | count | cache lines | time | share of total |', '|---|---|---:|---:|---:|---:|');
  for (const s of report.summary) lines.push(`| ${s.kind} | ${s.verdict} | ${s.count} | ${s.lines} | ${ns(s.ns)} | ${pct(s.share)} |`);
  lines.push('', ...report.summary.map((s) => `- **${s.kind}**: ${FINDING_KINDS[s.kind].meaning}.`), '', '## Findings', '', '| line | kind | verdict | time | share | what |', '|---:|---|---|---:|---:|---|');
  for (const f of report.findings) lines.push(`| ${f.line} | ${f.kind} | ${f.verdict} | ${ns(f.ns)} | ${pct(f.share)} | ${esc(f.detail)} |`);
  if (report.omitted > 0) lines.push('', `${report.omitted} more findings are counted in the summary and not listed.`);
  return `${lines.join('\n')}\n`;
}
