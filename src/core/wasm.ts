/**
 * Loading the wasm core: which build runs, compiling it once per process, instantiating it
 * on a shared WebAssembly.Memory, and the typed list of what it exports.
 *
 * Two builds exist (asconfig.json): `release` (optimised, no asserts) and `debug` (asserts
 * on, names kept). Tests run both; DAXEMU_WASM=debug selects the debug build by default.
 * Where the bytes come from (a file under Node, a URL or bytes in a page) is wasm-source.ts.
 */
import { compileSource, onWasmSourceChange } from './wasm-source.js';
import { guardTraps } from './trap.js';

export type WasmBuild = 'debug' | 'release';

/** The wasm exports, typed (assembly/index.ts is the list). */
export interface CoreExports {
  readonly [global: string]: unknown;
  nop(): void;
  layoutInit(mediaBytes: number, undoSlots: number, poolBytes: number): number;
  mediaChunkData(chunk: number, write: number): number;
  mediaChunkStates(chunk: number): number;
  mediaChunkResident(chunk: number): number;
  mediaDataChunks(): number;
  mediaStateChunks(): number;
  mediaPoolUsed(): number;
  mediaReserveRange(addr: number, len: number, write: number): number;
  layoutAttach(): number;
  scratchCommands(cpu: number): number;
  scratchResults(cpu: number): number;
  scratchData(cpu: number): number;
  costSet(index: number, value: number): void;
  pmInit(seed: number): void;
  pmAttach(): void;
  pmStore(cpu: number, addr: number, src: number, len: number, more: number): number;
  pmLoad(cpu: number, addr: number, dst: number, len: number, more: number): number;
  pmNtStore(cpu: number, addr: number, src: number, len: number, more: number): number;
  pmFlush(cpu: number, kind: number, addr: number, len: number): number;
  pmFence(cpu: number, full: number): number;
  pmFlushClean(cpu: number, kind: number, lines: number): number;
  pmAdvance(cpu: number, ns: number): number;
  pmZeroDurable(cpu: number, addr: number, len: number): number;
  pmFlushDirty(cpu: number, kind: number, addr: number, len: number): number;
  pmNtStorePages(cpu: number, addrs: number, src: number, count: number): number;
  pmNtStorePagesPath(fast: number): void;
  pmNow(cpu: number): number;
  pmCounter(cpu: number, index: number): number;
  pmMediaCounter(index: number): number;
  pmUndoList(dst: number, max: number, fromSlot: number): number;
  pmUndoUsed(): number;
  pmLineState(line: number): number;
  pmRun(cpu: number, ops: number, count: number, data: number): number;
  pmHoldLines(): number;
  pmReleaseLines(): void;
  lockSetThread(id: number): void;
  pmCheckLines(): number;
  lockMarkDead(id: number, dead: number): void;
  mediaAllocBlock(): number;
  mediaAllocExtent(): number;
  mediaFree(pfn: number, count: number): number;
  mediaFreeBlocks(): number;
  mediaBlockUsed(pfn: number): number;
  mediaReserve(pfn: number, count: number): number;
  daxMkEntry(pfn: number, flags: number): number;
  xaCreateTree(): number;
  xaDestroyTree(tree: number): number;
  xaLoad(tree: number, index: number): number;
  xaStore(tree: number, index: number, order: number, entry: number): number;
  xaErase(tree: number, index: number): number;
  xaSetMark(tree: number, index: number, mark: number): number;
  xaClearMark(tree: number, index: number, mark: number): number;
  xaGetMark(tree: number, index: number, mark: number): number;
  xaFindMarked(tree: number, start: number, end: number, mark: number): number;
  xaFindPresent(tree: number, start: number, end: number): number;
  xaFindNextMarked(tree: number, prev: number, end: number, mark: number): number;
  xaTagTowrite(tree: number, start: number, end: number): number;
  xaCount(tree: number): number;
  xaTreeNodes(tree: number): number;
  xaRunBatch(ops: number, count: number, results: number): number;
  xaCheck(tree: number): number;
  xaCheckHeap(): number;
  xaDump(tree: number, dst: number, maxRecords: number): number;
}


/** wasm32 addresses at most 65536 pages of 64 KiB (4 GiB). */
export const WASM32_MAX_PAGES = 65536;
const modules = new Map<WasmBuild, Promise<WebAssembly.Module>>();

onWasmSourceChange((build) => modules.delete(build));

/** The build to run when none is named: DAXEMU_WASM=debug (under Node), else release. */
export function defaultBuild(): WasmBuild {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.DAXEMU_WASM === 'debug' ? 'debug' : 'release';
}

/** Compiles a build once per realm (again after setWasmSource names a new source); a failed compile is not kept. */
function compileBuild(build: WasmBuild): Promise<WebAssembly.Module> {
  let module = modules.get(build);
  if (!module) {
    module = compileSource(build);
    module.catch(() => modules.get(build) === module && modules.delete(build));
    modules.set(build, module);
  }
  return module;
}

/** Instantiates `build` on `memory`; an abort in the core becomes an Error naming its source line. */
export async function instantiate(build: WasmBuild, memory: WebAssembly.Memory): Promise<CoreExports> {
  const module = await compileBuild(build);
  const abort = (msg: number, file: number, line: number, col: number): never => {
    throw new Error(`daxemu core (${build}) aborted at ${readAsString(memory, file)}:${line}:${col}: ${readAsString(memory, msg)}`);
  };
  const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
  return guardTraps(instance.exports as unknown as CoreExports, build);
}

/** Reads an AssemblyScript string (UTF-16, length before it) for abort messages. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint8Array(memory.buffer);
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1;
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(bytes[ptr + 2 * i] | (bytes[ptr + 2 * i + 1] << 8));
  return s;
}
