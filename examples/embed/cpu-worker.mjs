// One emulated CPU of examples/embed.ts: attaches to the shared emulator, then replays its
// store/clwb/sfence stream through the command buffer, one quantum of emulated time at a
// time, waiting at the barrier after each quantum until every CPU has reached it.
import { parentPort, workerData } from 'node:worker_threads';
import { attachEmulator } from 'daxemu';

const { handle, cpu, region, stores, quantumNs, barrier, cpus } = workerData;
const emu = await attachEmulator(handle, { cpu });
const done = new Int32Array(barrier); // [0]: quanta finished by all CPUs, [1]: CPUs done with the current one
const word = new Uint8Array(8);
const pageOf = (i) => region + (i % 64) * 6 * 4096; // every 6th page: this CPU's own DIMM

let i = 0;
for (let quantum = 1; i < stores; quantum++) {
  // Run until this CPU's clock passes the end of the quantum (or the stream ends).
  while (i < stores && emu.now() < quantum * quantumNs) {
    const cmds = emu.commands();
    for (let k = 0; k < 64 && i < stores; k++, i++) {
      new DataView(word.buffer).setUint32(0, i, true);
      const at = pageOf(i) + ((i * 64) % 4096);
      cmds.store(at, word).clwb(at, 8);
      if (i % 8 === 7) cmds.sfence();
    }
    emu.run(cmds);
  }
  // The barrier: the last CPU to arrive opens the next quantum for all.
  if (Atomics.add(done, 1, 1) === cpus - 1) {
    Atomics.store(done, 1, 0);
    Atomics.add(done, 0, 1);
    Atomics.notify(done, 0);
  } else {
    while (Atomics.load(done, 0) < quantum) Atomics.wait(done, 0, quantum - 1);
  }
}
emu.sfence();
parentPort.postMessage({ cpu, now: emu.now(), stores: i });
emu.detach();
