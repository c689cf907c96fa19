// A worker the thread tests drive step by step: it attaches to the emulator whose handle it
// is given, then runs each function source it is sent, `(emu, args, state) => result`, and
// replies with the result, or with the error's code and message.
import { parentPort, workerData } from 'node:worker_threads';
import { attachEmulator } from '../../dist/index.js';

// Test runners that keep function names (esbuild's keepNames) wrap them in __name calls.
globalThis.__name ??= (fn) => fn;
const emu = await attachEmulator(workerData.handle, { cpu: workerData.cpu });
const state = {};
parentPort.on('message', ({ id, fn, args }) => {
  try {
    const result = (0, eval)(`(${fn})`)(emu, args, state);
    parentPort.postMessage({ id, ok: true, result });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, code: err.code ?? err.name, message: err.message });
  }
});
parentPort.postMessage({ ready: true });
