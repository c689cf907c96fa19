// A program as a user of the installed package writes it: every export of 'daxemu' and
// 'daxemu/bench' is imported and used (the compile runs with noUnusedLocals, so an import
// left unused fails), and what the program sees is printed as JSON for
// test/package.test.ts to check. It is compiled and run in a fresh folder where only the
// packed tarball is installed.
import {
  BatchBuilder, CRASH_MODES, CommandBuilder, Core, DAX_EMPTY, DAX_LOCKED, DAX_PFN_MAX, DAX_PMD, DAX_SHIFT, DAX_WAIT_TABLE_BITS, DAX_ZERO_PAGE,
  DEFAULT_CACHE_BYTES, DEFAULT_CAPACITY, DeviceMapping, ERRNO, Emulator, InvariantError, KERNEL_PROFILES, MAX_CAPACITY, MAX_ERRNO, ModelForest,
  PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE, PAGECACHE_TAG_WRITEBACK, PMD_NR, PMD_ORDER, PRESETS, PRESET_NAMES, PmemError, Rng, XA_CHUNK_SHIFT,
  XA_CHUNK_SIZE, XA_MAX_INDEX, XA_MAX_MARKS, XA_RETRY_ENTRY, XA_ZERO_ENTRY, batchOps, createEmulator, daxEntryOrder, daxFlags, daxIsConflict,
  daxIsEmptyEntry, daxIsLocked, daxIsPmdEntry, daxIsPteEntry, daxIsZeroEntry, daxLockedEntry, daxMkEntry, daxToPfn, daxUnlockedEntry, describePresets,
  entryKey, resolveCostModel, runBatchByOps, waitBucket, xaIsErr, xaIsInternal, xaIsNode, xaIsPointer, xaIsSibling, xaIsValue, xaMkError, xaMkInternal,
  xaMkSibling, xaMkValue, xaToErrno, xaToInternal, xaToValue, openEmulator, checkPool, POOL_FORMAT_VERSION, setWasmSource, attachEmulator,
  type AttachedEmulator, type AttachedFile, type AttachedMapping, type ShareHandle,
  type Allocate, type ConcurrentTask, type CoreLayout, type CoreOptions, type CoreStats, type CostModel, type CostModelInput, type CrashMode,
  type DaxCounters, type DaxFile, type EmulatorOptions, type EmulatorStats, type EntryKey, type ErrnoName, type FaultKind, type FaultResult,
  type FileEntry, type FileMapping, type FlushCounts, type Forest, type FoundEntry, type KernelProfile, type Persistence, type PmemErrorCode,
  type PresetName, type ResolvedOptions, type RunResult, type Trace, type TraceEvent, type TraceName, type TreeEntry, type WaitEvent, type WakeMode,
  type WasmBuild, type WritebackReport, type PoolInfo, type PoolSaveReport, type PoolHeader, type WasmSource,
} from 'daxemu';
import {
  CHARTS_NEED, REPORT_FILES, cellsToCsv, chartsAvailable, cheapestPerWorkload, flushCostChart, flushCostToCsv, formatBenchText, formatCellTable,
  formatFlushCostTable, reportMarkdown, strategyChart, writeReport, type BenchTextOptions, type CellTableOptions, type WorkloadWinner,
} from 'daxemu/report';
import {
  Libpmem, PMEM_FILE_CREATE, PMEM_FILE_EXCL, PMEM_FILE_SPARSE, PMEM_FILE_TMPFILE, PMEM_F_MEM_NODRAIN, PMEM_F_MEM_NOFLUSH, PMEM_F_MEM_NONTEMPORAL, PMEM_F_MEM_TEMPORAL,
  PMEM_F_MEM_VALID_FLAGS, PMEM_F_MEM_WB, PMEM_F_MEM_WC, PMEM_MOVNT_THRESHOLD, choosePmemFuncs, pmemInit,
  type PmemFlushInstruction, type PmemFuncs, type PmemHost, type PmemInitOptions, type PmemMap, type PmemMappingLike,
} from 'daxemu/libpmem';
import {
  FINDING_KINDS, RecordingDevice, RecordingEmulator, RecordingFile, RecordingFileMapping, TRACE_MAGIC, TRACE_VERSION, analysisMarkdown, analyze, encodeBinaryTrace, encodePath,
  fileChunks, fileLines, fillBytes, fioIologStream, isByteSource, writeBinaryTrace, formatAnalysisTable, importFioIolog, importPmemcheck, isBinaryTrace, pmemcheckStream, replay, replayBinary, replayOn, startRecording, stringLines,
  type AnalysisReport, type AnalyzeOptions, type Finding, type FindingKind, type FindingSummary, type ByteSource, type FioImportOptions, type ImportedStream, type ImportedTrace, type LineSource,
  type PmemcheckImportOptions, type RecordingOptions, type ReplayObserver, type ReplayOptions, type ReplayResult, type TraceOp, type Verdict,
  FTRACE_EVENTS, FTRACE_KERNELS, formatFtraceDiff, ftraceDiff, ftraceEvents, parseFtrace, TRACE_MINOR, type RecordingTask, type TraceTask,
  type FieldDifference, type FtraceDiffOptions, type FtraceDiffReport, type FtraceDifference, type FtraceKernel, type KernelTraceEvent,
} from 'daxemu/trace';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DEFAULT_DIRTY_COUNTS, FLUSH_COST_STRATEGIES, MOVNT_THRESHOLD, OPT_IN_STRATEGIES, STRATEGY_NAMES, WORKLOAD_NAMES, parseTrace, planCells, runCell, runFlushCost, runMatrix, startStrategy,
  strategyRuns, strategySetup, traceWorkload, workloadByName, parseShard, shardCells, mergeShards, CPU_LAYOUTS, MAX_SHARED_CPUS,
  type CpuLayout, type StrategyCpu, type StrategyMapping,
  type MatrixSelection, type Shard, type CellResult, type CellSpec, type FlushCostOptions, type FlushCostStrategy, type FlushCostRow, type FlushInstruction, type MatrixOptions, type MatrixReport,
  type StrategyName, type StrategyRun, type StrategySetup, type Workload, type WorkloadName, type WorkloadSize, type WorkloadStep,
} from 'daxemu/bench';

const out: Record<string, unknown> = {};

// ---- the emulator, a file, a PMD mapping, a store, msync, a crash -----------------------
const kernel: KernelProfile = KERNEL_PROFILES[0]!;
const preset: PresetName = PRESET_NAMES[0]!;
const options: EmulatorOptions = { capacity: 16 << 20, kernel, preset, seed: 7 };
const emu: Emulator = await createEmulator(options);
const resolved: ResolvedOptions = emu.options;
const persistence: Persistence = resolved.persistence;
const allocate: Allocate = 'none';
const file: DaxFile = emu.createFile('/f', { size: 4 << 20, allocate });
const trace: Trace = emu.startTrace();
const mapping: FileMapping = emu.mmap(file);
const fault: FaultResult = mapping.fault(0, 'write');
const kind: FaultKind = fault.result;
mapping.store(8, new Uint8Array([1, 2, 3]));
const report: WritebackReport = mapping.msync(0, 4 << 20);
const events: TraceEvent[] = trace.stop();
const names: TraceName[] = events.map((e) => e.name);
const entries: FileEntry[] = file.entries();
const stats = emu.stats();
const hardwareStats: EmulatorStats = stats;
const clwb: FlushCounts = hardwareStats.clwb;
const dax: DaxCounters = stats.dax;
const mode: CrashMode = CRASH_MODES[0]!;
const image = await emu.crash({ mode });
emu.checkInvariants();
out.emulator = {
  persistence, kind, fallback: fault.fallback, pmdEntries: report.pmdEntries, lines: report.lines, dirtyLines: report.dirtyLines,
  names, entries: entries.map((e) => `${e.index}:${e.kind}:${e.order}:${e.dirty}`), clwbDirty: clwb.dirty, pmdFaults: dax.pmdFaults,
  survived: [...image.open('/f').pread(8, 3)], defaults: [DEFAULT_CAPACITY, DEFAULT_CACHE_BYTES, MAX_CAPACITY],
};
image.dispose();
{
  // `using` with the package's types alone (ES2022 target, no esnext lib in this tsconfig).
  using scoped = await emu.crash();
  out.disposed = [image.disposed, scoped.disposed];
}

// ---- the hardware: a device mapping, the command buffer, presets --------------------------
const device: DeviceMapping = emu.mmapDevice({ offset: 8 << 20, length: 4096 });
device.store(0, new Uint8Array([9]));
device.clwb(0, 1);
emu.sfence();
const commands: CommandBuilder = emu.commands();
commands.store(8 << 20, new Uint8Array(64).fill(5)).clwb(8 << 20, 64).sfence().load(8 << 20, 4);
const run: RunResult = emu.run(commands);
const cost: CostModel = resolveCostModel(preset);
const custom: CostModelInput = { ...PRESETS[preset] };
out.hardware = {
  loaded: [...run.loads[0]!], clwbDirty: run.counters['clwb.dirty'], sameCost: resolveCostModel(custom).writebackNs === cost.writebackNs,
  describes: describePresets().includes(preset),
};

// ---- errors --------------------------------------------------------------------------------
const errno: ErrnoName = 'EINVAL';
let caught: PmemErrorCode | undefined;
try {
  mapping.store(-1, new Uint8Array(1));
} catch (err) {
  if (err instanceof PmemError) caught = err.code;
}
out.errors = { caught, einval: ERRNO[errno], maxErrno: MAX_ERRNO, invariantError: new InvariantError('x').name };

// ---- the core and its trees, against the reference model -----------------------------------
const build: WasmBuild = 'release';
// The wasm handed over as bytes, as a page does whose bundler moved build/ elsewhere.
const wasmSource: WasmSource = await readFile(new URL('build/release.wasm', import.meta.resolve('daxemu/package.json')));
setWasmSource(wasmSource, build);
const coreOptions: CoreOptions = { build };
const core: Core = await Core.create(coreOptions);
out.wasm = { bytes: (wasmSource as Uint8Array).length > 1000, laidOut: core.layout.maxCpus > 0 };
const layout: CoreLayout = core.layout;
const forests: Forest[] = [core, new ModelForest()];
const word = daxMkEntry(42, DAX_PMD);
const batch = new BatchBuilder();
const treeResults = forests.map((forest) => {
  const tree = forest.createTree();
  forest.store(tree, 512, PMD_ORDER, word);
  forest.setMark(tree, 600, PAGECACHE_TAG_DIRTY);
  forest.tagTowrite(tree, 0, XA_MAX_INDEX);
  const found: FoundEntry | null = forest.findMarked(tree, 0, XA_MAX_INDEX, PAGECACHE_TAG_TOWRITE);
  const all: TreeEntry[] = forest.entries(tree);
  const ops = new BatchBuilder().load(tree, 700).getMark(tree, 700, PAGECACHE_TAG_WRITEBACK).finish();
  return { found: found?.index, count: all.length, batch: [...runBatchByOps(forest, ops)] };
});
const coreStats: CoreStats = core.stats();
out.trees = {
  treeResults, batchLength: batch.length, opLoad: batchOps.OP_LOAD, treesInUse: coreStats.treesInUse, maxTrees: layout.maxTrees > 0,
  entry: {
    pfn: daxToPfn(word), order: daxEntryOrder(word), flags: daxFlags(word), pmd: daxIsPmdEntry(word), pte: daxIsPteEntry(word),
    zero: daxIsZeroEntry(daxMkEntry(0, DAX_ZERO_PAGE)), empty: daxIsEmptyEntry(daxMkEntry(0, DAX_EMPTY)),
    locked: daxIsLocked(daxLockedEntry(word)), unlocked: daxIsLocked(daxUnlockedEntry(daxMkEntry(1, DAX_LOCKED))),
    conflict: daxIsConflict(XA_RETRY_ENTRY), zeroEntry: xaIsInternal(XA_ZERO_ENTRY), shift: DAX_SHIFT, pfnMax: DAX_PFN_MAX,
  },
  xa: {
    value: xaToValue(xaMkValue(5)), isValue: xaIsValue(xaMkValue(5)), internal: xaToInternal(xaMkInternal(3)), sibling: xaIsSibling(xaMkSibling(1)),
    node: xaIsNode(xaMkInternal(5000)), pointer: xaIsPointer(4096), err: xaIsErr(xaMkError(12)), errno: xaToErrno(xaMkError(12)),
    chunk: [XA_CHUNK_SHIFT, XA_CHUNK_SIZE, XA_MAX_MARKS, PMD_NR, PAGECACHE_TAG_TOWRITE],
  },
};

// ---- the entry waitqueues and concurrent tasks ----------------------------------------------
const key: EntryKey = entryKey(1, 700, word);
const bucket = waitBucket(key);
const wake: WakeMode = 'next';
const waitLog: WaitEvent[] = [];
const tasks: ConcurrentTask[] = [{ fsync: file, cpu: 1 }, { fsync: file, cpu: 2 }];
const reports = emu.runConcurrently(tasks, { waitLog });
out.waits = { bucketInRange: bucket >= 0 && bucket < 2 ** DAX_WAIT_TABLE_BITS, wake, reports: reports.length, logged: waitLog.length };

// ---- the main job: workloads, strategies, a cell, the matrix, flush cost ---------------------
const size: WorkloadSize = { ops: 16, opsPerSync: 1 };
const workloadName: WorkloadName = WORKLOAD_NAMES[0]!;
const workload: Workload = workloadByName(workloadName, size);
const steps: WorkloadStep[] = parseTrace('store 0 64\nsync\n');
const fromTrace: Workload = traceWorkload('store 0 64\nsync\n');
const strategy: StrategyName = STRATEGY_NAMES[0]!;
const optIn: StrategyName = OPT_IN_STRATEGIES[0]!;
const instruction: FlushInstruction = 'clwb';
const setup: StrategySetup = strategySetup(strategy);
const cellSpec: CellSpec = { workload: workloadName, strategy, preset, kernel, pageSize: 'pte', instruction, size, seed: 1 };
const cell: CellResult = await runCell(cellSpec);
const matrixOptions: MatrixOptions = {
  workloads: [workloadName], strategies: [strategy], presets: [preset], kernels: [kernel], pageSizes: ['pte'], instruction, ops: 16, seed: 1, threads: 1,
};
const planned = planCells(matrixOptions);
const cells: CellResult[] = await runMatrix(matrixOptions);
const flushOptions: FlushCostOptions = { presets: [preset], kernels: [kernel], instructions: [instruction], dirtyCounts: [DEFAULT_DIRTY_COUNTS[0]!] };
const rows: FlushCostRow[] = await runFlushCost(flushOptions);
const pageCacheStrategy: FlushCostStrategy = 'page-cache';
const pageCacheRows: FlushCostRow[] = await runFlushCost({ ...flushOptions, strategies: [pageCacheStrategy] });
const matrixReport: MatrixReport = { tool: 'daxemu', version: '0', seed: 1, cells, flushCost: rows, wallMs: 0 };
const own = await createEmulator({ capacity: 8 << 20 });
const ownFile = own.createFile('/own', { size: 1 << 20 });
const ownCpu: StrategyCpu = own;
const ownMapping: StrategyMapping = own.mmap(ownFile, { sync: setup.mapSync });
const strategyRun: StrategyRun = startStrategy(strategy, ownCpu, ownMapping, instruction);
// The same cell on two worker CPUs of one shared emulator, each on a file of its own.
const cpuLayout: CpuLayout = CPU_LAYOUTS[0];
const sharedCell: CellResult = await runCell({ ...cellSpec, cpus: Math.min(2, MAX_SHARED_CPUS), layout: cpuLayout });
strategyRun.store(0, new Uint8Array(64).fill(1));
strategyRun.sync();
// Two shards of the one-cell matrix: shard 1 holds it, shard 2 nothing; merged they are the run.
const { threads: _threads, ...selection } = matrixOptions;
const chosen: MatrixSelection = selection;
const shards: Shard[] = [parseShard('1/2'), parseShard('2/2')];
const shardReports = shards.map((shard) => ({ ...matrixReport, cells: cells.filter((c) => shardCells(planned, shard).some((p) => p.strategy === c.strategy)), shard, selection: { ...chosen } }));
const merged = mergeShards(shardReports);
out.job = {
  merged: merged.cells.length, shardSizes: shards.map((shard) => shardCells(planned, shard).length),
  workload: workload.name, steps: steps.length, traceFile: fromTrace.fileBytes > 0, runsOn45: strategyRuns('user-flush', 'linux-4.5'),
  cellDurable: cell.durable, cellOps: cell.ops, planned: planned.length, matrixCells: matrixReport.cells.length, sameAsCell: cells[0]!.ns === cell.ns,
  flushRows: rows.length, movnt: MOVNT_THRESHOLD, ownDirty: own.stats().nonDurableLines, optInDax: strategySetup(optIn).dax,
  flushCostStrategies: FLUSH_COST_STRATEGIES.length, pageCacheLines: pageCacheRows[0]!.lines,
  sharedCell: { cpus: sharedCell.cpus, layout: sharedCell.layout, ops: sharedCell.ops, durable: sharedCell.durable },
};

// ---- the reports, without the optional chart packages (not installed here) ----------------
const textOptions: BenchTextOptions = { wide: false };
const tableOptions: CellTableOptions = {};
const winners: WorkloadWinner[] = cheapestPerWorkload(cells);
const reportDir = await mkdtemp(join(tmpdir(), 'consumer-report-'));
const written = await writeReport(reportDir, matrixReport);
const chartError = await strategyChart(cells).then(() => 'drawn', (err: PmemError) => err.code);
const flushChartError = await flushCostChart(rows).then(() => 'drawn', (err: PmemError) => err.code);
out.report = {
  text: formatBenchText(cells, textOptions).includes('Cheapest durable cell per workload'), table: formatCellTable(cells, tableOptions).split('\n').length,
  flushTable: formatFlushCostTable(rows).length > 0, csv: cellsToCsv(cells).split('\n')[0]!.startsWith('workload'), flushCsv: flushCostToCsv(rows).length > 0,
  markdown: reportMarkdown(matrixReport, []).startsWith('#'), winner: winners[0]!.cells.length, renderer: await chartsAvailable(),
  written: (await readdir(reportDir)).sort(), files: written.length, json: REPORT_FILES.json, chartError, flushChartError, need: CHARTS_NEED.includes('vega-lite'),
};

// ---- pool files ----------------------------------------------------------------------------
const poolPath = join(await mkdtemp(join(tmpdir(), 'consumer-')), 'emu.pool');
const saved: PoolSaveReport = await emu.save(poolPath);
const info: PoolInfo = await checkPool(poolPath);
const header: PoolHeader = info;
const reopened = await openEmulator(poolPath);
out.pool = { chunks: saved.chunks === header.chunks, version: header.formatVersion === POOL_FORMAT_VERSION, kept: [...reopened.open('/f').pread(8, 3)] };

// ---- libpmem ---------------------------------------------------------------------------------
const pmemEmu = await createEmulator({ capacity: 8 << 20 });
const initOptions: PmemInitOptions = { movntThreshold: PMEM_MOVNT_THRESHOLD };
const lib: Libpmem<DaxFile, FileMapping> = pmemInit(pmemEmu, initOptions);
const host: PmemHost<DaxFile, FileMapping> = pmemEmu;
const funcs: PmemFuncs = choosePmemFuncs(host.options.persistence);
const instructionChosen: PmemFlushInstruction = lib.funcs.flush;
const pm: PmemMap = lib.pmem_map_file('/pm', 1 << 20, PMEM_FILE_CREATE | PMEM_FILE_EXCL | PMEM_FILE_SPARSE, 0o600);
const like: PmemMappingLike = pmemEmu.mmap(pmemEmu.open('/pm'), { length: 4096 });
lib.pmem_memset_persist(pm.addr, 0, 4096);
const ntBefore = pmemEmu.stats().ntBytes;
lib.pmem_memcpy_persist(pm.addr + 10, new Uint8Array(300).fill(7));
const ntBytes = pmemEmu.stats().ntBytes - ntBefore;
lib.pmem_memcpy(pm.addr + 1000, new Uint8Array(8), PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_NODRAIN);
lib.pmem_memset(pm.addr + 2000, 1, 8, PMEM_F_MEM_TEMPORAL | PMEM_F_MEM_NOFLUSH);
lib.pmem_memmove(pm.addr + 3000, pm.addr + 10, 4, PMEM_F_MEM_WB | PMEM_F_MEM_WC);
lib.pmem_persist(pm.addr, 4096);
const pmemImage = await pmemEmu.crash();
out.libpmem = {
  flush: instructionChosen, threshold: funcs.movntThreshold, isPmem: pm.isPmem && lib.pmem_is_pmem(pm.addr, 1), auto: lib.pmem_has_auto_flush(), ntBytes,
  kept: [...pmemImage.mmap(pmemImage.open('/pm'), { length: 4096 }).load(10, 2)], flags: (PMEM_F_MEM_VALID_FLAGS & PMEM_FILE_TMPFILE) !== 0, map: like.length === 4096,
};

// ---- traces: record, replay (text and binary), import, analyze ------------------------------
const recEmu = await createEmulator({ capacity: 8 << 20 });
const rec: RecordingEmulator = startRecording(recEmu);
const recDevice: RecordingDevice = rec.mmapDevice({ length: 4096 });
recDevice.store(0, new Uint8Array([1, 2]));
recDevice.clwb(0, 2);
rec.sfence();
rec.sfence();
const recFile: RecordingFile = rec.createFile(`/${encodePath('a b')}`, { size: 4096 });
const recMap: RecordingFileMapping = rec.mmap(recFile, { length: 4096 });
recMap.store(0, fillBytes(8, 1));
// Emulator-level calls (format 1.1): a concurrent fsync and store, recorded on one line.
const recTasks: RecordingTask[] = [{ fsync: recFile }, { store: { mapping: recMap, offset: 8, bytes: new Uint8Array([9]) } }];
rec.runConcurrently(recTasks);
rec.msync(recMap.address, 4096);
const traceText = rec.stop();
// A recording handed to a writer as it goes keeps none of it.
const writerPieces: string[] = [];
const recordingOptions: RecordingOptions = { write: (text) => void writerPieces.push(text) };
const toWriter = startRecording(await createEmulator({ capacity: 8 << 20 }), recordingOptions);
toWriter.sfence();
const writerKept = toWriter.stop();
const concurrentLine: TraceTask['kind'][] = traceText.includes('concurrent fsync:') ? ['fsync', 'store'] : [];
const replayOptions: ReplayOptions = { batch: 64 };
const replayed: ReplayResult = await replay(traceText, replayOptions);
const binaryTrace = encodeBinaryTrace(stringLines(traceText));
const replayedBinary = await replayBinary(binaryTrace);
const seenOps: string[] = [];
const observer: ReplayObserver = { before: (op: TraceOp) => void seenOps.push(String(op.line)) };
const fresh = await createEmulator({ capacity: 8 << 20 });
await replayOn(fresh, traceText, { observer });
const tracePath = join(await mkdtemp(join(tmpdir(), 'consumer-trace-')), 't.trace');
await writeFile(tracePath, traceText);
const source: LineSource = fileLines(tracePath);
// The twin written as it is encoded, then read back in chunks.
const twinPath = join(dirname(tracePath), 't.bin');
const twinPieces: Uint8Array[] = [];
writeBinaryTrace(source, (bytes) => void twinPieces.push(bytes));
await writeFile(twinPath, Buffer.concat(twinPieces));
const twinChunks: ByteSource = fileChunks(twinPath, 64);
const chunkedSame = isByteSource(twinChunks) && JSON.stringify((await replayBinary(twinChunks)).emulator.stats()) === JSON.stringify(recEmu.stats());
const analyzeOptions: AnalyzeOptions = { limit: 10 };
const analysis: AnalysisReport = await analyze(source, analyzeOptions);
const emptyFences: FindingSummary | undefined = analysis.summary.find((s) => s.kind === 'empty-fence');
const firstFinding: Finding | undefined = analysis.findings[0];
const findingKind: FindingKind = firstFinding?.kind ?? 'clean-flush';
const verdict: Verdict = FINDING_KINDS[findingKind].verdict;
const fioOptions: FioImportOptions = { engine: 'mmap' };
const fio: ImportedTrace = importFioIolog('fio version 2 iolog\n/d add\n/d open\n/d write 0 4096\n/d sync 0 0\n/d close\n', fioOptions);
const pmemcheckOptions: PmemcheckImportOptions = { flush: 'clwb' };
const pmemcheck: ImportedTrace = importPmemcheck('|START|STORE;0x1000;0x1;0x1|FLUSH;0x1000;0x40|FENCE|STOP|', pmemcheckOptions);
// The streamed imports read their input as they run: here from strings, as from fileLines(path).
const fioStream: ImportedStream = fioIologStream(stringLines('fio version 2 iolog\n/d add\n/d open\n/d write 0 512\n/d close\n'), fioOptions);
const pmemcheckStreamed: ImportedStream = pmemcheckStream(stringLines('|START|FENCE|STOP|'), pmemcheckOptions);
// A kernel fs_dax trace of one write fault (a PMD attempt, then PTE), diffed against the emulator: no difference.
const kernelTrace = [
  '  w-1 [000] 1.000000: dax_pmd_fault: dev 259:0 ino 0x5 shared WRITE|USER address 0x7f0000001000 vm_start 0x7f0000000000 vm_end 0x7f0000002000 pgoff 0x1 max_pgoff 0x2 ',
  '  w-1 [000] 1.000000: dax_pmd_fault_done: dev 259:0 ino 0x5 shared WRITE|USER address 0x7f0000001000 vm_start 0x7f0000000000 vm_end 0x7f0000002000 pgoff 0x1 max_pgoff 0x2 FALLBACK',
  '  w-1 [000] 1.000001: dax_pte_fault: dev 259:0 ino 0x5 shared WRITE|USER address 0x7f0000001000 pgoff 0x1 ',
  '  w-1 [000] 1.000002: dax_pte_fault_done: dev 259:0 ino 0x5 shared WRITE|USER address 0x7f0000001000 pgoff 0x1 MAJOR|NOPAGE',
].join('\n');
const kernelEvents: KernelTraceEvent[] = parseFtrace(kernelTrace);
const ftraceKernel: FtraceKernel = FTRACE_KERNELS[0];
const ftraceOptions: FtraceDiffOptions = { kernel: ftraceKernel, allocate: 'none', limit: 5 };
const ftraceReport: FtraceDiffReport = await ftraceDiff(kernelTrace, ftraceOptions);
const ftraceDifferences: FtraceDifference[] = ftraceReport.differences;
const ftraceFields: FieldDifference[] = ftraceDifferences.flatMap((d) => d.fields);
out.ftrace = {
  events: kernelEvents.length, known: FTRACE_EVENTS.includes('dax_pte_fault'), differences: ftraceDifferences.length + ftraceFields.length + ftraceReport.omitted,
  streamed: [...ftraceEvents(stringLines(kernelTrace))].length,
  text: formatFtraceDiff(ftraceReport).endsWith('no differences\n'),
};
out.trace = {
  sameText: JSON.stringify(replayed.emulator.stats()) === JSON.stringify(recEmu.stats()),
  sameBinary: JSON.stringify(replayedBinary.emulator.stats()) === JSON.stringify(recEmu.stats()),
  binary: isBinaryTrace(binaryTrace) && traceText.startsWith(`${TRACE_MAGIC} ${TRACE_VERSION}.${TRACE_MINOR}`) && seenOps.length > 0 && concurrentLine.length === 2,
  emptyFence: emptyFences?.count, verdict, fioBytes: (await replay(fio.trace)).emulator.stats().storeBytes,
  pmemcheckStores: (await replay(pmemcheck.trace)).emulator.stats().stores, lines: pmemcheck.sourceLines.filter((l) => l === 1).length,
  table: formatAnalysisTable(analysis).includes('empty-fence'), markdown: analysisMarkdown(analysis).startsWith('#'),
  chunkedSame, writer: writerKept === '' && writerPieces.join('').endsWith('sfence\n'), streamedBytes: (await replay(fioStream.trace)).emulator.stats().storeBytes, streamedFence: (await analyze(pmemcheckStreamed)).findings[0]?.kind,
};

// ---- worker threads: the emulator shared and a CPU attached; on this thread only its
// hardware is used, since a call to the owner from the owner's own thread would wait for itself.
const handle: ShareHandle = emu.share();
const attached: AttachedEmulator = await attachEmulator(handle, { cpu: 1 });
const noFile: AttachedFile | null = null;
const noMapping: AttachedMapping | null = null;
attached.mmapDevice({ length: 4096 }).store(0, new Uint8Array([4]));
attached.sfence();
out.threads = { cpu: attached.cpu, clockMoved: attached.now() > 0, sameClock: emu.stats().nsPerCpu[1] === attached.now(), none: noFile === noMapping };
attached.detach();
emu.stopSharing();

// A new Rng shows the package's seeded generator is the one users can share.
out.rng = new Rng(1).below(1000) === new Rng(1).below(1000);
process.stdout.write(`${JSON.stringify(out)}\n`);
