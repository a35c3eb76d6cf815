import { AppError } from '../shared/errors.js';

/**
 * Progress of a long command, on stderr. On a terminal: one line redrawn in place (at most every
 * 200 ms). Not on a terminal (CI logs, files): a plain line at most every interval (5 s by default;
 * LORA_PLACER_PROGRESS_INTERVAL_MS), so a long run is never silent, and a final line when any was
 * written. `quiet` (--quiet) silences all of it; the core code reports through callbacks only.
 */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** default process.stderr */
  stream?: ProgressStream;
  /** non-TTY: milliseconds between lines (default progressIntervalMs()) */
  intervalMs?: number;
  /** clock in milliseconds (tests) */
  now?: () => number;
}

export const defaultProgressIntervalMs = 5000;
const ttyRedrawMs = 200;

/** LORA_PLACER_PROGRESS_INTERVAL_MS, or 5,000; a malformed value is bad input naming the variable. */
export function progressIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LORA_PLACER_PROGRESS_INTERVAL_MS;
  if (raw === undefined || raw === '') return defaultProgressIntervalMs;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new AppError(
      'invalidInput',
      `LORA_PLACER_PROGRESS_INTERVAL_MS: expected a positive integer of milliseconds, got "${raw}"`,
    );
  }
  return n;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly started: number;
  private lastWrite: number;
  /** a TTY line is drawn and not yet ended */
  private drawn = false;
  private lastStatus = '';
  private finished = false;
  private wrote = false;
  private done = 0;
  private note = '';

  constructor(
    private readonly label: string,
    private total: number | null,
    o: ProgressOptions = {},
  ) {
    this.stream = o.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.quiet = o.quiet ?? false;
    // --quiet writes nothing: the interval setting is not read (a malformed one is no error then)
    this.intervalMs = o.intervalMs ?? (this.quiet ? Number.POSITIVE_INFINITY : progressIntervalMs());
    this.now = o.now ?? Date.now;
    this.started = this.now();
    // a terminal shows the first tick at once; a log waits an interval (short commands stay silent)
    this.lastWrite = this.tty ? -Infinity : this.started;
  }

  /** `n` more units done. */
  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** `done` of `total` units (total may change, e.g. rows still to simulate); `note` shows after the count. */
  update(done: number, total: number | null = this.total, note = this.note): void {
    this.done = done;
    this.total = total;
    this.note = note;
    this.maybeDraw(false);
  }

  /** A progress message of its own line (a finished workload, a stage), silenced by quiet. */
  detail(text: string): void {
    if (this.quiet) return;
    this.endTtyLine();
    this.stream.write(`[${this.elapsed()}] ${text}\n`);
    this.wrote = true;
    if (!this.tty) this.lastWrite = this.now();
    else this.maybeDraw(true);
  }

  /** A message that is output, not progress (always written; a TTY progress line is ended first). */
  log(text: string): void {
    this.endTtyLine();
    this.stream.write(`${text}\n`);
  }

  /** Ends the progress: a TTY line is ended, a log gets a final line when it got any. */
  finish(): void {
    if (this.quiet || this.finished) return;
    this.finished = true;
    if (this.tty) {
      if (this.done > 0 || this.drawn) this.maybeDraw(true);
      this.endTtyLine();
    } else if (this.wrote) {
      this.stream.write(`${this.status()} (done)\n`);
    }
  }

  private maybeDraw(force: boolean): void {
    if (this.quiet) return;
    const now = this.now();
    const finished = this.total !== null && this.done >= this.total;
    if (this.tty) {
      if (!force && !finished && now - this.lastWrite < ttyRedrawMs) return;
      this.lastWrite = now;
      const status = this.status();
      if (this.drawn && status === this.lastStatus) return;
      this.lastStatus = status;
      this.stream.write(`\r${status}\u001b[K`);
      this.drawn = true;
      return;
    }
    if (now - this.lastWrite < this.intervalMs) return;
    this.lastWrite = now;
    this.stream.write(`${this.status()}\n`);
    this.wrote = true;
  }

  private endTtyLine(): void {
    if (!this.drawn) return;
    this.stream.write('\n');
    this.drawn = false;
  }

  private elapsed(): string {
    return formatSeconds((this.now() - this.started) / 1000);
  }

  private status(): string {
    const elapsedS = (this.now() - this.started) / 1000;
    const parts = [`${this.label}:`];
    if (this.total === null) {
      parts.push(`${this.done} done`);
    } else {
      const pct = this.total > 0 ? Math.floor((100 * this.done) / this.total) : 100;
      parts.push(`${this.done}/${this.total} (${pct} %)`);
    }
    if (this.note) parts.push(this.note);
    parts.push(`${formatSeconds(elapsedS)} elapsed`);
    if (this.total !== null && this.done > 0 && this.done < this.total) {
      parts.push(`ETA ${formatSeconds(((this.total - this.done) * elapsedS) / this.done)}`);
    }
    return parts.join(' ');
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${Math.floor(s)}s`;
}
