// Sparse media: the media is a table of 2 MiB chunks, and a chunk gets memory only when it
// is first written. A write is anything that changes its bytes or a line's state away from
// zero; until then the chunk reads as the zero chunk (ZERO_OFFSET) and costs its two table
// slots. Every access to media bytes and line states goes through the helpers here and in
// lines.ts (lineState, setLineState, lineAddr).
//
//   TABLES_OFFSET: data[CHUNKS]   u32: where chunk c's 2 MiB are (ZERO_OFFSET until written)
//                  states[CHUNKS] u32: where its 32 KiB of line states are (the zero chunk's
//                                 states, ZERO_OFFSET + 2 MiB, until a line leaves state 0)
//
// A chunk's memory comes from the pool (POOL_OFFSET, POOL_SIZE, the resident budget) in
// order of first write and is never given back. A store's chunk gets its line states and
// its data together, in one piece (states first, then data). A load changes only line
// states (LINE_CACHED): its chunk gets the 32 KiB of states alone, and its data stays the
// zero chunk's until a write, so that reading a large device costs 1/64 of what it reads.
// Flushes and zeroing never give memory: on a chunk without it they change nothing.
//
// Giving memory is checked for the whole access before anything of it changes: an access
// that would take more than is left of the pool fails with -ENOMEM and changes nothing (the
// chunks it did get read as zeros still). Callers hold the lines lock (lock.ts), which
// guards the tables, the pool top and the counts.

import { ENOMEM } from './errno';
import {
  CHUNK_SHIFT, CHUNK_STATE_BYTES, CHUNKS, H_DATA_CHUNKS, H_LINES_LOCK, H_POOL_TOP, H_STATE_CHUNKS, POOL_OFFSET, POOL_SIZE, TABLES_OFFSET, ZERO_OFFSET,
  hdr,
} from './layout';
import { lockGive, lockTake } from './lock';
import { zeroUnlessZero } from './zero';

export const CHUNK_BYTES: u32 = 1 << CHUNK_SHIFT;
export const CHUNK_MASK: u32 = CHUNK_BYTES - 1;
/** Lines per chunk, as a shift: line >> CHUNK_LINE_SHIFT is its chunk. */
export const CHUNK_LINE_SHIFT: u32 = CHUNK_SHIFT - 6;
const CHUNK_LINE_MASK: u32 = (1 << CHUNK_LINE_SHIFT) - 1;
/** Pool bytes of a chunk with data and states. */
export const CHUNK_RESIDENT_BYTES: u32 = CHUNK_BYTES + CHUNK_STATE_BYTES;

@inline function dataSlot(chunk: u32): usize { return <usize>TABLES_OFFSET + (<usize>chunk << 2); }
@inline function stateSlot(chunk: u32): usize { return <usize>TABLES_OFFSET + (<usize>CHUNKS << 2) + (<usize>chunk << 2); }
@inline function zeroStates(): u32 { return ZERO_OFFSET + CHUNK_BYTES; }
@inline export function chunkHasData(chunk: u32): bool { return load<u32>(dataSlot(chunk)) != ZERO_OFFSET; }
@inline export function chunkHasStates(chunk: u32): bool { return load<u32>(stateSlot(chunk)) != zeroStates(); }

/** Where media byte `addr` is read: its chunk's data, or the zero chunk's. */
@inline export function mediaAt(addr: u32): usize {
  return <usize>load<u32>(dataSlot(addr >> CHUNK_SHIFT)) + <usize>(addr & CHUNK_MASK);
}

/** Where line `line`'s state byte is (the zero chunk's for a chunk whose states have no memory). */
@inline export function stateAt(line: u32): usize {
  return <usize>load<u32>(stateSlot(line >> CHUNK_LINE_SHIFT)) + <usize>(line & CHUNK_LINE_MASK);
}

/** Pool bytes chunk `c` still needs: for its data and states (`data`), or its states alone. */
function chunkNeed(c: u32, data: bool): u32 {
  if (chunkHasData(c)) return 0;
  if (!data) return chunkHasStates(c) ? 0 : CHUNK_STATE_BYTES;
  return chunkHasStates(c) ? CHUNK_BYTES : CHUNK_RESIDENT_BYTES;
}

/** Hands out `bytes` of the pool (the caller checked the room). */
function poolTake(bytes: u32): u32 {
  const at = load<u32>(hdr(H_POOL_TOP));
  store<u32>(hdr(H_POOL_TOP), at + bytes);
  return at;
}

function bump(field: u32): void {
  store<u32>(hdr(field), load<u32>(hdr(field)) + 1);
}

function chunkGive(c: u32, data: bool): void {
  if (!chunkHasStates(c)) {
    store<u32>(stateSlot(c), poolTake(CHUNK_STATE_BYTES));
    bump(H_STATE_CHUNKS);
  }
  if (data && !chunkHasData(c)) {
    store<u32>(dataSlot(c), poolTake(CHUNK_BYTES));
    bump(H_DATA_CHUNKS);
  }
}

/**
 * Gives every chunk of [addr, addr + len) (inside the media) the memory an access needs:
 * its data and line states for a write (`data`), its line states for a load. All or
 * nothing: 0, or -ENOMEM when the pool cannot hold them all. The caller holds the lines lock.
 */
export function chunksReserve(addr: u32, len: u32, data: bool): i32 {
  if (len == 0) return 0;
  const first = addr >> CHUNK_SHIFT;
  const last = (addr + len - 1) >> CHUNK_SHIFT;
  let need: u64 = 0;
  for (let c = first; c <= last; c++) need += chunkNeed(c, data);
  if (need == 0) return 0;
  if (<u64>load<u32>(hdr(H_POOL_TOP)) + need > <u64>POOL_OFFSET + <u64>POOL_SIZE) return -ENOMEM;
  for (let c = first; c <= last; c++) chunkGive(c, data);
  return 0;
}

/**
 * Every line state back to 0; the media's bytes stay as they are. On a fresh layout (table
 * slots still 0) every chunk starts as the zero chunk.
 */
export function chunksInit(): void {
  for (let c: u32 = 0; c < CHUNKS; c++) {
    if (load<u32>(dataSlot(c)) == 0) store<u32>(dataSlot(c), ZERO_OFFSET);
    const states = load<u32>(stateSlot(c));
    if (states == 0) store<u32>(stateSlot(c), zeroStates());
    else if (states != zeroStates()) zeroUnlessZero(<usize>states, CHUNK_STATE_BYTES);
  }
}

/** Chunks whose data has memory of its own (the media's resident chunks). */
export function mediaDataChunks(): u32 {
  return load<u32>(hdr(H_DATA_CHUNKS));
}

/** Chunks whose line states have memory (every data chunk, and those only loaded from). */
export function mediaStateChunks(): u32 {
  return load<u32>(hdr(H_STATE_CHUNKS));
}

/** Pool bytes handed out. */
export function mediaPoolUsed(): u32 {
  return load<u32>(hdr(H_POOL_TOP)) - POOL_OFFSET;
}

/**
 * For the host, which reads and writes media bytes without the cost model (crash images,
 * pools): the address of chunk `c`'s data, the zero chunk's if it has none and `write` is
 * 0; with `write` 1 it is given memory first. 0 when `c` is past the media; -errno (-ENOMEM
 * when the pool is spent). An f64, so that an address past 2 GiB reaches the host whole.
 */
export function mediaChunkData(c: u32, write: u32): f64 {
  if (c >= CHUNKS) return 0;
  if (write != 0 && !chunkHasData(c)) {
    const rc = mediaReserve(c << CHUNK_SHIFT, CHUNK_BYTES, 1);
    if (rc != 0) return <f64>rc;
  }
  return <f64>load<u32>(dataSlot(c));
}

/** The address of chunk `c`'s line states (the zero chunk's when it has none), or 0 past the media; an f64 as above. */
export function mediaChunkStates(c: u32): f64 {
  return c < CHUNKS ? <f64>load<u32>(stateSlot(c)) : 0;
}

/** Whether chunk `c` has data of its own: 1, 0, or -1 past the media. */
export function mediaChunkResident(c: u32): i32 {
  return c < CHUNKS ? (chunkHasData(c) ? 1 : 0) : -1;
}

/** chunksReserve for writes of `len` bytes at each of the `count` u32 media addresses at `addrs`, under the lines lock. */
export function reservePages(addrs: usize, count: u32, len: u32): i32 {
  const held = lockTake(hdr(H_LINES_LOCK));
  if (held != 0) return held;
  let rc: i32 = 0;
  for (let i: u32 = 0; i < count && rc == 0; i++) rc = chunksReserve(load<u32>(addrs + (<usize>i << 2)), len, true);
  lockGive(hdr(H_LINES_LOCK));
  return rc;
}

/**
 * Gives memory to what [addr, addr + len) will need before a host-split access runs its
 * pieces (src/core/pmem.ts), so that a store too large for one call fails whole or not at
 * all: 0, -ENOMEM or -EDEADLK. The range was checked by the host.
 */
export function mediaReserve(addr: u32, len: u32, write: u32): i32 {
  const held = lockTake(hdr(H_LINES_LOCK));
  if (held != 0) return held;
  const rc = chunksReserve(addr, len, write != 0);
  lockGive(hdr(H_LINES_LOCK));
  return rc;
}
