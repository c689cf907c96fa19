/**
 * Tracepoints named and shaped like the kernel's fs_dax events
 * (include/trace/events/fs_dax.h), emitted where fs/dax.c emits them, so that an emulated run
 * can be compared with a real kernel's trace event by event: the same names, flags and results.
 */
export type TraceName =
  | 'dax_pmd_fault' | 'dax_pmd_fault_done' | 'dax_pmd_load_hole' | 'dax_pmd_load_hole_fallback'
  | 'dax_pte_fault' | 'dax_pte_fault_done' | 'dax_load_hole'
  | 'dax_insert_pfn_mkwrite' | 'dax_insert_pfn_mkwrite_no_entry'
  | 'dax_writeback_range' | 'dax_writeback_range_done' | 'dax_writeback_one';

export interface TraceEvent {
  name: TraceName;
  pgoff: number;
  pglen?: number;
  start?: number;
  end?: number;
  /**
   * 'R', 'W' or 'W+MKWRITE', as the kernel prints the fault flags we model: on the fault
   * events and their _done events, and on the other events of the PTE class (dax_load_hole,
   * dax_insert_pfn_mkwrite, dax_insert_pfn_mkwrite_no_entry), which all print vmf->flags.
   */
  flags?: string;
  /**
   * 'NOPAGE', 'FALLBACK', 'NEEDDSYNC', 'SIGBUS', with 'MAJOR|' before when a PTE fault
   * allocated or zeroed its block (the XArray era's PMD path never reports MAJOR).
   */
  result?: string;
  /** The faulting virtual address, for fault events. */
  address?: number;
}

/** A running trace: emu.startTrace() makes one, stop() hands back what it saw. */
export class Trace {
  private readonly events: TraceEvent[] = [];
  private active = true;

  constructor(private readonly detach: (trace: Trace) => void) {}

  /** Called by the emulator for every event while the trace runs. */
  record(event: TraceEvent): void {
    if (this.active) this.events.push(event);
  }

  /** Stops the trace and returns its events in order. */
  stop(): TraceEvent[] {
    if (this.active) {
      this.active = false;
      this.detach(this);
    }
    return this.events.slice();
  }
}

/** The running traces of one emulator: start() adds one, emit() hands an event to each. */
export class Tracepoints {
  private readonly running = new Set<Trace>();

  /** Starts recording; the trace leaves the set when stopped. */
  start(): Trace {
    const trace = new Trace((t) => this.running.delete(t));
    this.running.add(trace);
    return trace;
  }

  /** Records `event` in every running trace. */
  emit(event: TraceEvent): void {
    for (const t of this.running) t.record(event);
  }
}
