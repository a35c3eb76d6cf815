import type { FastifyReply } from 'fastify';
import { AppError } from '../shared/errors.js';

export interface AnswerSlotsOptions {
  /** answers written at once */
  size: number;
  /** requests waiting for a slot; past it, 503 */
  maxWaiting: number;
  /** longest wait for a slot, then 503 */
  maxWaitMs: number;
  /** longest time an answer may take to be written (a client reading slowly keeps its slot no longer) */
  maxAnswerMs: number;
  /** what the answers are, for the 503's message */
  what: string;
}

/**
 * At most `size` large answers written at once; the requests beyond wait their turn in a bounded line. Streaming
 * one large answer costs the HTTP thread little per piece, but a crowd of them (a client without a token asking a
 * thousand-GPU plan's manifests sixteen at a time, each with a new namespace) fills the event loop with pieces to
 * write, and /healthz waits behind them: taking turns keeps the pieces in flight, and so the wait, small.
 */
export class AnswerSlots {
  private inUse = 0;
  private readonly line: (() => void)[] = [];

  constructor(private readonly o: AnswerSlotsOptions) {}

  /** Waits for a slot for `reply`'s answer; the slot is freed when the answer ends, fails or times out. */
  async take(reply: FastifyReply): Promise<void> {
    if (this.inUse < this.o.size) this.inUse++;
    else await this.waitInLine();
    const response = reply.raw;
    // the client may have gone while it waited: its 'close' has been emitted already
    if (response.closed) return this.free();
    const deadline = setTimeout(() => response.destroy(), this.o.maxAnswerMs);
    deadline.unref();
    // 'finish' when written (an injected request has no 'close'), 'close' when the client goes first
    let freed = false;
    const done = () => {
      if (freed) return;
      freed = true;
      clearTimeout(deadline);
      this.free();
    };
    response.once('finish', done);
    response.once('close', done);
  }

  /** Answers waiting for a slot now (for tests and metrics). */
  get waiting(): number {
    return this.line.length;
  }

  private waitInLine(): Promise<void> {
    if (this.line.length >= this.o.maxWaiting) return Promise.reject(this.busy());
    return new Promise((resolve, reject) => {
      const granted = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.line.splice(this.line.indexOf(granted), 1);
        reject(this.busy());
      }, this.o.maxWaitMs);
      this.line.push(granted);
    });
  }

  /** The slot goes to the first in line (so `inUse` stays), or is given back. */
  private free(): void {
    const next = this.line.shift();
    if (next) next();
    else this.inUse--;
  }

  private busy(): AppError {
    const err = new AppError(
      'busy',
      `${this.o.size} ${this.o.what} are being written and ${this.line.length} wait: try again shortly`,
      { inFlight: this.o.size, waiting: this.line.length },
    );
    err.retryAfterS = 1;
    return err;
  }
}
