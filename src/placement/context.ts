import type { GpuEstimator } from '../ml/estimator.js';
import { predictedUpperBounds } from '../ml/prediction.js';
import { computeFeatures, featureColumn, featureCount, type WorkloadShape } from '../ml/features.js';
import { kvCapacityTokens, maxFeasibleSlots, type Profile } from '../profiles/index.js';
import { allowedMaxLoraRanks } from '../twin/index.js';
import { criterionOf, judgedFigures, type GpuCriterion, type SloJudgement } from './criterion.js';
import type { GpuBin, GpuVerdict } from './gpu-bin.js';
import type { PlacementItem } from './items.js';
import type { ParsedWorkload, PlacementOptions } from './workload.js';

const capacityColumn = featureColumn.capacity_tokens_per_s;
const demandColumn = featureColumn.demand_tokens_per_s;

/** --max-loras values placement considers: dense where a step matters, sparse where it does not. */
export const slotGrid: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
  384, 448, 512, 640, 768, 896, 1024,
];

export interface Constraints {
  minServedFraction: number;
  maxStarvationProbability: number;
  itlMs?: number;
  ttftMs?: number;
  ttftP99Ms?: number;
  itlP99Ms?: number;
  /** every adapter's mean TTFT (the worst adapter's, as the students predict it) */
  adapterTtftMs?: number;
  /** the latency targets are compared with the estimates or with their calibrated upper bounds */
  judgeOn: SloJudgement;
}

/**
 * Everything a feasibility check needs, built once per placement: the estimator (the predictors, or the Twin
 * for a profile without them), the engine settings
 * every GPU runs with, the memory limit on slots per --max-lora-rank, and a counter of evaluations
 * (the improvement phase's deterministic budget).
 */
export class PlacementContext {
  readonly profile: Profile;
  readonly maxNumBatchedTokens: number;
  readonly maxNumSeqs: number;
  readonly constraints: Constraints;
  /** what every GPU must meet, in the Twin (verification) and as the predictors see it (constraints) */
  readonly criterion: GpuCriterion;
  evaluations = 0;
  /** adapters summed over evaluations: the work the evaluations cost (features are linear in adapters) */
  work = 0;
  /** what is being packed (set once hot adapters are split) */
  items: PlacementItem[] = [];
  private readonly slotLimit = new Map<number, number>();
  private readonly kvCache = new Map<number, number>();
  private readonly soloCapacities = new Map<string, number>();
  private readonly features = new Float64Array(featureCount);
  private readonly shape: WorkloadShape;

  constructor(
    readonly estimator: GpuEstimator,
    workload: ParsedWorkload,
    readonly options: PlacementOptions,
  ) {
    this.profile = estimator.profile;
    this.maxNumBatchedTokens = workload.engine?.maxNumBatchedTokens ?? this.profile.engineDefaults.maxNumBatchedTokens;
    this.maxNumSeqs = Math.min(
      workload.engine?.maxNumSeqs ?? this.profile.engineDefaults.maxNumSeqs,
      this.maxNumBatchedTokens,
    );
    this.criterion = criterionOf(workload);
    const { kind: _kind, ...targets } = this.criterion;
    this.constraints = {
      minServedFraction: options.minServedFraction,
      maxStarvationProbability: options.maxStarvationProbability,
      ...targets,
    };
    this.shape = {
      rates: [],
      ratesDescending: true,
      ranks: [],
      slots: 1,
      servedAdapters: 1,
      maxLoraRank: 8,
      inputMean: 0,
      outputMean: 0,
      kvCacheTokens: 0,
      maxNumBatchedTokens: this.maxNumBatchedTokens,
      maxNumSeqs: this.maxNumSeqs,
    };
  }

  /** The --max-lora-rank a set of adapters needs. */
  loraRankFor(maxAdapterRank: number): number {
    return allowedMaxLoraRanks.find((r) => r >= maxAdapterRank) ?? 0;
  }

  /** Most slots that still start with this --max-lora-rank (0: not even one). */
  /** Whether `bin` may take `item` at all: under the adapter cap, and holding no other share of its adapter. */
  mayTake(bin: GpuBin, item: PlacementItem): boolean {
    return bin.count < this.options.maxAdaptersPerGpu && !(item.shared && bin.holdsAdapter(this.items, item.adapter));
  }

  slotsAllowed(maxLoraRank: number): number {
    let limit = this.slotLimit.get(maxLoraRank);
    if (limit === undefined) {
      limit = maxLoraRank > 0 ? maxFeasibleSlots(this.profile, maxLoraRank, slotGrid[slotGrid.length - 1]!) : 0;
      this.slotLimit.set(maxLoraRank, limit);
    }
    return limit;
  }

  /** KV capacity at (slots, --max-lora-rank), memoised. */
  kvTokens(slots: number, maxLoraRank: number): number {
    const key = slots * 1024 + maxLoraRank;
    let kv = this.kvCache.get(key);
    if (kv === undefined) {
      kv = kvCapacityTokens(this.profile, slots, maxLoraRank);
      this.kvCache.set(key, kv);
    }
    return kv;
  }

  /**
   * Saturated tokens/s of a GPU serving only this item's adapter with one slot, by the step model:
   * the most any GPU completes for traffic of this rank and these lengths (more slots and more
   * adapters only add per-step work). 0 when no slot of its rank fits in memory.
   */
  soloCapacity(item: PlacementItem): number {
    const loraRank = this.loraRankFor(item.rank);
    if (loraRank === 0 || this.slotsAllowed(loraRank) < 1) return 0;
    const key = `${loraRank}/${item.inputMean}/${item.outputMean}`;
    let c = this.soloCapacities.get(key);
    if (c === undefined) {
      const x = computeFeatures(this.profile, {
        rates: [1],
        ranks: [item.rank],
        slots: 1,
        servedAdapters: 1,
        maxLoraRank: loraRank,
        inputMean: item.inputMean,
        outputMean: item.outputMean,
        kvCacheTokens: this.kvTokens(1, loraRank),
        maxNumBatchedTokens: this.maxNumBatchedTokens,
        maxNumSeqs: this.maxNumSeqs,
      });
      c = x[capacityColumn]!;
      this.soloCapacities.set(key, c);
    }
    return c;
  }

  /** Predicts the bin's adapters at `slots`. The rates in the bin already carry its headroom. */
  evaluate(bin: GpuBin, slots: number, maxAdapterRank: number = bin.maxRank()): GpuVerdict {
    this.evaluations++;
    const n = bin.count;
    this.work += n;
    const maxLoraRank = this.loraRankFor(maxAdapterRank);
    const kv = this.kvTokens(slots, maxLoraRank);
    const s = this.shape;
    s.rates = bin.scaledRates.subarray(0, n);
    s.ranks = bin.ranks.subarray(0, n);
    s.slots = slots;
    s.servedAdapters = n;
    s.maxLoraRank = maxLoraRank;
    const means = bin.lengthMeans();
    s.inputMean = means.input;
    s.outputMean = means.output;
    s.kvCacheTokens = kv;
    const x = computeFeatures(this.profile, s, this.features);
    const p = this.estimator.estimate(s, x);
    const ideal = x[demandColumn]!;
    const servedFraction = ideal > 0 ? p.throughput / ideal : 1;
    const c = this.constraints;
    const bounds = c.judgeOn === 'bound' ? predictedUpperBounds(this.estimator, p) : undefined;
    const judged = judgedFigures(p, bounds);
    const feasible =
      slots <= this.slotsAllowed(maxLoraRank) &&
      servedFraction >= c.minServedFraction &&
      p.starvationProbability <= c.maxStarvationProbability &&
      (c.itlMs === undefined || p.itlMs <= c.itlMs) &&
      (c.ttftMs === undefined || judged.ttftMs <= c.ttftMs) &&
      (c.ttftP99Ms === undefined || judged.ttftP99Ms <= c.ttftP99Ms) &&
      (c.itlP99Ms === undefined || judged.itlP99Ms <= c.itlP99Ms) &&
      (c.adapterTtftMs === undefined || judged.worstAdapterTtftMs <= c.adapterTtftMs);
    return {
      feasible,
      slots,
      maxLoraRank,
      kvCacheTokens: kv,
      throughput: Math.min(p.throughput, ideal),
      idealThroughput: ideal,
      starvationProbability: p.starvationProbability,
      itlMs: p.itlMs,
      ttftMs: p.ttftMs,
      ttftP99Ms: p.ttftP99Ms,
      itlP99Ms: p.itlP99Ms,
      worstAdapterTtftMs: p.worstAdapterTtftMs,
      judged,
      ...(bounds ? { bounds } : {}),
      servedFraction,
      capacity: x[capacityColumn]!,
    };
  }
}
