// The core's memory map: one shared WebAssembly.Memory, created by the host, imported here.
// Every region is a chained OFFSET/SIZE pair defined once in this file; the host reads them
// from exported globals (src/core/core.ts) and never writes its own copy.
//
//   0x0000_0000  +--------------------------------------+
//                | static data and wasm globals (asc)    |  must end below LAYOUT_BASE
//   LAYOUT_BASE  +--------------------------------------+
//                | HEADER: shared allocator state, lock  |  HEADER_SIZE
//                | words, the dynamic layout, counters   |
//   TREES_OFFSET +--------------------------------------+
//                | TREE records, 32 bytes x MAX_TREES    |  one per file's address_space
//   SCRATCH_OFF. +--------------------------------------+
//                | per-CPU scratch: command, result and  |  MAX_CPUS x SCRATCH_CPU_SIZE
//                | data buffers of each host thread      |
//   CPUS_OFFSET  +--------------------------------------+
//                | per-CPU state: clock, flush queue,    |  MAX_CPUS x CPU_STATE_SIZE
//                | pending list, counters (cost.ts)      |
//   DIMMS_OFFSET +--------------------------------------+
//                | cost parameters and per-DIMM media    |  DIMMS_SIZE
//                | buffers (cost.ts)                     |
//   TABLES_OFFSET+--------------------------------------+  (the rest is set by layoutInit)
//                | chunk tables: per 2 MiB chunk of the  |  MEDIA_SIZE / 2 MiB x 8 bytes
//                | media, its data address, then its     |  (chunks.ts)
//                | line states' address (u32 each)       |
//   ALLOC_OFFSET +--------------------------------------+
//                | block bitmap, free counts per extent  |  (media.ts)
//   UNDO_OFFSET  +--------------------------------------+
//                | undo slots: the durable copy of each  |  undoSlots x (16 + 64 + 4) bytes,
//                | non-durable line, and their hash      |  plus the hash (lines.ts)
//   ZERO_OFFSET  +--------------------------------------+
//                | the zero chunk: 2 MiB of data and     |  never written: what every chunk
//                | 32 KiB of line states, all zeros      |  without memory of its own reads
//   POOL_OFFSET  +--------------------------------------+
//                | the chunk pool: each chunk's memory,  |  POOL_SIZE: the resident budget
//                | handed out on its first write         |  (residentBytes), chunks.ts
//   HEAP_OFFSET  +--------------------------------------+
//                | heap of 320-byte nodes (radix tree    |  grows with memory.grow up to
//                | nodes now; page tables later)         |  HEAP_LIMIT
//                +--------------------------------------+
//
// The media is sparse (chunks.ts): a chunk of 2 MiB gets memory from the pool only when it
// is first written, and until then reads as the zero chunk. The memory is grown over the
// pool when it is laid out, as over the flat media before; that reserves addresses, and a
// page of it costs the process nothing until it is written.
//
// Everything a worker thread must see lives in memory, not in wasm globals: each thread's
// instance has globals of its own. The dynamic part of the layout is written into the
// header once by layoutInit and read back into globals by layoutAttach.
//
// Who may touch what when several threads share the memory (src/emulator/share-server.ts):
//   per CPU, no lock     CPU state (clock, pipes, flush queue, counters), scratch: only the
//                        thread that attached the CPU drives it (the owner runs a worker's
//                        kernel calls on its CPU while that worker waits)
//   the lines lock       line states, undo slots and their hash, the chunk tables and pool, the pending lists, the DIMM
//   (H_LINES_LOCK)       buffers, write queues and media calendars, the media counters, the
//                        eviction rng: every instruction holds it from start to end (lock.ts)
//   the owner only       the trees and their node heap, the block allocator: the file system
//                        runs on the thread that created the emulator (one big kernel lock)
//   read only            the layout and the cost parameters, written before any worker attaches

import { ENOMEM, EINVAL } from './errno';

export const PAGE_SIZE: u32 = 65536; // a wasm page
export const LAYOUT_BASE: u32 = 64 << 10;

export const HEADER_OFFSET: u32 = LAYOUT_BASE;
export const HEADER_SIZE: u32 = 4 << 10;

export const TREE_SHIFT: u32 = 5;
export const TREE_SIZE: u32 = 1 << TREE_SHIFT;
export const MAX_TREES: u32 = 16384;
export const TREES_OFFSET: u32 = HEADER_OFFSET + HEADER_SIZE;
export const TREES_SIZE: u32 = TREE_SIZE * MAX_TREES;

export const MAX_CPUS: u32 = 8;
export const SCRATCH_CMD_SIZE: u32 = 1 << 20; // 65536 16-byte commands
export const SCRATCH_RESULT_SIZE: u32 = 512 << 10; // 65536 8-byte results
export const SCRATCH_DATA_SIZE: u32 = 2 << 20; // bytes that commands store or load
export const SCRATCH_CPU_SIZE: u32 = SCRATCH_CMD_SIZE + SCRATCH_RESULT_SIZE + SCRATCH_DATA_SIZE;
export const SCRATCH_OFFSET: u32 = TREES_OFFSET + TREES_SIZE;
export const SCRATCH_SIZE: u32 = SCRATCH_CPU_SIZE * MAX_CPUS;

export const CPU_STATE_SIZE: u32 = 4 << 10;
export const CPUS_OFFSET: u32 = SCRATCH_OFFSET + SCRATCH_SIZE;
export const CPUS_SIZE: u32 = CPU_STATE_SIZE * MAX_CPUS;

export const MAX_DIMMS: u32 = 64;
export const DIMM_STATE_SIZE: u32 = 36 << 10; // the buffer, its index and queue (4 KiB), the media calendar (16 KiB), the DRAM block cache (16 KiB)
export const COSTS_SIZE: u32 = 4 << 10; // the cost parameters and shared media counters
export const DIMMS_OFFSET: u32 = CPUS_OFFSET + CPUS_SIZE;
export const DIMMS_SIZE: u32 = COSTS_SIZE + DIMM_STATE_SIZE * MAX_DIMMS;

export const FIXED_END: u32 = DIMMS_OFFSET + DIMMS_SIZE;
export const MEDIA_ALIGN: u32 = 2 << 20;
/** A chunk of the media: 2 MiB of data and a state byte per line, 32 KiB (chunks.ts). */
export const CHUNK_SHIFT: u32 = 21;
export const CHUNK_STATE_BYTES: u32 = (1 << CHUNK_SHIFT) >> 6;
export const LINE_SHIFT: u32 = 6;
export const BLOCK_SHIFT: u32 = 12;
export const EXTENT_SHIFT: u32 = 21;
/** Bytes per undo slot: its record (16), its copy of the line (64), its free-stack entry (4). */
export const UNDO_SLOT_BYTES: u32 = 16 + 64 + 4;

// Node addresses are stored in slots as (address | 2); the XArray reads internal words
// in the top 4095 * 4 bytes as errors, so the heap stops short of them.
export const HEAP_LIMIT: u32 = 0xffff0000;

// Header fields (byte offsets from HEADER_OFFSET).
export const H_MAGIC: u32 = 0;
export const H_VERSION: u32 = 4;
export const H_MEDIA_SIZE: u32 = 12;
export const H_LINES_SIZE: u32 = 20;
export const H_HEAP_OFFSET: u32 = 24;
export const H_ALLOC_OFFSET: u32 = 28;
export const H_UNDO_OFFSET: u32 = 32;
export const H_UNDO_SLOTS: u32 = 36;
export const H_UNDO_HASH_BUCKETS: u32 = 40;
export const H_HEAP_TOP: u32 = 64; // next never-used heap byte
export const H_NODE_FREE_HEAD: u32 = 68; // free-node list
export const H_NODES_IN_USE: u32 = 72;
export const H_NODES_FREE: u32 = 76;
export const H_TREE_FREE_HEAD: u32 = 80; // stack of destroyed tree ids
export const H_TREE_NEXT_ID: u32 = 84;
export const H_TREES_IN_USE: u32 = 88;
export const H_LINES_LOCK: u32 = 128; // lock.ts: line states, undo slots, DIMMs, media counters, rng
export const H_DEAD_THREADS: u32 = 160; // lock.ts: a bit per thread declared dead
export const H_LONG_HOLDER: u32 = 164; // lock.ts: the thread id + 1 holding a lock for long (0: none)
export const H_FREE_BLOCKS: u32 = 192; // media.ts
export const H_UNDO_USED: u32 = 256; // lines.ts: slots in use
export const H_RNG: u32 = 272; // xoshiro128** state, 4 words (rng.ts)
export const H_EADR: u32 = 288; // 1 when caches are inside the persistence domain
export const H_POOL_TOP: u32 = 320; // chunks.ts: the next pool byte not handed out
export const H_DATA_CHUNKS: u32 = 324; // chunks.ts: chunks whose data has memory
export const H_STATE_CHUNKS: u32 = 328; // chunks.ts: chunks whose line states have memory
export const H_TABLES_OFFSET: u32 = 332;
export const H_ZERO_OFFSET: u32 = 336;
export const H_POOL_OFFSET: u32 = 340;
export const H_POOL_SIZE: u32 = 344;

export const LAYOUT_MAGIC: u32 = 0x45584144; // "DAXE"
export const LAYOUT_VERSION: u32 = 3;

// The dynamic layout, cached per instance.
export let MEDIA_SIZE: u32 = 0;
/** Lines of the media (MEDIA_SIZE / 64): bytes of line state if every chunk had memory. */
export let LINES_SIZE: u32 = 0;
export let CHUNKS: u32 = 0;
export let TABLES_OFFSET: u32 = 0;
export let ZERO_OFFSET: u32 = 0;
export let POOL_OFFSET: u32 = 0;
export let POOL_SIZE: u32 = 0;
export let ALLOC_OFFSET: u32 = 0;
export let UNDO_OFFSET: u32 = 0;
export let UNDO_SLOTS: u32 = 0;
export let UNDO_HASH_BUCKETS: u32 = 0;
export let HEAP_OFFSET: u32 = 0;

@inline export function hdr(field: u32): usize {
  return <usize>(HEADER_OFFSET + field);
}

/** Grows the memory so that byte `end` (exclusive) is addressable; false when it cannot. */
export function ensureMemory(end: u64): bool {
  const have = <u64>memory.size() << 16;
  if (end <= have) return true;
  if (end > <u64>HEAP_LIMIT) return false;
  const need = <i32>((end - have + 0xffff) >> 16);
  // Grow by an eighth of the memory at least, so that a growing heap grows rarely.
  const ahead = max(need, max(16, memory.size() >> 3));
  if (memory.grow(ahead) >= 0) return true;
  return memory.grow(need) >= 0;
}

/** Bytes of the block allocator for `mediaBytes`: a bit per block, then a u16 per extent. */
export function allocBytes(mediaBytes: u64): u64 {
  return ((mediaBytes >> BLOCK_SHIFT) + 7) / 8 + ((mediaBytes >> EXTENT_SHIFT) << 1);
}

/** The smallest power of two at least twice `slots`: the undo hash's bucket count. */
export function undoHashBuckets(slots: u32): u32 {
  let buckets: u32 = 1;
  while (buckets < slots * 2) buckets <<= 1;
  return buckets;
}

/**
 * Lays out a fresh memory for `mediaBytes` of media (a multiple of MEDIA_ALIGN, 0 allowed),
 * `undoSlots` undo slots (the emulated cache's room for dirty lines) and a chunk pool of
 * `poolBytes` (a multiple of 64 KiB: the memory the media's touched chunks may take).
 * Called once, by the thread that creates the emulator. Returns 0 or -errno.
 */
export function layoutInit(mediaBytes: u32, undoSlots: u32, poolBytes: u32): i32 {
  if (__heap_base > LAYOUT_BASE) return -EINVAL; // the static data outgrew its room
  if ((mediaBytes & (MEDIA_ALIGN - 1)) != 0 || undoSlots > (1 << 26) || (poolBytes & 0xffff) != 0) return -EINVAL;
  if (mediaBytes != 0 && undoSlots == 0) return -EINVAL; // stores need room for an undo copy
  if (<u64>memory.size() << 16 > <u64>HEADER_OFFSET && load<u32>(hdr(H_MAGIC)) == LAYOUT_MAGIC) return -EINVAL; // laid out already
  const media = <u64>mediaBytes;
  const tablesOffset = <u64>((FIXED_END + 63) & ~63);
  const allocOffset = tablesOffset + ((media >> CHUNK_SHIFT) << 3);
  const undoOffset = (allocOffset + allocBytes(media) + 63) & ~63;
  const buckets = undoHashBuckets(undoSlots);
  const zeroOffset = (undoOffset + <u64>undoSlots * UNDO_SLOT_BYTES + <u64>buckets * 4 + 0xffff) & ~0xffff;
  const zeroBytes: u64 = media == 0 ? 0 : (<u64>1 << CHUNK_SHIFT) + CHUNK_STATE_BYTES;
  const poolOffset = (zeroOffset + zeroBytes + 0xffff) & ~0xffff;
  const heapOffset = poolOffset + <u64>poolBytes;
  if (heapOffset >= <u64>HEAP_LIMIT || !ensureMemory(heapOffset)) return -ENOMEM;
  store<u32>(hdr(H_MEDIA_SIZE), mediaBytes);
  store<u32>(hdr(H_LINES_SIZE), mediaBytes >> LINE_SHIFT);
  store<u32>(hdr(H_TABLES_OFFSET), <u32>tablesOffset);
  store<u32>(hdr(H_ALLOC_OFFSET), <u32>allocOffset);
  store<u32>(hdr(H_UNDO_OFFSET), <u32>undoOffset);
  store<u32>(hdr(H_UNDO_SLOTS), undoSlots);
  store<u32>(hdr(H_UNDO_HASH_BUCKETS), buckets);
  store<u32>(hdr(H_ZERO_OFFSET), <u32>zeroOffset);
  store<u32>(hdr(H_POOL_OFFSET), <u32>poolOffset);
  store<u32>(hdr(H_POOL_SIZE), poolBytes);
  store<u32>(hdr(H_POOL_TOP), <u32>poolOffset);
  store<u32>(hdr(H_HEAP_OFFSET), <u32>heapOffset);
  store<u32>(hdr(H_HEAP_TOP), <u32>heapOffset);
  store<u32>(hdr(H_TREE_NEXT_ID), 1);
  store<u32>(hdr(H_VERSION), LAYOUT_VERSION);
  store<u32>(hdr(H_MAGIC), LAYOUT_MAGIC); // last: a half-made layout is never attached
  return layoutAttach();
}

/** Reads the dynamic layout into this instance's globals (worker threads call only this). */
export function layoutAttach(): i32 {
  if (<u64>memory.size() << 16 < <u64>FIXED_END) return -EINVAL;
  if (load<u32>(hdr(H_MAGIC)) != LAYOUT_MAGIC || load<u32>(hdr(H_VERSION)) != LAYOUT_VERSION) return -EINVAL;
  MEDIA_SIZE = load<u32>(hdr(H_MEDIA_SIZE));
  LINES_SIZE = load<u32>(hdr(H_LINES_SIZE));
  CHUNKS = MEDIA_SIZE >> CHUNK_SHIFT;
  TABLES_OFFSET = load<u32>(hdr(H_TABLES_OFFSET));
  ZERO_OFFSET = load<u32>(hdr(H_ZERO_OFFSET));
  POOL_OFFSET = load<u32>(hdr(H_POOL_OFFSET));
  POOL_SIZE = load<u32>(hdr(H_POOL_SIZE));
  ALLOC_OFFSET = load<u32>(hdr(H_ALLOC_OFFSET));
  UNDO_OFFSET = load<u32>(hdr(H_UNDO_OFFSET));
  UNDO_SLOTS = load<u32>(hdr(H_UNDO_SLOTS));
  UNDO_HASH_BUCKETS = load<u32>(hdr(H_UNDO_HASH_BUCKETS));
  HEAP_OFFSET = load<u32>(hdr(H_HEAP_OFFSET));
  return 0;
}

/** The byte address of CPU `cpu`'s command buffer; its result and data buffers follow it. */
export function scratchCommands(cpu: u32): u32 {
  return SCRATCH_OFFSET + cpu * SCRATCH_CPU_SIZE;
}

export function scratchResults(cpu: u32): u32 {
  return scratchCommands(cpu) + SCRATCH_CMD_SIZE;
}

export function scratchData(cpu: u32): u32 {
  return scratchResults(cpu) + SCRATCH_RESULT_SIZE;
}
