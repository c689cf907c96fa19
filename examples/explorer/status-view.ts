/**
 * The emulator's clock, its counters and the last writeback report, and the outcome of the
 * last call: its result, or the emulator's error code and message when it was refused.
 */
import type { CallOutcome, Session } from './session.js';
import { esc } from './svg.js';

function ns(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(3)} ms`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(3)} us`;
  return `${v.toFixed(1)} ns`;
}

export function renderOutcome(o: CallOutcome): string {
  if (o.ok) return `<span class="ok" data-call="${esc(o.call)}">${esc(o.call)}: done${o.result ? ` <code id="result">${esc(o.result)}</code>` : ''}</span>`;
  return `<span class="error" data-call="${esc(o.call)}" data-code="${esc(o.code ?? '')}"><b>${esc(o.code ?? '')}</b> ${esc(o.call)}: ${esc(o.message ?? '')}</span>`;
}

export function renderStatus(s: Session): string {
  const st = s.emu.stats();
  const d = st.dax;
  const counters: [string, number | string][] = [
    ['stores', st.stores], ['loads', st.loads], ['NT stores', st.ntStores],
    ['lines flushed (dirty/clean)', `${st.dirtyLinesFlushed}/${st.cleanLinesFlushed}`], ['fences', st.fences], ['not durable lines', st.nonDurableLines],
    ['faults (PTE/PMD)', `${d.faults} (${d.pteFaults}/${d.pmdFaults})`], ['mkwrite faults', d.mkwriteFaults], ['fallbacks', d.fallbacks], ['SIGBUS', d.sigbus],
    ['writeback calls / entries', `${d.writebackCalls} / ${d.writebackEntries}`], ['nrpages', d.nrpages], ['free blocks', s.emu.freeBlocks()],
  ];
  const r = s.lastReport;
  const report = r
    ? `<p id="report" data-entries="${r.entries}" data-lines="${r.lines}" data-dirty="${r.dirtyLines}">last writeback: ${r.entries} entries (${r.pteEntries} PTE, ${r.pmdEntries} PMD), ${r.lines} lines (${r.dirtyLines} dirty, ${r.cleanLines} clean), ${r.fences} fences, ${ns(r.ns)}</p>`
    : '<p id="report">no writeback yet</p>';
  const o = s.options;
  return `<p id="clock" data-ns="${s.emu.now()}">clock ${ns(s.emu.now())} on CPU ${s.emu.cpu} &middot; ${esc(o.kernel)}, ${esc(o.preset)} (${esc(s.emu.options.persistence)}), ${o.capacity / (1 << 20)} MiB, seed ${o.seed}</p>`
    + `<table class="counters">${counters.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>${report}`;
}
