import { PredictorRegistry } from '../ml/registry.js';
import { TwinPool } from '../jobs/simulate-pool.js';
import {
  checkPlacementWork,
  parseWorkload,
  place,
  Placement,
  withPlacementWarnings,
  type GpuSimulator,
} from '../placement/index.js';
import { loadWorkLimits } from '../config.js';
import type { ManifestOptions } from '../manifests/manifest-options.js';
import { AppError } from '../shared/errors.js';
import { readInputDocuments, readJsonFile, withItemPath, writeJson } from './io.js';
import { parseCommandArgs, parseWorkers, quietOption } from './args.js';
import { ExitCode } from './exit-codes.js';
import { Progress } from './progress.js';
import { commandProfiles, profilesOption } from './profiles-option.js';
import { warningLines } from './warnings.js';
import { explanationLines } from './place-explanation.js';

const PoolNameArg = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

/** The manifest flags, checked like the route's query (a bad one exits 2 naming it). */
async function manifestOptions(
  values: Record<string, string | string[] | boolean | undefined>,
): Promise<ManifestOptions> {
  // the manifests (their schema, kubernetes-models, yaml) load with --output manifests only
  const { ManifestOptions } = await import('../manifests/manifest-options.js');
  const given = {
    image: values.image,
    modelId: values['model-id'],
    namespace: values.namespace,
    adapterClaim: values['adapter-claim'],
    hfTokenSecret: values['hf-token-secret'],
    gateway: values.gateway,
    adapterLoading: values['adapter-loading'],
    loraSyncerImage: values['lora-syncer-image'],
  };
  const parsed = ManifestOptions.safeParse(
    Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
  );
  if (!parsed.success) {
    const flag: Record<string, string> = {
      modelId: '--model-id',
      adapterClaim: '--adapter-claim',
      hfTokenSecret: '--hf-token-secret',
      adapterLoading: '--adapter-loading',
      loraSyncerImage: '--lora-syncer-image',
    };
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    throw new AppError('invalidInput', `${flag[key] ?? `--${key}`}: ${issue.message}`, { path: key });
  }
  if (values.previous !== undefined && parsed.data.adapterLoading !== 'dynamic')
    throw new AppError(
      'invalidInput',
      '--previous: only with --adapter-loading dynamic (it lists adapters to unload)',
      {
        path: 'previous',
      },
    );
  return parsed.data;
}

/** --previous FILE: the placement the cluster runs now (a `place` answer), checked like any input. */
async function previousPlacement(file: string | undefined): Promise<Placement | undefined> {
  if (file === undefined) return undefined;
  const parsed = Placement.safeParse(readJsonFile(file));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const at = issue.path.join('.');
  throw new AppError('invalidInput', `--previous: ${file}${at ? ` at ${at}` : ''}: ${issue.message}`, {
    path: 'previous',
  });
}

export async function runPlace(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'place',
    argv,
    {
      workers: { type: 'string' },
      pretty: { type: 'boolean', default: false },
      output: { type: 'string', default: 'placement' },
      pool: { type: 'string', default: 'pool' },
      image: { type: 'string' },
      'model-id': { type: 'string' },
      namespace: { type: 'string' },
      'adapter-claim': { type: 'string' },
      'hf-token-secret': { type: 'string' },
      gateway: { type: 'string' },
      'adapter-loading': { type: 'string' },
      'lora-syncer-image': { type: 'string' },
      previous: { type: 'string' },
      ...profilesOption,
      ...quietOption,
    },
    1,
  );
  if (values.output !== 'placement' && values.output !== 'manifests')
    throw new AppError('invalidInput', `--output: "${values.output}" is not one of placement, manifests`, {
      path: 'output',
    });
  if (!PoolNameArg.test(values.pool))
    throw new AppError(
      'invalidInput',
      '--pool: lowercase letters, digits, ".", "_" and "-", 1 to 63 characters, starting and ending alphanumeric',
      { path: 'pool' },
    );
  const manifests = values.output === 'manifests' ? await manifestOptions(values) : null;
  if (!manifests && values.previous !== undefined)
    throw new AppError('invalidInput', '--previous: only with --output manifests', { path: 'previous' });
  const previous = await previousPlacement(values.previous);
  const input = readInputDocuments(positionals[0]);
  if (manifests && input.items.length !== 1)
    throw new AppError(
      'invalidInput',
      `--output manifests takes one workload (the input holds ${input.items.length}): one pool per run`,
      { path: 'output' },
    );
  // kubernetes-models and yaml: for --output manifests only
  const yaml = manifests ? { options: manifests, render: await import('../manifests/index.js') } : null;
  const profiles = commandProfiles(values);
  const pool = new TwinPool(parseWorkers(values.workers), { profiles });
  const registry = PredictorRegistry.fromDirectory(profiles);
  const limits = loadWorkLimits();
  // validate everything before placing anything: bad input fails fast, naming the item
  const workloads = input.items.map((item, i) => {
    try {
      const parsed = parseWorkload(item);
      const profile = profiles.get(parsed.model, parsed.gpu, parsed.tensorParallelSize);
      // the answer names the profile (the workload may have named the model by its Hugging Face id)
      const w = { ...parsed, model: profile.model, gpu: profile.gpu };
      checkPlacementWork(w, limits);
      return w;
    } catch (err) {
      throw withItemPath(err, i, input.single);
    }
  });
  // verification simulates GPUs for a while: progress (placements done, GPU simulations) on stderr
  const progress = workloads.some((w) => w.verify)
    ? new Progress('place', workloads.length, { quiet: values.quiet })
    : null;
  let simulations = 0;
  let placed = 0;
  const simulate: GpuSimulator = async (s) => {
    const result = await pool.run(s);
    progress?.update(placed, workloads.length, `placements, ${++simulations} GPU simulations`);
    return result;
  };
  const unplaced: string[] = [];
  const warnings: string[] = [];
  const explained: string[] = [];
  try {
    for (const [i, w] of workloads.entries()) {
      // a profile without predictors is placed with short Twin runs (slower; the answer says so)
      const estimator = registry.estimator(
        w.model,
        w.gpu,
        { seed: w.options.verifySeed, limits },
        w.tensorParallelSize,
      );
      const placement = withPlacementWarnings(
        await place(w, estimator, { simulate, parallel: pool.workers, limits }),
        w,
        estimator.profile,
      );
      progress?.update(++placed);
      // printed with the unplaced adapters, once the progress line is done
      warnings.push(...warningLines(placement.warnings, i, input.single));
      // what the count rests on, for a reader (stdout stays the answer): --quiet silences it
      if (!values.quiet) explained.push(...explanationLines(placement, input.single ? '' : `[${i}]: `));
      if (placement.unplaced.length > 0) {
        const item = input.single ? '' : `[${i}]: `;
        const rate = placement.unplaced.reduce((sum, u) => sum + u.rate, 0);
        const first = placement.unplaced[0]!;
        const left = `${placement.unplaced.length} adapter(s) left unplaced (${rate.toFixed(3)} req/s)`;
        unplaced.push(`${item}${left}, e.g. "${first.id}": ${first.reason}`);
      }
      if (!yaml) {
        writeJson(placement, values.pretty);
        continue;
      }
      const list = yaml.render.poolManifests(
        {
          pool: values.pool,
          placement,
          profile: estimator.profile,
          adapterRoot: w.options.loraModulesRoot,
          previous,
        },
        yaml.options,
      );
      process.stdout.write(yaml.render.toYamlDocuments(list));
    }
  } finally {
    progress?.finish();
    await pool.destroy();
  }
  for (const line of warnings) process.stderr.write(`${line}\n`);
  for (const line of explained) process.stderr.write(`${line}\n`);
  for (const u of unplaced) process.stderr.write(`lora-placer place: ${u}\n`);
  return unplaced.length > 0 ? ExitCode.unplaced : ExitCode.ok;
}
