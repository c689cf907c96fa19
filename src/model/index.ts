/**
 * model: the pure-TypeScript reference models, the spec in code, written for obviousness
 * and not for speed: the radix tree (xarray.ts), the hardware (pmem.ts) and the DAX layer
 * (dax.ts). Differential tests hold the wasm core and the host to them.
 *
 * May import: base, core (the encodings and the Forest contract), hw (the cost model),
 * dax (the kernel profiles). Nothing in src/ imports the models but the public index.
 */
export { ModelForest } from './xarray.js';
export { ModelPmem, type ModelPmemOptions, type ModelUndoRecord } from './pmem.js';
export { ModelDax, type ModelOptions, type ModelEntry, type ModelReport, type ModelCounters } from './dax.js';
