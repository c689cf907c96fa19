/**
 * A progress bar on stderr, drawn only when stderr is a terminal and the run has taken
 * more than a second; silent otherwise (pipes, CI, logs).
 */
export class ProgressBar {
  private readonly started = performance.now();
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream, private readonly label: string) {}

  /** Shows `done` of `total`. */
  update(done: number, total: number): void {
    if (!this.stream.isTTY || performance.now() - this.started < 1000) return;
    const width = 30;
    const filled = Math.round((done / Math.max(total, 1)) * width);
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    this.drawn = true;
  }

  /** Clears the bar's line. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
  }
}
