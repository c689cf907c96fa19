/**
 * `daxemu replay FILE` and `daxemu analyze FILE`: a daxemu trace (streamed), a fio iolog or a
 * pmemcheck store log (imported, then replayed), recognised by its first bytes or named
 * with --format. replay prints what the run did; analyze prints the findings as a table,
 * --json or --markdown. Exit codes as the other commands: 0, 1 for a refused input, 2 for
 * a bad command line. `daxemu ftrace-diff TRACE` replays a kernel fs_dax trace and prints
 * where the emulator's events differ; its exit codes are those of diff(1): 0 for none, 1
 * for differences, 2 for a bad trace or command line.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PmemError } from '../base/index.js';
import {
  analysisMarkdown, analyze, fileChunks, fileLines, fioIologStream, isByteSource, formatAnalysisTable, formatFtraceDiff, FTRACE_KERNELS, ftraceDiff, pmemcheckStream, replay, replayBinary, writeBinaryTrace,
  type ByteSource, type FtraceKernel, type ImportedStream, type LineSource,
} from '../trace/index.js';

const FORMATS = ['daxemu', 'binary', 'fio', 'pmemcheck'] as const;
type Format = (typeof FORMATS)[number];

export const TRACE_COMMANDS_HELP = `  replay FILE  replay a daxemu trace, fio iolog or pmemcheck store log; print its counters
  analyze FILE wasted flushes, fences and syncs, and stores left non-durable, with costs
options (replay, analyze): --format daxemu|binary|fio|pmemcheck (default: from the file),
  --engine mmap|libpmem (fio), --json, --markdown (analyze), --write-binary OUT (replay:
  also save the trace's binary twin)
  ftrace-diff TRACE replay a kernel fs_dax trace (tracefs trace or trace-cmd report) and
  print where the emulator's fs_dax events differ; exit 0 none, 1 some, 2 bad input
options (ftrace-diff): --kernel linux-6.1|linux-6.12 (default linux-6.12),
  --allocate none|unwritten|written (how the files start; default none), --limit N
  (differences listed, default 10000; the rest are counted), --json`;

/** The format a file's first 4 KiB show. */
function sniff(path: string): Format {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const head = buf.subarray(0, readSync(fd, buf, 0, 4096, 0)).toString('latin1');
    if (head.startsWith('DAXEMUTB')) return 'binary';
    if (/^fio version [0-9]+ iolog/.test(head)) return 'fio';
    if (/^==\d+==|\|START\b|^\|?(STORE|FLUSH|FENCE|START);?/m.test(head)) return 'pmemcheck';
    return 'daxemu';
  } finally {
    closeSync(fd);
  }
}

/** The file as its format reads it, streamed from the disk. */
function input(path: string, format: Format, engine: 'mmap' | 'libpmem'): LineSource | ImportedStream | ByteSource {
  if (format === 'binary') return fileChunks(path);
  const lines = fileLines(path);
  if (format === 'daxemu') return lines;
  return format === 'fio' ? fioIologStream(lines, { engine }) : pmemcheckStream(lines);
}

/** Writes the binary twin of `text` to `path` as it is encoded. */
function writeBinaryFile(path: string, text: LineSource): void {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw new PmemError('ENOENT', `cannot write ${path}: ${(err as Error).message}`);
  }
  try {
    writeBinaryTrace(text, (bytes) => {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    });
  } finally {
    closeSync(fd);
  }
}

/** Runs `ftrace-diff` with its arguments; returns the exit code. */
async function ftraceDiffCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { kernel: { type: 'string' }, allocate: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } } });
  } catch (e) {
    err.write(`daxemu ftrace-diff: ${(e as Error).message}\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) {
    err.write(`daxemu ftrace-diff: expected one TRACE, got ${positionals.length}\n`);
    return 2;
  }
  if (v.kernel !== undefined && !FTRACE_KERNELS.includes(v.kernel as FtraceKernel)) {
    err.write(`daxemu ftrace-diff: --kernel: unknown '${v.kernel}' (choose from ${FTRACE_KERNELS.join(', ')})\n`);
    return 2;
  }
  if (v.allocate !== undefined && !['none', 'unwritten', 'written'].includes(v.allocate)) {
    err.write(`daxemu ftrace-diff: --allocate: unknown '${v.allocate}' (choose from none, unwritten, written)\n`);
    return 2;
  }
  if (v.limit !== undefined && !/^[0-9]+$/.test(v.limit)) {
    err.write(`daxemu ftrace-diff: --limit: expected a count of differences to list, got '${v.limit}'\n`);
    return 2;
  }
  const path = positionals[0]!;
  try {
    const report = await ftraceDiff(fileLines(path), { kernel: v.kernel as FtraceKernel | undefined, allocate: v.allocate as 'none' | 'unwritten' | 'written' | undefined, limit: v.limit === undefined ? undefined : Number(v.limit) });
    out.write(v.json ? `${JSON.stringify(report)}\n` : formatFtraceDiff(report, path));
    return report.differences.length + report.omitted === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof PmemError) {
      err.write(`daxemu ftrace-diff: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/** Runs `replay`, `analyze` or `ftrace-diff` with its arguments; returns the exit code. */
export async function traceCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'ftrace-diff') return ftraceDiffCommand(rest, out, err);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { format: { type: 'string' }, engine: { type: 'string' }, json: { type: 'boolean' }, markdown: { type: 'boolean' }, 'write-binary': { type: 'string' } },
    });
  } catch (e) {
    err.write(`daxemu ${command}: ${(e as Error).message}\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) {
    err.write(`daxemu ${command}: expected one FILE, got ${positionals.length}\n`);
    return 2;
  }
  if (v.format !== undefined && !FORMATS.includes(v.format as Format)) {
    err.write(`daxemu ${command}: --format: unknown '${v.format}' (choose from ${FORMATS.join(', ')})\n`);
    return 2;
  }
  if (v.engine !== undefined && v.engine !== 'mmap' && v.engine !== 'libpmem') {
    err.write(`daxemu ${command}: --engine: unknown '${v.engine}' (choose from mmap, libpmem)\n`);
    return 2;
  }
  if (v['write-binary'] !== undefined && command !== 'replay') {
    err.write(`daxemu ${command}: --write-binary is for replay\n`);
    return 2;
  }
  if (v.markdown && (command !== 'analyze' || v.json)) {
    err.write(`daxemu ${command}: --markdown is for analyze, without --json\n`);
    return 2;
  }
  const path = positionals[0]!;
  try {
    const format = (v.format as Format | undefined) ?? sniff(path);
    const source = input(path, format, (v.engine as 'mmap' | 'libpmem' | undefined) ?? 'mmap');
    if (command === 'analyze') {
      const report = await analyze(source);
      out.write(v.json ? `${JSON.stringify(report)}\n` : v.markdown ? analysisMarkdown(report) : `${formatAnalysisTable(report)}\n`);
      return 0;
    }
    const started = performance.now();
    const text = isByteSource(source) ? undefined : 'trace' in source ? source.trace : source;
    const result = text === undefined ? await replayBinary(source as ByteSource) : await replay(text);
    if (v['write-binary'] !== undefined) {
      if (text === undefined) throw new PmemError('EINVAL', `${path} is a binary trace already`);
      writeBinaryFile(v['write-binary'], text);
    }
    const wallMs = performance.now() - started;
    const stats = result.emulator.stats();
    if (v.json) out.write(`${JSON.stringify({ operations: result.operations, lines: result.lines, cpuNs: result.cpuNs, wallMs, stats })}\n`);
    else {
      out.write(`${path}: ${result.operations} operations (${format}${result.legacy ? ', two-word' : ''}) in ${wallMs.toFixed(0)} ms; ${result.cpuNs.toFixed(1)} emulated ns over all CPUs\n`);
      out.write(`stores ${stats.stores} (${stats.storeBytes} B), nt stores ${stats.ntStores} (${stats.ntBytes} B), loads ${stats.loads}, lines flushed ${stats.linesFlushed} (${stats.cleanLinesFlushed} clean), fences ${stats.fences}, writeback calls ${stats.dax.writebackCalls}, faults ${stats.dax.faults}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof PmemError) {
      err.write(`daxemu ${command}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
