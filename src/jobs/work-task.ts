import {
  place,
  parseWorkload,
  replan,
  replanApplies,
  type ParsedWorkload,
  type Placement,
} from '../placement/index.js';
import { embeddedProfiles, type ProfileStore } from '../profiles/index.js';
import { toWireError, type WireError } from '../shared/errors.js';
import { parseJsonBody } from '../shared/json-body.js';
import type { WorkLimits } from '../shared/work-limits.js';
import { checkSimulationWork, parseScenario, simulateParsed, type SimulationResult } from '../twin/index.js';
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
 * placement: the answer then starts from it and moves few adapters (replan).
 */
export type WorkTask =
  | { kind: 'simulate'; body: string; limits: WorkLimits }
  | {
      kind: 'place';
      body: string | ParsedWorkload;
      limits: WorkLimits;
      predictors: PredictorRef[];
      current?: Placement;
    };

export interface WorkOutputs {
  simulate: { model: string; gpu: string; result: SimulationResult };
  place: { workload: ParsedWorkload; placement: Placement };
}

/** What crosses back from a worker: the answer, or the error as data (classes do not survive the copy). */
export type WorkEnvelope = { ok: true; value: WorkOutputs[WorkTask['kind']] } | { ok: false; error: WireError };

/**
 * Runs one task where it is called (a worker thread, or the caller's thread in tests), with `profiles` (the
 * embedded ones unless given).
 */
export async function runWorkTask(task: WorkTask, profiles: ProfileStore = embeddedProfiles()): Promise<WorkEnvelope> {
  try {
    return {
      ok: true,
      value: task.kind === 'simulate' ? simulateTask(task, profiles) : await placeTask(task, profiles),
    };
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
}

/** Arrivals a simulation may draw before it is stopped: twice the expected-work limit leaves room for burstiness. */
export function arrivalCap(limits: WorkLimits): number {
  return 2 * limits.maxSimulatedRequests + 10_000;
}

function simulateTask(task: Extract<WorkTask, { kind: 'simulate' }>, profiles: ProfileStore): WorkOutputs['simulate'] {
  const scenario = parseScenario(parseJsonBody(task.body, maxWorkerJsonValues));
  const profile = profiles.get(scenario.model, scenario.gpu, scenario.tensorParallelSize);
  checkSimulationWork(scenario, task.limits);
  return {
    model: scenario.model,
    gpu: scenario.gpu,
    result: simulateParsed(scenario, profile, { maxArrivals: arrivalCap(task.limits) }),
  };
}

async function placeTask(
  task: Extract<WorkTask, { kind: 'place' }>,
  profiles: ProfileStore,
): Promise<WorkOutputs['place']> {
  const workload =
    typeof task.body === 'string' ? parseWorkload(parseJsonBody(task.body, maxWorkerJsonValues)) : task.body;
  const predictor = registryFromRefs(task.predictors, profiles).get(
    workload.model,
    workload.gpu,
    workload.tensorParallelSize,
  );
  // verification simulates in this thread: the task already holds one worker
  const deps = { limits: task.limits };
  const current = task.current;
  // a pool moved to another model, GPU, objective or a lower maxGpus is placed from scratch
  const continues = current !== undefined && replanApplies(workload, current, task.limits, predictor.profile);
  const placement = continues
    ? await replan(workload, predictor, current, deps)
    : await place(workload, predictor, deps);
  return { workload, placement };
}
