// One file, mapped twice: what the two modern kernel profiles do on faults and msync.
// Run: npx tsx examples/dax.ts
import { createEmulator } from 'daxemu';

for (const kernel of ['linux-6.12', 'linux-6.1'] as const) {
  const emu = await createEmulator({ capacity: 64 << 20, kernel });
  const f = emu.createFile('/log', { size: 4 << 20 });
  const m = emu.mmap(f); // 2 MiB-aligned, matching colour: PMD faults succeed
  const show = (): string => f.entries().map((e) => `${e.index}${e.order ? '..' + (e.index + 511) : ''}:${e.kind}${e.dirty ? '{D}' : '{}'}`).join(' ');
  console.log(`${kernel}`);
  console.log(`  read 2 MiB hole  -> ${m.fault(0, 'read').result.padEnd(8)} tree ${show()}`);
  m.store(2 << 20, new TextEncoder().encode('hello'));
  console.log(`  store at 2 MiB   -> tree ${show()}`);
  const r = m.msync(0, 4 << 20, { sync: true });
  console.log(`  msync            -> ${r.entries} entries, ${r.lines} lines (${r.dirtyLines} dirty), ${r.fences} fence, ${(r.ns / 1000).toFixed(1)} us`);
  console.log(`  after msync      -> tree ${show()}`);
}
