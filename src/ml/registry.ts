import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import { profileKey, type ProfileStore } from '../profiles/index.js';
import { listBundles, loadBundle } from './bundle-store.js';
import type { GpuEstimator } from './estimator.js';
import { Predictor } from './predictor.js';
import { TwinEstimator, twinEstimatorVersion, type TwinEstimatorOptions } from './twin-estimator.js';

/** `models/predictors` of this package (same relative place from src/ and from dist/). */
export const defaultPredictorsDir = fileURLToPath(new URL('../../models/predictors/', import.meta.url));

/**
 * Compiled predictors keyed by `model@gpu`. Given the profile store, it also answers for the profiles that
 * have no predictors (yet): `estimator()` hands out the Twin estimator for them.
 */
export class PredictorRegistry {
  private readonly predictors = new Map<string, Predictor>();

  constructor(
    predictors: Iterable<Predictor>,
    readonly profiles: ProfileStore | null = null,
  ) {
    for (const p of predictors) this.predictors.set(`${p.profile.model}@${p.profile.gpu}`, p);
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
        predictors.push(new Predictor(profiles.get(bundle.metadata.model, bundle.metadata.gpu), bundle));
      } catch (err) {
        report(err as Error, d);
      }
    }
    return new PredictorRegistry(predictors, profiles);
  }

  /** Replaces the predictor of its model@gpu: later calls see the new one, calls in flight keep theirs. */
  swap(p: Predictor): void {
    this.predictors.set(`${p.profile.model}@${p.profile.gpu}`, p);
  }

  list(): Predictor[] {
    return [...this.predictors.values()];
  }

  /** Whether the profile of `model` (name or Hugging Face id) on `gpu` has predictors. */
  has(model: string, gpu: string): boolean {
    return this.find(model, gpu) !== undefined;
  }

  /**
   * What answers for `model` (name or Hugging Face id) on `gpu`: its predictors, or, for a profile without
   * them, a Twin estimator made with `twin` (one per placement: it remembers its runs). 404 for an unknown
   * profile, listing the names and ids known.
   */
  estimator(model: string, gpu: string, twin: TwinEstimatorOptions): GpuEstimator {
    const p = this.find(model, gpu);
    if (p) return p;
    if (!this.profiles) return this.get(model, gpu);
    return new TwinEstimator(this.profiles.get(model, gpu), twin);
  }

  /** The version that answers for `model` on `gpu` now (a pool's plan made with another one is stale). */
  servedVersion(model: string, gpu: string): string {
    const p = this.find(model, gpu);
    if (p) return p.version;
    if (!this.profiles) return this.get(model, gpu).version;
    return twinEstimatorVersion(this.profiles.get(model, gpu));
  }

  /** The predictor of a model given by profile name or Hugging Face id (as the profile store resolves it). */
  private find(model: string, gpu: string): Predictor | undefined {
    const direct = this.predictors.get(`${model}@${gpu}`);
    if (direct || !this.profiles?.has(model, gpu)) return direct;
    const profile = this.profiles.get(model, gpu);
    return this.predictors.get(profileKey(profile.model, profile.gpu));
  }

  get(model: string, gpu: string): Predictor {
    const p = this.find(model, gpu);
    if (!p) {
      throw new AppError(
        'unknownProfile',
        `no predictor for model "${model}" on gpu "${gpu}" (known: ` +
          `${[...this.predictors.keys()].join(', ') || 'none'})`,
        {
          model,
          gpu,
          known: [...this.predictors.keys()],
        },
      );
    }
    return p;
  }
}
