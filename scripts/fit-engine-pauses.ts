// npx tsx scripts/fit-engine-pauses.ts [RUNS_CSV]
//
// Fits the Twin's engine-pause term (src/twin/engine-pauses.ts, constants in
// src/profiles/calibration/engine-pauses.ts) on a split of the validation runs by workload, as the issue
// on latency tails allows: the runs with adapter ranks 8/16 fit, the runs with ranks 8/16/32 score.
//  1. grid over (probability per step, ms per held adapter), capped at 1 s: the pair with the lowest p99
//     TTFT research SMAPE on the fit half's operator-load runs (both models, one pair for both);
//  2. grid over the cap with that pair: throughput SMAPE and starvation agreement on every fit-half run
//     (the cap is there for the saturated runs of hundreds of adapters);
//  3. both halves, and the two rate groups, with the chosen constants beside no pauses.
// Runs in one thread, about 3 minutes. docs/twin-tails.md records the output.
import { embeddedProfiles, type Profile } from '../src/profiles/index.js';
import { parseScenario } from '../src/twin/index.js';
import { simulateParsed } from '../src/twin/simulate.js';
import type { SimulationResult } from '../src/twin/result.js';
import { operatorLoadTtftMs, readRealRuns, scenarioOf, type RealRun } from '../src/validation/real-runs.js';
import { smapeResearch } from '../src/shared/smape.js';
import { enginePauses } from '../src/profiles/calibration/engine-pauses.js';

type Pauses = NonNullable<Profile['pauses']>;
const runsFile = process.argv[2] ?? '../shared/data/vllm-lora/dt_validation_real_runs.csv';
const profiles = embeddedProfiles();
const withResults = readRealRuns(runsFile).filter((r) => r.real !== null);
const isFitHalf = (r: RealRun): boolean => r.ranks.join('/') === '8/16';
const isOperatorLoad = (r: RealRun): boolean => r.real!.ttftMs < operatorLoadTtftMs;

function simulateAll(runs: RealRun[], pauses: Pauses | undefined): SimulationResult[] {
  return runs.map((run) => {
    const scenario = parseScenario(scenarioOf(run, 'h100-64gb', 0));
    const base = profiles.get(scenario.model, scenario.gpu);
    const profile: Profile = { ...base, pauses };
    if (!pauses) delete profile.pauses;
    return simulateParsed(scenario, profile);
  });
}

type Figure = 'ttftMean' | 'ttftP99' | 'itlP99' | 'throughput';
function figure(run: RealRun, sim: SimulationResult, f: Figure): [number, number] {
  const real = run.real!;
  if (f === 'ttftMean') return [real.ttftMs, sim.ttftMs?.mean ?? NaN];
  if (f === 'ttftP99') return [real.ttftP99Ms, sim.ttftMs?.p99 ?? NaN];
  if (f === 'itlP99') return [real.itlP99Ms, sim.itlMs?.p99 ?? NaN];
  return [real.throughput, sim.throughput.total];
}

function smapeOf(runs: RealRun[], sims: SimulationResult[], f: Figure): number {
  const pairs = runs.map((r, i) => figure(r, sims[i]!, f));
  return smapeResearch(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
  );
}

const models = [...new Set(withResults.map((r) => r.model))].sort();
const byModel = (runs: RealRun[], sims: SimulationResult[], model: string) => {
  const keep = runs.map((r, i) => [r, sims[i]!] as const).filter(([r]) => r.model === model);
  return { runs: keep.map(([r]) => r), sims: keep.map(([, s]) => s) };
};
const pct = (v: number): string => `${v.toFixed(1).padStart(5)} %`;

// 1. probability x length on the fit half's operator-load runs
const fitLoad = withResults.filter((r) => isFitHalf(r) && isOperatorLoad(r));
console.log(
  `1. fit half (ranks 8/16), ${fitLoad.length} operator-load runs: p99 TTFT research SMAPE per model, cap 1 s`,
);
let best = { score: Infinity, perStepProbability: 0, perHeldAdapterMs: 0 };
for (const perStepProbability of [0.0005, 0.00075, 0.001, 0.0015, 0.002]) {
  const cells: string[] = [];
  for (const perHeldAdapterMs of [4, 6, 8, 10, 12]) {
    const sims = simulateAll(fitLoad, { perStepProbability, perHeldAdapterMs, maxMs: 1000, source: 'grid' });
    const perModel = models.map((m) => {
      const part = byModel(fitLoad, sims, m);
      return smapeOf(part.runs, part.sims, 'ttftP99');
    });
    const score = perModel.reduce((s, v) => s + v, 0) / perModel.length;
    if (score < best.score) best = { score, perStepProbability, perHeldAdapterMs };
    cells.push(`${perHeldAdapterMs} ms: ${perModel.map((v) => v.toFixed(1)).join('/')}`);
  }
  console.log(`  p ${String(perStepProbability).padEnd(7)} ${cells.join('   ')}`);
}
console.log(
  `  best: p ${best.perStepProbability}, ${best.perHeldAdapterMs} ms per held adapter (mean ` +
    `${best.score.toFixed(1)} %)`,
);

// 2. the cap, on every fit-half run
const fitAll = withResults.filter(isFitHalf);
console.log(`\n2. cap, on all ${fitAll.length} fit-half runs (throughput SMAPE, Twin and real agreeing on starvation)`);
for (const maxMs of [500, 1000, 2000, 1e9]) {
  const sims = simulateAll(fitAll, {
    perStepProbability: best.perStepProbability,
    perHeldAdapterMs: best.perHeldAdapterMs,
    maxMs,
    source: 'grid',
  });
  const agree = fitAll.filter((r, i) => r.real!.starved === sims[i]!.starved).length;
  console.log(
    `  cap ${maxMs >= 1e9 ? 'none' : `${maxMs} ms`}: throughput ${pct(smapeOf(fitAll, sims, 'throughput'))}, ` +
      `starvation ${agree}/${fitAll.length}`,
  );
}

// 3. both halves and both rate groups, committed constants vs none
console.log(
  '\n3. operator-load runs, research SMAPE without pauses -> with the committed constants (p ' +
    `${enginePauses.perStepProbability}, ${enginePauses.perHeldAdapterMs} ms, cap ${enginePauses.maxMs} ms)`,
);
const operatorLoad = withResults.filter(isOperatorLoad);
const before = simulateAll(operatorLoad, undefined);
const after = simulateAll(operatorLoad, enginePauses);
const groups: [string, (r: RealRun) => boolean][] = [
  ['fit half (ranks 8/16)', isFitHalf],
  ['scored half (ranks 8/16/32)', (r) => !isFitHalf(r)],
  ['rates 0.1/0.05/0.025', (r) => r.rates[0] === 0.1],
  ['rates 1.6/0.8/0.4', (r) => r.rates[0] === 1.6],
  ['all', () => true],
];
for (const m of models) {
  console.log(`  ${m}`);
  for (const [name, keep] of groups) {
    const idx = operatorLoad
      .map((r, i) => [r, i] as const)
      .filter(([r]) => r.model === m && keep(r))
      .map(([, i]) => i);
    const runs = idx.map((i) => operatorLoad[i]!);
    const cells = (['ttftMean', 'ttftP99', 'itlP99'] as const).map((f) => {
      const b = smapeOf(
        runs,
        idx.map((i) => before[i]!),
        f,
      );
      const a = smapeOf(
        runs,
        idx.map((i) => after[i]!),
        f,
      );
      return `${f} ${pct(b)} -> ${pct(a)}`;
    });
    console.log(`    ${name.padEnd(28)} ${String(runs.length).padStart(2)} runs   ${cells.join('   ')}`);
  }
}
