// The report writers (src/report/): CSV that parses back, aligned text tables, well-formed
// and deterministic SVG charts, report.md, and the report directory writeReport leaves.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PmemError } from '../src/base/errors.js';
import type { CellResult, FlushCostRow, MatrixReport } from '../src/job/matrix-types.js';
import { flushCostChart, strategyChart } from '../src/report/charts.js';
import { cellsToCsv, csvField, flushCostToCsv } from '../src/report/csv.js';
import { formatCount, formatNs } from '../src/report/format.js';
import { reportMarkdown } from '../src/report/markdown.js';
import { formatCellTable, formatFlushCostTable } from '../src/report/table.js';
import { writeReport } from '../src/report/write.js';

const STRATEGIES = ['msync', 'msync-dirty-lines', 'user-flush'] as const;
// The second name holds a comma, so CSV has to quote it and the parser has to undo that.
const WORKLOADS = ['log-append', 'kv-update, 256 B'] as const;
const PAGE_SIZES = ['pte', 'pmd'] as const;
const DIRTY_LINES = [1, 8, 64, 512] as const;

function fakeCell(workload: string, strategy: string, pageSize: 'pte' | 'pmd', n: number): CellResult {
  const wholeEntry = strategy === 'msync';
  const linesPerSync = wholeEntry ? (pageSize === 'pmd' ? 32768 : 64) : 10;
  const nsPerOp = wholeEntry ? 2400 * n : strategy === 'user-flush' ? 85 + n : 640 + 10 * n;
  return {
    workload,
    strategy,
    preset: 'optane-g1',
    kernel: 'linux-6.12',
    pageSize,
    ops: 1000,
    syncs: 100,
    bytesSynced: 64_000,
    ns: nsPerOp * 1000,
    nsPerOp,
    nsPerSyncedByte: (nsPerOp * 1000) / 64_000,
    linesPerSync,
    dirtyLinesPerSync: 10,
    cleanLinesPerSync: linesPerSync - 10,
    ntLinesPerSync: 0,
    fencesPerSync: 1,
    faults: {
      pte: pageSize === 'pte' ? 16 : 0,
      pmd: pageSize === 'pmd' ? 1 : 0,
      mkwrite: strategy === 'user-flush' ? 0 : 100,
      needdsync: 0,
      fallback: 0,
      total: (pageSize === 'pte' ? 16 : 1) + (strategy === 'user-flush' ? 0 : 100),
    },
    mediaBytesWritten: 96_000 + n,
    writeAmplification: 1.5,
    // One failing cell, so the durable column shows both answers.
    durable: !(strategy === 'msync-dirty-lines' && pageSize === 'pmd' && workload === 'log-append'),
    durabilityChecks: 101,
  };
}

function fakeFlushCost(): FlushCostRow[] {
  const rows: FlushCostRow[] = [];
  for (const pageSize of PAGE_SIZES) {
    for (const strategy of STRATEGIES) {
      for (const dirtyLines of DIRTY_LINES) {
        if (pageSize === 'pte' && dirtyLines > 64) continue; // a 4 KiB entry has 64 lines
        const lines = strategy === 'msync' ? (pageSize === 'pte' ? 64 : 32768) : dirtyLines;
        const ns = lines * 30 + (strategy === 'user-flush' ? 50 : 900);
        rows.push({ preset: 'optane-g1', kernel: 'linux-6.12', instruction: 'clwb', pageSize, strategy, dirtyLines, lines, ns, refaultNs: strategy === 'user-flush' ? 0 : 700 });
      }
    }
  }
  return rows;
}

function fakeReport(): MatrixReport {
  const cells: CellResult[] = [];
  let n = 0;
  for (const workload of WORKLOADS) {
    for (const pageSize of PAGE_SIZES) for (const strategy of STRATEGIES) cells.push(fakeCell(workload, strategy, pageSize, ++n));
  }
  return { tool: 'daxemu', version: '0.1.0', seed: 42, cells, flushCost: fakeFlushCost(), wallMs: 12_345 };
}

/** An RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += ch;
  }
  expect(quoted, 'unterminated quoted field').toBe(false);
  expect(field === '' && record.length === 0, 'the last record ends in CRLF').toBe(true);
  return records;
}

/** Checks that every opened tag is closed in order; returns the element names seen. */
function checkBalancedTags(svg: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
  for (const [, closing, name, , selfClosing] of svg.matchAll(tag)) {
    names.push(name);
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `</${name}> closes the innermost open tag`).toBe(name);
    else stack.push(name);
  }
  expect(stack, 'every tag is closed').toEqual([]);
  return names;
}

/** The column each header word starts at, found from the header line. */
function columnStarts(header: string): number[] {
  return [...header.matchAll(/(?:^|\s{2})(\S)/g)].map((m) => m.index + m[0].length - 1);
}

describe('CSV', () => {
  const report = fakeReport();

  it('cells parse back with the flattened header, one record per cell, the comma-holding name intact', () => {
    const csv = cellsToCsv(report.cells);
    const records = parseCsv(csv);
    const [header, ...rows] = records;
    expect(header.slice(0, 5)).toEqual(['workload', 'strategy', 'preset', 'kernel', 'pageSize']);
    expect(header).toEqual(expect.arrayContaining(['faults_pte', 'faults_pmd', 'faults_mkwrite', 'faults_needdsync', 'faults_fallback', 'faults_total']));
    expect(header).not.toContain('faults');
    expect(rows).toHaveLength(report.cells.length);
    for (const row of rows) expect(row).toHaveLength(header.length);
    expect(csv).toContain('"kv-update, 256 B",');
    const col = (name: string): number => header.indexOf(name);
    report.cells.forEach((cell, i) => {
      expect(rows[i][col('workload')]).toBe(cell.workload);
      expect(Number(rows[i][col('nsPerOp')])).toBe(cell.nsPerOp);
      expect(Number(rows[i][col('faults_total')])).toBe(cell.faults.total);
      expect(rows[i][col('durable')]).toBe(String(cell.durable));
    });
  });

  it('flush-cost rows parse back, one record per row', () => {
    const [header, ...rows] = parseCsv(flushCostToCsv(report.flushCost));
    expect(header).toEqual(['preset', 'kernel', 'instruction', 'pageSize', 'strategy', 'dirtyLines', 'lines', 'ns', 'refaultNs']);
    expect(rows).toHaveLength(report.flushCost.length);
    expect(rows.map((r) => Number(r[header.indexOf('ns')]))).toEqual(report.flushCost.map((r) => r.ns));
  });

  it('quotes only what needs it: commas, double quotes (doubled), line breaks; non-finite numbers are left empty', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(1.5)).toBe('1.5');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(true)).toBe('true');
    const odd = { ...report.cells[0], workload: 'say "hi",\r\nagain' };
    expect(parseCsv(cellsToCsv([odd]))[1][0]).toBe(odd.workload);
  });
});

describe('text tables', () => {
  const report = fakeReport();

  it('formats durations and counts compactly', () => {
    expect(formatNs(45.6)).toBe('45.6 ns');
    expect(formatNs(1234)).toBe('1.23 us');
    expect(formatNs(999.96)).toBe('1 us');
    expect(formatNs(2_500_000)).toBe('2.5 ms');
    expect(formatCount(0.5)).toBe('0.5');
    expect(formatCount(32768)).toBe('32.8k');
  });

  it('the cell table has a line per cell, every strategy, and lines of one width with columns at fixed offsets', () => {
    const table = formatCellTable(report.cells);
    const lines = table.split('\n');
    expect(lines).toHaveLength(report.cells.length + 2); // header and rule
    for (const s of STRATEGIES) expect(table).toContain(s);
    for (const w of WORKLOADS) expect(table).toContain(w);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    // Each column starts where the rule's dashes start, on every line: a gap of spaces before it.
    const starts = columnStarts(lines[1]);
    expect(starts).toHaveLength(11);
    for (const line of lines) for (const start of starts.slice(1)) expect(line.slice(start - 2, start)).toBe('  ');
    expect(lines[0]).toMatch(/^workload\s+strategy\s+preset\s+kernel\s+page\s+ns\/op\s+lines\/sync \(dirty\/clean\)\s+fences\/sync\s+faults\s+WA\s+durable\s*$/);
    expect(table).toMatch(/msync-dirty-lines .* NO/);
  });

  it('the cell table shows just the columns asked for, and refuses an unknown one', () => {
    const table = formatCellTable(report.cells, { columns: ['strategy', 'ns/op'] });
    expect(table.split('\n')[0]).toMatch(/^strategy\s+ns\/op$/);
    expect(() => formatCellTable(report.cells, { columns: ['nope' as never] })).toThrow(PmemError);
  });

  it('the flush-cost table has a column per dirty-line count and a row per page size x strategy, aligned', () => {
    const text = formatFlushCostTable(report.flushCost);
    const [title, header, rule, ...rows] = text.split('\n');
    expect(title).toContain('optane-g1 / linux-6.12 / clwb');
    expect(header).toMatch(/^page\s+strategy\s+1\s+8\s+64\s+512$/);
    expect(rows).toHaveLength(PAGE_SIZES.length * STRATEGIES.length);
    for (const s of STRATEGIES) expect(rows.some((r) => r.includes(s))).toBe(true);
    expect(new Set([header, rule, ...rows].map((l) => l.length)).size).toBe(1);
    expect(rows.find((r) => r.startsWith('pte   msync ')), 'a 4 KiB entry has no 512-line measurement').toMatch(/ -$/);
    expect(text).toMatch(/\d+(\.\d+)? (ns|us)/);
  });
});

describe('charts', () => {
  const report = fakeReport();

  it('the strategy chart is well-formed SVG naming every strategy, workload and axis', async () => {
    const svg = await strategyChart(report.cells);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const names = checkBalancedTags(svg);
    expect(names).toContain('rect'); // the bars
    for (const s of STRATEGIES) expect(svg).toContain(`>${s}</text>`);
    expect(svg).toContain('>log-append</text>');
    expect(svg).toContain('emulated ns per operation (log scale)');
    expect(svg).toContain('Emulated time per operation by writeback strategy');
  });

  it('the flush-cost chart is well-formed SVG with a title, both axis titles and the measured dirty-line ticks', async () => {
    const svg = await flushCostChart(report.flushCost);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    checkBalancedTags(svg);
    for (const s of STRATEGIES) expect(svg).toContain(`>${s}</text>`);
    expect(svg).toContain('dirty cache lines in the entry (log scale)');
    expect(svg).toContain('emulated ns per flush (log scale)');
    expect(svg).toContain('Cost of one flush of one page-table entry');
    for (const d of DIRTY_LINES) expect(svg).toContain(`>${d}</text>`);
  });

  it('renders the same bytes every time', async () => {
    const first = [await strategyChart(report.cells), await flushCostChart(report.flushCost)];
    const second = [await strategyChart(fakeReport().cells), await flushCostChart(fakeReport().flushCost)];
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
  });

  it('draws a titled "nothing to plot" chart for empty input instead of failing', async () => {
    const [a, b] = [await strategyChart([]), await flushCostChart([])];
    checkBalancedTags(a);
    checkBalancedTags(b);
    expect(a).toContain('>no cell with a positive ns per operation to plot</text>');
    expect(b).toContain('Cost of one flush of one page-table entry');
  });

  it('handles several presets, kernels and instructions by grouping and faceting', async () => {
    const cells = report.cells.flatMap((c) => [c, { ...c, preset: 'cxl', nsPerOp: c.nsPerOp * 2 }]);
    const rows = report.flushCost.flatMap((r) => [r, { ...r, instruction: 'clflushopt' as const, ns: r.ns * 1.2 }]);
    const [a, b] = [await strategyChart(cells), await flushCostChart(rows)];
    checkBalancedTags(a);
    checkBalancedTags(b);
    expect(a).toContain('cxl / linux-6.12');
    expect(b).toContain('>clflushopt</text>');
  });
});

describe('report.md', () => {
  const report = fakeReport();
  const md = reportMarkdown(report, ['strategy.svg', 'flush-cost.svg']);

  it('names the run and has a table row per cell', () => {
    expect(md).toMatch(/^# /);
    expect(md).toContain('seed: 42');
    expect(md).toContain('0.1.0');
    expect(md).toContain('12.3 s');
    const cellsSection = md.slice(md.indexOf('## Cells'), md.indexOf('## Flush cost'));
    const tableLines = cellsSection.split('\n').filter((l) => l.startsWith('|'));
    expect(tableLines).toHaveLength(report.cells.length + 2);
    expect(new Set(tableLines.map((l) => l.split(' | ').length)).size).toBe(1);
    expect(cellsSection).toContain('kv-update, 256 B');
    expect(cellsSection).toContain('1 cell(s) failed the durability check');
  });

  it('has the flush-cost table, links each chart, and explains the columns', () => {
    expect(md).toContain('| page | strategy | 1 dirty | 8 dirty | 64 dirty | 512 dirty |');
    expect(md).toContain('](strategy.svg)');
    expect(md).toContain('](flush-cost.svg)');
    const guide = md.slice(md.indexOf('## How to read this'));
    for (const word of ['dirty', 'clean', 'fences', 'faults', 'write amplification', 'crash']) expect(guide).toContain(word);
  });

  it('escapes a pipe in a name so the table keeps its columns', () => {
    const odd = reportMarkdown({ ...report, cells: [{ ...report.cells[0], workload: 'a|b' }] }, []);
    expect(odd).toContain('a\\|b');
  });
});

describe('writeReport', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('writes the six files into a new nested directory; results.json parses back equal', async () => {
    const base = await mkdtemp(join(tmpdir(), 'daxemu-report-'));
    dirs.push(base);
    const dir = join(base, 'nested', 'run');
    const report = fakeReport();
    const written = await writeReport(dir, report);
    const names = ['results.json', 'results.csv', 'flush-cost.csv', 'strategy.svg', 'flush-cost.svg', 'report.md'];
    expect([...written].sort()).toEqual(names.map((n) => join(dir, n)).sort());
    expect((await readdir(dir)).sort()).toEqual([...names].sort());
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'))).toEqual(report);
    expect(await readFile(join(dir, 'results.csv'), 'utf8')).toBe(cellsToCsv(report.cells));
    expect(await readFile(join(dir, 'strategy.svg'), 'utf8')).toBe(await strategyChart(report.cells));
    expect(await readFile(join(dir, 'report.md'), 'utf8')).toContain('](flush-cost.svg)');
  });

  it('turns a directory it cannot create into a PmemError naming it', async () => {
    const base = await mkdtemp(join(tmpdir(), 'daxemu-report-'));
    dirs.push(base);
    const file = join(base, 'a-file');
    await writeFile(file, 'not a directory');
    const caught = await writeReport(file, fakeReport()).catch((e: unknown) => e);
    expect(caught).toBeInstanceOf(PmemError);
    expect((caught as PmemError).code).toBe('EEXIST');
    expect((caught as PmemError).message).toContain(file);
    const below = await writeReport(join(file, 'below'), fakeReport()).catch((e: unknown) => e);
    expect(below).toBeInstanceOf(PmemError);
    expect((below as PmemError).code).toBe('EINVAL'); // ENOTDIR has no PmemError code
    expect((below as PmemError).message).toContain(join(file, 'below'));
  });
});
