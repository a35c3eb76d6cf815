/**
 * The RTX 4090 run of ../shared/data/external/llmservingsim/runs (300 ShareGPT requests to Llama-3.1-8B on vLLM
 * 0.19, no LoRA) replayed by the Twin with a profile, against the real run: time to finish all requests, median
 * TPOT, median TTFT (the acceptance of docs/profiles.md).
 *   npx tsx scripts/llmservingsim-rtx4090.ts PROFILE.json [--data ../shared/data]
 * The Twin serves LoRA traffic only: the requests name one adapter on a server with one slot, and the profile's
 * LoRA step terms are zeroed (vLLM without --enable-lora pays none of them); its KV capacity at one slot of rank 8.
 */
import { join } from 'node:path';
import { loadProfileFile, type Profile } from '../src/profiles/index.js';
import { readCsv } from '../src/shared/csv.js';
import { parseScenario, simulateParsed } from '../src/twin/index.js';

const [profileFile] = process.argv.slice(2);
if (!profileFile) throw new Error('usage: llmservingsim-rtx4090.ts PROFILE.json [--data DIR]');
const dataIndex = process.argv.indexOf('--data');
const data = dataIndex > 0 ? (process.argv[dataIndex + 1] as string) : '../shared/data';
const rows = readCsv(join(data, 'external/llmservingsim/runs/RTX4090/Llama-3.1-8B/requests.csv'));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
};
const queued = rows.map((r) => Number(r.queued_ts));
const real = {
  finishS: Math.max(...rows.map((r) => Number(r.last_token_ts))) - Math.min(...queued),
  tpotMs: median(rows.filter((r) => r.tpot_ms !== '').map((r) => Number(r.tpot_ms))),
  ttftMs: median(rows.map((r) => Number(r.ttft_ms))),
};

const built = loadProfileFile(profileFile);
const l = built.forward.lora;
const profile: Profile = {
  ...built,
  forward: {
    ...built.forward,
    lora: {
      ...l,
      enabledMs: 0,
      firstAdapterMs: 0,
      perSlotMs: 0,
      perSlotDecodeMs: 0,
      perSlotPrefillTokenMs: 0,
      perAdapterMs: 0,
    },
  },
};
const t0 = Math.min(...rows.map((r) => Number(r.arrival_rel_s)));
const scenarioFor = (durationS: number) =>
  parseScenario({
    model: profile.model,
    gpu: profile.gpu,
    engine: { maxLoras: 1, maxLoraRank: 8, maxNumSeqs: 256, maxNumBatchedTokens: 2048 },
    adapters: [{ id: 'base', rank: 8, rate: rows.length / 200 }],
    arrivals: {
      process: 'trace',
      events: rows.map((r) => ({
        t: Number(r.arrival_rel_s) - t0,
        adapter: 'base',
        inputTokens: Number(r.input_toks),
        outputTokens: Number(r.output_toks),
      })),
    },
    durationS,
    seed: 0,
  });
// the smallest window in which every request completes is the time to finish them
let lo = 1;
let hi = 3600;
while (hi - lo > 0.5) {
  const mid = (lo + hi) / 2;
  if (simulateParsed(scenarioFor(mid), profile).completedRequests >= rows.length) hi = mid;
  else lo = mid;
}
const sim = simulateParsed(scenarioFor(hi + 1), profile);
const twin = { finishS: hi, tpotMs: sim.tpotMs?.p50 ?? NaN, ttftMs: sim.ttftMs?.p50 ?? NaN };
const pct = (t: number, r: number) => `${(((t - r) / r) * 100).toFixed(1)} %`;
console.log(`profile ${profileFile} (KV ${sim.engine.kvCacheTokens} tokens)`);
const row = (name: string, r: number, t: number, digits: number) =>
  `${name.padEnd(18)}  ${r.toFixed(digits).padStart(7)}  ${t.toFixed(digits).padStart(9)}  ${pct(t, r).padStart(8)}`;
console.log('                      real        twin      error');
console.log(row('time to finish (s)', real.finishS, twin.finishS, 1));
console.log(row('median TPOT (ms)', real.tpotMs, twin.tpotMs, 1));
console.log(row('median TTFT (ms)', real.ttftMs, twin.ttftMs, 0));
