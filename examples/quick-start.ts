// The README's quick start: a DAX file, a store, an msync, a crash image and a pool file.
// Run: npx tsx examples/quick-start.ts
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmulator, openEmulator } from 'daxemu';

const emu = await createEmulator({ capacity: 64 << 20, kernel: 'linux-6.12', preset: 'optane-g1' });
const f = emu.createFile('/log', { size: 4 << 20 });
const m = emu.mmap(f); // 2 MiB-aligned: PMD faults succeed
m.store(0, new TextEncoder().encode('hello'));
const r = m.msync(0, 4 << 20); // entries, lines flushed (dirty/clean), fences, emulated ns
console.log(`msync: ${r.pmdEntries} PMD entry, ${r.lines} lines (${r.dirtyLines} dirty), ${(r.ns / 1000).toFixed(1)} us`);
m.store(0, new TextEncoder().encode('HELLO')); // not made durable
const image = await emu.crash({ mode: 'guaranteed' }); // what a power failure now would leave
console.log(`after a crash: "${new TextDecoder().decode(image.open('/log').pread(0, 5))}"`);
const pool = join(await mkdtemp(join(tmpdir(), 'daxemu-')), 'device.pool');
const saved = await emu.save(pool); // the durable state, atomically
const again = await openEmulator(pool);
console.log(`pool: ${saved.chunks} chunk of data, reopened: "${new TextDecoder().decode(again.open('/log').pread(0, 5))}"`);
