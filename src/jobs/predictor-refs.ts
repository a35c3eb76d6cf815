import { Predictor } from '../ml/predictor.js';
import { PredictorRegistry } from '../ml/registry.js';
import type { PredictorBundle } from '../ml/bundle.js';
import { profileKey, tensorParallelSizeOf, type ProfileStore } from '../profiles/index.js';

/**
 * A served predictor as a worker thread receives it: its version and its bundle as JSON in shared
 * memory. Tasks carry the handle, not a copy, and a worker parses a bundle once per version, so a
 * model swapped in by a refresh reaches the workers with the next task.
 */
export interface PredictorRef {
  model: string;
  gpu: string;
  /** GPUs per server of the predictor's profile */
  tensorParallelSize: number;
  version: string;
  bundleJson: SharedArrayBuffer;
}

const encoded = new WeakMap<Predictor, PredictorRef>();

/** The refs of every predictor the registry serves now (encoded once per predictor). */
export function predictorRefs(registry: PredictorRegistry): PredictorRef[] {
  return registry.list().map((p) => {
    let ref = encoded.get(p);
    if (!ref) {
      const bytes = new TextEncoder().encode(JSON.stringify(p.bundle));
      const bundleJson = new SharedArrayBuffer(bytes.byteLength);
      new Uint8Array(bundleJson).set(bytes);
      const { model, gpu } = p.profile;
      ref = { model, gpu, tensorParallelSize: tensorParallelSizeOf(p.profile), version: p.version, bundleJson };
      encoded.set(p, ref);
    }
    return ref;
  });
}

/** Predictors built in this thread, by profile key: the newest version only. */
const built = new Map<string, Predictor>();

/**
 * The registry a task uses: the refs' predictors, each compiled in this thread on first sight of its version,
 * and the Twin estimator for the profiles of `profiles` that have none.
 */
export function registryFromRefs(refs: readonly PredictorRef[], profiles: ProfileStore): PredictorRegistry {
  return new PredictorRegistry(
    refs.map((ref) => {
      const key = profileKey(ref.model, ref.gpu, ref.tensorParallelSize);
      const cached = built.get(key);
      if (cached?.version === ref.version) return cached;
      // copied out of shared memory first: TextDecoder refuses views of a SharedArrayBuffer
      const text = new TextDecoder().decode(new Uint8Array(ref.bundleJson).slice());
      const profile = profiles.get(ref.model, ref.gpu, ref.tensorParallelSize);
      const predictor = new Predictor(profile, JSON.parse(text) as PredictorBundle);
      built.set(key, predictor);
      return predictor;
    }),
    profiles,
  );
}
