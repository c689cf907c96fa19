/** Runs a hardware command buffer on the reference model, record by record (assembly/pmcmd.ts's loop). */
import { PM_CLFLUSH, PM_CLFLUSHOPT, PM_CLWB, PM_LOAD, PM_MFENCE, PM_NTSTORE, PM_SFENCE, PM_STORE, type CommandBuilder } from '../src/hw/commands.js';
import type { ModelPmem } from '../src/model/pmem.js';

/** Runs `commands` on CPU 0 of `model`; returns the model's clock afterwards. */
export function runRecordsOnModel(model: ModelPmem, commands: CommandBuilder): number {
  const { records, data } = commands.encoded();
  for (let i = 0; i < records.length; i += 4) {
    const op = records[i]!;
    const addr = records[i + 1]!;
    const len = records[i + 2]!;
    const off = records[i + 3]!;
    if (op === PM_STORE) model.pmStore(0, addr, data.subarray(off, off + len));
    else if (op === PM_NTSTORE) model.pmStore(0, addr, data.subarray(off, off + len), true);
    else if (op === PM_LOAD) data.set(model.pmLoad(0, addr, len), off);
    else if (op === PM_CLFLUSH) model.pmFlush(0, 0, addr, len);
    else if (op === PM_CLFLUSHOPT) model.pmFlush(0, 1, addr, len);
    else if (op === PM_CLWB) model.pmFlush(0, 2, addr, len);
    else if (op === PM_SFENCE || op === PM_MFENCE) model.pmFence(0, op === PM_MFENCE);
  }
  return model.pmNow(0);
}
