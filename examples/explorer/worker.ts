/**
 * A Worker that runs the core on the page's shared memory: it instantiates the wasm on the
 * WebAssembly.Memory the page sends (Core.attach), stores the bytes at the media address on
 * its own CPU, and replies with the line's state as its core sees it.
 */
import { Core, PmemError, setWasmSource } from 'daxemu';

interface Request {
  memory: WebAssembly.Memory;
  wasm: string;
  cpu: number;
  address: number;
  bytes: number[];
}

const scope = self as unknown as { onmessage: ((ev: MessageEvent<Request>) => void) | null; postMessage(data: unknown): void };

scope.onmessage = async (ev) => {
  const { memory, wasm, cpu, address, bytes } = ev.data;
  try {
    setWasmSource(new URL(wasm));
    const core = await Core.attach(memory, cpu, 'release');
    core.pmStore(cpu, address, new Uint8Array(bytes));
    const line = Math.floor(address / 64);
    scope.postMessage({ ok: true, cpu, line, stateAfter: core.pmLineState(line) });
  } catch (err) {
    scope.postMessage({ ok: false, error: err instanceof PmemError ? err.message : String(err) });
  }
};
