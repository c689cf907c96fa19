/**
 * The bandwidth suite: the emulated sustained bandwidths that the README sets beside
 * FAST'20 (J. Yang et al.; NVSL/OptaneStudy graphs/): Fig. 12's bandwidth panel (6 CPUs on
 * six interleaved DIMMs, an sfence per access), Fig. 13 (one CPU, one DIMM, an sfence every
 * N bytes) and Fig. 4 with one DIMM (reads from 1 to 4 CPUs, 4 KiB accesses). Emulated time,
 * so the figures do not vary between runs; each case names the published value.
 */
import { metric, type MetricCase } from './case.js';
import { streamBandwidth, type StreamKind } from './stream-bandwidth.js';
import type { SuiteOptions } from './suite.js';

const SIZES = [64, 128, 256, 512, 1024, 4096];
const FIG12: Record<'ntstore' | 'clwb', number[]> = {
  ntstore: [1.83, 3.55, 6.84, 13.23, 13.42, 13.45],
  clwb: [2.76, 4.98, 6.63, 6.67, 6.69, 6.89],
};
const FIG13: Record<'ntstore' | 'clwb', number[]> = {
  ntstore: [0.3375, 0.65, 1.2625, 2.2125, 2.2375, 2.2375],
  clwb: [0.571875, 0.990625, 1.30625, 1.21875, 1.228125, 1.10625],
};
const FIG4_READS = [2.92, 5.66, 6.45, 6.52];

const label = (kind: StreamKind): string => (kind === 'clwb' ? 'store+clwb' : kind);

export async function runBandwidthSuite(options: SuiteOptions): Promise<MetricCase[]> {
  const cases: MetricCase[] = [];
  const sizes = options.quick ? [64, 4096] : SIZES;
  for (const kind of ['ntstore', 'clwb'] as const) {
    for (const size of sizes) {
      const i = SIZES.indexOf(size);
      options.progress(`${label(kind)} ${size} B`);
      const fig12 = await streamBandwidth('optane-g1-6dimm', 6, kind, size);
      cases.push(metric(`Fig. 12 ${label(kind)}, ${size} B, 6 CPUs, 6 DIMMs (published ${FIG12[kind][i]})`, fig12, 'GB/s'));
      const fig13 = await streamBandwidth('optane-g1', 1, kind, size);
      cases.push(metric(`Fig. 13 ${label(kind)}, ${size} B per sfence, 1 CPU, 1 DIMM (published ${FIG13[kind][i]})`, fig13, 'GB/s'));
    }
  }
  for (let cpus = 1; cpus <= (options.quick ? 2 : 4); cpus++) {
    options.progress(`reads, ${cpus} CPUs`);
    const reads = await streamBandwidth('optane-g1', cpus, 'load', 4096, 16 << 20);
    cases.push(metric(`Fig. 4 reads, 4 KiB, ${cpus} CPUs, 1 DIMM (published ${FIG4_READS[cpus - 1]})`, reads, 'GB/s'));
  }
  return cases;
}
