/**
 * What an importer gives back: a version-1 trace and, for each of its lines, the line of
 * the imported file it came from, so that errors and findings name the user's own line.
 */
export interface ImportedTrace {
  /** The trace text (src/trace/format.ts). */
  readonly trace: string;
  /** sourceLines[i]: the imported file's line behind trace line i + 1 (0 for header lines). */
  readonly sourceLines: readonly number[];
  /** What the file was, e.g. 'fio iolog version 3' or 'pmemcheck store log'. */
  readonly format: string;
}

/** Collects trace lines with the source line of each. */
export class TraceBuilder {
  private readonly lines: string[] = [];
  private readonly from: number[] = [];

  add(line: string, sourceLine: number): void {
    this.lines.push(line);
    this.from.push(sourceLine);
  }

  /** Inserts a line before the others (a header found after the scan). */
  prepend(line: string): void {
    this.lines.unshift(line);
    this.from.unshift(0);
  }

  done(format: string): ImportedTrace {
    return { trace: `${this.lines.join('\n')}\n`, sourceLines: this.from, format };
  }
}
