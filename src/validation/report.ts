import type { SimulationResult } from '../twin/index.js';
import { operatorLoadTtftMs, type RealRun } from './real-runs.js';
import type { ReferenceTwinOutput } from './reference-twin.js';
import { smapeResearch, smapeStandard } from '../shared/smape.js';
import type { PredictorMetrics } from '../ml/bundle.js';
import { researchPredictorScores } from './predictor-cases.js';

export interface RunComparison {
  run: RealRun;
  sim: SimulationResult;
  reference: ReferenceTwinOutput | undefined;
}

export interface ErrorPair {
  /** research definition, without the factor 2 */
  research: number;
  standard: number;
  runs: number;
}

export interface ModelReport {
  model: string;
  runs: number;
  memoryErrors: { real: number; predicted: number; agree: number; falsePositives: number; falseNegatives: number };
  twin: {
    throughput: ErrorPair;
    ttft: ErrorPair;
    ttftWithPenalty: ErrorPair;
    itl: ErrorPair;
    starvation: { agree: number; runs: number; accuracy: number };
    medianWallMs: number;
  };
  reference: {
    runs: number;
    throughput: ErrorPair;
    ttftWithPenalty: ErrorPair;
    itl: ErrorPair;
    starvation: { agree: number; runs: number; accuracy: number };
    medianWallMs: number;
  };
  /** latency tails, split into operator-load runs (real mean TTFT < 10 s) and saturated runs */
  regimes: { operatorLoad: RegimeErrors; saturated: RegimeErrors };
  /**
   * the distilled student trees on the same runs, when models/predictors has them; `operatorLoad`: on those runs only
   */
  predictor?: { version: string; metrics: PredictorMetrics; operatorLoad?: PredictorMetrics };
}

/** The Twin's latency errors on one group of runs, beside the research twin's where it reports the figure. */
export interface RegimeErrors {
  runs: number;
  throughput: ErrorPair;
  ttftMean: ErrorPair;
  ttftP50: ErrorPair;
  ttftP99: ErrorPair;
  itlMean: ErrorPair;
  itlP99: ErrorPair;
  /** Twin / real, median over the runs: above 1 the Twin is pessimistic */
  ratio: { ttftMean: number; ttftP99: number; itlP99: number };
  reference: { runs: number; itlMean: ErrorPair };
}

function pair(actual: number[], predicted: number[]): ErrorPair {
  return {
    research: smapeResearch(actual, predicted),
    standard: smapeStandard(actual, predicted),
    runs: actual.length,
  };
}

/**
 * The research TTFT: every request sent but not completed counts as the whole window. The real runs
 * did not record how many requests were sent; it is estimated as max(completed, sum of rates x window).
 */
function realTtftWithPenalty(run: RealRun): number {
  const real = run.real!;
  const sent = Math.max(real.completed, run.rates.length === 0 ? 0 : expectedArrivals(run));
  return (real.ttftMs * real.completed + (sent - real.completed) * real.durationS * 1000) / Math.max(1, sent);
}

function expectedArrivals(run: RealRun): number {
  let sum = 0;
  for (let i = 0; i < run.servedAdapters; i++) sum += run.rates[i % run.rates.length]!;
  return sum * run.durationS;
}

function simTtftWithPenalty(sim: SimulationResult): number {
  const completed = sim.completedRequests;
  const sent = Math.max(1, sim.arrivedRequests);
  return ((sim.ttftMs?.mean ?? 0) * completed + (sent - completed) * sim.durationS * 1000) / sent;
}

function regimeErrors(group: RunComparison[]): RegimeErrors {
  const real = group.map((c) => c.run.real!);
  const twin = (pick: (s: SimulationResult) => number | undefined): number[] => group.map((c) => pick(c.sim) ?? 0);
  const ratio = (a: number[], b: number[]): number => median(a.map((x, i) => b[i]! / x));
  const withRef = group.filter((c) => c.reference !== undefined);
  const ttftMean = twin((s) => s.ttftMs?.mean);
  const ttftP99 = twin((s) => s.ttftMs?.p99);
  const itlP99 = twin((s) => s.itlMs?.p99);
  return {
    runs: group.length,
    throughput: pair(
      real.map((r) => r.throughput),
      twin((s) => s.throughput.total),
    ),
    ttftMean: pair(
      real.map((r) => r.ttftMs),
      ttftMean,
    ),
    ttftP50: pair(
      real.map((r) => r.ttftP50Ms),
      twin((s) => s.ttftMs?.p50),
    ),
    ttftP99: pair(
      real.map((r) => r.ttftP99Ms),
      ttftP99,
    ),
    itlMean: pair(
      real.map((r) => r.itlMs),
      twin((s) => s.itlMs?.mean),
    ),
    itlP99: pair(
      real.map((r) => r.itlP99Ms),
      itlP99,
    ),
    ratio: {
      ttftMean: ratio(
        real.map((r) => r.ttftMs),
        ttftMean,
      ),
      ttftP99: ratio(
        real.map((r) => r.ttftP99Ms),
        ttftP99,
      ),
      itlP99: ratio(
        real.map((r) => r.itlP99Ms),
        itlP99,
      ),
    },
    reference: {
      runs: withRef.length,
      itlMean: pair(
        withRef.map((c) => c.run.real!.itlMs),
        withRef.map((c) => c.reference!.itlMs),
      ),
    },
  };
}

const median = (v: number[]): number => {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

export function buildReport(model: string, comparisons: RunComparison[]): ModelReport {
  const mine = comparisons.filter((c) => c.run.model === model);
  const realErr = mine.filter((c) => c.run.memoryError);
  const simErr = mine.filter((c) => c.sim.memoryError !== null);
  const scored = mine.filter((c) => c.run.real !== null && c.sim.memoryError === null);
  const withRef = scored.filter((c) => c.reference !== undefined);
  const real = scored.map((c) => c.run.real!);
  const refStarved = (c: RunComparison): boolean => c.reference!.throughput < 0.9 * c.run.real!.idealThroughput;
  return {
    model,
    runs: mine.length,
    memoryErrors: {
      real: realErr.length,
      predicted: simErr.length,
      agree: mine.filter((c) => c.run.memoryError === (c.sim.memoryError !== null)).length,
      falsePositives: mine.filter((c) => !c.run.memoryError && c.sim.memoryError !== null).length,
      falseNegatives: mine.filter((c) => c.run.memoryError && c.sim.memoryError === null).length,
    },
    twin: {
      throughput: pair(
        real.map((r) => r.throughput),
        scored.map((c) => c.sim.throughput.total),
      ),
      ttft: pair(
        real.map((r) => r.ttftMs),
        scored.map((c) => c.sim.ttftMs?.mean ?? 0),
      ),
      ttftWithPenalty: pair(
        scored.map((c) => realTtftWithPenalty(c.run)),
        scored.map((c) => simTtftWithPenalty(c.sim)),
      ),
      itl: pair(
        real.map((r) => r.itlMs),
        scored.map((c) => c.sim.itlMs?.mean ?? 0),
      ),
      starvation: agreement(scored.map((c) => c.run.real!.starved === c.sim.starved)),
      medianWallMs: median(mine.map((c) => c.sim.wallMs)),
    },
    reference: {
      runs: withRef.length,
      throughput: pair(
        withRef.map((c) => c.run.real!.throughput),
        withRef.map((c) => c.reference!.throughput),
      ),
      ttftWithPenalty: pair(
        withRef.map((c) => realTtftWithPenalty(c.run)),
        withRef.map((c) => c.reference!.ttftPenaltyMs),
      ),
      itl: pair(
        withRef.map((c) => c.run.real!.itlMs),
        withRef.map((c) => c.reference!.itlMs),
      ),
      starvation: agreement(withRef.map((c) => c.run.real!.starved === refStarved(c))),
      medianWallMs: median(withRef.map((c) => c.reference!.wallS * 1000)),
    },
    regimes: {
      operatorLoad: regimeErrors(scored.filter((c) => c.run.real!.ttftMs < operatorLoadTtftMs)),
      saturated: regimeErrors(scored.filter((c) => c.run.real!.ttftMs >= operatorLoadTtftMs)),
    },
  };
}

function agreement(flags: boolean[]): { agree: number; runs: number; accuracy: number } {
  const agree = flags.filter(Boolean).length;
  return { agree, runs: flags.length, accuracy: flags.length ? agree / flags.length : NaN };
}

/** Fixed-width table for the terminal. */
export function formatReport(reports: ModelReport[]): string {
  const f = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)} %` : '-');
  const lines: string[] = [];
  for (const r of reports) {
    const t = r.twin;
    const ref = r.reference;
    lines.push(`${r.model}: ${r.runs} runs (${r.memoryErrors.real} real memory errors)`);
    lines.push(
      `  memory errors: ${r.memoryErrors.predicted} predicted, ${r.memoryErrors.agree}/${r.runs} agree, ` +
        `${r.memoryErrors.falsePositives} false positive(s), ${r.memoryErrors.falseNegatives} false negative(s)`,
    );
    lines.push('  SMAPE                      lora-placer twin            research twin (same runs)');
    lines.push('                             research    standard        research    standard');
    const row = (name: string, a: ErrorPair | null, b: ErrorPair | null): string =>
      `  ${name.padEnd(26)} ${(a ? f(a.research) : '-').padStart(8)}  ` +
      `${(a ? f(a.standard) : '-').padStart(10)}       ${(b ? f(b.research) : '-').padStart(8)}  ` +
      `${(b ? f(b.standard) : '-').padStart(10)}`;
    lines.push(row(`throughput (${t.throughput.runs} runs)`, t.throughput, ref.throughput));
    lines.push(row('TTFT (completed requests)', t.ttft, null));
    lines.push(row('TTFT incl. unfinished*', t.ttftWithPenalty, ref.ttftWithPenalty));
    lines.push(row('ITL', t.itl, ref.itl));
    lines.push(
      `  starvation agreement       ${t.starvation.agree}/${t.starvation.runs} ` +
        `(${(100 * t.starvation.accuracy).toFixed(1)} %)          ${ref.starvation.agree}/${ref.starvation.runs} ` +
        `(${(100 * ref.starvation.accuracy).toFixed(1)} %)`,
    );
    lines.push(
      `  median wall time per run   ${t.medianWallMs.toFixed(0)} ms                     ` +
        `${ref.medianWallMs.toFixed(0)} ms`,
    );
    lines.push(...formatRegimes(r.regimes));
    if (r.predictor) lines.push(...formatPredictor(r.model, r.predictor));
    lines.push('');
  }
  lines.push('research SMAPE = 100 * mean(|y - p| / (|y| + |p|)) as in the papers; standard = twice that.');
  lines.push('* research TTFT definition: unfinished requests count as the whole window; requests sent by the');
  lines.push(
    '  real client are estimated as max(completed, sum of rates x window) since the runs did not record them.',
  );
  lines.push(
    `* operator load: real mean TTFT under ${operatorLoadTtftMs / 1000} s; the research twin reports means only ` +
      '(its p50 / p99 are not published).',
  );
  return lines.join('\n');
}

/** Latency tails by load regime: research SMAPE, and the median Twin / real ratio (bias). */
function formatRegimes(g: ModelReport['regimes']): string[] {
  const f = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} %` : '-');
  const x = (v: number): string => (Number.isFinite(v) ? `x${v.toFixed(2)}` : '');
  const lines = [
    '  latency by load (research SMAPE; Twin / real median)   ' +
      'operator load*     saturated     research twin (operator load)',
  ];
  const o = g.operatorLoad;
  const s = g.saturated;
  lines.push(
    `    runs                                                 ${String(o.runs).padStart(8)}     ` +
      `${String(s.runs).padStart(9)}`,
  );
  const row = (name: string, a: ErrorPair, b: ErrorPair, bias = '', ref = ''): string =>
    `    ${name.padEnd(52)} ${f(a.research).padStart(8)} ${bias.padEnd(6)} ${f(b.research).padStart(7)}     ${ref}`;
  lines.push(row('throughput', o.throughput, s.throughput));
  lines.push(row('TTFT mean', o.ttftMean, s.ttftMean, x(o.ratio.ttftMean)));
  lines.push(row('TTFT p50', o.ttftP50, s.ttftP50));
  lines.push(row('TTFT p99', o.ttftP99, s.ttftP99, x(o.ratio.ttftP99)));
  lines.push(
    row(
      'ITL mean',
      o.itlMean,
      s.itlMean,
      '',
      o.reference.runs ? `${f(o.reference.itlMean.research)} (${o.reference.runs} runs)` : '-',
    ),
  );
  lines.push(row('ITL p99', o.itlP99, s.itlP99, x(o.ratio.itlP99)));
  return lines;
}

function formatPredictor(
  model: string,
  p: { version: string; metrics: PredictorMetrics; operatorLoad?: PredictorMetrics },
): string[] {
  const m = p.metrics;
  const research = researchPredictorScores[model];
  const f2 = (x: number): string => x.toFixed(2);
  const f3 = (x: number): string => x.toFixed(3);
  const lines = [
    `  predictors (student trees ${p.version}, ${m.rows} runs)  research (${research?.testRows ?? '?'} runs): ` +
      'forest / fast tree',
    (
      `  throughput SMAPE research   ${f2(m.throughput.smapeResearch)} % (standard ` +
      `${f2(m.throughput.smapeStandard)} %), R2 ${f3(m.throughput.r2)}`
    ).padEnd(66) +
      (research
        ? `${f2(research.forest.throughputSmape)} % (${research.forest.r2}) / ` +
          `${f2(research.fastTree.throughputSmape)} % (${research.fastTree.r2})`
        : ''),
    `  ITL SMAPE research          ${f2(m.itl.smapeResearch)} %   TTFT ${f2(m.ttft.smapeResearch)} %`.padEnd(66) +
      (research ? `${f2(research.forest.itlSmape)} % / ${f2(research.fastTree.itlSmape)} %` : ''),
    `  starvation accuracy ${f3(m.starved.accuracy)}, macro-F1 ${f3(m.starved.macroF1)}`.padEnd(66) +
      (research
        ? `${research.forest.accuracy} / ${research.forest.macroF1}, ${research.fastTree.accuracy} / ` +
          `${research.fastTree.macroF1}`
        : ''),
  ];
  const o = p.operatorLoad;
  if (o?.ttftP99 && o.itlP99) {
    lines.push(
      `  tail students, operator-load runs (${o.rows}): p99 TTFT ${f2(o.ttftP99.smapeResearch)} %, p99 ITL ` +
        `${f2(o.itlP99.smapeResearch)} %, mean TTFT ${f2(o.ttft.smapeResearch)} %`,
    );
  }
  return lines;
}
