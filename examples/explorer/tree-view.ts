/**
 * The file's tree, drawn from the core's dump (Core.dump): one row of 64 slots per node,
 * indented by depth, under the slot of its parent that points to it; DAX entries coloured
 * by their marks (DIRTY red, TOWRITE amber, a clean data entry blue, zero and empty
 * entries grey and white), the slots a multi-order entry covers as siblings. Under it, a
 * table of the entries with their DAX flags, pfn and marks.
 */
import { DAX_EMPTY, DAX_LOCKED, DAX_PMD, DAX_ZERO_PAGE, XA_CHUNK_SIZE, daxFlags, xaIsPointer, type DaxFile, type Emulator } from 'daxemu';
import { COLOURS, esc, hex, svg } from './svg.js';

interface DumpNode {
  kind: 'node';
  depth: number;
  offset: number;
  shift: number;
  from: number;
}

interface DumpEntry {
  kind: 'entry';
  depth: number;
  offset: number;
  index: number;
  order: number;
  word: number;
  marks: string[];
}

/** The dump's lines as records ("[3] node shift 6 from 0x0 ..." and "[0] 0x200 order 9 word 0x4005 DIRTY"). */
export function parseDump(text: string): (DumpNode | DumpEntry)[] {
  const out: (DumpNode | DumpEntry)[] = [];
  for (const line of text.split('\n').slice(1)) {
    const depth = (line.length - line.trimStart().length) / 2;
    const node = /^\s*\[(\d+)\] node shift (\d+) from 0x([0-9a-f]+)/.exec(line);
    if (node) {
      out.push({ kind: 'node', depth, offset: +node[1]!, shift: +node[2]!, from: parseInt(node[3]!, 16) });
      continue;
    }
    const entry = /^\s*\[(\d+)\] 0x([0-9a-f]+) order (\d+) word 0x([0-9a-f]+)((?: [A-Z]+)*)$/.exec(line);
    if (entry) {
      out.push({ kind: 'entry', depth, offset: +entry[1]!, index: parseInt(entry[2]!, 16), order: +entry[3]!, word: parseInt(entry[4]!, 16), marks: entry[5]!.trim().split(' ').filter(Boolean) });
    }
  }
  return out;
}

/** The DAX flags of an entry word, as the kernel names them. */
export function flagNames(word: number): string {
  if (xaIsPointer(word)) return 'page';
  const f = daxFlags(word);
  const names = [[DAX_LOCKED, 'LOCKED'], [DAX_PMD, 'PMD'], [DAX_ZERO_PAGE, 'ZERO_PAGE'], [DAX_EMPTY, 'EMPTY']].filter(([bit]) => (f & (bit as number)) !== 0).map(([, n]) => n);
  return names.join('|') || '-';
}

function entryColour(word: number, marks: string[]): string {
  if (marks.includes('DIRTY')) return COLOURS.dirty;
  if (marks.includes('TOWRITE')) return COLOURS.towrite;
  const f = xaIsPointer(word) ? 0 : daxFlags(word);
  if (f & DAX_ZERO_PAGE) return COLOURS.zero;
  if (f & DAX_EMPTY) return COLOURS.empty;
  return COLOURS.data;
}

const CELL = 6;
const ROW = 34;
const INDENT = 14;
const MAX_NODES = 40;

/** The tree's SVG and its entries' table, as HTML. */
export function renderTree(emu: Emulator, file: DaxFile | undefined, selected: number | undefined): string {
  if (!file) return '<p class="empty">No file yet.</p>';
  const records = parseDump(emu.core.dump(file.tree));
  const nodes = records.filter((r): r is DumpNode => r.kind === 'node');
  let body = '';
  // Rows: each node in dump order; entries paint the slots of the node above them.
  let row = -1;
  const rowOf: number[] = []; // depth -> the row of the last node at that depth
  const rowNode: DumpNode[] = [];
  const parentLinks: string[] = [];
  let shown = 0;
  for (const r of records) {
    if (r.kind === 'node') {
      if (shown >= MAX_NODES) break;
      row++;
      shown++;
      rowOf[r.depth] = row;
      rowNode[row] = r;
      const x0 = 4 + r.depth * INDENT;
      const y0 = 4 + row * ROW;
      body += `<text x="${x0}" y="${y0 + 9}" class="lbl">node shift ${r.shift} from ${hex(r.from)}</text>`;
      for (let s = 0; s < XA_CHUNK_SIZE; s++) body += `<rect x="${x0 + s * CELL}" y="${y0 + 12}" width="${CELL - 1}" height="16" fill="${COLOURS.free}"/>`;
      if (r.depth > 0 && rowOf[r.depth - 1] !== undefined) {
        const prow = rowOf[r.depth - 1]!;
        const px = 4 + (r.depth - 1) * INDENT + r.offset * CELL + CELL / 2;
        const py = 4 + prow * ROW + 28;
        body += `<rect x="${px - CELL / 2}" y="${py - 16}" width="${CELL - 1}" height="16" fill="${COLOURS.node}"/>`;
        parentLinks.push(`<path d="M${px} ${py} V${y0 + 6} H${x0 - 2}" fill="none" stroke="${COLOURS.node}" stroke-width="1"/>`);
      }
    } else if (r.depth === 0) {
      // A lone entry at index 0 lives in the tree's head, with no node.
      row++;
      shown++;
      body += `<text x="4" y="13" class="lbl">head (no node)</text><rect class="slot" data-index="${r.index}" x="4" y="16" width="${CELL - 1}" height="16" fill="${entryColour(r.word, r.marks)}"/>`;
    } else {
      const nrow = rowOf[r.depth - 1];
      if (nrow === undefined || nrow > row) continue;
      const n = rowNode[nrow]!;
      const x0 = 4 + n.depth * INDENT;
      const y0 = 4 + nrow * ROW + 12;
      const span = Math.max(1, 2 ** Math.max(0, r.order - n.shift));
      const colour = entryColour(r.word, r.marks);
      const ring = r.index === selected ? ' stroke="#000" stroke-width="2"' : daxFlags(r.word) & DAX_LOCKED ? ' stroke="#000" stroke-dasharray="2 1"' : '';
      body += `<rect class="slot" data-index="${r.index}" x="${x0 + r.offset * CELL}" y="${y0}" width="${CELL - 1}" height="16" fill="${colour}"${ring}/>`;
      for (let s = 1; s < span && r.offset + s < XA_CHUNK_SIZE; s++) {
        body += `<rect x="${x0 + (r.offset + s) * CELL}" y="${y0 + 3}" width="${CELL - 1}" height="10" fill="${colour}" opacity="0.45"/>`;
      }
    }
  }
  const more = nodes.length > shown ? `<p class="note">${nodes.length - shown} more nodes not drawn.</p>` : '';
  const width = 8 + (Math.max(0, ...nodes.slice(0, shown).map((n) => n.depth)) * INDENT) + XA_CHUNK_SIZE * CELL;
  const picture = shown === 0 ? '<p class="empty">The tree is empty.</p>' : svg(width, 8 + (row + 1) * ROW, parentLinks.join('') + body, 'the file\'s tree: nodes and slots');
  return `${picture}${more}${entryTable(emu, file, selected)}`;
}

function entryTable(emu: Emulator, file: DaxFile, selected: number | undefined): string {
  const entries = file.entries();
  if (entries.length === 0) return '<p class="empty" id="entries-none">No entries.</p>';
  const rows = entries.slice(0, 256).map((e) => {
    const word = emu.core.load(file.tree, e.index) >>> 0;
    const marks = [e.dirty && 'DIRTY', e.towrite && 'TOWRITE'].filter(Boolean).join(' ');
    const colour = entryColour(word, marks.split(' '));
    return `<tr class="entry${e.index === selected ? ' selected' : ''}" data-index="${e.index}" data-flags="${flagNames(word)}" data-marks="${marks}" data-kind="${e.kind}">`
      + `<td><span class="swatch" style="background:${colour}"></span>${hex(e.index)}</td><td>${e.order === 9 ? 'PMD' : e.order === 0 ? 'PTE' : `order ${e.order}`}</td>`
      + `<td>${esc(flagNames(word))}</td><td>${e.kind === 'data' ? hex(e.pfn) : '-'}</td><td>${marks || '-'}</td></tr>`;
  });
  const more = entries.length > 256 ? `<p class="note">${entries.length - 256} more entries.</p>` : '';
  return `<table class="entries"><thead><tr><th>index</th><th>size</th><th>flags</th><th>pfn</th><th>marks</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
}
