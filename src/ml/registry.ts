import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import {
  keyOf,
  profileKey,
  tensorParallelSizeOf,
  unknownTensorParallelSize,
  type Profile,
  type ProfileStore,
} from '../profiles/index.js';
import { listBundles, loadBundle } from './bundle-store.js';
import type { GpuEstimator } from './estimator.js';
import { Predictor } from './predictor.js';
import { TwinEstimator, twinEstimatorVersion, type TwinEstimatorOptions } from './twin-estimator.js';

/** `models/predictors` of this package (same relative place from src/ and from dist/). */
export const defaultPredictorsDir = fileURLToPath(new URL('../../models/predictors/', import.meta.url));

/**
 * Compiled predictors keyed by their profile's key (`model@gpu`, `model@gpu-tpN` with tensor parallelism). With
 * `profiles`, a model is found by its profile name or Hugging Face id, a lookup without a tensor-parallel size
 * takes the size the profiles default to (so a predictor is never chosen for servers other than those the
 * profile store would simulate), and `estimator()` hands out the Twin estimator for profiles without predictors.
 */
export class PredictorRegistry {
  private readonly predictors = new Map<string, Predictor>();

  constructor(
    predictors: Iterable<Predictor>,
    readonly profiles: ProfileStore | null = null,
  ) {
    for (const p of predictors) this.predictors.set(keyOf(p.profile), p);
  }

  /**
   * Loads, checks (loadBundle) and compiles every bundle under `dir`. Without `onError` the first bad
   * bundle throws (the embedded models ship with the package: a broken one must stop the start); with
   * it, each problem is reported there and that bundle skipped (a directory written at run time).
   */
  static fromDirectory(
    profiles: ProfileStore,
    dir: string = defaultPredictorsDir,
    onError?: (err: Error, bundleDir: string) => void,
  ): PredictorRegistry {
    const report =
      onError ??
      ((err: Error): never => {
        throw err;
      });
    const { dirs, problems } = listBundles(dir);
    for (const p of problems) report(p.err, p.dir);
    const predictors: Predictor[] = [];
    for (const d of dirs) {
      try {
        const bundle = loadBundle(d);
        const m = bundle.metadata;
        predictors.push(new Predictor(profiles.get(m.model, m.gpu, m.tensorParallelSize ?? 1), bundle));
      } catch (err) {
        report(err as Error, d);
      }
    }
    return new PredictorRegistry(predictors, profiles);
  }

  /** Replaces the predictor of its profile: later calls see the new one, calls in flight keep theirs. */
  swap(p: Predictor): void {
    this.predictors.set(keyOf(p.profile), p);
  }

  list(): Predictor[] {
    return [...this.predictors.values()];
  }

  /** Whether the profile of `model` (name or Hugging Face id) on `gpu` has predictors. */
  has(model: string, gpu: string, tensorParallelSize?: number): boolean {
    return this.find(model, gpu, tensorParallelSize) !== undefined;
  }

  /**
   * What answers for `model` (name or Hugging Face id) on `gpu`: its predictors, or, for a profile without
   * them, a Twin estimator made with `twin` (one per placement: it remembers its runs). 404 for an unknown
   * profile, listing the names and ids known.
   */
  estimator(model: string, gpu: string, twin: TwinEstimatorOptions, tensorParallelSize?: number): GpuEstimator {
    const { predictor, profile } = this.lookup(model, gpu, tensorParallelSize);
    if (predictor) return predictor;
    // without a store only predictors answer; with one, an unknown profile is its 404 (names and ids known): the
    // store's get() only runs then, to throw it
    if (!this.profiles) return this.get(model, gpu, tensorParallelSize);
    return new TwinEstimator(profile ?? this.profiles.get(model, gpu, tensorParallelSize), twin);
  }

  /** The version that answers for `model` on `gpu` now (a pool's plan made with another one is stale). */
  servedVersion(model: string, gpu: string, tensorParallelSize?: number): string {
    const { predictor, profile } = this.lookup(model, gpu, tensorParallelSize);
    if (predictor) return predictor.version;
    if (!this.profiles) return this.get(model, gpu, tensorParallelSize).version;
    // the store's get() only runs for an unknown profile, to throw its 404
    return twinEstimatorVersion(profile ?? this.profiles.get(model, gpu, tensorParallelSize));
  }

  /**
   * The predictor of `model` on `gpu` at `tensorParallelSize` GPUs per server; without it, the size the profiles
   * default to (the smallest; without profiles, the smallest among the predictors). 404 LP_ERR_UNKNOWN_PROFILE.
   */
  get(model: string, gpu: string, tensorParallelSize?: number): Predictor {
    const p = this.find(model, gpu, tensorParallelSize);
    if (p) return p;
    const size = tensorParallelSize ?? this.defaultSize(model, gpu);
    const sizes = this.knownSizes(model, gpu);
    // a known pair at an unknown size: name the sizes that exist (a profile at this size without predictors
    // falls through to "no predictor")
    if (sizes.length > 0 && !sizes.includes(size)) throw unknownTensorParallelSize(model, gpu, size, sizes);
    throw new AppError(
      'unknownProfile',
      `no predictor for model "${model}" on gpu "${gpu}"${size === 1 ? '' : ` at tensorParallelSize ${size}`} ` +
        `(known: ${[...this.predictors.keys()].join(', ') || 'none'})`,
      {
        model,
        gpu,
        ...(size === 1 ? {} : { tensorParallelSize: size }),
        known: [...this.predictors.keys()],
      },
    );
  }

  /** The predictor of a model given by profile name or Hugging Face id (as the profile store resolves it). */
  find(model: string, gpu: string, tensorParallelSize?: number): Predictor | undefined {
    return this.lookup(model, gpu, tensorParallelSize).predictor;
  }

  /**
   * find()'s predictor and, when it had to ask the store, the profile the store resolves these names to
   * (undefined: no store, or no such profile or size), so that a caller without a predictor asks the store once.
   */
  private lookup(
    model: string,
    gpu: string,
    tensorParallelSize?: number,
  ): { predictor: Predictor | undefined; profile: Profile | undefined } {
    // the hot path of predict: a one-GPU predictor under the profile's own name settles it without a search
    if (tensorParallelSize === undefined || tensorParallelSize === 1) {
      const direct = this.predictors.get(profileKey(model, gpu));
      if (direct) return { predictor: direct, profile: undefined };
    }
    const profile = this.profiles?.resolve(model, gpu, tensorParallelSize);
    if (profile) return { predictor: this.predictors.get(keyOf(profile)), profile };
    const size = tensorParallelSize ?? this.defaultSize(model, gpu);
    return { predictor: this.predictors.get(profileKey(model, gpu, size)), profile: undefined };
  }

  /** Sizes with a profile (from the store) or else with a predictor, ascending. */
  private knownSizes(model: string, gpu: string): number[] {
    const fromProfiles = this.profiles?.tensorParallelSizes(model, gpu) ?? [];
    if (fromProfiles.length > 0) return fromProfiles;
    return this.list()
      .filter((p) => p.profile.model === model && p.profile.gpu === gpu)
      .map((p) => tensorParallelSizeOf(p.profile))
      .sort((a, b) => a - b);
  }

  private defaultSize(model: string, gpu: string): number {
    if (this.predictors.has(profileKey(model, gpu))) return 1;
    return this.knownSizes(model, gpu)[0] ?? 1;
  }
}
