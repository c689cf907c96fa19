/** What selects one matrix cell (src/job/cell.ts runs it, src/job/shared-cell.ts on shared CPUs). */
import type { BugName, FixName, KernelProfile } from '../dax/index.js';
import type { PresetName } from '../hw/index.js';
import type { FlushInstruction, StrategyName } from './strategies.js';
import type { WorkloadName, WorkloadSize } from './workloads/index.js';

/**
 * How the CPUs of a shared cell lay out their data: a file each, or a slice each of one
 * file (src/job/shared-cell.ts).
 */
export const CPU_LAYOUTS = ['files', 'one-file'] as const;
export type CpuLayout = (typeof CPU_LAYOUTS)[number];

export interface CellSpec {
  workload: WorkloadName;
  strategy: StrategyName;
  preset: PresetName;
  kernel: KernelProfile;
  pageSize: 'pte' | 'pmd';
  instruction: FlushInstruction;
  size: WorkloadSize;
  seed: number;
  /** Kernel fixes to run with (src/dax/fixes.ts); none by default. */
  fixes?: FixName[];
  /** Historical kernel bugs to run with (src/dax/bugs.ts); none by default. */
  bugs?: BugName[];
  /** Worker CPUs on one shared emulator (src/job/shared-cell.ts), and how they lay out their data; 1 (the default) runs the cell here. */
  cpus?: number;
  layout?: CpuLayout;
}
