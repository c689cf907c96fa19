/** Helpers of the pmem hardware tests: a core with its hardware initialised, and the model beside it. */
import { Core, type WasmBuild } from '../src/core/index.js';
import { coreCostParams, type CostModel } from '../src/hw/cost-model.js';
import { ModelPmem } from '../src/model/pmem.js';

/** The parameter array of Core.initHardware. */
export const hardwareParams = coreCostParams;

export interface HardwareOptions {
  mediaBytes: number;
  undoSlots: number;
  cost: CostModel;
  seed: number;
}

/** A fresh core (256 MiB memory limit) with its hardware set up as `options` say. */
export async function makeHardware(build: WasmBuild, options: HardwareOptions): Promise<Core> {
  const core = await Core.create({ build, mediaBytes: options.mediaBytes, undoSlots: options.undoSlots, maximumPages: 4096 });
  core.initHardware(hardwareParams(options.cost), options.seed);
  return core;
}

/** The instructions and read-outs that the core and the model share, by the same names. */
export type Pmem = Pick<
  ModelPmem,
  'pmStore' | 'pmLoad' | 'pmFlush' | 'pmFence' | 'pmNow' | 'pmCounter' | 'pmMediaCounter' | 'pmUndoUsed' | 'pmLineState'
>;

/** A non-durable line, read the same way from either side (the core's undo copy read out of its memory). */
export interface UndoRecord {
  line: number;
  state: number;
  cpu: number;
  durable: Uint8Array;
}

/** The undo list of a core or a model, sorted by line. */
export function undoRecords(pm: Core | ModelPmem): UndoRecord[] {
  const list =
    pm instanceof Core
      ? pm.pmUndoList().map((r) => ({ line: r.line, state: r.state, cpu: r.cpu, durable: pm.readMemory(r.data, 64) }))
      : pm.pmUndoList();
  return list.sort((a, b) => a.line - b.line);
}

/** The media bytes of a core or a model. */
export function mediaOf(pm: Core | ModelPmem): Uint8Array {
  return pm instanceof Core ? pm.mediaView() : pm.media();
}

/** A hardware instance for a focused test: a core of the given build, or the model itself. */
export async function makePmem(target: WasmBuild | 'model', options: HardwareOptions): Promise<Core | ModelPmem> {
  return target === 'model' ? new ModelPmem(options) : makeHardware(target, options);
}
