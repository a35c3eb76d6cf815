// npx tsx scripts/bound-gap.ts [TRACE_DIR] [NAME_FILTER]
//
// How far is the placement lower bound (src/placement/bounds.ts) from what any placement can reach?
// For every `bench place` suite workload it takes k = floor(1.1 x lower bound) GPUs, the most the
// acceptance bar allows, splits the traffic evenly over them (rate balancing, hot adapters split), and
// lets every GPU try each --max-loras of a grid in the Twin. A GPU passes at the first slot count at
// which it neither starves nor fails to start: the baselines' own, lenient criterion, which ignores
// adapters left waiting. Prints, per workload, whether every GPU passed; if so the largest share of a
// GPU's adapters under 90 % of their traffic and the largest mean TTFT of a GPU; if not, the best served
// fraction of the GPU that failed. About 2 minutes on 2 cores. The answer is recorded in the README
// ("Accuracy, and where it falls short", Placement).
import { unlimitedWorkLimits } from '../src/shared/work-limits.js';
import { embeddedProfiles } from '../src/profiles/index.js';
import { PredictorRegistry } from '../src/ml/registry.js';
import { parseWorkload, pack } from '../src/placement/index.js';
import { assignmentScenario, rateBalancing } from '../src/bench/baselines/placements.js';
import { runsClean } from '../src/placement/verify.js';
import { boundRatioBar, suiteCases } from '../src/bench/place.js';
import { TwinPool } from '../src/jobs/simulate-pool.js';

const traceDir = process.argv[2] ?? '../shared/data/traces';
const nameFilter = process.argv[3] ?? '';
const slotGrid = [2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256];

/** At the first slot count that passed; when none did, only `servedFraction` (the best one) means anything. */
interface GpuOutcome {
  passed: boolean;
  /** share of the GPU's adapters under 90 % of their traffic */
  starvedShare: number;
  ttftS: number;
  servedFraction: number;
}

async function tryGpu(pool: TwinPool, scenarios: Parameters<TwinPool['run']>[0]): Promise<GpuOutcome> {
  const results = await pool.run(scenarios);
  const served = (i: number): number =>
    results[i]!.idealThroughput > 0 ? results[i]!.throughput.total / results[i]!.idealThroughput : 0;
  const i = results.findIndex(runsClean);
  if (i < 0)
    return {
      passed: false,
      starvedShare: 1,
      ttftS: Infinity,
      servedFraction: Math.max(...results.map((_, j) => served(j))),
    };
  const r = results[i]!;
  return {
    passed: true,
    starvedShare: r.starvedAdapters.length / scenarios[i]!.adapters.length,
    ttftS: (r.ttftMs?.mean ?? 0) / 1000,
    servedFraction: served(i),
  };
}

const registry = PredictorRegistry.fromDirectory(embeddedProfiles());
const pool = new TwinPool(2);
let passedWorkloads = 0;
let total = 0;
console.log(`${'workload'.padEnd(34)} bound     k  at k GPUs`);
for (const c of suiteCases(traceDir, false).filter((x) => x.name.includes(nameFilter))) {
  const workload = parseWorkload({ ...c.workload, verify: true, criterion: 'throughput' });
  const { bound: lower, ctx } = pack(workload, registry.get(workload.model, workload.gpu), unlimitedWorkLimits);
  const bound = lower.gpus;
  const k = Math.max(bound, Math.floor(boundRatioBar * bound + 1e-9));
  const outcomes: GpuOutcome[] = [];
  for (const gpu of rateBalancing(workload, k)) {
    const slots = [...new Set(slotGrid.map((s) => Math.min(s, gpu.adapters.length)))];
    const outcome = await tryGpu(
      pool,
      slots.map((s) => assignmentScenario(workload, { ...gpu, maxLoras: s }, ctx.maxNumBatchedTokens, ctx.maxNumSeqs)),
    );
    outcomes.push(outcome);
    if (!outcome.passed) break;
  }
  const failed = outcomes.find((o) => !o.passed);
  total++;
  if (!failed) passedWorkloads++;
  const verdict = failed
    ? `no slot count keeps a GPU from starving (best served ${(100 * failed.servedFraction).toFixed(0)} %)`
    : `every GPU passes; worst: ${(100 * Math.max(...outcomes.map((o) => o.starvedShare))).toFixed(0)} % of ` +
      `adapters starved, TTFT ${Math.max(...outcomes.map((o) => o.ttftS)).toFixed(0)} s`;
  console.log(`${c.name.padEnd(34)} ${String(bound).padStart(5)} ${String(k).padStart(5)}  ${verdict}`);
}
console.log(
  `\nrate balancing at floor(${boundRatioBar} x bound) GPUs, any --max-loras per GPU: passes the GPU-level ` +
    `starvation rule on ${passedWorkloads} of ${total} workloads`,
);
await pool.destroy();
