// The core's exports: an export list only (one concept per file lives beside it).
//
// Which host file drives each core file (the host's only door into the core is src/core/):
//   layout.ts                         src/core/layout.ts (the memory map and its views), core.ts (layoutInit, layoutAttach)
//   entry.ts                          src/core/entry.ts (its twin: the same slot words, tested bit for bit)
//   node.ts, tree.ts, xas.ts,         src/core/xarray.ts (the checked Forest API: trees, marks, finds,
//     xarray.ts, check.ts, dump.ts      checks and dumps); used by src/dax/file.ts and src/dax/writeback.ts
//   batch.ts                          src/core/xarray.ts runBatch, encoded by src/core/batch.ts
//   pmem.ts, lines.ts, cpu.ts,        src/core/pmem.ts (instructions, clocks, counters, undo list),
//     cost.ts, xpbuffer.ts,             driven by src/hw/device-mapping.ts, src/hw/hardware.ts and the
//     media-calendar.ts                 DAX layer's loads, stores, flushes and fences
//   page-copy.ts                      src/core/pmem.ts pmNtStorePages and setPageCopyPath, for src/dax/page-cache.ts's writeback
//   pminit.ts                         src/core/pmem.ts initHardware, with parameters from src/hw/cost-model.ts
//   pmcmd.ts                          src/core/pmem.ts pmRun, for src/hw/run.ts (records from src/hw/commands.ts)
//   check-lines.ts                    src/core/pmem.ts checkLines, for src/dax/invariants.ts
//   lock.ts                           src/core/core.ts (thread ids, dead threads), for worker threads (src/emulator/share.ts)
//   media.ts                          src/core/pmem.ts allocate/free/reserve, for src/dax/file.ts's block map
//   chunks.ts                         src/core/layout.ts (media reads and writes by chunk, residency), pmem.ts
//   rng.ts                            none directly: bit for bit the host's src/base/random.ts
//   errno.ts                          src/base/errors.ts (the same numbers)
export {
  LAYOUT_BASE, HEADER_OFFSET, HEADER_SIZE, TREES_OFFSET, TREES_SIZE, TREE_SIZE, MAX_TREES, SCRATCH_OFFSET, SCRATCH_SIZE, SCRATCH_CPU_SIZE,
  SCRATCH_CMD_SIZE, SCRATCH_RESULT_SIZE, MAX_CPUS, MEDIA_ALIGN, HEAP_LIMIT, MEDIA_SIZE, LINES_SIZE, HEAP_OFFSET,
  H_HEAP_TOP, H_NODES_IN_USE, H_NODES_FREE, H_TREES_IN_USE, layoutInit, layoutAttach, scratchCommands, scratchResults, scratchData,
  SCRATCH_DATA_SIZE, ALLOC_OFFSET, UNDO_OFFSET, UNDO_SLOTS, LAYOUT_VERSION, TABLES_OFFSET, ZERO_OFFSET, POOL_OFFSET, POOL_SIZE, CHUNK_SHIFT,
} from './layout';
export { mediaChunkData, mediaChunkStates, mediaChunkResident, mediaDataChunks, mediaStateChunks, mediaPoolUsed, mediaReserve as mediaReserveRange } from './chunks';
export { pmInit, pmAttach, pmCounter, pmMediaCounter, pmUndoList, pmUndoNext, pmLineState, pmUndoUsed, costSet, COST_PARAMS } from './pminit';
export { pmStore, pmLoad, pmNtStore, pmFlush, pmFence, pmNow, pmFlushClean, pmAdvance, pmZeroDurable, pmFlushDirty, pmHoldLines, pmReleaseLines } from './pmem';
export { pmNtStorePages, pmNtStorePagesPath } from './page-copy';
export { CPUS_OFFSET, CPU_STATE_SIZE, DIMMS_OFFSET } from './layout';
export { CPU_COUNTERS_OFF, CPU_COUNTERS, CPU_NOW } from './cpu';
export { COSTS_COUNTERS, MEDIA_COUNTERS } from './cost';
export { pmRun, pmRunFailed } from './pmcmd';
export { lockSetThread, lockMarkDead, lockDeadHolder } from './lock';
export { pmCheckLines, linesCheckAt } from './check-lines';
export { mediaAllocBlock, mediaAllocExtent, mediaFree, mediaFreeBlocks, mediaBlockUsed, mediaReserve } from './media';
export { daxMkEntry, XA_RETRY_ENTRY, DAX_SHIFT, DAX_PFN_MAX } from './entry';
export { NODE_SIZE } from './node';
export {
  xaCreateTree, xaDestroyTree, xaLoad, xaStore, xaErase, xaSetMark, xaClearMark, xaGetMark, xaFindMarked, xaFindNextMarked, xaFindPresent, xaTagTowrite,
  xaCount, xaTreeNodes, xaFoundWord, xaFoundOrder, xaFoundMarks, xaStopIndex,
} from './xarray';
export { xaRunBatch } from './batch';
export { xaCheck, xaCheckHeap, xaCheckNode, xaCheckSlot } from './check';
export { xaDump, DUMP_RECORD_WORDS } from './dump';

/** An empty call: the interop baseline of the benchmarks. */
export function nop(): void {}
