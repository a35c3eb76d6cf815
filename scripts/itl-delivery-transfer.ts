// npx tsx scripts/itl-delivery-transfer.ts [DATA_DIR]
//
// Tests whether a client-side ITL "delivery" term fitted on the scheduler-overhead calibration runs
// would close the Twin's ITL gap on the real validation runs. Fits only on calibration data
// (scheduler-overhead/*.csv); the validation runs are only scored. Prints, per model, the Twin's ITL
// SMAPE (research definition) as it is and with each fitted term, and what separates the Twin from
// the real saturated runs. The answer is recorded in the README ("Accuracy, and where it falls short").
import { join } from 'node:path';
import { readCsv, requireNum, num } from '../src/shared/csv.js';
import { quantileSorted } from '../src/shared/stats.js';
import { MeasurementTables } from '../src/profiles/calibration/tables.js';
import { leastSquares } from '../src/shared/least-squares.js';
import { embeddedProfiles } from '../src/profiles/index.js';
import { parseScenario, simulateParsed, type StepRecord } from '../src/twin/index.js';
import { readRealRuns, scenarioOf, runKey } from '../src/validation/real-runs.js';
import { smapeResearch } from '../src/shared/smape.js';

const data = process.argv[2] ?? '../shared/data/vllm-lora';

/** What a delivery term may depend on, as run-level averages. */
interface Load {
  running: number;
  waiting: number;
  /** request arrivals per engine step */
  arrivalsPerStep: number;
}

interface Term {
  name: string;
  features: (l: Load) => number[];
}

const terms: Term[] = [
  { name: 'waiting / 1000', features: (l) => [l.waiting / 1000] },
  { name: 'running / 100', features: (l) => [l.running / 100] },
  { name: 'running / 100 + arrivals per step', features: (l) => [l.running / 100, l.arrivalsPerStep] },
];

/** Calibration: benchmark ITL over the mean step interval (duration / steps), minus 1. */
function calibrationRows(): { load: Load; excess: number }[] {
  const tables = new MeasurementTables(data);
  return (['mixedLoad', 'aggregatedLoad'] as const).flatMap((name) =>
    tables.rows(name).map((r, i) => {
      const where = `${tables.file(name)} row ${i + 2}`;
      const intervalMs = (1000 * requireNum(r, 'duration', where)) / requireNum(r, 'steps', where);
      // mixedLoad gives the per-adapter rate, aggregatedLoad the total
      const rate = requireNum(r, 'rate', where) * (name === 'mixedLoad' ? requireNum(r, 'cpu_loras', where) : 1);
      const load = {
        running: requireNum(r, 'avg_batch_size', where),
        waiting: requireNum(r, 'avg_waiting_queue', where),
        arrivalsPerStep: (rate * intervalMs) / 1000,
      };
      return { load, excess: requireNum(r, 'mean_itl_ms', where) / intervalMs - 1 };
    }),
  );
}

/** Slope-only factor: the step model already matches client ITL when nothing waits, so the intercept is left out. */
function fitTerm(term: Term, rows: { load: Load; excess: number }[]): (l: Load) => number {
  const fit = leastSquares(
    rows.map((r) => [1, ...term.features(r.load)]),
    rows.map((r) => r.excess),
  );
  const slopes = fit.coefficients.slice(1);
  return (l) =>
    1 +
    Math.max(
      0,
      term.features(l).reduce((s, x, i) => s + x * slopes[i]!, 0),
    );
}

interface Replay {
  model: string;
  realItl: number;
  twinItl: number;
  realRunning: number | null;
  realThroughput: number;
  twinThroughput: number;
  twinTtftMs: number;
  load: Load;
}

function replayValidation(): Replay[] {
  const file = join(data, 'dt_validation_real_runs.csv');
  const runningByKey = new Map(
    readCsv(file).map((r) => [runKey(r.run_dir ?? '', 'real_results/'), num(r, 'npy_num_running_mean')]),
  );
  const profiles = embeddedProfiles();
  const out: Replay[] = [];
  for (const run of readRealRuns(file)) {
    if (run.memoryError || !run.real || !Number.isFinite(run.real.itlMs)) continue;
    const scenario = parseScenario(scenarioOf(run, 'h100-64gb', 0));
    // the result has no mean queue: integrate it over the steps
    let waitingMs = 0;
    const observer = {
      onStep(s: StepRecord) {
        waitingMs += s.waiting * (s.endS - s.startS) * 1000;
      },
    };
    const r = simulateParsed(scenario, profiles.get(scenario.model, scenario.gpu), { observer });
    if (!r.itlMs || r.steps === 0) continue;
    const busyMs = r.durationS * 1000 * r.busyFraction;
    const rate = scenario.adapters.reduce((s, a) => s + a.rate, 0);
    out.push({
      model: run.model,
      realItl: run.real.itlMs,
      twinItl: r.itlMs.mean,
      realRunning: runningByKey.get(run.key) ?? null,
      realThroughput: run.real.throughput,
      twinThroughput: r.throughput.total,
      twinTtftMs: r.ttftMs?.mean ?? 0,
      load: { running: r.meanRunning, waiting: waitingMs / busyMs, arrivalsPerStep: (rate * busyMs) / r.steps / 1000 },
    });
  }
  return out;
}

const median = (xs: number[]): number =>
  quantileSorted(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const pct = (x: number): string => `${x.toFixed(2)} %`;

const calibration = calibrationRows();
const factors = terms.map((t) => ({ name: t.name, factor: fitTerm(t, calibration) }));
const replays = replayValidation();
process.stdout.write(
  `calibration: ${calibration.length} scheduler-overhead runs; validation: ${replays.length} runs replayed\n\n`,
);
for (const model of [...new Set(replays.map((r) => r.model))]) {
  const rows = replays.filter((r) => r.model === model);
  const real = rows.map((r) => r.realItl);
  const twinError = smapeResearch(
    real,
    rows.map((r) => r.twinItl),
  );
  process.stdout.write(`${model} (${rows.length} runs): ITL SMAPE research\n`);
  process.stdout.write(`  Twin as it is                          ${pct(twinError)}\n`);
  for (const f of factors) {
    const predicted = rows.map((r) => r.twinItl * f.factor(r.load));
    const saturated = rows.filter((r) => r.twinTtftMs > 10_000);
    process.stdout.write(
      `  x delivery term on ${f.name.padEnd(34)} ${pct(smapeResearch(real, predicted))}  (median factor on ` +
        `saturated runs ${median(saturated.map((r) => f.factor(r.load))).toFixed(3)})\n`,
    );
  }
  const sat = rows.filter((r) => r.twinTtftMs > 10_000);
  const errorShare =
    (smapeResearch(
      sat.map((r) => r.realItl),
      sat.map((r) => r.twinItl),
    ) *
      sat.length) /
    (twinError * rows.length);
  const withRunning = sat.filter((r) => r.realRunning !== null);
  process.stdout.write(
    `  saturated runs (Twin TTFT > 10 s): ${sat.length}, ${pct(100 * errorShare)} of the ITL error; real / Twin ` +
      `median: ITL ${median(sat.map((r) => r.realItl / r.twinItl)).toFixed(3)}, ` +
      `running ${median(withRunning.map((r) => r.realRunning! / r.load.running)).toFixed(3)}, throughput ` +
      `${median(sat.map((r) => r.realThroughput / r.twinThroughput)).toFixed(3)}; ` +
      `Twin mean waiting ${median(sat.map((r) => r.load.waiting)).toFixed(0)}\n\n`,
  );
}
