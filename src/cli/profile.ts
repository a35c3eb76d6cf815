import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInputs } from '../profiles/build/build-inputs.js';
import { buildProfile } from '../profiles/build/build-profile.js';
import { embeddedProfiles } from '../profiles/index.js';
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
  });
  const model = requireOption(values.model, '--model', 'a Hugging Face id, a short name or a config.json');
  const gpu = requireOption(values.gpu, '--gpu', 'e.g. h100-80gb');
  const out = requireOption(values.out, '--out', 'directory to write <model>@<gpu>[-tp<N>].json to');
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
  const inputs = buildInputs(model, gpu, {
    dataDir: values.data,
    vllmVersion: vllmVersion ?? '0.24.0',
    kvCacheDtype: kvCacheDtype ?? 'auto',
    profiles: embeddedProfiles().list(),
  });
  const profile = buildProfile(options, inputs);
  const file = join(out, `${profile.model}@${profile.gpu}.json`);
  const text = `${JSON.stringify(profile, null, 2)}\n`;
  if (values.check) {
    const same = existsSync(file) && readFileSync(file, 'utf8') === text;
    process.stdout.write(`${same ? 'same' : 'DIFFERENT'}  ${file}\n`);
    return same ? 0 : 1;
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(file, text);
  const b = profile.forward.base;
  const kv = profile.kvCapacity.ranks.find((r) => r.rank === 16)?.points.find((p) => p.slots === 32)?.tokens;
  process.stdout.write(
    `wrote ${file} (${profile.source?.kind}; base step ${b.constantMs.toFixed(2)} ms + ${b.perDecodeMs.toFixed(4)}` +
      `/decode + ${b.perContextKiloTokenMs.toFixed(4)}/kctx + ${b.perPrefillTokenMs.toFixed(5)}/prefill token; ` +
      `KV ${kv} tokens at 32 slots rank 16)\n`,
  );
  return 0;
}

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
