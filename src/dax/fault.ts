/**
 * The memory manager's side of a DAX fault (handle_mm_fault, mm/memory.c): a PMD fault is
 * tried while the 2 MiB slot of the faulting address holds neither a PTE table nor a huge
 * entry; when it falls back, a PTE table appears there (the huge entry split) and the PTE
 * path runs. Which kernel era's handler runs is the FaultPaths the file system chose at
 * creation (src/dax/fault-paths.ts).
 */
import type { DaxHost } from './context.js';
import { PMD_NR } from '../core/index.js';
import { FALLBACK, type FaultPaths, type FaultResult, type FaultingMapping } from './fault-paths.js';

/** handle_mm_fault for one virtual page: PMD first while the slot is empty, then PTE. */
export function handleFault(host: DaxHost, paths: FaultPaths, m: FaultingMapping, vpage: number, write: boolean): FaultResult {
  host.counters.faults++;
  const slot = Math.floor(vpage / PMD_NR);
  const pmd = m.pt.pmds.get(slot);
  let fallback = false;
  if (pmd || !m.pt.tables.has(slot)) {
    if (pmd && (!write || pmd.writable)) return { result: 'none', fallback };
    const r = paths.pmdFault(host, m, vpage, write, pmd);
    if (r !== FALLBACK) return { result: r, fallback };
    fallback = true;
    if (pmd) m.pt.pmds.delete(slot); // split_huge_pmd
    m.pt.tables.add(slot);
  }
  const pte = m.pt.ptes.get(vpage);
  if (pte && (!write || pte.writable)) return { result: 'none', fallback };
  const mkwrite = pte !== undefined && !pte.zero;
  return { result: paths.pteFault(host, m, vpage, write, mkwrite), fallback };
}
