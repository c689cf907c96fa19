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
import { formatCount, formatNs, roundSignificantDigits } from '../src/report/format.js';
import { formatBenchText } from '../src/report/bench-text.js';
import { CELL_COLUMNS, CELL_COLUMN_DEFS } from '../src/report/cell-columns.js';
import { reportMarkdown } from '../src/report/markdown.js';
import { formatCellTable, formatFlushCostTable } from '../src/report/table.js';
import { writeReport } from '../src/report/write.js';
import { hiddenSeries } from '../src/report/hidden-series.js';
import { logTimeAxis } from '../src/report/time-axis.js';

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

/** Whether a text line of the SVG (a whole <text>, or one <tspan> of a multi-line one) reads `line`. */
function hasTextLine(svg: string, line: string): boolean {
  return svg.includes(`>${line}</text>`) || svg.includes(`>${line}</tspan>`);
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
    expect(starts).toHaveLength(12);
    for (const line of lines) for (const start of starts.slice(1)) expect(line.slice(start - 2, start)).toBe('  ');
    expect(lines[0]).toMatch(/^workload\s+strategy\s+preset\s+kernel\s+page\s+time\/op\s+lines\/sync \(d\/c\)\s+fences\/sync\s+faults\s+fault kinds\s+WA\s+durable\s*$/);
    expect(table).toMatch(/msync-dirty-lines .* NO/);
  });

  it('the cell table shows just the columns asked for, and refuses an unknown one', () => {
    const table = formatCellTable(report.cells, { columns: ['strategy', 'time/op'] });
    expect(table.split('\n')[0]).toMatch(/^strategy\s+time\/op$/);
    expect(() => formatCellTable(report.cells, { columns: ['nope' as never] })).toThrow(PmemError);
  });

  it('the flush-cost table has a column per dirty-line count and a row per page size x strategy, aligned', () => {
    const text = formatFlushCostTable(report.flushCost);
    const [title, header, rule, ...rows] = text.split('\n');
    expect(title).toContain('optane-g1 / linux-6.12 / clwb');
    // The cells carry their units, so the title must not promise ns.
    expect(title).toMatch(/: time of one flush /);
    expect(header).toMatch(/^page\s+strategy\s+1\s+8\s+64\s+512$/);
    expect(rows).toHaveLength(PAGE_SIZES.length * STRATEGIES.length);
    for (const s of STRATEGIES) expect(rows.some((r) => r.includes(s))).toBe(true);
    expect(new Set([header, rule, ...rows].map((l) => l.length)).size).toBe(1);
    expect(rows.find((r) => r.startsWith('pte   msync ')), 'a 4 KiB entry has no 512-line measurement').toMatch(/ -$/);
    expect(text).toMatch(/\d+(\.\d+)? (ns|us)/);
  });
});

/** A matrix shaped like a default bench run, with its widest figures: every name and the largest counts. */
function defaultLikeCells(): CellResult[] {
  const cells: CellResult[] = [];
  let n = 0;
  for (const workload of ['log-append', 'kv-update', 'page-rewrite', 'sparse'])
    for (const strategy of ['msync', 'msync-dirty-lines', 'user-flush', 'user-ntstore', 'eadr'])
      for (const kernel of ['linux-6.12', 'linux-4.5'])
        for (const pageSize of PAGE_SIZES) {
          if (kernel === 'linux-4.5' && !strategy.startsWith('msync')) continue;
          const cell = fakeCell(workload, strategy, pageSize, ++n);
          const lines = strategy === 'msync' ? 1_020_000 + n : 8;
          cells.push({ ...cell, kernel, durable: true, linesPerSync: lines, dirtyLinesPerSync: 8, cleanLinesPerSync: lines - 8, nsPerOp: 3_410_000 / n + 0.123456789, faults: { ...cell.faults, total: 1000 + n } });
        }
  return cells;
}

/** The fields of one table line, split at the column starts of its header. */
function fieldsAt(line: string, starts: number[]): string[] {
  return starts.map((start, i) => line.slice(start, starts[i + 1] ?? line.length).trim());
}

describe('bench text', () => {
  it('the default view of a default-sized matrix fits 100 columns: fewer columns, constant ones said once', () => {
    const text = formatBenchText(defaultLikeCells());
    const lines = text.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(formatBenchText(defaultLikeCells(), { wide: true }).split('\n')[0]!.length).toBeGreaterThan(100);
    expect(lines[0]).toMatch(/^workload\s+strategy\s+kernel\s+page\s+time\/op\s+lines\/sync \(d\/c\)\s+faults$/);
    // preset and durable are the same in every row, so a line says so instead of two columns.
    expect(text).toContain('\nSame in every row: preset optane-g1, durable yes.\n');
  });

  it('a selection whose names make the default view too wide gives up the faults column, and says so', () => {
    // The default run's longest workload name and a 'kernel loss' durability value take 13 columns more.
    const cells = defaultLikeCells().map((c, i) => (i % 7 === 0 ? { ...c, workload: 'truncate-after-store', durable: false, kernelLoss: true } : c));
    const text = formatBenchText(cells);
    const lines = text.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(lines[0]).toMatch(/^workload\s+strategy\s+kernel\s+page\s+time\/op\s+lines\/sync \(d\/c\)\s+durable\s*$/);
    expect(text).toContain('\nLeft out to fit 100 columns: faults (--wide shows every column).\n');
    expect(text).toMatch(/ kernel loss/);
    expect(formatBenchText(cells, { wide: true }).split('\n')[0]).toMatch(/\sfaults\s/);
  });

  it('the time column names the quantity in its header and a unit in every cell', () => {
    for (const wide of [false, true]) {
      const [header, rule, ...rest] = formatBenchText(fakeReport().cells, { wide }).split('\n');
      expect(header).not.toMatch(/\bns\/op\b|\bus\b|\bms\b/);
      const starts = columnStarts(rule!);
      const column = fieldsAt(header!, starts).indexOf('time/op');
      expect(column).toBeGreaterThan(0);
      const rows = rest.slice(0, fakeReport().cells.length);
      const units = new Set(rows.map((row) => /^\d+(\.\d+)? (ns|us|ms|s)$/.exec(fieldsAt(row, starts)[column]!)?.[2]));
      expect(units.has(undefined), 'every cell has a number and a unit').toBe(false);
      expect(units.size, 'the fake matrix spans ns and us').toBeGreaterThan(1);
    }
  });

  it('prints a two-line guide under the table', () => {
    const lines = formatBenchText(fakeReport().cells).split('\n');
    const at = lines.findIndex((l) => l.startsWith('How to read: '));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/dirty .* clean/);
    expect(lines[at + 2]).toBe('');
    expect(`${lines[at]} ${lines[at + 1]}`).toContain('--wide');
  });

  it('names the cheapest durable cell per workload; a faster cell that lost data does not win; ties are joined', () => {
    const cells = fakeReport().cells;
    // The failing cell (log-append, msync-dirty-lines, pmd) becomes the fastest of all.
    const loser = cells.findIndex((c) => !c.durable);
    cells[loser] = { ...cells[loser]!, nsPerOp: 1 };
    const text = formatBenchText(cells);
    const winners = text.slice(text.indexOf('Cheapest durable cell per workload:\n')).split('\n').slice(1);
    expect(winners).toHaveLength(WORKLOADS.length);
    for (const [i, workload] of WORKLOADS.entries()) {
      const proved = cells.filter((c) => c.workload === workload && c.durable);
      const best = proved.reduce((a, b) => (b.nsPerOp < a.nsPerOp ? b : a));
      expect(winners[i]).toBe(`  ${workload.padEnd(16)}  ${best.strategy}, ${best.pageSize}: ${formatNs(best.nsPerOp)} per op`);
    }
    expect(winners[0]).not.toContain('msync-dirty-lines');
    const tied = formatBenchText([cells[2]!, { ...cells[2]!, strategy: 'eadr' }]);
    expect(tied).toMatch(/\n {2}log-append {2}user-flush = eadr: 88 ns per op$/);
  });

  it('--wide shows every column, even the ones that never change', () => {
    const text = formatBenchText(defaultLikeCells(), { wide: true });
    const header = text.split('\n')[0]!;
    for (const column of CELL_COLUMNS) expect(header).toContain(CELL_COLUMN_DEFS[column].header);
    expect(text).not.toContain('Same in every row');
    expect(text).toContain('optane-g1');
  });

  it('shows the durable column when a cell failed its check', () => {
    const header = formatBenchText(fakeReport().cells).split('\n')[0]!;
    expect(header).toMatch(/ durable$/);
    expect(formatBenchText(fakeReport().cells)).toMatch(/Same in every row: preset optane-g1, kernel linux-6.12\.\n/);
  });
});

describe('rounding for people', () => {
  // What the emulator's float sums look like.
  const raw = { nsPerOp: 1668.1999999941327, nsPerSyncedByte: 186.56181300972315, writeAmplification: 0.8735177865612648, ns: 11939956.032622281 };
  const report = (): MatrixReport => {
    const base = fakeReport();
    return { ...base, cells: base.cells.map((c) => ({ ...c, ...raw })), flushCost: base.flushCost.map((r) => ({ ...r, ns: 1668.1999999941327, refaultNs: 10050.600000000093 })) };
  };

  it('cuts floats to six significant digits, keeping integers and whole parts', () => {
    expect(roundSignificantDigits(1668.1999999941327)).toBe(1668.2);
    expect(roundSignificantDigits(0.8735177865612648)).toBe(0.873518);
    expect(roundSignificantDigits(11939956.032622281)).toBe(11939956);
    expect(roundSignificantDigits(32768)).toBe(32768);
    expect(roundSignificantDigits(532.48)).toBe(532.48);
  });

  it('the CSV files carry no float with more than six significant digits, within rounding of the raw value', () => {
    const r = report();
    for (const csv of [cellsToCsv(r.cells), flushCostToCsv(r.flushCost)]) {
      const numbers = parseCsv(csv).slice(1).flat().filter((f) => /^-?\d/.test(f));
      expect(numbers.length).toBeGreaterThan(0);
      for (const field of numbers) {
        const [whole, fraction = ''] = field.replace('-', '').split('.');
        const significant = `${whole === '0' ? '' : whole}${fraction}`.replace(/^0+/, '');
        expect(fraction === '' || significant.length <= 6, field).toBe(true);
      }
    }
    const [header, first] = parseCsv(cellsToCsv(r.cells));
    expect(Number(first![header!.indexOf('nsPerOp')])).toBe(1668.2);
    expect(Number(first![header!.indexOf('ns')])).toBe(11939956);
    expect(Math.abs(Number(first![header!.indexOf('writeAmplification')]) / raw.writeAmplification - 1)).toBeLessThan(1e-5);
  });

  it('report.md has no long float, while results.json keeps the raw values', async () => {
    const r = report();
    const md = reportMarkdown(r, []);
    expect(md).not.toMatch(/\d\.\d{4,}/);
    expect(md).toContain('1.67 us');
    const base = await mkdtemp(join(tmpdir(), 'daxemu-report-'));
    await writeReport(base, r);
    const json = await readFile(join(base, 'results.json'), 'utf8');
    expect(json).toContain('"nsPerOp": 1668.1999999941327');
    expect(JSON.parse(json)).toEqual(r);
    await rm(base, { recursive: true, force: true });
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
    expect(svg).toContain('time per operation (log scale)');
    expect(svg).toContain('Emulated time per operation by writeback strategy');
  });

  it('the flush-cost chart is well-formed SVG with a title, both axis titles and the measured dirty-line ticks', async () => {
    const svg = await flushCostChart(report.flushCost);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    checkBalancedTags(svg);
    for (const s of STRATEGIES) expect(svg).toContain(`>${s}</text>`);
    expect(svg).toContain('dirty cache lines in the entry (log scale)');
    expect(svg).toContain('time per flush (log scale)');
    expect(svg).toContain('Cost of one flush of one page-table entry');
    for (const d of DIRTY_LINES) expect(svg).toContain(`>${d}</text>`);
  });

  it('labels time axes at each power of ten in time units, never as SI counts', async () => {
    const axis = logTimeAxis([85, 28_800]);
    expect(axis.values).toEqual([10, 100, 1000, 10_000, 100_000]);
    expect(axis.domain).toEqual([10, 100_000]);
    const svg = await strategyChart(fakeReport().cells);
    for (const tick of ['10 ns', '100 ns', '1 us', '10 us', '100 us']) expect(svg).toContain(`>${tick}</text>`);
    const flush = await flushCostChart(fakeReport().flushCost);
    expect(flush).toContain('>1 ms</text>');
    for (const text of [svg, flush]) expect(text).not.toMatch(/>\d+(\.\d+)?[kMG]<\/text>/);
  });

  it('says in every linux-4.5 group, and in the subtitle, that the MAP_SYNC strategies do not run there', async () => {
    const svg = await strategyChart(defaultLikeCells());
    expect(hasTextLine(svg, 'linux-4.5 predates MAP_SYNC: user-flush, user-ntstore and eadr do not run there')).toBe(true);
    // One note per workload x page size panel: 4 x 2.
    expect(svg.match(/<tspan>no MAP_SYNC:<\/tspan>/g)).toHaveLength(8);
    const onlyNew = await strategyChart(defaultLikeCells().filter((c) => c.kernel === 'linux-6.12'));
    expect(onlyNew).not.toContain('MAP_SYNC');
  });

  it('draws a series that lies on another as a pale band and says so in the legend and subtitle', async () => {
    const rows = fakeReport().flushCost.map((r) => (r.strategy === 'msync-dirty-lines' ? { ...r, ns: r.lines * 30 + 50 } : r));
    const svg = await flushCostChart(rows);
    expect(hasTextLine(svg, 'msync-dirty-lines (pale band: under user-flush)')).toBe(true);
    expect(hasTextLine(svg, 'a pale band is a strategy whose every point is within 5% of the line drawn over it')).toBe(true);
    const apart = await flushCostChart(fakeReport().flushCost);
    expect(apart).not.toContain('pale band');
    expect(apart).toContain('>msync-dirty-lines</text>');
  });

  it('finds hidden series only where every point lies on a later, visible series of the same panel', () => {
    const line = (panel: string, series: string, ys: number[]) => ys.map((y, i) => ({ panel, series, x: 2 ** i, y }));
    const order = ['a', 'b', 'c'];
    const hidden = hiddenSeries([...line('p', 'a', [10, 20, 40]), ...line('p', 'b', [10.2, 20, 41]), ...line('p', 'c', [10, 20, 40]), ...line('q', 'a', [10, 20, 40]), ...line('q', 'b', [10, 20, 50])], order);
    // In p, b lies on c (within 5%) and a on c; b is not a cover, being hidden itself.
    expect(hidden.get('p')).toEqual(new Map([['b', 'c'], ['a', 'c']]));
    // In q, b leaves a at its last point, so nothing is hidden.
    expect(hidden.has('q')).toBe(false);
    // A series with a point the other lacks is not hidden by it.
    expect(hiddenSeries([...line('p', 'a', [1, 2, 3]), ...line('p', 'b', [1, 2])], order).size).toBe(0);
  });

  it('has a subtitle that describes the panels drawn', async () => {
    const rows = fakeReport().flushCost;
    // As the matrix runs them: no user-flush on linux-4.5.
    const twoKernels = rows.flatMap((r) => (r.strategy === 'user-flush' ? [r] : [r, { ...r, kernel: 'linux-4.5' }]));
    const twoInstructions = rows.flatMap((r) => [r, { ...r, instruction: 'clflush' as const }]);
    const first = 'msync or user flush + fence, log-log; ';
    expect(hasTextLine(await flushCostChart(rows), `${first}optane-g1 / linux-6.12, clwb`)).toBe(true);
    const byKernel = await flushCostChart(twoKernels);
    expect(hasTextLine(byKernel, `${first}a panel per preset / kernel; clwb`)).toBe(true);
    expect(byKernel).not.toMatch(/instruction \(columns\)|flush instruction</);
    expect(hasTextLine(byKernel, 'linux-4.5 predates MAP_SYNC: user-flush does not run there')).toBe(true);
    // A kernel whose rows include every strategy gets no such line.
    expect(await flushCostChart(rows.flatMap((r) => [r, { ...r, kernel: 'linux-4.5' }]))).not.toContain('MAP_SYNC');
    expect(hasTextLine(await flushCostChart(twoInstructions), `${first}optane-g1 / linux-6.12; a panel per flush instruction`)).toBe(true);
    const both = await flushCostChart([...twoKernels, ...twoKernels.map((r) => ({ ...r, instruction: 'clflush' as const }))]);
    expect(hasTextLine(both, `${first}a panel per preset / kernel (rows) and flush instruction (columns)`)).toBe(true);
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

  it('a report without cells (flush-cost) has no strategy chart and no results.csv, and report.md skips the cell sections', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'daxemu-report-'));
    dirs.push(dir);
    const report = { ...fakeReport(), cells: [] };
    const written = await writeReport(dir, report);
    const names = ['results.json', 'flush-cost.csv', 'flush-cost.svg', 'report.md'];
    expect(written).toEqual(names.map((n) => join(dir, n)));
    expect((await readdir(dir)).sort()).toEqual([...names].sort());
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/^# daxemu flush cost per PTE and PMD entry\n/);
    expect(md).not.toContain('## Cells');
    expect(md).not.toContain('strategy.svg');
    expect(md).toContain('](flush-cost.svg)');
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
