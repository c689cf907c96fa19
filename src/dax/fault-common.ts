/**
 * Fault steps both kernel eras share (src/dax/fault-xarray.ts, src/dax/fault-p45.ts): the price of a
 * fault, SIGBUS beyond the end of the file, a hole read through a zero page, and a
 * private mapping's copy-on-write.
 */
import type { DaxHost } from './context.js';
import { PmemError } from '../base/index.js';
import { FALLBACK, type FaultingMapping } from './fault-paths.js';
import { FAULT_COSTS } from './kernel.js';

/**
 * Charges a fault to the CPU's clock, more when it allocated. `major` is whether the fault
 * reports VM_FAULT_MAJOR, which is counted: the PTE path does when it allocated, the XArray
 * era's PMD path never does (fs/dax.c v6.1, v6.12: only dax_iomap_pte_fault ORs it in), yet
 * its allocation costs the same.
 */
export function chargeFault(host: DaxHost, allocated: boolean, major = allocated): void {
  host.core.pmAdvance(host.cpu, FAULT_COSTS.faultNs + (allocated ? FAULT_COSTS.allocateNs : 0));
  if (major) host.counters.majorFaults++;
}

/**
 * The fault flags as the fs_dax fault events print them, the start and the done event alike
 * (include/trace/events/fs_dax.h v6.1, v6.12: both take vmf->flags): 'R', 'W', or
 * 'W+MKWRITE' for a write to a read-only PTE (page_mkwrite or pfn_mkwrite).
 */
export function faultFlags(write: boolean, mkwrite: boolean): string {
  return write ? (mkwrite ? 'W+MKWRITE' : 'W') : 'R';
}

/** Ends a PMD fault that falls back to the PTE path (VM_FAULT_FALLBACK): counted and traced. */
export function pmdFallback(host: DaxHost, pgoff: number, flags: string): typeof FALLBACK {
  host.counters.fallbacks++;
  host.trace({ name: 'dax_pmd_fault_done', pgoff, flags, result: 'FALLBACK' });
  return FALLBACK;
}

/** Ends a fault beyond the end of the file: counted, traced, thrown as SIGBUS. */
export function faultSigbus(host: DaxHost, name: 'dax_pte_fault_done' | 'dax_pmd_fault_done', pgoff: number, m: FaultingMapping, flags: string): never {
  host.counters.sigbus++;
  host.trace({ name, pgoff, flags, result: 'SIGBUS' });
  throw new PmemError('SIGBUS', `page ${pgoff} is beyond the end of ${m.file.path} (${m.file.size} bytes)`);
}

/** Ends a PTE read fault on a hole: the zero page mapped read-only at `vpage`. */
export function mapZeroPte(host: DaxHost, m: FaultingMapping, vpage: number, pgoff: number): 'zero-pte' {
  m.pt.ptes.set(vpage, { pfn: 0, writable: false, zero: true });
  chargeFault(host, false);
  host.counters.zeroPteFaults++;
  host.trace({ name: 'dax_pte_fault_done', pgoff, flags: 'R', result: 'NOPAGE' });
  return 'zero-pte';
}

/** Ends a PMD read fault on a hole: the huge zero page mapped read-only at PMD slot `slot`. */
export function mapZeroPmd(host: DaxHost, m: FaultingMapping, slot: number, pgoff: number): 'zero-pmd' {
  m.pt.pmds.set(slot, { pfn: 0, writable: false, zero: true });
  chargeFault(host, false);
  host.counters.zeroPmdFaults++;
  host.trace({ name: 'dax_pmd_fault_done', pgoff, flags: 'R', result: 'NOPAGE' });
  return 'zero-pmd';
}

/** A write to a private mapping: the page is copied to an anonymous page; the tree is not involved. */
export function copyOnWrite(host: DaxHost, m: FaultingMapping, vpage: number, pgoff: number, flags: string): 'pte' {
  const copy = new Uint8Array(4096);
  const b = m.file.blocks.get(pgoff);
  if (b && !b.unwritten) copy.set(host.core.pmLoad(host.cpu, b.pfn * 4096, 4096));
  m.anon.set(vpage, copy);
  m.pt.ptes.set(vpage, { pfn: 0, writable: true, zero: false });
  chargeFault(host, false);
  host.counters.pteFaults++;
  host.trace({ name: 'dax_pte_fault_done', pgoff, flags, result: 'NOPAGE' });
  return 'pte';
}
