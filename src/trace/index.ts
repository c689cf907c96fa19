/**
 * trace: real workloads in, findings out. It owns the daxemu trace format (its parser and
 * line sources), the recorder that wraps an emulator, the replay, the importers of fio
 * iologs and pmemcheck store logs, the flush and fence analysis with its reports, and the
 * diff of a kernel fs_dax trace against the emulator's own events.
 *
 * May import: base, hw, dax, emulator, libpmem.
 *
 * @module daxemu/trace
 */
export { TRACE_MAGIC, TRACE_VERSION, TRACE_MINOR, encodePath, type TraceOp, type TraceTask } from './format.js';
export { stringLines, fileLines, fileChunks, isByteSource, type ByteSource, type LineSource } from './lines.js';
export { fillBytes } from './fill.js';
export { startRecording, RecordingEmulator, RecordingDevice, RecordingFile, RecordingFileMapping, type RecordingOptions, type RecordingTask } from './recorder.js';
export { encodeBinaryTrace, writeBinaryTrace, isBinaryTrace, replayBinary } from './binary.js';
export { replay, replayOn, type ReplayOptions, type ReplayResult, type ReplayObserver } from './replay.js';
export { importPmemcheck, pmemcheckStream, type PmemcheckImportOptions } from './pmemcheck.js';
export { importFioIolog, fioIologStream, type FioImportOptions } from './fio.js';
export type { ImportedStream, ImportedTrace } from './imported.js';
export { analyze, type AnalyzeOptions } from './analyze.js';
export { FINDING_KINDS, type AnalysisReport, type Finding, type FindingKind, type FindingSummary, type Verdict } from './findings.js';
export { formatAnalysisTable, analysisMarkdown } from './analysis-format.js';
export { ftraceEvents, parseFtrace, FTRACE_EVENTS, type KernelTraceEvent } from './ftrace.js';
export { ftraceDiff, formatFtraceDiff, FTRACE_KERNELS, type FtraceKernel, type FtraceDiffOptions, type FtraceDiffReport, type FtraceDifference, type FieldDifference } from './ftrace-diff.js';
