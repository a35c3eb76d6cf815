import type { Profile } from '../../src/profiles/index.js';
import {
  parseScenario,
  simulateParsed,
  type EngineOptions,
  type RequestRecord,
  type Scenario,
  type SimulationResult,
  type StepRecord,
} from '../../src/twin/index.js';

export interface Observed {
  result: SimulationResult;
  steps: StepRecord[];
  requests: RequestRecord[];
  preempted: { id: number; adapter: number; atS: number }[];
}

/** Simulates with a given profile and records every step, completion and preemption. */
export function observe(
  profile: Profile,
  scenario: Omit<Scenario, 'model' | 'gpu'>,
  options: Omit<EngineOptions, 'observer'> = {},
): Observed {
  const steps: StepRecord[] = [];
  const requests: RequestRecord[] = [];
  const preempted: Observed['preempted'] = [];
  const parsed = parseScenario({ model: profile.model, gpu: profile.gpu, ...scenario });
  const result = simulateParsed(parsed, profile, {
    ...options,
    observer: {
      onStep: (s) => steps.push(s),
      onComplete: (r) => requests.push(r),
      onPreempt: (id, adapter, atS) => preempted.push({ id, adapter, atS }),
    },
  });
  requests.sort((a, b) => a.id - b.id);
  return { result, steps, requests, preempted };
}

/** A trace event. */
export const ev = (t: number, adapter: string, inputTokens: number, outputTokens: number) => ({
  t,
  adapter,
  inputTokens,
  outputTokens,
});

export function withoutWall(r: SimulationResult): Omit<SimulationResult, 'wallMs'> {
  const { wallMs: _ignored, ...rest } = r;
  return rest;
}
