/**
 * core: the host's door into the wasm core (assembly/), the only code that touches the wasm
 * instance and `memory.buffer`. It owns the instance and the shared memory, the memory map,
 * the typed Forest API over the radix trees, the hardware instructions on media addresses,
 * and the host twins of the core's encodings (slot words and DAX entries, tree batches).
 *
 * May import: base. Everything above reaches the wasm through the Core class.
 */
export { Core, residentBytesFor, type CoreAttachment, type CoreOptions } from './core.js';
export type { CoreLayout } from './layout.js';
export { InvariantError, type CoreStats } from './xarray.js';
export type { WasmBuild } from './wasm.js';
export { setWasmSource, isNode, type WasmSource } from './wasm-source.js';
export * from './entry.js';
export * from './batch.js';
export type { Forest, TreeEntry, FoundEntry } from './tree.js';
