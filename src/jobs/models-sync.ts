import { basename, join } from 'node:path';
import { listBundles, readBundle, studentVersion } from '../ml/bundle.js';
import { Predictor } from '../ml/predictor.js';
import type { PredictorRegistry } from '../ml/registry.js';
import type { ProfileStore } from '../profiles/index.js';

export interface ModelsSyncOptions {
  /** MODELS_DIR: bundles are read from its predictors/<model>@<gpu>/ */
  dir: string;
  predictors: PredictorRegistry;
  profiles: ProfileStore;
  onSwap?: (p: Predictor) => void;
  onError?: (err: Error, bundleDir: string) => void;
}

/**
 * Keeps a replica's models in step with a models directory that another replica's refresh writes:
 * a bundle whose version differs from the served one is read, checked (the trees must hash to the
 * metadata's version, so a bundle caught between two file renames is skipped until complete) and swapped.
 */
export class ModelsDirSync {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: ModelsSyncOptions) {}

  /** One pass; returns the model@gpu keys swapped in. */
  syncOnce(): string[] {
    const swapped: string[] = [];
    for (const dir of listBundles(join(this.o.dir, 'predictors'))) {
      try {
        const bundle = readBundle(dir);
        const { model, gpu, version } = bundle.metadata;
        if (basename(dir) !== `${model}@${gpu}`) throw new Error(`folder holds ${model}@${gpu}`);
        if (studentVersion(bundle.trees) !== version) throw new Error(`trees do not hash to version ${version} (being written? retried next pass)`);
        if (this.o.predictors.list().some((p) => p.profile.model === model && p.profile.gpu === gpu && p.version === version)) continue;
        const next = new Predictor(this.o.profiles.get(model, gpu), bundle);
        this.o.predictors.swap(next);
        this.o.onSwap?.(next);
        swapped.push(`${model}@${gpu}`);
      } catch (err) {
        this.o.onError?.(err as Error, dir);
      }
    }
    return swapped;
  }

  start(intervalS: number): void {
    if (intervalS <= 0) return;
    this.timer = setInterval(() => this.syncOnce(), intervalS * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
