/**
 * hw: the emulated persistent-memory hardware as the host drives it. It owns the cost model
 * and its presets, the machine (current CPU, fences, clocks, the block allocator), device
 * mappings, the hardware command buffer, counters, and crash images of the media.
 *
 * May import: base, core.
 */
export { Hardware } from './hardware.js';
export { DeviceMapping, FLUSH_CLFLUSH, FLUSH_CLFLUSHOPT, FLUSH_CLWB, type MappingHost } from './device-mapping.js';
export { CommandBuilder, PM_STORE, PM_LOAD, PM_NTSTORE, PM_CLFLUSH, PM_CLFLUSHOPT, PM_CLWB, PM_SFENCE, PM_MFENCE } from './commands.js';
export { runScratch, type RunResult } from './run.js';
export { CRASH_MODES, checkCrashMode, durableChunks, type CrashMode } from './crash.js';
export { readStats, statsFromSnapshot, changedCounters, type EmulatorStats, type FlushCounts } from './stats.js';
export { COST_FIELDS, LATER_FIELDS, coreCostParams, coldLineNs, contentionSlowdown, type CostModel, type CostModelInput } from './cost-model.js';
export { PRESETS, PRESET_NAMES, resolveCostModel, describePresets, type PresetName, type Persistence } from './presets.js';
