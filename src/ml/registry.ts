import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import {
  keyOf,
  profileKey,
  tensorParallelSizeOf,
  unknownTensorParallelSize,
  type ProfileStore,
} from '../profiles/index.js';
import { listBundles, loadBundle } from './bundle-store.js';
import { Predictor } from './predictor.js';

/** `models/predictors` of this package (same relative place from src/ and from dist/). */
export const defaultPredictorsDir = fileURLToPath(new URL('../../models/predictors/', import.meta.url));

/**
 * Compiled predictors keyed by their profile's key (`model@gpu`, `model@gpu-tpN` with tensor parallelism). With
 * `profiles`, a lookup without a tensor-parallel size takes the size the profiles default to, so a predictor is
 * never chosen for servers other than those the profile store would simulate.
 */
export class PredictorRegistry {
  private readonly predictors = new Map<string, Predictor>();

  constructor(
    predictors: Iterable<Predictor>,
    private readonly profiles?: ProfileStore,
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

  /**
   * The predictor of `model` on `gpu` at `tensorParallelSize` GPUs per server; without it, the size the profiles
   * default to (the smallest; without profiles, the smallest among the predictors). 404 LP_ERR_UNKNOWN_PROFILE.
   */
  get(model: string, gpu: string, tensorParallelSize?: number): Predictor {
    const size = tensorParallelSize ?? this.defaultSize(model, gpu);
    const p = this.predictors.get(profileKey(model, gpu, size));
    if (p) return p;
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
    // 1 is the smallest size there is: a one-GPU predictor settles it without a search (the hot path of predict)
    if (this.predictors.has(profileKey(model, gpu))) return 1;
    return this.knownSizes(model, gpu)[0] ?? 1;
  }
}
