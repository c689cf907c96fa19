/**
 * The fs_dax events of a session as the kernel's trace buffer prints them
 * (/sys/kernel/tracing/trace): a task-pid, CPU and timestamp prefix, the event name, and
 * the body in the format of include/trace/events/fs_dax.h for the event's class. Numbers
 * print as C's %#lx does: 0x-prefixed hex, and a bare 0 for zero.
 *
 * What the emulator's events do not carry, the explorer supplies: the inode number and
 * the mapping's bounds (from the call that raised the event), the device (259:0, the
 * first pmem namespace), and the timestamp, which is the emulated clock when the call
 * returned. Fault flags are the emulator's R, W and MKWRITE plus what every user fault
 * carries on x86 (ALLOW_RETRY|KILLABLE|USER, and INTERRUPTIBLE since 5.6). A _done event
 * shows the address and flags of the fault it ends, as the kernel's share one vmf.
 */
import type { TraceEvent } from 'daxemu';

/** What the explorer knows about the event beyond the emulator's record of it. */
export interface TraceContext {
  ino: number;
  /** The mapping the fault went through (fault events). */
  vma?: { start: number; end: number; shared: boolean };
  /** DIV_ROUND_UP(i_size, PAGE_SIZE), as dax_iomap_pmd_fault computes it. */
  maxPgoff: number;
  /** The tree's entry word at the event's index, after the call (the load-hole events' radix_entry). */
  entryWord: number;
  /** Emulated ns when the call returned, and the CPU it ran on. */
  ns: number;
  cpu: number;
  /** Kernels before 5.6 have no FAULT_FLAG_INTERRUPTIBLE. */
  interruptible: boolean;
}

const DEV = '259:0';

/** C's %#lx. */
export function cHex(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

function faultFlags(flags: string | undefined, ctx: TraceContext, huge: boolean): string {
  const names: string[] = [];
  if (flags?.startsWith('W')) names.push('WRITE');
  // Only the PTE write-protect path (wp_pfn_shared) sets FAULT_FLAG_MKWRITE; a huge PMD's goes to huge_fault without it.
  if (flags?.includes('MKWRITE') && !huge) names.push('MKWRITE');
  names.push('ALLOW_RETRY', 'KILLABLE', 'USER');
  if (ctx.interruptible) names.push('INTERRUPTIBLE');
  return names.join('|');
}

/** The body of one event, after "name: ". */
export function eventBody(e: TraceEvent, ctx: TraceContext): string {
  const head = `dev ${DEV} ino ${cHex(ctx.ino)}`;
  const share = ctx.vma?.shared === false ? 'private' : 'shared';
  const address = cHex(e.address ?? 0);
  switch (e.name) {
    case 'dax_pmd_fault':
    case 'dax_pmd_fault_done':
      return `${head} ${share} ${faultFlags(e.flags, ctx, true)} address ${address} vm_start ${cHex(ctx.vma?.start ?? 0)} vm_end ${cHex(ctx.vma?.end ?? 0)} pgoff ${cHex(e.pgoff)} max_pgoff ${cHex(ctx.maxPgoff)} ${e.result ?? ''}`;
    case 'dax_pte_fault':
    case 'dax_pte_fault_done':
    case 'dax_load_hole':
    case 'dax_insert_pfn_mkwrite':
    case 'dax_insert_pfn_mkwrite_no_entry':
      return `${head} ${share} ${faultFlags(e.flags, ctx, false)} address ${address} pgoff ${cHex(e.pgoff)} ${e.result ?? ''}`;
    case 'dax_pmd_load_hole':
    case 'dax_pmd_load_hole_fallback':
      // %p of the huge zero page: the kernel prints a hashed pointer; the emulator has none.
      return `${head} ${share} address ${address} zero_page (____ptrval____) radix_entry ${cHex(ctx.entryWord)}`;
    case 'dax_writeback_range':
    case 'dax_writeback_range_done':
      return `${head} pgoff ${cHex(e.start ?? e.pgoff)}-${cHex(e.end ?? e.pgoff)}`;
    case 'dax_writeback_one':
      return `${head} pgoff ${cHex(e.pgoff)} pglen ${cHex(e.pglen ?? 0)}`;
  }
}

/** One line of the trace buffer. */
export function ftraceLine(e: TraceEvent, ctx: TraceContext): string {
  // The kernel's "%16s-%-7d [%03d] %s %5lu.%06lu: ": comm, pid, CPU, the flag columns, seconds.
  const us = Math.floor(ctx.ns / 1000);
  const stamp = `${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}`;
  return `${'daxemu'.padStart(16)}-${'1'.padEnd(7)} [${String(ctx.cpu).padStart(3, '0')}] ..... ${stamp}: ${e.name}: ${eventBody(e, ctx)}`;
}

/** The header the trace file starts with. */
export const FTRACE_HEADER = [
  '# tracer: nop',
  '#',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
].join('\n');
