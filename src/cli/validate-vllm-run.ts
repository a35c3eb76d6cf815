import { existsSync, statSync, writeFileSync } from 'node:fs';
import type { Profile, ProfileStore } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import {
  readVllmRun,
  realFigures,
  replayVllmRun,
  type KvSource,
  type RunFigures,
  type VllmRun,
} from '../validation/vllm-run.js';

export interface VllmRunOptions {
  dir: string;
  model: string;
  gpu: string;
  /** the embedded profiles and those of PROFILES_DIR / --profiles */
  profiles: ProfileStore;
  /** the replay's KV capacity: the profile's (default) or the one the run logged */
  kv: KvSource;
  seed: number;
  json: string | undefined;
  /** gates, in percent of the real value (absolute error) */
  maxMakespanError: number | undefined;
  maxTpotError: number | undefined;
  maxTtftError: number | undefined;
}

/** The rows of the comparison: label, figure, and the gate that applies to it. */
const rows: { label: string; key: keyof RunFigures; digits: number; gate?: 'makespan' | 'tpot' | 'ttft' }[] = [
  { label: 'completed requests', key: 'completed', digits: 0 },
  { label: 'time to finish (s)', key: 'makespanS', digits: 1, gate: 'makespan' },
  { label: 'throughput (tokens/s)', key: 'throughput', digits: 0 },
  { label: 'median TTFT (ms)', key: 'ttftP50Ms', digits: 1, gate: 'ttft' },
  { label: 'mean TTFT (ms)', key: 'ttftMeanMs', digits: 1 },
  { label: 'median TPOT (ms)', key: 'tpotP50Ms', digits: 2, gate: 'tpot' },
  { label: 'mean TPOT (ms)', key: 'tpotMeanMs', digits: 2 },
];

/**
 * `validate --vllm-run DIR`: replays a plain vLLM serving run (no adapters) from its files with the Twin and
 * prints the real and simulated time to finish, throughput, TTFT and TPOT; exit 1 when a gate fails.
 */
export function runVllmRunValidation(o: VllmRunOptions): number {
  if (!existsSync(o.dir) || !statSync(o.dir).isDirectory())
    throw new AppError('invalidInput', `--vllm-run: ${o.dir} is not a directory`);
  const run = readVllmRun(o.dir);
  const profile = o.profiles.get(o.model, o.gpu);
  const real = realFigures(run);
  const { twin, rejected, memoryError, kvCacheTokens } = replayVllmRun(run, profile, o.seed, o.kv);
  const error = (key: keyof RunFigures) => (100 * (twin[key] - real[key])) / real[key];
  const out: string[] = [
    `vLLM run ${o.dir}: ${run.model} on ${run.device}, vLLM ${run.vllmVersion}, ${run.requests.length} requests, ` +
      'no LoRA',
    `replayed on ${profile.model}@${profile.gpu} with ${engineText(run)}, seed ${o.seed}`,
    kvText(run, kvCacheTokens, o.kv),
    '',
    `${'figure'.padEnd(24)}${'real'.padStart(12)}${'Twin'.padStart(12)}${'error'.padStart(10)}`,
  ];
  for (const r of rows) {
    const e = error(r.key);
    out.push(
      `${r.label.padEnd(24)}${fmt(real[r.key], r.digits).padStart(12)}${fmt(twin[r.key], r.digits).padStart(12)}` +
        `${Number.isFinite(e) ? `${e >= 0 ? '+' : ''}${e.toFixed(1)} %` : '-'}`.padStart(10),
    );
  }
  if (memoryError) out.push(`the Twin's server would not start: ${memoryError}`);
  if (rejected > 0) out.push(`${rejected} requests longer than the profile's max_model_len were refused by the Twin`);
  if (run.prefixCaching) out.push('prefix caching was on in the real run; the Twin models none');
  out.push(...settingMismatches(run, profile));
  process.stdout.write(`${out.join('\n')}\n`);
  if (o.json) {
    const errors = Object.fromEntries(rows.map((r) => [r.key, error(r.key)]));
    const doc = {
      run: o.dir,
      profile: `${profile.model}@${profile.gpu}`,
      real,
      twin,
      errorPercent: errors,
      rejected,
      kvCacheTokens: { run: run.kvCacheTokens ?? null, twin: kvCacheTokens, source: o.kv },
    };
    writeFileSync(o.json, `${JSON.stringify(doc, null, 2)}\n`);
  }
  const limits = { makespan: o.maxMakespanError, tpot: o.maxTpotError, ttft: o.maxTtftError };
  const failures = rows
    .filter((r) => r.gate && limits[r.gate] !== undefined && !(Math.abs(error(r.key)) <= limits[r.gate]!))
    .map((r) => {
      const e = error(r.key);
      const what = Number.isFinite(e) ? `error ${e.toFixed(1)} %` : 'no Twin value';
      return `${r.label}: ${what} beyond ${limits[r.gate!]} %`;
    });
  for (const f of failures) process.stderr.write(`${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

function engineText(run: VllmRun): string {
  const e = run.engine;
  const part = (v: number | undefined, name: string) => `${name} ${v === undefined ? "the profile's" : v}`;
  return [part(e.maxNumSeqs, 'max_num_seqs'), part(e.maxNumBatchedTokens, 'max_num_batched_tokens')].join(', ');
}

/** The replay's KV capacity beside the one vLLM logged: the profile's memory arithmetic is scored too. */
function kvText(run: VllmRun, twinTokens: number, kv: KvSource): string {
  if (kv === 'run') return `KV capacity ${twinTokens} tokens, as the run logged (--kv-from-run)`;
  const logged = run.kvCacheTokens;
  const error = logged === undefined ? 0 : (100 * (twinTokens - logged)) / logged;
  const vs =
    logged === undefined
      ? 'the run logged none'
      : `the run logged ${logged} (${error >= 0 ? '+' : ''}${error.toFixed(1)} %)`;
  return `KV capacity ${twinTokens} tokens, the profile's without LoRA; ${vs}`;
}

/**
 * The run's settings that decide a profile's KV capacity and defaults, where they differ from the profile's: a
 * profile to score a run is built with them (profile build --max-model-len --max-num-seqs ...).
 */
function settingMismatches(run: VllmRun, profile: Profile): string[] {
  const out: string[] = [];
  const differ = (name: string, runValue: number | string | undefined, profileValue: number | string | undefined) => {
    if (runValue !== undefined && profileValue !== undefined && runValue !== profileValue)
      out.push(`the run's ${name} ${runValue} is not the profile's ${profileValue}`);
  };
  differ('max_model_len', run.maxModelLen, profile.maxModelLen);
  differ('max_num_seqs', run.engine.maxNumSeqs, profile.engineDefaults.maxNumSeqs);
  differ('max_num_batched_tokens', run.engine.maxNumBatchedTokens, profile.engineDefaults.maxNumBatchedTokens);
  differ('gpu_memory_utilization', run.gpuMemoryUtilization, builtUtilization(profile));
  if (run.vllmVersion !== 'unknown') differ('vLLM version', run.vllmVersion, profile.vllmVersion);
  return out;
}

/** The gpu_memory_utilization a built profile's KV capacity was computed with (its build note says it). */
function builtUtilization(profile: Profile): number | undefined {
  for (const note of profile.calibration?.notes ?? []) {
    const m = /gpu_memory_utilization (\d*\.?\d+)/.exec(note);
    if (m) return Number(m[1]);
  }
  return undefined;
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v)
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';
}
