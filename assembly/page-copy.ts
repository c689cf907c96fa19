// The page cache's writeback copy in one call: a run of 4 KiB pages, each copied to its own
// media address with non-temporal stores, exactly as one pmNtStore per page would do it (the
// same line states, costs, counters and media traffic, in the same order). It only saves the
// host a crossing and a range check per page; all the hardware work is pmNtStore's own.

import { EINVAL } from './errno';
import { MAX_CPUS, MEDIA_SIZE } from './layout';
import { pmNtStore } from './pmem';
import { reservePages } from './chunks';

const PAGE: u32 = 4096;

/**
 * Copies `count` pages from `src` (page i at src + i * 4096) to the media addresses in the
 * u32 list at `addrs` (page-aligned), in list order, each one non-temporal store of 4096
 * bytes. Every address is checked before any page is stored: 0, or -EINVAL (-ENOMEM)
 * and nothing changed.
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
    const rc = pmNtStore(cpu, load<u32>(addrs + (<usize>i << 2)), src + (<usize>i << 12), PAGE, false);
    if (rc != 0) return rc;
  }
  return 0;
}
