// The page cache's writeback copy in one call: a run of 4 KiB pages, each copied to its own
// media address with non-temporal stores, with exactly the results of one pmNtStore per page
// (the same line states, undo slots and their contents, pending lists, clocks, counters,
// DIMM buffers, queues and calendars, and media bytes), but with the work done a page, a
// run of lines or a media line at a time where its outcome is known:
//   - The undo side first, then the DIMM side. Apart from an undo eviction (which writes a
//     line back to a DIMM, and picks its victim with the rng) the two touch nothing in
//     common, so their order within the store does not matter. A page takes this path only
//     when its 64 lines cannot evict (64 slots are free); otherwise it takes pmNtStore's.
//   - A run of lines without a slot takes its slots at once (undoTakePending, lines.ts):
//     straight onto this CPU's pending list (pendOn would find each slot just taken, on no
//     list), the durable contents copied in one copy per run of consecutive slots (after a
//     fence frees a CPU's whole list, the slots come back in order: a page takes 64 in a row).
//   - The DIMM writes go through ntWriteLines (cost.ts), which knows the DIMM and buffer
//     entry for all but the first line of each media line.
// pmNtStorePagesPath(0) sends every page down pmNtStore's path (and fences free slot by
// slot): the tests compare the two.

import { EINVAL } from './errno';
import { reservePages } from './chunks';
import { C_NT_BYTES, C_NT_LINES, C_NT_STORES, count, cpuState } from './cpu';
import { ntWriteLines } from './cost';
import { MAX_CPUS, MEDIA_SIZE, UNDO_SLOTS } from './layout';
import { LINE_BYTES, LINE_CACHED, LINE_DIRTY, LINE_PENDING, LINE_UNDO, lineAddr, lineState, setLineState, setUndoBulk, undoBulk, undoTakePending, undoUsed } from './lines';
import { giveLines, ntStoreLines, pendOn, takeLines } from './pmem';

const PAGE: u32 = 4096;
const PAGE_LINES: u32 = PAGE / LINE_BYTES;

/**
 * 1: pmNtStorePages takes the page path when it can, and a fence frees a whole pending list
 * at once (undoReleaseAll), the default; 0: pmNtStore's per-line path for every page, and a
 * fence frees slot by slot.
 */
export function pmNtStorePagesPath(fast: u32): void {
  setUndoBulk(fast != 0);
}

/**
 * Copies `count` pages from `src` (page i at src + i * 4096) to the media addresses in the
 * u32 list at `addrs` (page-aligned), in list order, each one non-temporal store of 4096
 * bytes. Every address is checked before any page is stored: 0, or -EINVAL (-ENOMEM when
 * the chunks cannot all have memory) and nothing changed (-EDEADLK from the lines lock).
 */
export function pmNtStorePages(cpu: u32, addrs: usize, src: usize, count: u32): i32 {
  if (cpu >= MAX_CPUS) return -EINVAL;
  for (let i: u32 = 0; i < count; i++) {
    const addr = load<u32>(addrs + (<usize>i << 2));
    if ((addr & (PAGE - 1)) != 0 || <u64>addr + <u64>PAGE > <u64>MEDIA_SIZE) return -EINVAL;
  }
  const room = reservePages(addrs, count, PAGE); // -ENOMEM before any page when the chunks cannot all have memory
  if (room != 0) return room;
  for (let i: u32 = 0; i < count; i++) {
    const addr = load<u32>(addrs + (<usize>i << 2));
    const from = src + (<usize>i << 12);
    const held = takeLines();
    if (held != 0) return held;
    if (undoBulk && undoUsed() + PAGE_LINES <= UNDO_SLOTS) ntStorePage(cpu, addr, from);
    else ntStoreLines(cpu, addr, from, PAGE, false);
    giveLines();
  }
  return 0;
}

/** ntStoreLines of one whole page (`addr` page-aligned) when 64 undo slots are free; the caller holds the lines lock. */
function ntStorePage(cpu: u32, addr: u32, src: usize): void {
  const first = addr >> 6;
  const end = first + PAGE_LINES;
  // Runs of lines without a slot take theirs at once; a line with one only changes lists.
  let line = first;
  while (line < end) {
    let run = line;
    while (run < end && (lineState(run) & LINE_UNDO) == 0) run++;
    undoTakePending(cpu, line, run - line);
    if (run == end) break;
    pendOn(cpu, run);
    setLineState(run, (lineState(run) | LINE_PENDING) & ~(LINE_DIRTY | LINE_CACHED));
    line = run + 1;
  }
  ntWriteLines(cpu, first, PAGE_LINES);
  memory.copy(lineAddr(first), src, PAGE);
  const c = cpuState(cpu);
  count(c, C_NT_STORES, 1);
  count(c, C_NT_LINES, <f64>PAGE_LINES);
  count(c, C_NT_BYTES, <f64>PAGE);
}

