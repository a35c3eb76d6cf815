import { join } from 'node:path';
import { bundleKey, listBundles, loadBundle } from '../ml/bundle-store.js';
import { Predictor } from '../ml/predictor.js';
import type { PredictorRegistry } from '../ml/registry.js';
import { keyOf, type ProfileStore } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';

export interface ModelsSyncOptions {
  /** MODELS_DIR: bundles are read from its predictors/<profile key>/ (`<model>@<gpu>`, `-tpN` with TP > 1) */
  dir: string;
  predictors: PredictorRegistry;
  profiles: ProfileStore;
  onSwap?: (p: Predictor) => void;
  /**
   * The one report path of MODELS_DIR problems (unlistable predictors folder, stray entry, unreadable,
   * inconsistent or vanished bundle): called once per problem per pass, with the path it concerns.
   */
  onError?: (err: Error, bundleDir: string) => void;
}

/**
 * Keeps a replica's models in step with a models directory that another replica's refresh writes:
 * a bundle whose version differs from the served one is read, checked (loadBundle: the trees must hash
 * to the metadata's version) and swapped. Nothing in MODELS_DIR makes a pass throw: every problem goes
 * to onError and the models already served stay served.
 */
export class ModelsDirSync {
  private timer: NodeJS.Timeout | null = null;
  /** bundle folders read successfully once: one that disappears is reported, its model stays served */
  private readonly seen = new Set<string>();

  constructor(private readonly options: ModelsSyncOptions) {}

  /** One pass; returns the model@gpu keys swapped in. */
  syncOnce(): string[] {
    const root = join(this.options.dir, 'predictors');
    const { dirs, problems } = listBundles(root);
    for (const p of problems) this.report(p.err, p.dir);
    const swapped = dirs.map((dir) => this.syncBundle(dir)).filter((key): key is string => key !== null);
    // when the folder itself cannot be listed, that one problem stands for all its bundles
    if (!problems.some((p) => p.dir === root)) this.reportVanished([...dirs, ...problems.map((p) => p.dir)]);
    return swapped;
  }

  /** Swaps in the bundle of `dir` when its version is not the one served; returns its model@gpu then. */
  private syncBundle(dir: string): string | null {
    try {
      const bundle = loadBundle(dir);
      this.seen.add(dir);
      const { model, gpu, version } = bundle.metadata;
      const key = bundleKey(bundle);
      if (this.options.predictors.list().some((p) => keyOf(p.profile) === key && p.version === version)) return null;
      const next = new Predictor(
        this.options.profiles.get(model, gpu, bundle.metadata.tensorParallelSize ?? 1),
        bundle,
      );
      this.options.predictors.swap(next);
      this.options.onSwap?.(next);
      return key;
    } catch (err) {
      this.report(err, dir);
      return null;
    }
  }

  /** `listed`: the folders this pass read or reported already (one report per problem) */
  private reportVanished(listed: string[]): void {
    for (const dir of this.seen) {
      if (!listed.includes(dir))
        this.report(
          new AppError('dataFile', `predictor bundle ${dir} is gone; the model loaded from it stays served`),
          dir,
        );
    }
  }

  private report(err: unknown, dir: string): void {
    this.options.onError?.(err instanceof Error ? err : new Error(String(err)), dir);
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
