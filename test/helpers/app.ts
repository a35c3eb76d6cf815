import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/api/app.js';
import { InlineBackend } from '../../src/jobs/work-queue.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';

/** The app on the embedded profiles and predictors, simulations and placements in this thread; callers close it. */
export async function buildTestApp(over: Partial<AppDeps> = {}): Promise<FastifyInstance> {
  const profiles = embeddedProfiles();
  return buildApp({
    profiles,
    predictors: PredictorRegistry.fromDirectory(profiles),
    work: new InlineBackend(),
    ...over,
  });
}

export const llama = { model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb' } as const;

export const smallScenario = (over: Record<string, unknown> = {}) => ({
  ...llama,
  engine: { maxLoras: 4 },
  adapters: [
    { id: 'a', rank: 8, rate: 1 },
    { id: 'b', rank: 16, rate: 0.5 },
  ],
  durationS: 60,
  seed: 1,
  ...over,
});

export const smallWorkload = (over: Record<string, unknown> = {}) => ({
  ...llama,
  adapters: Array.from({ length: 40 }, (_, i) => ({
    id: `ad-${i}`,
    rank: i % 3 === 0 ? 16 : 8,
    rate: i === 0 ? 30 : 0.2 + (i % 5) * 0.1,
  })),
  ...over,
});
