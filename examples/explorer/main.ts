/**
 * The explorer page: builds the forms from the controls table, runs each call through the
 * session, and redraws every view after it (the tree, the page tables, the line heat map,
 * the clock and counters, the trace), timing the redraw. `window.explorer` exposes the
 * session and the timings to the browser tests.
 */
import { setWasmSource } from 'daxemu';
import { CONTROLS, runControl } from './controls.js';
import { FTRACE_HEADER } from './ftrace.js';
import { renderLines } from './lines-view.js';
import { renderPageTable } from './page-table-view.js';
import { Session } from './session.js';
import { renderOutcome, renderStatus } from './status-view.js';
import { esc } from './svg.js';
import { renderTree } from './tree-view.js';
import { attachWorker } from './worker-client.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** What the tests read: the session, and per call its name and the redraw's ms. */
interface ExplorerHandle {
  session: Session;
  timings: { call: string; callMs: number; renderMs: number; parts: Record<string, number> }[];
  busy: boolean;
}

declare global {
  interface Window {
    explorer?: ExplorerHandle;
  }
}

setWasmSource(new URL('release.wasm', document.baseURI));
const session = await Session.create({ capacity: 64 << 20, kernel: 'linux-6.12', preset: 'optane-g1', seed: 1 });
const handle: ExplorerHandle = { session, timings: [], busy: false };

function buildForms(): void {
  const box = $('controls');
  for (const c of CONTROLS) {
    const fields = c.fields.map((f) => {
      const id = `${c.id}-${f.name}`;
      const input = f.choices
        ? `<select id="${id}" name="${f.name}">${f.choices.map((o) => `<option${o === f.value ? ' selected' : ''}>${esc(o)}</option>`).join('')}</select>`
        : f.checkbox
          ? `<input id="${id}" name="${f.name}" type="checkbox"${f.value === 'on' ? ' checked' : ''}>`
          : `<input id="${id}" name="${f.name}" value="${esc(f.value)}" size="9" autocomplete="off">`;
      return `<label for="${id}">${esc(f.label)}</label>${input}`;
    }).join('');
    box.insertAdjacentHTML('beforeend', `<form id="form-${c.id}" class="control"><button type="submit" id="run-${c.id}">${esc(c.label)}</button><div class="fields">${fields}</div></form>`);
    $<HTMLFormElement>(`form-${c.id}`).addEventListener('submit', (ev) => {
      ev.preventDefault();
      const form = ev.currentTarget as HTMLFormElement;
      const values: Record<string, string> = {};
      for (const f of c.fields) {
        const el = form.elements.namedItem(f.name) as HTMLInputElement | HTMLSelectElement;
        values[f.name] = el instanceof HTMLInputElement && el.type === 'checkbox' ? (el.checked ? 'on' : '') : el.value;
      }
      void call(c.id, values);
    });
  }
}

async function call(id: string, values: Record<string, string>): Promise<void> {
  handle.busy = true;
  try {
    const outcome = await runControl(session, id, values);
    const parts: Record<string, number> = {};
    const renderMs = render(parts);
    handle.timings.push({ call: id, callMs: outcome.callMs, renderMs, parts });
  } finally {
    handle.busy = false;
  }
}

/** Redraws every view from the emulator's state; returns the ms it took (and each view's, in `parts`). */
function render(parts: Record<string, number> = {}): number {
  const t0 = performance.now();
  let t = t0;
  const lap = (name: string): void => {
    const now = performance.now();
    parts[name] = now - t;
    t = now;
  };
  const s = session;
  const files = [...s.files.keys()];
  $('files').innerHTML = files.length === 0 ? '<option value="">(no file)</option>' : files.map((p) => `<option${p === s.selectedPath ? ' selected' : ''}>${esc(p)}</option>`).join('');
  $('mappings').innerHTML = s.mappings.length === 0 ? '<option value="">(no mapping)</option>' : s.mappings.map((m) => `<option value="${m.id}"${m.id === s.selectedMapping ? ' selected' : ''}>#${m.id} ${esc(m.path)}</option>`).join('');
  $('tree').innerHTML = renderTree(s.emu, s.file, s.selectedEntry);
  lap('tree');
  $('pt').innerHTML = renderPageTable(s.mapping?.mapping, s.mapping?.id);
  lap('pageTable');
  const heat = renderLines(s.emu, s.file, s.selectedEntry);
  $('lines').innerHTML = heat.html;
  lap('lines');
  heat.paint($<HTMLCanvasElement>('heat'), $<HTMLCanvasElement>('zoom'), $('zoom-note'));
  lap('paint');
  $('status').innerHTML = renderStatus(s);
  $('outcome').innerHTML = renderOutcome(s.last);
  $('trace').textContent = s.traceLines.length === 0 ? '(no fs_dax event yet)' : `${FTRACE_HEADER}\n${s.traceLines.join('\n')}`;
  $('trace-count').textContent = String(s.traceLines.length);
  lap('status and trace');
  const ms = performance.now() - t0;
  $('timing').textContent = `${s.last.call}: call ${s.last.callMs.toFixed(2)} ms, redraw ${ms.toFixed(2)} ms`;
  return ms;
}

buildForms();
$('files').addEventListener('change', (ev) => {
  session.selectedPath = (ev.target as HTMLSelectElement).value || undefined;
  session.selectedEntry = session.file?.entries()[0]?.index;
  render();
});
$('mappings').addEventListener('change', (ev) => {
  const id = Number((ev.target as HTMLSelectElement).value);
  const m = session.mappings.find((x) => x.id === id);
  session.selectedMapping = m?.id;
  if (m) session.selectedPath = m.path;
  render();
});
$('tree').addEventListener('click', (ev) => {
  const row = (ev.target as Element).closest('[data-index]');
  if (!row) return;
  session.selectedEntry = Number(row.getAttribute('data-index'));
  render();
});
$('copy-trace').addEventListener('click', () => {
  const text = $('trace').textContent ?? '';
  navigator.clipboard?.writeText(text).catch(() => undefined);
  const range = document.createRange();
  range.selectNodeContents($('trace'));
  getSelection()?.removeAllRanges();
  getSelection()?.addRange(range);
});
$('run-worker').addEventListener('click', () => {
  void attachWorker(session, $('worker-out')).then(() => render());
});
render();
window.explorer = handle;
document.body.dataset.ready = 'true';
