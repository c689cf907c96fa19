import { runCell } from './dist/job/index.js';
import { runSharedCell } from './dist/job/shared-cell.js';
import { workloadByName } from './dist/job/workloads/index.js';
const spec: any = { workload: 'kv-update', strategy: 'user-flush', preset: 'dram', kernel: 'linux-6.12', pageSize: 'pmd', instruction: 'clwb', size: { ops: 200, opsPerSync: 8 }, seed: 1 };
const one = await runCell(spec);
console.log('one', one.ops, one.ns, one.nsPerOp, one.linesPerSync, one.fencesPerSync, one.faults);
const w = await runSharedCell({ ...spec, cpus: 1, layout: 'files' }, workloadByName('kv-update', spec.size));
console.log('shared1', w.ops, w.ns, w.nsPerOp, w.linesPerSync, w.fencesPerSync, w.faults);
