import { Rng } from '../shared/rng.js';

/** Settings of the engine-pause term (see docs/twin-tails.md). */
export interface PauseModel {
  /** probability that a step is followed by a pause of the engine process */
  perStepProbability: number;
  /** pause length per adapter the server holds in its CPU cache (ms) */
  perHeldAdapterMs: number;
  /** longest pause (ms) */
  maxMs: number;
}

/** Rng stream of the pause draws: arrival and length streams are 1, 2, ... (two per adapter). */
const pauseStream = 0;

/**
 * Rare stalls of the engine process whose length grows with the adapters the server holds, drawn per
 * step. Real runs with dozens of sparse adapters have TTFT and ITL tails several times their median
 * while runs with as few as 16 busy adapters do not; a pause touches every request in flight at once.
 * Steps between pauses are counted down so that runs of identical steps stay closed-form.
 */
export class EnginePauses {
  private readonly rng: Rng;
  /** steps still to run before the one that pauses (0: the next step pauses) */
  private stepsBefore: number;

  constructor(
    private readonly model: PauseModel,
    seed: number,
  ) {
    this.rng = new Rng(seed, pauseStream);
    this.stepsBefore = this.draw();
  }

  /** Identical steps the engine may run before a pause must be charged (Infinity: pauses off). */
  get stepsBeforePause(): number {
    return this.stepsBefore;
  }

  /** Pause (ms) charged to the next step, 0 when it does not pause. */
  pauseMs(heldAdapters: number): number {
    return this.stepsBefore === 0 ? Math.min(this.model.maxMs, this.model.perHeldAdapterMs * heldAdapters) : 0;
  }

  /** `steps` steps ran (one, when it paused). */
  advance(steps: number): void {
    this.stepsBefore = this.stepsBefore === 0 ? this.draw() : this.stepsBefore - steps;
  }

  private draw(): number {
    const p = this.model.perStepProbability;
    if (!(p > 0) || !(this.model.perHeldAdapterMs > 0)) return Infinity;
    if (p >= 1) return 0;
    // geometric number of quiet steps before the next pause
    return Math.floor(Math.log(1 - this.rng.next()) / Math.log(1 - p));
  }
}
