/**
 * The chosen mapping's page tables: one row per 2 MiB virtual slot it spans, either a huge
 * entry (PMD: one bar, RW or RO, or the huge zero page) or a PTE table of 512 cells (RW,
 * RO, the zero page, or nothing mapped), or nothing at all.
 */
import type { FileMapping } from 'daxemu';
import { COLOURS, hex, svg } from './svg.js';

const SLOT_PAGES = 512;
const PTE_CELL = 6;
const PTE_COLS = 64;

function entryColour(e: { writable: boolean; zero: boolean } | undefined): string {
  if (!e) return COLOURS.none;
  if (e.zero) return COLOURS.zero;
  return e.writable ? COLOURS.rw : COLOURS.ro;
}

function state(e: { writable: boolean; zero: boolean }): string {
  return e.zero ? 'zero' : e.writable ? 'RW' : 'RO';
}

export function renderPageTable(m: FileMapping | undefined, id: number | undefined): string {
  if (!m) return '<p class="empty">No mapping yet.</p>';
  const first = m.address / 4096;
  const last = first + m.length / 4096 - 1;
  const slots: number[] = [];
  for (let slot = Math.floor(first / SLOT_PAGES); slot <= Math.floor(last / SLOT_PAGES) && slots.length < 64; slot++) slots.push(slot);
  let y = 4;
  let body = '';
  const rows: string[] = [];
  for (const slot of slots) {
    const va = slot * SLOT_PAGES * 4096;
    const pmd = m.pt.pmds.get(slot);
    if (pmd) {
      body += `<text x="4" y="${y + 11}" class="lbl">${hex(va)}</text>`;
      body += `<rect class="pmd" data-slot="${slot}" x="120" y="${y}" width="${PTE_COLS * PTE_CELL}" height="16" fill="${entryColour(pmd)}"/>`;
      body += `<text x="126" y="${y + 12}" class="lbl in">PMD ${state(pmd)}${pmd.zero ? '' : ` pfn ${hex(pmd.pfn)}`}</text>`;
      rows.push(`<li data-slot="${slot}" data-kind="pmd" data-state="${state(pmd)}">${hex(va)}: PMD ${state(pmd)}${pmd.zero ? ' (huge zero page)' : ` pfn ${hex(pmd.pfn)}`}</li>`);
      y += 22;
    } else if (m.pt.tables.has(slot) || [...m.pt.ptes.keys()].some((v) => Math.floor(v / SLOT_PAGES) === slot)) {
      const counts = { RW: 0, RO: 0, zero: 0 };
      body += `<text x="4" y="${y + 11}" class="lbl">${hex(va)}</text>`;
      for (let i = 0; i < SLOT_PAGES; i++) {
        const v = slot * SLOT_PAGES + i;
        const pte = v >= first && v <= last ? m.pt.ptes.get(v) : undefined;
        if (pte) counts[state(pte) as keyof typeof counts]++;
        body += `<rect x="${120 + (i % PTE_COLS) * PTE_CELL}" y="${y + Math.floor(i / PTE_COLS) * PTE_CELL}" width="${PTE_CELL - 1}" height="${PTE_CELL - 1}" fill="${entryColour(pte)}"/>`;
      }
      rows.push(`<li data-slot="${slot}" data-kind="pte" data-rw="${counts.RW}" data-ro="${counts.RO}" data-zero="${counts.zero}">${hex(va)}: PTE table, ${counts.RW} RW, ${counts.RO} RO, ${counts.zero} zero page</li>`);
      y += (SLOT_PAGES / PTE_COLS) * PTE_CELL + 6;
    } else {
      body += `<text x="4" y="${y + 11}" class="lbl">${hex(va)}</text><text x="120" y="${y + 11}" class="lbl">nothing mapped</text>`;
      rows.push(`<li data-slot="${slot}" data-kind="none">${hex(va)}: nothing mapped</li>`);
      y += 18;
    }
  }
  const head = `<p>mapping #${id}: ${hex(m.address)}-${hex(m.address + m.length)} of ${m.file.path} at offset ${hex(m.offset)}, ${m.shared ? 'MAP_SHARED' : 'MAP_PRIVATE'}${m.sync ? ' | MAP_SYNC' : ''}${m.isMapped ? '' : ' (unmapped)'}</p>`;
  return head + svg(124 + PTE_COLS * PTE_CELL, y + 2, body, 'the mapping\'s page tables') + `<ul class="pt-rows">${rows.join('')}</ul>`;
}
