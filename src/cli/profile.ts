import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { buildInputs } from '../profiles/build/build-inputs.js';
import { type BuildOptions, buildProfile } from '../profiles/build/build-profile.js';
import { shippedProfiles } from '../profiles/build/shipped-profiles.js';
import { embeddedProfiles, keyOf, loadProfileFile, type Profile, sourceOf } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { intOption, numberOption, parseCommandArgs, requireOption } from './args.js';

/** `profile build`: a profile from a model's architecture and a GPU's kernel tables (docs/profiles.md). */
export async function runProfile(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'build') throw new AppError('invalidInput', `profile: unknown subcommand "${sub ?? ''}" (profile build)`);
  const { values } = parseCommandArgs('profile build', rest, {
    model: { type: 'string' },
    gpu: { type: 'string' },
    tp: { type: 'string' },
    'vllm-version': { type: 'string' },
    dtype: { type: 'string' },
    'kv-cache-dtype': { type: 'string' },
    'gpu-memory-utilization': { type: 'string' },
    'max-model-len': { type: 'string' },
    'max-num-batched-tokens': { type: 'string' },
    'max-num-seqs': { type: 'string' },
    data: { type: 'string', default: '../shared/data' },
    out: { type: 'string' },
    check: { type: 'boolean', default: false },
    shipped: { type: 'boolean', default: false },
  });
  const shipped = values.shipped;
  const out = requireOption(values.out, '--out', 'directory to write <model>@<gpu>[-tp<N>].json to');
  if (shipped) return buildShipped(rest, values.data, out, values.check);
  const model = requireOption(values.model, '--model', 'a Hugging Face id, a short name or a config.json');
  const gpu = requireOption(values.gpu, '--gpu', 'e.g. h100-80gb');
  const dtype = oneOf(values.dtype, '--dtype', ['bf16', 'fp8'] as const);
  const kvCacheDtype = oneOf(values['kv-cache-dtype'], '--kv-cache-dtype', ['auto', 'fp8'] as const);
  const vllmVersion = values['vllm-version'];
  if (vllmVersion !== undefined && !/^\d+\.\d+(\.\d+)?/.test(vllmVersion))
    throw new AppError('invalidInput', `--vllm-version: expected a version such as 0.8.5, got "${vllmVersion}"`);
  const util = values['gpu-memory-utilization'];
  const options = {
    ...(values.tp !== undefined ? { tp: intOption(values.tp, '--tp') } : {}),
    ...(vllmVersion !== undefined ? { vllmVersion } : {}),
    ...(dtype ? { dtype } : {}),
    ...(kvCacheDtype ? { kvCacheDtype } : {}),
    ...(util !== undefined ? { gpuMemoryUtilization: fraction(util) } : {}),
    ...optionalInt(values['max-model-len'], '--max-model-len', 'maxModelLen'),
    ...optionalInt(values['max-num-batched-tokens'], '--max-num-batched-tokens', 'maxNumBatchedTokens'),
    ...optionalInt(values['max-num-seqs'], '--max-num-seqs', 'maxNumSeqs'),
  };
  const built = build(model, gpu, options, { dataDir: values.data, kvCacheDtype: kvCacheDtype ?? 'auto', out });
  if (values.check) return check(built) ? 0 : 1;
  write(built);
  return 0;
}

interface Built {
  profile: Profile;
  file: string;
  text: string;
  out: string;
}

/** The profile of `model` on `gpu`, and the file `<out>/<its key>.json` it goes to. */
function build(
  model: string,
  gpu: string,
  options: BuildOptions,
  { dataDir, kvCacheDtype, out }: { dataDir: string; kvCacheDtype: 'auto' | 'fp8'; out: string },
): Built {
  const inputs = buildInputs(model, gpu, {
    dataDir,
    vllmVersion: options.vllmVersion ?? '0.24.0',
    kvCacheDtype,
    profiles: embeddedProfiles().list(),
  });
  const profile = buildProfile(options, inputs);
  return { profile, out, file: join(out, `${keyOf(profile)}.json`), text: `${JSON.stringify(profile, null, 2)}\n` };
}

/** Compares with the file on disk, printing `same` or `DIFFERENT`. */
function check({ file, text }: Built): boolean {
  const same = existsSync(file) && readFileSync(file, 'utf8') === text;
  process.stdout.write(`${same ? 'same' : 'DIFFERENT'}  ${file}\n`);
  return same;
}

function write({ profile, file, text, out }: Built): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(file, text);
  const b = profile.forward.base;
  const kv = profile.kvCapacity.ranks.find((r) => r.rank === 16)?.points.find((p) => p.slots === 32)?.tokens;
  process.stdout.write(
    `wrote ${file} (${profile.source?.kind}; base step ${b.constantMs.toFixed(2)} ms + ${b.perDecodeMs.toFixed(4)}` +
      `/decode + ${b.perContextKiloTokenMs.toFixed(4)}/kctx + ${b.perPrefillTokenMs.toFixed(5)}/prefill token; ` +
      `KV ${kv} tokens at 32 slots rank 16)\n`,
  );
}

/**
 * `profile build --shipped`: every profile of shippedProfiles into `out` (with --check: compared byte for byte;
 * a built profile in `out` that is not in the set is a difference too). The data directory is named relative to
 * the working directory, so profiles built from a checkout name ../shared/data/... however --data was spelt.
 */
function buildShipped(argv: string[], data: string, out: string, compare: boolean): number {
  const single = argv.filter((a) => a.startsWith('--') && !shippedFlags.has(a.split('=')[0]!));
  if (single.length > 0)
    throw new AppError('invalidInput', `--shipped: builds the listed set; drop ${single.join(', ')}`);
  const dataDir = relative(process.cwd(), resolve(data)) || '.';
  const built = shippedProfiles.map((s) =>
    build(s.model, s.gpu, { tp: s.tp, vllmVersion: s.vllmVersion }, { dataDir, kvCacheDtype: 'auto', out }),
  );
  if (!compare) {
    for (const b of built) write(b);
    return 0;
  }
  let same = built.map(check).every(Boolean);
  const keys = new Set(built.map((b) => basename(b.file)));
  for (const file of existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.json')) : []) {
    if (keys.has(file) || sourceOf(loadProfileFile(join(out, file))).kind === 'calibrated') continue;
    process.stdout.write(
      `NOT IN THE SET  ${join(out, file)} (a built profile profile build --shipped does not make)\n`,
    );
    same = false;
  }
  return same ? 0 : 1;
}

const shippedFlags = new Set(['--shipped', '--out', '--data', '--check']);

function oneOf<const T extends readonly string[]>(
  value: string | undefined,
  flag: string,
  allowed: T,
): T[number] | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new AppError('invalidInput', `${flag}: expected one of ${allowed.join(', ')}, got "${value}"`);
  return value as T[number];
}

function fraction(value: string): number {
  const n = numberOption(value, '--gpu-memory-utilization', 'positive');
  if (n > 1)
    throw new AppError('invalidInput', `--gpu-memory-utilization: expected a fraction in (0, 1], got "${value}"`);
  return n;
}

function optionalInt(value: string | undefined, flag: string, key: string): Record<string, number> {
  return value === undefined ? {} : { [key]: intOption(value, flag) };
}
