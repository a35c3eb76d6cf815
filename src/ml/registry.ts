import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';
import { AppError } from '../shared/errors.js';
import type { ProfileStore } from '../profiles/index.js';
import { listBundles, readBundle } from './bundle.js';
import { Predictor } from './predictor.js';

/** `models/predictors` of this package (same relative place from src/ and from dist/). */
export const defaultPredictorsDir = fileURLToPath(new URL('../../models/predictors/', import.meta.url));

/** Compiled predictors keyed by `model@gpu`. */
export class PredictorRegistry {
  private readonly predictors = new Map<string, Predictor>();

  constructor(predictors: Iterable<Predictor>) {
    for (const p of predictors) this.predictors.set(`${p.profile.model}@${p.profile.gpu}`, p);
  }

  /** Loads, validates and compiles every bundle under `dir` whose profile is known. */
  static fromDirectory(profiles: ProfileStore, dir: string = defaultPredictorsDir): PredictorRegistry {
    return new PredictorRegistry(
      listBundles(dir).map((d) => {
        const bundle = readBundle(d);
        if (basename(d) !== `${bundle.metadata.model}@${bundle.metadata.gpu}`) throw new AppError('dataFile', `predictor folder ${d} holds ${bundle.metadata.model}@${bundle.metadata.gpu}`);
        return new Predictor(profiles.get(bundle.metadata.model, bundle.metadata.gpu), bundle);
      }),
    );
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
      throw new AppError('unknownProfile', `no predictor for model "${model}" on gpu "${gpu}" (known: ${[...this.predictors.keys()].join(', ') || 'none'})`, {
        model,
        gpu,
        known: [...this.predictors.keys()],
      });
    }
    return p;
  }
}
