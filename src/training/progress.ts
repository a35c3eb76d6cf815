/** One-line progress on a terminal (rows, rows/s, ETA); silent when the stream is not a TTY. */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (!this.stream.isTTY || (now - this.lastDraw < 200 && this.done < this.total)) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const rate = this.done / Math.max(elapsed, 1e-3);
    const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
    const width = 30;
    const filled = Math.round((width * this.done) / Math.max(1, this.total));
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}  ` +
        `${rate.toFixed(1)} rows/s  ETA ${formatSeconds(eta)}   `,
    );
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}
