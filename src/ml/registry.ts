import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import type { ProfileStore } from '../profiles/index.js';
import { listBundles, loadBundle } from './bundle-store.js';
import { Predictor } from './predictor.js';

/** `models/predictors` of this package (same relative place from src/ and from dist/). */
export const defaultPredictorsDir = fileURLToPath(new URL('../../models/predictors/', import.meta.url));

/** Compiled predictors keyed by `model@gpu`. */
export class PredictorRegistry {
  private readonly predictors = new Map<string, Predictor>();

  constructor(predictors: Iterable<Predictor>) {
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
    return new PredictorRegistry(predictors);
  }

  /** Replaces the predictor of its model@gpu: later calls see the new one, calls in flight keep theirs. */
  swap(p: Predictor): void {
    this.predictors.set(`${p.profile.model}@${p.profile.gpu}`, p);
  }

  list(): Predictor[] {
    return [...this.predictors.values()];
  }

  get(model: string, gpu: string): Predictor {
    const p = this.predictors.get(`${model}@${gpu}`);
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
