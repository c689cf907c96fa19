// A persistent append-only log with a checksum, as a small PMDK program would write it with
// libpmem (in the manner of PMDK's src/examples/libpmem/manpage.c), ported line by line:
// each line carries the C it stands for. The log's header (used bytes, checksum of the
// records) sits in the first 8 bytes and is updated with one 8-byte store after the record
// is durable, so a crash leaves either the old log or the new one, never a torn one.
// The run is recorded, and the analysis prints what it finds.
// Run: npx tsx examples/pmem-log.ts
import { createEmulator } from 'daxemu';
import { PMEM_FILE_CREATE, pmemInit } from 'daxemu/libpmem';
import { analyze, startRecording } from 'daxemu/trace';

const LOG_LEN = 64 * 1024; //                           #define LOG_LEN (64 * 1024)
const DATA = 64; //                                     #define DATA 64  (records start after the header's line)

/** FNV-1a over bytes, 32 bits: the log's checksum. */
function checksum(bytes: Uint8Array): number { //       static uint32_t checksum(const uint8_t *p, size_t n)
  let h = 0x811c9dc5; //                                  uint32_t h = 2166136261u;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0; // for (...) h = (h ^ p[i]) * 16777619u;
  return h; //                                            return h;
}

const emu = startRecording(await createEmulator({ capacity: 16 << 20 }));
const pmem = pmemInit(emu); //                          (libpmem initialises itself when loaded)
const { addr, isPmem } = pmem.pmem_map_file('/pmem/log', LOG_LEN, PMEM_FILE_CREATE, 0o666); // addr = pmem_map_file(path, LOG_LEN, PMEM_FILE_CREATE, 0666, &mapped, &is_pmem);
const header = (used: number, sum: number): Uint8Array => new Uint8Array(new Uint32Array([used, sum]).buffer);

function append(record: Uint8Array, persistHeader = true): void { // static void log_append(char *addr, const void *rec, size_t len)
  const view = new DataView(pmem.read('hdr', addr, 8).buffer); //  struct hdr *h = (struct hdr *)addr;
  const used = view.getUint32(0, true); //                     uint32_t used = h->used;
  pmem.pmem_memcpy_persist(addr + DATA + used, record); //      pmem_memcpy_persist(addr + DATA + used, rec, len);
  const sum = checksum(pmem.read('log', addr + DATA, used + record.length)); // uint32_t sum = checksum(addr + DATA, used + len);
  pmem.pmem_memcpy_nodrain(addr, header(used + record.length, sum)); //  *(uint64_t *)h = ((uint64_t)sum << 32) | (used + len);
  if (persistHeader) pmem.pmem_drain(); //                     pmem_drain();
}

function check(label: string, lib = pmem, at = addr): void {
  const view = new DataView(lib.read('hdr', at, 8).buffer);
  const used = view.getUint32(0, true);
  const ok = checksum(lib.read('log', at + DATA, used)) === view.getUint32(4, true);
  console.log(`${label.padEnd(28)} used ${String(used).padStart(3)} B, checksum ${ok ? 'ok' : 'BAD'}`);
}

console.log(`is_pmem ${isPmem ? 1 : 0}, flush with ${pmem.funcs.flush}, non-temporal from ${pmem.funcs.movntThreshold} B`);
const enc = new TextEncoder();
append(enc.encode('first record'));
append(enc.encode('a second, longer record'));
append(new Uint8Array(300).fill(0x2a)); //              300 B: the middle goes non-temporal
check('after three appends');
const s = emu.stats();
console.log(`stores ${s.stores}, nt bytes ${s.ntBytes - s.dax.zeroingLines * 64} (less the zeroing of new blocks), clwb lines ${s.clwb.dirty} dirty ${s.clwb.clean} clean, sfences ${s.sfences}`);
append(enc.encode('never drained'), false); //          the header store is flushed but not fenced
for (const mode of ['guaranteed', 'adversarial'] as const) {
  const image = await emu.emulator.crash({ mode });
  const lib = pmemInit(image);
  check(`after the ${mode} crash`, lib, lib.pmem_map_file('/pmem/log', 0, 0).addr);
}
const report = await analyze(emu.stop());
for (const f of report.summary) console.log(`analysis: ${f.count} ${f.kind} (${f.verdict}), ${f.ns.toFixed(1)} ns`);
