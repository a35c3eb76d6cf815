// npx tsx scripts/base-runs-replay.ts [FILE]
//
// Replays the real runs without LoRA of lat_model_base_latency_runs.csv (default
// ../shared/data/vllm-lora/lat_model_base_latency_runs.csv: Llama-3.1-8B and Qwen-2.5-7B on the H100 64 GB
// profiles, --enable-lora off) as Scenarios with `engine.enableLora: false` and base-model traffic: every
// prompt at t = 0 (request rate inf) with the run's fixed lengths, its max_num_seqs, batched tokens and logged
// KV capacity. Prints, per run, the real and simulated benchmark duration, mean TTFT and mean ITL. These runs
// are CALIBRATION data (the profiles' base step terms were fitted on them), so agreement shows that a Scenario
// without LoRA reaches the same terms, not how well the Twin predicts unseen runs. Under a second.
import { embeddedProfiles } from '../src/profiles/index.js';
import { num, readCsv } from '../src/shared/csv.js';
import { parseScenario, simulateParsed, type RequestRecord } from '../src/twin/index.js';

const file = process.argv[2] ?? '../shared/data/vllm-lora/lat_model_base_latency_runs.csv';
const profiles = embeddedProfiles();
const lines: string[] = [];
/** per probe kind: prefill probes (output 1) and decode probes (prompt 1) */
const errors: Record<string, number[]> = {};
function record(what: string, e: number): void {
  errors[what] = [...(errors[what] ?? []), e];
}
const pct = (sim: number, real: number) => (100 * (sim - real)) / real;

for (const row of readCsv(file)) {
  const prompts = num(row, 'json_completed');
  const input = num(row, 'arg_synthetic_input_length');
  const output = num(row, 'arg_synthetic_output_length');
  const realDuration = num(row, 'json_duration');
  if (prompts === null || input === null || output === null || realDuration === null) continue;
  const model = row.srv_model!.split('/').pop()!.toLowerCase();
  const kv = num(row, 'kv_cache_tokens');
  const records: RequestRecord[] = [];
  const scenario = parseScenario({
    model,
    gpu: 'h100-64gb',
    engine: {
      enableLora: false,
      maxNumSeqs: num(row, 'srv_max_num_seqs')!,
      maxNumBatchedTokens: num(row, 'max_num_batched_tokens') ?? 2048,
      ...(kv ? { kvCacheTokens: kv } : {}),
    },
    baseModel: { rate: 1 },
    arrivals: {
      process: 'trace',
      events: Array.from({ length: prompts }, () => ({ t: 0, inputTokens: input, outputTokens: output })),
    },
    durationS: 7200,
  });
  const result = simulateParsed(scenario, profiles.get(model, 'h100-64gb'), {
    observer: { onComplete: (r) => records.push(r) },
  });
  const duration = records.reduce((m, r) => Math.max(m, r.endS), 0);
  const realTtft = num(row, 'json_mean_ttft_ms')!;
  const realItl = num(row, 'json_mean_itl_ms')!;
  const kind = output > 1 ? 'decode probes' : 'prefill probes';
  record(`${kind}: duration`, pct(duration, realDuration));
  record(`${kind}: mean TTFT`, pct(result.ttftMs!.mean, realTtft));
  if (output > 1) record(`${kind}: mean ITL`, pct(result.itlMs!.mean, realItl));
  const f = (v: number) => v.toFixed(1).padStart(9);
  lines.push(
    `${model.padEnd(22)} seqs ${String(num(row, 'srv_max_num_seqs')).padStart(4)} ${String(prompts).padStart(5)} x ` +
      `${input}/${output}`.padEnd(9) +
      `duration s ${f(realDuration)} ${f(duration)}  TTFT ms ${f(realTtft)} ${f(result.ttftMs!.mean)}  ` +
      `ITL ms ${f(realItl)} ${output > 1 ? f(result.itlMs!.mean) : '        -'}`,
  );
}
process.stdout.write(`run (real, then Twin)\n${lines.join('\n')}\n`);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
for (const [k, xs] of Object.entries(errors))
  process.stdout.write(
    `${k}: mean absolute error ${mean(xs.map(Math.abs)).toFixed(1)} %, mean error ${mean(xs).toFixed(1)} % ` +
      `over ${xs.length} runs\n`,
  );
