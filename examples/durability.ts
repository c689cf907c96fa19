// What a power failure keeps, and what making data durable costs, on one Optane DIMM.
// Run: npx tsx examples/durability.ts
import { createEmulator } from 'daxemu';

const emu = await createEmulator({ capacity: 64 << 20, preset: 'optane-g1', seed: 1 });
const m = emu.mmapDevice();
const record = new TextEncoder().encode('balance=100;');

let t = emu.now();
m.store(0, record); // in the cache only
console.log(`store           ${(emu.now() - t).toFixed(1)} ns, non-durable lines: ${emu.stats().nonDurableLines}`);
const lost = await emu.crash({ mode: 'guaranteed' });
console.log(`crash now keeps "${new TextDecoder().decode(lost.mmapDevice().load(0, record.length)).replace(/\0/g, '.')}"`);

t = emu.now();
m.clwb(0, record.length);
emu.sfence();
console.log(`clwb + sfence   ${(emu.now() - t).toFixed(1)} ns, non-durable lines: ${emu.stats().nonDurableLines}`);
const kept = await emu.crash({ mode: 'guaranteed' });
console.log(`crash now keeps "${new TextDecoder().decode(kept.mmapDevice().load(0, record.length))}"`);

t = emu.now();
m.ntstore(4096, new Uint8Array(4096).fill(1));
emu.sfence();
console.log(`4 KiB ntstore + sfence ${(emu.now() - t).toFixed(1)} ns`);
const s = emu.stats();
console.log(`lines written back: ${s.dirtyLinesFlushed} dirty, ${s.cleanLinesFlushed} clean; NT lines ${s.ntLines}; fences ${s.fences}`);
