import {
  place,
  parseWorkload,
  replan,
  replanApplies,
  withPlacementWarnings,
  type ParsedWorkload,
  type Placement,
} from '../placement/index.js';
import type { Prediction } from '../ml/prediction.js';
import { TwinEstimator } from '../ml/twin-estimator.js';
import { profilesFrom, type Profile, type ProfileStore } from '../profiles/index.js';
import { toWireError, type WireError } from '../shared/errors.js';
import { parseJsonBody } from '../shared/json-body.js';
import type { WorkLimits } from '../shared/work-limits.js';
import {
  checkSimulationWork,
  parseScenario,
  simulateParsed,
  withScenarioWarnings,
  type ParsedScenario,
  type SimulationResult,
} from '../twin/index.js';
import { registryFromRefs, type PredictorRef } from './predictor-refs.js';

/**
 * Most JSON values a request body handed to a worker may hold (objects count 4): 100,000 adapters
 * with their own lengths fit; a malformed document cannot make validation run for minutes.
 */
export const maxWorkerJsonValues = 2_000_000;

/**
 * Work the service does off the event loop. `body` is the request body as received: the worker parses
 * and validates it, so a large or malformed document costs the HTTP thread nothing. Pools re-planned
 * after a model swap send the workload already parsed. A pool's re-plan sends its `current`
 * placement: the answer then starts from it and moves few adapters (replan). Every task names the service's
 * profile directories (`ProfileStore.dirs`): the worker reads the same profiles, once. Directories rather than a
 * profile with the task (as the Twin pool sends, simulate.worker.ts): the HTTP thread does not parse the body, so
 * it does not know the profile, and a placement resolves its predictors' profiles (PredictorRef) in a whole store.
 * A prediction for a profile without predictors is answered by short Twin runs, here, off the HTTP thread.
 */
export type WorkTask =
  | { kind: 'simulate'; body: string; limits: WorkLimits; profileDirs: readonly string[] }
  | { kind: 'predict'; scenario: ParsedScenario; limits: WorkLimits; profileDirs: readonly string[] }
  | {
      kind: 'place';
      body: string | ParsedWorkload;
      limits: WorkLimits;
      predictors: PredictorRef[];
      current?: Placement;
      profileDirs: readonly string[];
    };

export interface WorkOutputs {
  simulate: { model: string; gpu: string; result: SimulationResult };
  predict: Prediction;
  place: { workload: ParsedWorkload; placement: Placement };
}

/** What crosses back from a worker: the answer, or the error as data (classes do not survive the copy). */
export type WorkEnvelope = { ok: true; value: WorkOutputs[WorkTask['kind']] } | { ok: false; error: WireError };

/**
 * Runs one task where it is called (a worker thread, or the caller's thread in tests), with `profiles` (those
 * of the task's profile directories unless given: in the caller's thread (InlineBackend) its store is at hand,
 * and tests pass one built in memory, which has no directories a thread could read).
 */
export async function runWorkTask(task: WorkTask, profiles?: ProfileStore): Promise<WorkEnvelope> {
  try {
    const store = profiles ?? profilesFrom(task.profileDirs);
    const value =
      task.kind === 'simulate'
        ? simulateTask(task, store)
        : task.kind === 'predict'
          ? predictTask(task, store)
          : await placeTask(task, store);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
}

/** Arrivals a simulation may draw before it is stopped: twice the expected-work limit leaves room for burstiness. */
export function arrivalCap(limits: WorkLimits): number {
  return 2 * limits.maxSimulatedRequests + 10_000;
}

function simulateTask(task: Extract<WorkTask, { kind: 'simulate' }>, profiles: ProfileStore): WorkOutputs['simulate'] {
  const parsed = parseScenario(parseJsonBody(task.body, maxWorkerJsonValues));
  const profile = profiles.get(parsed.model, parsed.gpu, parsed.tensorParallelSize);
  const scenario = asNamed(parsed, profile);
  checkSimulationWork(scenario, task.limits);
  return {
    model: scenario.model,
    gpu: scenario.gpu,
    result: withScenarioWarnings(
      simulateParsed(scenario, profile, { maxArrivals: arrivalCap(task.limits) }),
      scenario,
      profile,
    ),
  };
}

/** The Twin estimator's prediction (a profile without predictors); its runs are bounded by the work limits. */
function predictTask(task: Extract<WorkTask, { kind: 'predict' }>, profiles: ProfileStore): Prediction {
  const s = task.scenario;
  const profile = profiles.get(s.model, s.gpu, s.tensorParallelSize);
  const estimator = new TwinEstimator(profile, { seed: task.scenario.seed ?? 0, limits: task.limits });
  return estimator.predict(asNamed(task.scenario, profile));
}

/** A scenario or workload naming its model by the profile's name (it may have used the Hugging Face id). */
export function asNamed<T extends { model: string; gpu: string }>(doc: T, profile: Profile): T {
  return doc.model === profile.model && doc.gpu === profile.gpu
    ? doc
    : { ...doc, model: profile.model, gpu: profile.gpu };
}

async function placeTask(
  task: Extract<WorkTask, { kind: 'place' }>,
  profiles: ProfileStore,
): Promise<WorkOutputs['place']> {
  const parsed =
    typeof task.body === 'string' ? parseWorkload(parseJsonBody(task.body, maxWorkerJsonValues)) : task.body;
  const profile = profiles.get(parsed.model, parsed.gpu, parsed.tensorParallelSize);
  const workload = asNamed(parsed, profile);
  const twin = { seed: workload.options.verifySeed, limits: task.limits };
  const estimator = registryFromRefs(task.predictors, profiles).estimator(
    workload.model,
    workload.gpu,
    twin,
    workload.tensorParallelSize,
  );
  // verification simulates in this thread: the task already holds one worker
  const deps = { limits: task.limits };
  const current = task.current;
  // a pool moved to another model, GPU, objective or a lower maxGpus is placed from scratch
  const continues = current !== undefined && replanApplies(workload, current, task.limits, estimator.profile);
  const placement = continues
    ? await replan(workload, estimator, current, deps)
    : await place(workload, estimator, deps);
  return { workload, placement: withPlacementWarnings(placement, workload, estimator.profile) };
}
