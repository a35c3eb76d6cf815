import { computeFeatures, featureColumn } from '../ml/features.js';
import { AppError, ErrorCodes } from '../shared/errors.js';
import type { SimulationResult } from '../twin/index.js';
import { balanceOver } from './balance.js';
import { coarseKnobs } from './knobs.js';
import type { LowerBound } from './bounds.js';
import type { PlacementContext } from './context.js';
import type { Binding, OneFewer, TrafficTotals } from './explanation.js';
import type { GpuBin, GpuVerdict } from './gpu-bin.js';
import type { ParsedWorkload } from './workload.js';

/**
 * Why a placement has the GPUs it has (docs/placement.md, "Why this many GPUs"): the traffic each GPU
 * carries, what binds it, and what fails on one GPU fewer. Everything is read from the predictors at the
 * GPUs' own knobs; nothing here changes the placement.
 *
 * Headroom has one meaning throughout: how much a GPU's traffic could grow, as a fraction of it, before
 * the first check of the criterion fails. The packing asks every GPU for at least options.headroom of it.
 */

/** The search for a GPU's headroom stops at this load factor (a GPU with almost no traffic never fails). */
const maxLoadFactor = 1024;
/** ... and below this one (a GPU that fails even with almost no traffic). */
const minLoadFactor = 1 / 64;
/** Bisection stops once the failing factor is known within this ratio (3 %) with the predictors ... */
const precision = 1.03;
/** ... and within 10 % with the Twin estimator, whose every step is a Twin run. */
const twinPrecision = 1.1;
/** First step up from the factor packing tested: most GPUs are packed to just past it. */
const firstStep = 1.25;

type Figure = Binding['figure'];

interface Check {
  figure: Figure;
  value: number;
  limit: number;
  /** how far past its bound the value is (> 1: failing), in the figure's direction */
  excess: number;
}

/** Every check of the packing's acceptance (PlacementContext.evaluate), with its value and bound. */
function checksOf(ctx: PlacementContext, v: GpuVerdict): Check[] {
  const c = ctx.constraints;
  const over = (figure: Figure, value: number, limit: number | undefined): Check[] =>
    limit === undefined ? [] : [{ figure, value, limit, excess: limit > 0 ? value / limit : Infinity }];
  return [
    ...over('slots', v.slots, ctx.slotsAllowed(v.maxLoraRank)),
    {
      figure: 'servedFraction',
      value: v.servedFraction,
      limit: c.minServedFraction,
      excess: v.servedFraction > 0 ? c.minServedFraction / v.servedFraction : Infinity,
    },
    ...over('starvationProbability', v.starvationProbability, c.maxStarvationProbability),
    ...over('ttftP99Ms', v.judged.ttftP99Ms, c.ttftP99Ms),
    ...over('itlP99Ms', v.judged.itlP99Ms, c.itlP99Ms),
    ...over('ttftMs', v.judged.ttftMs, c.ttftMs),
    ...over('itlMs', v.itlMs, c.itlMs),
    ...over('worstAdapterTtftMs', v.judged.worstAdapterTtftMs, c.adapterTtftMs),
  ];
}

/** The traffic a GPU carries. */
export function gpuTotals(ctx: PlacementContext, bin: GpuBin): TrafficTotals {
  const t = { requestsPerSecond: 0, promptTokensPerSecond: 0, outputTokensPerSecond: 0 };
  for (const i of bin.items) {
    const item = ctx.items[i]!;
    t.requestsPerSecond += item.rate;
    t.promptTokensPerSecond += item.rate * item.inputMean;
    t.outputTokensPerSecond += item.rate * item.outputMean;
  }
  return t;
}

export function sumTotals(all: readonly TrafficTotals[]): TrafficTotals {
  const t = { requestsPerSecond: 0, promptTokensPerSecond: 0, outputTokensPerSecond: 0 };
  for (const g of all) {
    t.requestsPerSecond += g.requestsPerSecond;
    t.promptTokensPerSecond += g.promptTokensPerSecond;
    t.outputTokensPerSecond += g.outputTokensPerSecond;
  }
  return t;
}

/**
 * The bin's verdict with its traffic x `factor`, at its knobs (slots and --max-lora-rank). Leaves the
 * bin's headroom as it was.
 */
function verdictAt(ctx: PlacementContext, bin: GpuBin, factor: number): GpuVerdict {
  const headroom = bin.headroom;
  bin.setHeadroom(factor - 1, ctx.items);
  const v = ctx.evaluate(bin, bin.verdict!.slots);
  bin.setHeadroom(headroom, ctx.items);
  return v;
}

/**
 * The largest load factor at which the predictors accept the bin at its knobs (bisection in log space,
 * starting from the factor packing tested, 1 + its headroom), and the verdict just above it.
 */
function loadLimit(ctx: PlacementContext, bin: GpuBin): { factor: number; failing: GpuVerdict | null } {
  const ratio = ctx.estimator.kind === 'twin' ? twinPrecision : precision;
  let lo = 1 + bin.headroom;
  let hi: number;
  let failing: GpuVerdict | null = null;
  const first = verdictAt(ctx, bin, lo);
  if (first.feasible) {
    for (hi = firstStep * lo; ; hi *= 2) {
      if (hi > maxLoadFactor) return { factor: lo, failing: null };
      const v = verdictAt(ctx, bin, hi);
      if (!v.feasible) {
        failing = v;
        break;
      }
      lo = hi;
    }
  } else {
    failing = first;
    for (hi = lo, lo = hi / 2; ; lo /= 2) {
      if (lo < minLoadFactor) return { factor: 0, failing };
      const v = verdictAt(ctx, bin, lo);
      if (v.feasible) break;
      hi = lo;
      failing = v;
    }
  }
  while (hi / lo > ratio) {
    const mid = Math.sqrt(lo * hi);
    const v = verdictAt(ctx, bin, mid);
    if (v.feasible) lo = mid;
    else {
      hi = mid;
      failing = v;
    }
  }
  return { factor: lo, failing };
}

/**
 * What limits a served fraction or starvation figure, by the step model at the failing load: more adapters
 * than slots, queueing for them while the batch itself would keep up (the slot cycle of the features), else a batch
 * capped by the KV cache rather than the token budget or max_num_seqs, else the GPU's compute.
 */
function capacityCause(ctx: PlacementContext, bin: GpuBin, v: GpuVerdict, factor: number): Binding['constraint'] {
  const n = bin.count;
  const means = bin.lengthMeans();
  const x = computeFeatures(ctx.profile, {
    rates: bin.scaledRates.subarray(0, n).map((r) => (r / (1 + bin.headroom)) * factor),
    ratesDescending: true,
    ranks: bin.ranks.subarray(0, n),
    slots: v.slots,
    servedAdapters: n,
    maxLoraRank: v.maxLoraRank,
    inputMean: means.input,
    outputMean: means.output,
    kvCacheTokens: v.kvCacheTokens,
    maxNumBatchedTokens: ctx.maxNumBatchedTokens,
    maxNumSeqs: ctx.maxNumSeqs,
  });
  if (n > v.slots && x[featureColumn.slot_cycle_s]! > 0 && x[featureColumn.load]! < 1) return 'lora-slots';
  const perRequest = means.input + means.output;
  const kvDecodes = v.kvCacheTokens / (means.input + means.output / 2);
  const budgetDecodes = perRequest > 0 ? (ctx.maxNumBatchedTokens * means.output) / perRequest : Infinity;
  return kvDecodes < Math.min(budgetDecodes, ctx.maxNumSeqs) ? 'kv-cache' : 'throughput';
}

const figureNames: Record<Figure, string> = {
  ttftP99Ms: 'p99 TTFT',
  itlP99Ms: 'p99 ITL',
  ttftMs: 'mean TTFT',
  itlMs: 'mean ITL',
  worstAdapterTtftMs: "the worst adapter's mean TTFT",
  servedFraction: 'the served fraction',
  starvationProbability: 'the starvation probability',
  slots: 'the slots memory allows',
};

function valueText(figure: Figure, value: number): string {
  if (figure === 'servedFraction') return `${pct(value)} served`;
  if (figure === 'starvationProbability') return value.toFixed(2);
  if (figure === 'slots') return `${value} slots`;
  return value >= 10_000
    ? `${Math.round(value / 1000).toLocaleString('en-US')} s`
    : `${Math.round(value).toLocaleString('en-US')} ms`;
}

function limitText(figure: Figure, limit: number): string {
  if (figure === 'servedFraction') return `>= ${pct(limit)} needed`;
  if (figure === 'starvationProbability') return `<= ${limit.toFixed(2)} allowed`;
  if (figure === 'slots') return `${limit} fit in memory`;
  return `limit ${valueText(figure, limit)}`;
}

function pct(v: number): string {
  return `${Math.round(100 * v)} %`;
}

function signedPct(v: number): string {
  return `${v >= 0 ? '+' : '-'}${Math.abs(Math.round(100 * v))} %`;
}

/**
 * What binds the bin: the check of the criterion that fails first as its traffic grows (at its knobs), its
 * value at the GPU's own traffic, and the headroom (the growth it takes before that check fails).
 */
export function bindingOf(ctx: PlacementContext, bin: GpuBin, verified?: SimulationResult): Binding {
  const { factor, failing } = loadLimit(ctx, bin);
  const at = failing ?? verdictAt(ctx, bin, factor);
  const worst = checksOf(ctx, at).reduce((a, b) => (b.excess > a.excess ? b : a));
  const own = checksOf(ctx, verdictAt(ctx, bin, 1)).find((c) => c.figure === worst.figure)!;
  const constraint =
    worst.figure === 'slots'
      ? 'kv-cache'
      : worst.figure === 'servedFraction' || worst.figure === 'starvationProbability'
        ? capacityCause(ctx, bin, at, factor)
        : 'slo';
  const headroom = factor - 1;
  const f = worst.figure;
  const growth =
    failing === null
      ? `its traffic could grow ${signedPct(headroom)} or more and still pass`
      : headroom >= 0
        ? `its traffic can grow ${signedPct(headroom)} before it fails (${valueText(f, worst.value)} past that)`
        : `it would need ${pct(-headroom)} less traffic to pass`;
  const label = constraint === 'slo' ? 'SLO' : constraint;
  // judging bounds, a latency figure's value is its upper bound, the Twin's too
  const bounded = ctx.constraints.judgeOn === 'bound' && boundedFigure(f);
  const twin = verified ? ((bounded ? twinBound(f, verified) : undefined) ?? twinValue(f, verified)) : undefined;
  return {
    constraint,
    figure: f,
    value: own.value,
    limit: own.limit,
    ...(failing !== null ? { failingValue: worst.value } : {}),
    ...(twin !== undefined ? { twinValue: twin } : {}),
    headroom,
    summary:
      `${label}: ${figureNames[f]}, ${bounded ? 'bounded at' : 'predicted'} ${valueText(f, own.value)} ` +
      'at its traffic ' +
      `(${limitText(f, own.limit)}); ` +
      `${growth}; asked for ${signedPct(bin.headroom)}` +
      (twin !== undefined ? `; the Twin's run of it: ${valueText(f, twin)}` : ''),
  };
}

const boundedFigure = (f: Figure): boolean =>
  f === 'ttftP99Ms' || f === 'itlP99Ms' || f === 'ttftMs' || f === 'worstAdapterTtftMs';

/** The upper bound of a latency figure in the Twin's run of the GPU, where the run has it. */
function twinBound(figure: Figure, r: SimulationResult): number | undefined {
  switch (figure) {
    case 'ttftP99Ms':
      return r.ttftP99UpperMs ?? undefined;
    case 'itlP99Ms':
      return r.itlP99UpperMs ?? undefined;
    case 'ttftMs':
      return r.ttftMeanUpperMs ?? undefined;
    case 'worstAdapterTtftMs':
      return r.worstAdapterTtftUpperMs ?? undefined;
    default:
      return undefined;
  }
}

/** The figure in the Twin's run of the GPU (verify: true), where the run measures it. */
function twinValue(figure: Figure, r: SimulationResult): number | undefined {
  switch (figure) {
    case 'ttftP99Ms':
      return r.ttftMs?.p99;
    case 'itlP99Ms':
      return r.itlMs?.p99;
    case 'ttftMs':
      return r.ttftMs?.mean;
    case 'itlMs':
      return r.itlMs?.mean;
    case 'worstAdapterTtftMs': {
      const means = (r.adapters ?? []).flatMap((a) => (a.ttftMs ? [a.ttftMs.mean] : []));
      return means.length > 0 ? Math.max(...means) : undefined;
    }
    case 'servedFraction':
      return r.idealThroughput > 0 ? r.throughput.total / r.idealThroughput : undefined;
    default:
      return undefined;
  }
}

/** Everything a placement says about its count: each GPU's traffic and binding, the total, one GPU fewer. */
export function explainPlacement(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  bins: readonly GpuBin[],
  bound: LowerBound,
  verified: (bin: GpuBin) => SimulationResult | undefined = () => undefined,
): { gpus: { totals: TrafficTotals; binding?: Binding }[]; totals: TrafficTotals; oneFewer?: OneFewer } {
  const totals = bins.map((bin) => gpuTotals(ctx, bin));
  const placed = sumTotals(totals);
  // the Twin estimator's runs count against MAX_VERIFIED_REQUESTS: a placement that fits the limit keeps its
  // answer, without the explanation the limit leaves no runs for
  try {
    const bindings = bins.map((bin) => bindingOf(ctx, bin, verified(bin)));
    const oneFewer = oneFewerOf(ctx, workload, bins, bound);
    return { gpus: totals.map((t, i) => ({ totals: t, binding: bindings[i]! })), totals: placed, oneFewer };
  } catch (err) {
    if (!(err instanceof AppError && err.code === ErrorCodes.tooMuchWork.code)) throw err;
    return { gpus: totals.map((t) => ({ totals: t })), totals: placed };
  }
}

/**
 * Why not one GPU fewer: the placed items re-spread by load over gpuCount - 1 GPUs (balanceOver, the
 * descent's spread) with the predictors' knobs, each GPU judged as packing judges it (at (1 + headroom) x
 * its traffic). Costs one knob search per GPU of the spread and a headroom search per failing GPU.
 */
export function oneFewerOf(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  bins: readonly GpuBin[],
  bound: LowerBound,
): OneFewer {
  const gpus = Math.max(0, bins.length - 1);
  const base = { gpus, basis: 'predictors' as const };
  if (workload.objective === 'min-latency' || bins.length === 0)
    return {
      ...base,
      outcome: 'not-tried',
      summary:
        bins.length === 0
          ? 'nothing was placed'
          : 'not tried: min-latency spreads over the GPUs asked for (gpuCount, maxGpus or the min-gpus count)',
    };
  if (gpus < bound.gpus)
    return {
      ...base,
      outcome: 'at-lower-bound',
      summary:
        `${bins.length} GPU(s) is the lower bound (throughput ${bound.throughput}, adapters per GPU ` +
        `${bound.adapters}): no placement serves this workload on fewer`,
    };
  const spread = balanceOver(
    ctx,
    bins.flatMap((b) => b.items),
    gpus,
    coarseKnobs,
  );
  if (spread === null)
    return {
      ...base,
      outcome: 'fails',
      summary:
        `the adapters do not fit ${gpus} GPU(s): the adapter cap (options.maxAdaptersPerGpu ` +
        `${ctx.options.maxAdaptersPerGpu}) or an adapter's shares (never two on one GPU) leave one nowhere`,
    };
  const failing = spread.filter((b) => !b.verdict!.feasible);
  if (failing.length === 0)
    return {
      ...base,
      outcome: 'passes',
      failingGpus: 0,
      summary:
        `the predictors accept the adapters spread by load over ${gpus} GPU(s), a spread the packing did ` +
        'not find (verify: true lets the Twin try fewer GPUs)',
    };
  // the GPU furthest past a bound at the load packing judges gets the headroom search (one, to bound the cost)
  const excess = (b: GpuBin): number => Math.max(...checksOf(ctx, b.verdict!).map((c) => c.excess));
  const worst = failing.reduce((a, b) => (excess(b) > excess(a) ? b : a));
  const binding = bindingOf(ctx, worst);
  const totals = gpuTotals(ctx, worst);
  return {
    ...base,
    outcome: 'fails',
    failingGpus: failing.length,
    worst: { adapters: worst.count, totals, binding },
    summary:
      `spread by load over ${gpus} GPU(s), ${failing.length} miss the criterion; the worst ` +
      `(${worst.count} adapters, ${totals.requestsPerSecond.toFixed(2)} req/s): ${binding.summary}`,
  };
}
