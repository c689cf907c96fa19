/** Small helpers for writing SVG and HTML as text: escaping, and hex numbers. */
export function esc(text: string | number): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** An <svg> of `width` by `height` around `body`. */
export function svg(width: number, height: number, body: string, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}">${body}</svg>`;
}

/** The colours every view shares, so that one legend reads for all. */
export const COLOURS = {
  data: '#7aa6d8',
  dirty: '#d9534f',
  towrite: '#f0ad4e',
  zero: '#c8c8c8',
  empty: '#ffffff',
  node: '#4a6fa5',
  sibling: '#dbe6f3',
  free: '#f4f4f4',
  rw: '#5cb85c',
  ro: '#8fb3de',
  durable: '#5cb85c',
  flushed: '#f0ad4e',
  none: '#eeeeee',
} as const;
