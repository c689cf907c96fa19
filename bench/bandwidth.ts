/**
 * The bandwidth suite: the emulated sustained bandwidths that the README sets beside
 * FAST'20 (J. Yang et al.; NVSL/OptaneStudy graphs/): Fig. 12's bandwidth panel (6 CPUs on
 * six interleaved DIMMs, an sfence per access), Fig. 13 (one CPU, one DIMM, an sfence every
 * N bytes), Fig. 4 with one DIMM (reads from 1 to 4 CPUs, writes from 1 to 8, 4 KiB
 * accesses) and Fig. 5 with one DIMM (random accesses of each size, no fence per access).
 * Emulated time,
 * so the figures do not vary between runs; each case names the published value.
 */
import { metric, type MetricCase } from './case.js';
import { FIG12_GBPS, FIG13_GBPS, FIG4_NI_WRITE_ROWS, FIG4_READ_GBPS, FIG5_NI_GBPS, FIG5_NI_THREADS, PUBLISHED_SIZES } from './published-bandwidth.js';
import { RANDOM_UNFENCED, streamBandwidth, type StreamKind } from './stream-bandwidth.js';
import type { SuiteOptions } from './suite.js';

const label = (kind: StreamKind): string => (kind === 'clwb' ? 'store+clwb' : kind);

export async function runBandwidthSuite(options: SuiteOptions): Promise<MetricCase[]> {
  const cases: MetricCase[] = [];
  const sizes = options.quick ? [64, 4096] : PUBLISHED_SIZES;
  for (const kind of ['ntstore', 'clwb'] as const) {
    for (const size of sizes) {
      const i = PUBLISHED_SIZES.indexOf(size);
      options.progress(`${label(kind)} ${size} B`);
      const fig12 = await streamBandwidth('optane-g1-6dimm', 6, kind, size);
      cases.push(metric(`Fig. 12 ${label(kind)}, ${size} B, 6 CPUs, 6 DIMMs (published ${FIG12_GBPS[kind][i]})`, fig12, 'GB/s'));
      const fig13 = await streamBandwidth('optane-g1', 1, kind, size);
      cases.push(metric(`Fig. 13 ${label(kind)}, ${size} B per sfence, 1 CPU, 1 DIMM (published ${FIG13_GBPS[kind][i]})`, fig13, 'GB/s'));
    }
  }
  for (let cpus = 1; cpus <= (options.quick ? 2 : 4); cpus++) {
    options.progress(`reads, ${cpus} CPUs`);
    const reads = await streamBandwidth('optane-g1', cpus, 'load', 4096, 16 << 20);
    cases.push(metric(`Fig. 4 reads, 4 KiB, ${cpus} CPUs, 1 DIMM (published ${FIG4_READ_GBPS[cpus - 1]})`, reads, 'GB/s'));
  }
  for (const { kind, cpus, gbps } of FIG4_NI_WRITE_ROWS) {
    if (options.quick && cpus % 4 !== 0) continue;
    options.progress(`${label(kind)}, ${cpus} CPUs`);
    const writes = await streamBandwidth('optane-g1', cpus, kind, 4096);
    cases.push(metric(`Fig. 4 ${label(kind)} + sfence, 4 KiB, ${cpus} CPUs, 1 DIMM (published ${gbps})`, writes, 'GB/s'));
  }
  for (const kind of ['load', 'ntstore', 'clwb'] as const) {
    const cpus = FIG5_NI_THREADS[kind];
    for (const size of sizes) {
      options.progress(`random ${label(kind)} ${size} B`);
      const random = await streamBandwidth('optane-g1', cpus, kind, size, 8 << 20, RANDOM_UNFENCED);
      const published = FIG5_NI_GBPS[kind][PUBLISHED_SIZES.indexOf(size)];
      cases.push(metric(`Fig. 5 ${label(kind)} at random, ${size} B, ${cpus} CPUs, 1 DIMM (published ${published})`, random, 'GB/s'));
    }
  }
  return cases;
}
