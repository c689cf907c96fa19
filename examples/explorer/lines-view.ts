/**
 * The heat map of one entry's cache lines, one cell per 64-byte line (64 for a PTE entry,
 * 32768 for a PMD entry), read from the core's line states (as Core.pmLineState): dirty in the
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

/** Each state byte's colour as one RGBA pixel word (little-endian: A B G R from the top byte). */
const PIXEL = new Uint32Array(256).map((_, state) => {
  const [r, g, b] = RGB[lineClass(state)];
  return ((0xff << 24) | (b << 16) | (g << 8) | r) >>> 0;
});

/**
 * The state bytes of `count` lines from `firstLine`: what Core.pmLineState returns for each,
 * copied chunk by chunk from the core's line states (Core.pmLineStates), which is 30 times
 * faster than 32768 calls for a PMD entry.
 */
export function lineStates(emu: Emulator, firstLine: number, count: number): Uint8Array {
  return emu.core.pmLineStates(firstLine, count);
}

export interface HeatMap {
  /** The text above the map (counts, or why there is no map). */
  html: string;
  /**
   * Draws the map into the page's two canvases, which stay in the page from call to call
   * (a new canvas per redraw costs more than its pixels): for a PMD entry one pixel per
   * line, shown twice as large, and the zoomed page. Hides them when there is no map.
   */
  paint(heat: HTMLCanvasElement, zoom: HTMLCanvasElement, zoomNote: HTMLElement): void;
}

/**
 * Paints `count` line states from `states[from]` into `canvas` in `cols` columns of
 * `cell`-pixel squares (with a gap between squares larger than 4 pixels), shown `scale`
 * times larger by CSS.
 */
function paintCells(canvas: HTMLCanvasElement, states: Uint8Array, from: number, count: number, cols: number, cell: number, scale: number): void {
  const width = cols * cell;
  const height = Math.ceil(count / cols) * cell;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  canvas.dataset.cols = String(cols);
  canvas.dataset.cell = String(cell);
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(width, height);
  const px = new Uint32Array(image.data.buffer);
  const inside = cell > 4 ? cell - 1 : cell;
  for (let i = 0; i < count; i++) {
    const colour = PIXEL[states[from + i]!]!;
    const at = Math.floor(i / cols) * cell * width + (i % cols) * cell;
    for (let y = 0; y < inside; y++) px.fill(colour, at + y * width, at + y * width + inside);
  }
  ctx.putImageData(image, 0, 0);
  canvas.hidden = false;
}

export function renderLines(emu: Emulator, file: DaxFile | undefined, index: number | undefined): HeatMap {
  const none = (text: string): HeatMap => ({
    html: `<p class="empty">${text}</p>`,
    paint: (heat, zoom, note) => {
      heat.hidden = true;
      zoom.hidden = true;
      note.textContent = '';
    },
  });
  if (!file || index === undefined) return none('Choose an entry (a row of the entries table) to see its lines.');
  const entry = file.entries().find((e) => e.index === index);
  if (!entry) return none(`No entry at index ${hex(index)} any more.`);
  if (entry.kind !== 'data') return none(`The entry at ${hex(index)} is a ${entry.kind} entry: it has no media lines of its own.`);
  const pages = 2 ** entry.order;
  const count = pages * 64;
  const firstLine = entry.pfn * 64;
  const states = lineStates(emu, firstLine, count);
  const totals: Record<LineClass, number> = { dirty: 0, flushed: 0, durable: 0 };
  for (let i = 0; i < count; i++) totals[lineClass(states[i]!)]++;
  // A PTE entry as 8 x 8 cells of 24 px; a PMD entry as 256 x 128 cells of 2 px, and its zoomed page.
  const pmd = count > 64;
  let zoomPage = 0;
  if (pmd) {
    const firstBusy = states.findIndex((st) => lineClass(st) !== 'durable');
    zoomPage = firstBusy < 0 ? 0 : Math.floor(firstBusy / 64);
  }
  const html = `<p>entry ${hex(index)} (${pmd ? 'PMD' : 'PTE'}), pfn ${hex(entry.pfn)}, lines ${hex(firstLine)}-${hex(firstLine + count - 1)}:`
    + ` <span class="dirty" data-count="${totals.dirty}">${totals.dirty} dirty</span>,`
    + ` <span class="flushed" data-count="${totals.flushed}">${totals.flushed} flushed, not fenced</span>,`
    + ` <span class="durable" data-count="${totals.durable}">${totals.durable} durable</span></p>`;
  return {
    html,
    paint(heat, zoom, note) {
      paintCells(heat, states, 0, count, pmd ? 256 : 8, pmd ? 1 : 24, pmd ? 2 : 1);
      heat.dataset.firstLine = String(firstLine);
      if (pmd) {
        paintCells(zoom, states, zoomPage * 64, 64, 8, 16, 1);
        zoom.dataset.page = String(zoomPage);
        note.innerHTML = `page ${hex(zoomPage)}<br>(file page ${hex(index + zoomPage)})`;
      } else {
        zoom.hidden = true;
        note.textContent = '';
      }
    },
  };
}
