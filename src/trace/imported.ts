/**
 * What an importer gives back. An ImportedStream makes the trace from the imported file's
 * lines as they are read, so that a file of any length imports in bounded memory; an
 * ImportedTrace is the same trace collected as text, for small inputs. Either knows the
 * imported file's line behind each trace line, so that errors and findings name the
 * user's own line.
 */
import type { LineSource } from './lines.js';

export interface ImportedTrace {
  /** The trace text (src/trace/format.ts). */
  readonly trace: string;
  /** sourceLines[i]: the imported file's line behind trace line i + 1 (0 for header lines). */
  readonly sourceLines: readonly number[];
  /** What the file was, e.g. 'fio iolog version 3' or 'pmemcheck store log'. */
  readonly format: string;
}

/**
 * An import read as it runs. The importer read the file once when it made the stream,
 * checking every line and finding what the header needs; each reading of `trace` (a
 * replay's check pass, then its run pass) reads the file again and converts it line by line.
 */
export interface ImportedStream {
  readonly trace: LineSource;
  readonly format: string;
  /** The imported file's line behind the trace line that `trace.lines()` yielded last (0 for a header line). */
  sourceLine(): number;
}

/** An ImportedStream whose lines `make` yields, each with its source line. */
export function importStream(name: string, format: string, make: () => Iterable<readonly [string, number]>): ImportedStream {
  let current = 0;
  return {
    format,
    sourceLine: () => current,
    trace: {
      name,
      *lines() {
        for (const [text, line] of make()) {
          current = line;
          yield text;
        }
      },
    },
  };
}

/** The whole of a stream as text, with the source line of each trace line. */
export function collectImport(stream: ImportedStream): ImportedTrace {
  const lines: string[] = [];
  const sourceLines: number[] = [];
  for (const text of stream.trace.lines()) {
    lines.push(text);
    sourceLines.push(stream.sourceLine());
  }
  return { trace: `${lines.join('\n')}\n`, sourceLines, format: stream.format };
}
