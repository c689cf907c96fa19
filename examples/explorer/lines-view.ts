/**
 * The heat map of one entry's cache lines, one cell per 64-byte line (64 for a PTE entry,
 * 32768 for a PMD entry), read from the core's line states (Core.pmLineState): dirty in the
 * cache (red), written back or NT-written but not fenced yet (amber), durable (green).
 * Under eADR a dirty line in the cache is durable already, and is drawn so. A PMD entry's
 * map has a second, zoomed one beside it: the 64 lines of the first page that holds a line
 * not durable yet (else of its first page), since one line is a 2-pixel cell in the big one.
 */
import type { DaxFile, Emulator } from 'daxemu';
import { hex } from './svg.js';

/** assembly/lines.ts: the line state bits. */
const LINE_DIRTY = 1;
const LINE_UNDO = 8;

export type LineClass = 'dirty' | 'flushed' | 'durable';

export function lineClass(state: number): LineClass {
  if ((state & LINE_UNDO) === 0) return 'durable';
  return state & LINE_DIRTY ? 'dirty' : 'flushed';
}

const RGB: Record<LineClass, [number, number, number]> = {
  dirty: [0xd9, 0x53, 0x4f],
  flushed: [0xf0, 0xad, 0x4e],
  durable: [0x5c, 0xb8, 0x5c],
};

export interface HeatMap {
  html: string;
  /** Draws the cells into the canvases the html holds, once it is in the page under `root`. */
  paint(root: HTMLElement): void;
}

/** Paints `count` line states from `states[from]` as `cols` columns of `cell`-pixel squares. */
function paintCells(canvas: HTMLCanvasElement, states: Uint8Array, from: number, count: number, cols: number, cell: number): void {
  const ctx = canvas.getContext('2d')!;
  const width = cols * cell;
  const image = ctx.createImageData(width, Math.ceil(count / cols) * cell);
  const px = image.data;
  const inset = cell > 4 ? 1 : 0; // a gap between large cells
  for (let i = 0; i < count; i++) {
    const [r, g, b] = RGB[lineClass(states[from + i]!)];
    const x0 = (i % cols) * cell;
    const y0 = Math.floor(i / cols) * cell;
    for (let y = y0; y < y0 + cell - inset; y++) {
      for (let x = x0; x < x0 + cell - inset; x++) {
        const o = (y * width + x) * 4;
        px[o] = r;
        px[o + 1] = g;
        px[o + 2] = b;
        px[o + 3] = 255;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
}

export function renderLines(emu: Emulator, file: DaxFile | undefined, index: number | undefined): HeatMap {
  const none = (text: string): HeatMap => ({ html: `<p class="empty">${text}</p>`, paint: () => undefined });
  if (!file || index === undefined) return none('Choose an entry (a row of the entries table) to see its lines.');
  const entry = file.entries().find((e) => e.index === index);
  if (!entry) return none(`No entry at index ${hex(index)} any more.`);
  if (entry.kind !== 'data') return none(`The entry at ${hex(index)} is a ${entry.kind} entry: it has no media lines of its own.`);
  const pages = 2 ** entry.order;
  const count = pages * 64;
  const firstLine = entry.pfn * 64;
  const states = new Uint8Array(count);
  const totals: Record<LineClass, number> = { dirty: 0, flushed: 0, durable: 0 };
  for (let i = 0; i < count; i++) {
    states[i] = emu.core.pmLineState(firstLine + i);
    totals[lineClass(states[i]!)]++;
  }
  // A PTE entry as 8 x 8 cells of 24 px; a PMD entry as 256 x 128 cells of 2 px, and its zoomed page.
  const pmd = count > 64;
  const cols = pmd ? 256 : 8;
  const cell = pmd ? 2 : 24;
  const rows = Math.ceil(count / cols);
  let zoomPage = 0;
  if (pmd) {
    const firstBusy = states.findIndex((st) => lineClass(st) !== 'durable');
    zoomPage = firstBusy < 0 ? 0 : Math.floor(firstBusy / 64);
  }
  const zoom = pmd
    ? `<div><canvas id="zoom" width="${8 * 16}" height="${8 * 16}" data-page="${zoomPage}"></canvas><p class="note">page ${hex(zoomPage)}<br>(file page ${hex(index + zoomPage)})</p></div>`
    : '';
  const html = `<p>entry ${hex(index)} (${pmd ? 'PMD' : 'PTE'}), pfn ${hex(entry.pfn)}, lines ${hex(firstLine)}-${hex(firstLine + count - 1)}:`
    + ` <span class="dirty" data-count="${totals.dirty}">${totals.dirty} dirty</span>,`
    + ` <span class="flushed" data-count="${totals.flushed}">${totals.flushed} flushed, not fenced</span>,`
    + ` <span class="durable" data-count="${totals.durable}">${totals.durable} durable</span></p>`
    + `<div class="heat">${zoom}<canvas id="heat" width="${cols * cell}" height="${rows * cell}" data-cols="${cols}" data-cell="${cell}" data-first-line="${firstLine}"></canvas></div>`;
  return {
    html,
    paint(root) {
      paintCells(root.querySelector<HTMLCanvasElement>('#heat')!, states, 0, count, cols, cell);
      const z = root.querySelector<HTMLCanvasElement>('#zoom');
      if (z) paintCells(z, states, zoomPage * 64, 64, 8, 16);
    },
  };
}
