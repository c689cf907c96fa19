/**
 * The page's side of the shared-memory check: it hands the core's shared WebAssembly.Memory
 * to a Worker (worker.ts), which instantiates the core on that very memory, on CPU 1, and
 * stores into the first line of the chosen entry. The page then reads the bytes back through
 * its own core, without any copy, and redraws: the line shows dirty in the heat map.
 */
import type { Session } from './session.js';

export interface WorkerReply {
  ok: boolean;
  cpu?: number;
  line?: number;
  stateAfter?: number;
  error?: string;
}

export async function attachWorker(session: Session, out: HTMLElement): Promise<WorkerReply> {
  const show = (reply: WorkerReply, text: string): WorkerReply => {
    out.textContent = text;
    out.dataset.ok = String(reply.ok);
    return reply;
  };
  if (!crossOriginIsolated) return show({ ok: false, error: 'not cross-origin isolated' }, 'This page is not cross-origin isolated (COOP/COEP headers missing): no SharedArrayBuffer to share.');
  const file = session.file;
  const entry = file?.entries().find((e) => e.index === session.selectedEntry && e.kind === 'data');
  if (!file || !entry) return show({ ok: false, error: 'no entry' }, 'Choose a data entry first: the worker stores into its first line.');
  const address = entry.pfn * 4096;
  const bytes = [0xc0, 0xff, 0xee, session.emu.now() % 256 | 0];
  const worker = new Worker(new URL('worker.js', document.baseURI), { type: 'module' });
  const reply = await new Promise<WorkerReply>((resolve) => {
    worker.onmessage = (ev: MessageEvent<WorkerReply>) => resolve(ev.data);
    worker.onerror = (ev) => resolve({ ok: false, error: ev.message });
    worker.postMessage({ memory: session.emu.core.memory, wasm: new URL('release.wasm', document.baseURI).href, cpu: 1, address, bytes });
  });
  worker.terminate();
  if (!reply.ok) return show(reply, `worker: ${reply.error}`);
  const seen = [...session.emu.core.pmLoad(0, address, bytes.length)];
  const same = seen.every((b, i) => b === bytes[i]);
  out.dataset.bytes = seen.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return show({ ...reply, ok: same }, `worker on CPU ${reply.cpu} stored ${out.dataset.bytes} at media address 0x${address.toString(16)} (line ${reply.line}, state ${reply.stateAfter}); the page reads ${same ? 'the same bytes' : 'other bytes'} from the shared memory`);
}
