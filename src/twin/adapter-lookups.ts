import type { Arrival } from './arrivals.js';

/** What the profile says about an adapter's first request at the API server (docs/twin-tails.md). */
export interface FirstRequestModel {
  /** extra time (ms) before the request reaches the engine */
  ms: number;
}

/**
 * The API server's per-adapter lookup on an adapter's first request. vLLM's OpenAI server asks its tokenizer
 * group for the adapter's tokenizer before it tokenizes (vLLM <= 0.9: `TokenizerGroup.get_lora_tokenizer_async`,
 * in a worker thread): the first time it tries to load a tokenizer from the adapter's directory, which takes
 * hundreds of ms on the research host, then keeps the answer in an LRU cache of `capacity` adapters
 * (`max_num_seqs`). Only the requests that miss the cache wait; the event loop and the engine go on.
 * A request sent while its adapter's lookup is still under way misses as well, as in vLLM.
 *
 * Requests that wait are held here, in the order they reach the engine, until the engine admits them.
 */
export class AdapterLookups {
  /** adapter -> time its lookup ends, in least-recently-used order (Map keeps insertion order) */
  private readonly cached = new Map<number, number>();
  /** held requests, sorted by the time they reach the engine (few: those sent within one lookup) */
  private readonly held: { atS: number; arrival: Arrival }[] = [];
  lookups = 0;

  constructor(
    private readonly lookupS: number,
    private readonly capacity: number,
  ) {}

  /**
   * When the request sent at `arrival.time`, whose frontend work would end at `readyS`, reaches the engine.
   * A miss holds it (call `takeDue`); a hit passes through (returns null).
   */
  route(arrival: Arrival, readyS: number): number | null {
    const doneS = this.cached.get(arrival.adapter);
    if (doneS !== undefined && doneS <= arrival.time) {
      this.cached.delete(arrival.adapter);
      this.cached.set(arrival.adapter, doneS);
      return null;
    }
    this.lookups++;
    const atS = readyS + this.lookupS;
    this.cached.delete(arrival.adapter);
    this.cached.set(arrival.adapter, Math.max(doneS ?? 0, atS));
    if (this.cached.size > this.capacity) this.cached.delete(this.cached.keys().next().value!);
    this.hold(atS, arrival);
    return atS;
  }

  /** When the earliest held request reaches the engine (Infinity: none held). */
  peekS(): number {
    return this.held[0]?.atS ?? Infinity;
  }

  /** Removes and returns the earliest held request. */
  take(): Arrival {
    return this.held.shift()!.arrival;
  }

  private hold(atS: number, arrival: Arrival): void {
    let lo = 0;
    let hi = this.held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.held[mid]!.atS <= atS) lo = mid + 1;
      else hi = mid;
    }
    this.held.splice(lo, 0, { atS, arrival });
  }
}
