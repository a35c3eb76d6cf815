/** Cost of rendering vLLM's /metrics, from the profile (docs/twin-tails.md). */
export interface MetricsRenderModel {
  /** render time with no LoRA label set recorded (ms) */
  baseMs: number;
  /** render time per distinct `vllm:lora_requests_info` label set the server has recorded (ms) */
  perLabelSetMs: number;
  /** render time per adapter name those label sets list (ms): a set's labels list its running and waiting adapters */
  perListedAdapterMs: number;
  /** longest render (ms) */
  maxMs: number;
}

/**
 * Render cost of the research cluster's vLLM 0.8.5 (V1) API server, used when the profile has none: the
 * render is Python on the host CPU, whatever the GPU or model. Fitted on the tail calibration runs only
 * (ml_test_shared_timeseries.csv.gz: each poll's answer time, the checker's interval minus its 2-s sleep,
 * against the label sets the Twin's replay of ml_test_shared_real_runs.csv had recorded by then; the median
 * of the last tenth of each operator-load run's window, 132 runs, least squares through the origin):
 * `npx tsx scripts/fit-metrics-render.ts`. The answers of busy servers are longer than the label sets
 * explain (their event loop is busy streaming), which the fit leaves out: that wait blocks nothing.
 */
export const researchHostRender: MetricsRenderModel = {
  baseMs: 0,
  perLabelSetMs: 0.0166,
  perListedAdapterMs: 0.000359,
  maxMs: 5000,
};

/** Scrapes kept for lookups: at the shortest interval a scenario allows (50 ms), the last minute or more. */
const keptScrapes = 1024;

/** One scrape: the API server renders /metrics from startS to endS and streams nothing meanwhile. */
export interface Scrape {
  startS: number;
  endS: number;
  labelSets: number;
  /** adapter names the label sets list, summed over the sets */
  listedAdapters: number;
  /** steps whose label set differed from the step before's */
  changes: number;
}

/**
 * Scrapes of the server's /metrics and what they do to the API server. vLLM V1 sets the gauge
 * `vllm:lora_requests_info{running_lora_adapters="a,b,..",waiting_lora_adapters=".."}` every engine step,
 * and prometheus_client keeps every label set it was ever given: with dozens of adapters, nearly every step
 * adds one. Rendering /metrics runs on the API server's event loop, so while it renders, no token reaches a
 * client and no new request reaches the engine; the engine core (its own process) keeps stepping, and the
 * tokens it made meanwhile arrive together when the render ends. The render grows with the label sets,
 * so a server's tails grow with the distinct adapter mixes it has seen: many sparse adapters, long tails;
 * a few busy ones (always the same mix), short ones.
 *
 * A scraper polls every `intervalS` after the previous answer (the research benchmark's checker: 2 s).
 */
export class MetricsScrapes {
  private readonly labelSets = new Set<number>();
  private listedAdapters = 0;
  private changes = 0;
  private lastKey = -1;
  private readonly scrapes: Scrape[] = [];
  private nextStartS: number;

  constructor(
    private readonly model: MetricsRenderModel,
    private readonly intervalS: number,
    /** when the first scrape starts (s) */
    firstS: number,
    private readonly onScrape?: (scrape: Scrape) => void,
  ) {
    this.nextStartS = firstS;
  }

  /** The engine recorded the label set `key` (a hash of the running and waiting sets) listing `adapters` names. */
  recordLabelSet(key: number, adapters: number): void {
    if (key !== this.lastKey) this.changes++;
    this.lastKey = key;
    if (this.labelSets.has(key)) return;
    this.labelSets.add(key);
    this.listedAdapters += adapters;
  }

  get distinctLabelSets(): number {
    return this.labelSets.size;
  }

  /** The latest scrapes started by the engine's clock (at most 2,048). */
  get history(): readonly Scrape[] {
    return this.scrapes;
  }

  /**
   * Starts every scrape due by `now`, each rendering the label sets recorded so far. The engine calls it as
   * its clock advances, so a scrape's render never counts label sets recorded after it started.
   */
  advanceTo(now: number): void {
    while (this.nextStartS <= now) {
      const scrape = { ...this.scrapeFrom(this.nextStartS), changes: this.changes };
      this.scrapes.push(scrape);
      // only recent scrapes are ever looked up (arrivals and tokens of the last steps): memory stays bounded
      if (this.scrapes.length > 2 * keptScrapes) this.scrapes.splice(0, this.scrapes.length - keptScrapes);
      this.onScrape?.(scrape);
      this.nextStartS = scrape.endS + this.intervalS;
    }
  }

  /**
   * When something emitted at `t` gets through the API server. Past the engine's clock the scrapes to come
   * are foreseen with the label sets recorded so far (exact while the engine idles until then).
   */
  deliveredAt(t: number): number {
    if (t >= this.nextStartS) {
      // foreseen scrapes all render the same label sets: they repeat every render + interval
      const renderS = this.scrapeFrom(this.nextStartS).endS - this.nextStartS;
      const periodS = renderS + this.intervalS;
      const start = this.nextStartS + Math.floor((t - this.nextStartS) / periodS) * periodS;
      return Math.max(t, start + renderS);
    }
    const s = this.lastStartedBy(t);
    return s && t < s.endS ? s.endS : t;
  }

  /** First time after `now` (the engine's clock) at which delivery changes: a scrape starts or ends. */
  nextBoundaryAfter(now: number): number {
    const s = this.lastStartedBy(now);
    return s && now < s.endS ? s.endS : this.nextStartS;
  }

  private scrapeFrom(startS: number): Omit<Scrape, 'changes'> {
    const m = this.model;
    const labelSets = this.labelSets.size;
    const listedAdapters = this.listedAdapters;
    const ms = Math.min(m.maxMs, m.baseMs + m.perLabelSetMs * labelSets + m.perListedAdapterMs * listedAdapters);
    return { startS, endS: startS + ms / 1000, labelSets, listedAdapters };
  }

  /** The last scrape started at or before `t` (scrapes are sorted and disjoint). */
  private lastStartedBy(t: number): Scrape | undefined {
    let lo = 0;
    let hi = this.scrapes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.scrapes[mid]!.startS <= t) lo = mid + 1;
      else hi = mid;
    }
    return this.scrapes[lo - 1];
  }
}

/** A 32-bit key per adapter (splitmix-style mixing), so a set's key is the XOR of its members'. */
export function adapterKey(adapter: number, salt: number): number {
  let x = (Math.imul(adapter + 1, 0x9e3779b1) ^ salt) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** One number per (running set, waiting set): 32 bits of the first, 21 of the second (exact in a double). */
export function labelSetKey(runningKey: number, waitingKey: number): number {
  return (runningKey >>> 0) * 0x200000 + ((waitingKey >>> 0) & 0x1fffff);
}
