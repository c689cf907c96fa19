/**
 * Keeps the CPUs of a shared cell (src/job/shared-cell.ts) within a quantum of emulated time
 * of each other: each runs until its clock passes the end of the current quantum, then waits
 * here until every CPU has, and all go on to the next. A CPU out of work keeps arriving, so
 * the others never wait for it, until every CPU is out of work.
 *
 * The words of the shared Int32Array:
 *   0  CPUs arrived at the current barrier
 *   1  the barrier's generation: the last to arrive moves it on and wakes the others
 *   2  CPUs still with work
 *   3  that count as the last arrival saw it: what every CPU reads after passing, so all
 *      agree on whether to stop even while others already mark themselves out of work
 */
const ARRIVED = 0;
const GENERATION = 1;
const ACTIVE = 2;
const ACTIVE_AT_RELEASE = 3;

/** The shared words for `cpus` CPUs, to hand to each. */
export function quantumBarrierWords(cpus: number): SharedArrayBuffer {
  const words = new SharedArrayBuffer(16);
  Atomics.store(new Int32Array(words), ACTIVE, cpus);
  return words;
}

export class QuantumBarrier {
  private readonly words: Int32Array;
  private outOfWork = false;

  constructor(shared: SharedArrayBuffer, private readonly cpus: number) {
    this.words = new Int32Array(shared);
  }

  /** This CPU has no work left (once). */
  finished(): void {
    if (this.outOfWork) return;
    this.outOfWork = true;
    Atomics.sub(this.words, ACTIVE, 1);
  }

  /** Waits for every CPU; true while some CPU still has work. */
  arrive(): boolean {
    const w = this.words;
    const generation = Atomics.load(w, GENERATION);
    if (Atomics.add(w, ARRIVED, 1) === this.cpus - 1) {
      Atomics.store(w, ARRIVED, 0);
      Atomics.store(w, ACTIVE_AT_RELEASE, Atomics.load(w, ACTIVE));
      Atomics.add(w, GENERATION, 1);
      Atomics.notify(w, GENERATION);
    } else {
      while (Atomics.load(w, GENERATION) === generation) Atomics.wait(w, GENERATION, generation);
    }
    return Atomics.load(w, ACTIVE_AT_RELEASE) > 0;
  }
}
