import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { positionOf, readJsonDocument } from '../../src/refit/json-document.js';
import { loadBench } from '../../src/refit/load-bench.js';
import { parseRequestCsv } from '../../src/refit/request-csv.js';
import { parseServeLog } from '../../src/refit/serve-log.js';
import { observeSteps } from '../../src/refit/step-observations.js';
import { twinBenchFiles, writeBenchFiles } from '../../src/refit/write-bench.js';
import { parseScenario } from '../../src/twin/index.js';
import { testProfile } from '../helpers/profile.js';

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-refit-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Writes a file into a fresh directory; answers its path. */
function file(name: string, text: string): string {
  const at = join(dir, String(++files));
  mkdirSync(at);
  writeFileSync(join(at, name), text);
  return join(at, name);
}

/** A two-request vllm bench serve --save-detailed result (the fields calibration reads, and some it ignores). */
const result = (over: Record<string, unknown> = {}) => ({
  date: '20260101-000000',
  backend: 'openai',
  duration: 1.5,
  completed: 2,
  request_rate: 2,
  burstiness: 1,
  max_concurrency: null,
  input_lens: [100, 50],
  output_lens: [3, 2],
  ttfts: [0.05, 0.04],
  itls: [[0.02, 0.02], [0.02]],
  start_times: [1000.0, 1000.5],
  errors: ['', ''],
  mean_ttft_ms: 45,
  ...over,
});

const csvHeader = 'arrival_s,first_token_s,last_token_s,input_tokens,output_tokens,adapter';

describe('the KV capacity line of a vllm serve log', () => {
  it('reads the tokens of the line vLLM prints (thousands grouped), once per worker', () => {
    const log = [
      'INFO 10-07 17:46:48 [gpu_worker.py:298] Available KV cache memory: 43.5 GiB',
      '(EngineCore_DP0 pid=1) INFO 10-07 17:47:03 [kv_cache_utils.py:1087] GPU KV cache size: 284,176 tokens',
      '(EngineCore_DP0 pid=1) INFO 10-07 17:47:03 [kv_cache_utils.py:1091] Maximum concurrency for 131,072 tokens ' +
        'per request: 2.17x',
      'INFO 10-07 17:47:03 [kv_cache_utils.py:2395] GPU KV cache size: 284,176 tokens, Maximum concurrency for ...',
    ].join('\n');
    expect(parseServeLog(log, 'serve.log')).toEqual({ tokens: 284176, line: 2 });
  });

  it('refuses a log without the line, and one with two different capacities, naming the line', () => {
    expect(() => parseServeLog('INFO starting\nINFO Uvicorn running', 'a.log')).toThrow(
      /a\.log: no "GPU KV cache size: N tokens" line/,
    );
    const two = 'GPU KV cache size: 284,176 tokens\nrestart\nGPU KV cache size: 301,520 tokens\n';
    expect(() => parseServeLog(two, 'b.log')).toThrow(/b\.log:3: a second KV cache size \(301520 tokens; line 1/);
    expect(() => parseServeLog('GPU KV cache size: 28,41,76 tokens', 'c.log')).toThrow(/c\.log:1: .* not a number/);
  });
});

describe('the per-request CSV', () => {
  it('reads one request per row, the adapter column optional', () => {
    const rows = parseRequestCsv(`${csvHeader}\n0.5,0.6,1.0,100,5,lora-1\n\n0.7,0.9,1.2,80,3,\n`, 'r.csv');
    expect(rows).toEqual([
      { line: 2, arrivalS: 0.5, firstTokenS: 0.6, lastTokenS: 1.0, input: 100, output: 5, adapter: 'lora-1' },
      { line: 4, arrivalS: 0.7, firstTokenS: 0.9, lastTokenS: 1.2, input: 80, output: 3, adapter: null },
    ]);
    expect(
      parseRequestCsv('arrival_s,first_token_s,last_token_s,input_tokens,output_tokens\n0,1,2,3,4\n', 'x'),
    ).toHaveLength(1);
  });

  it('refuses a missing column, a truncated row, a bad cell and times out of order, naming line and column', () => {
    expect(() => parseRequestCsv('arrival_s,last_token_s,input_tokens,output_tokens\n0,1,2,3\n', 'a.csv')).toThrow(
      /a\.csv:1: missing column first_token_s/,
    );
    expect(() => parseRequestCsv(`${csvHeader}\n0,1,2,3,4,x\n0.5,1.5,2`, 'b.csv')).toThrow(
      /b\.csv:3: 3 of 6 fields: input_tokens is missing/,
    );
    expect(() => parseRequestCsv(`${csvHeader}\n0,1,2,12x,4,a\n`, 'c.csv')).toThrow(
      /c\.csv:2: column input_tokens: "12x" is not a number/,
    );
    expect(() => parseRequestCsv(`${csvHeader}\n0,1,2,12,0,a\n`, 'd.csv')).toThrow(
      /d\.csv:2: column output_tokens: "0" is below 1/,
    );
    expect(() => parseRequestCsv(`${csvHeader}\n5,1,2,12,3,a\n`, 'e.csv')).toThrow(
      /e\.csv:2: column first_token_s: "1" is before arrival_s/,
    );
    expect(() => parseRequestCsv(`${csvHeader}\n`, 'f.csv')).toThrow(/f\.csv: no request rows/);
  });
});

describe('vllm bench serve results', () => {
  it("turns TTFT and ITL lists into token times from each request's start time", () => {
    const r = loadBench([file('run.json', JSON.stringify(result()))]);
    const [a, b] = r.runs[0]!.requests;
    expect(a!.arrivalS).toBe(0);
    expect([...a!.tokenTimes!].map((t) => Math.round(t * 1e9) / 1e9)).toEqual([0.05, 0.07, 0.09]);
    expect(b!.arrivalS).toBe(0.5);
    expect(b!.firstTokenS).toBeCloseTo(0.54, 9);
    expect(b!.adapter).toBe(-1);
    expect(r.servers[0]!.lora).toBeNull();
  });

  it('leaves failed requests out and counts them', () => {
    const doc = result({
      output_lens: [3, 0],
      ttfts: [0.05, 0],
      itls: [[0.02, 0.02], []],
      errors: ['', 'Bad Request'],
    });
    const run = loadBench([file('run.json', JSON.stringify(doc))]).runs[0]!;
    expect(run.requests).toHaveLength(1);
    expect(run.failed).toBe(1);
  });

  it('refuses a result without the per-request lists, with lists that disagree, or with a bad value', () => {
    const summary = { ...result() } as Record<string, unknown>;
    delete summary.ttfts;
    expect(() => loadBench([file('summary.json', JSON.stringify(summary))])).toThrow(/no "ttfts".*--save-detailed/);
    expect(() => loadBench([file('short.json', JSON.stringify(result({ output_lens: [3] })))])).toThrow(
      /short\.json:1:\d+: vllm bench serve result: output_lens: has 1 entries, ttfts has 2/,
    );
    const bad = file('bad.json', JSON.stringify(result({ itls: [[0.02, -1], [0.02]] })));
    const column = JSON.stringify(result({ itls: [[0.02, -1], [0.02]] })).indexOf('-1') + 1;
    expect(() => loadBench([bad])).toThrow(
      new RegExp(`bad\\.json:1:${column}: vllm bench serve result: itls\\.0\\.1: `),
    );
  });

  it('refuses a truncated file with the line and column where it ends', () => {
    const text = JSON.stringify(result(), null, 1);
    const cut = file('cut.json', text.slice(0, text.indexOf('"itls"') + 20));
    expect(() => loadBench([cut])).toThrow(/cut\.json:\d+:\d+: not valid JSON/);
  });

  it("takes arrivals and adapters from the run's CSV when the result has no start times", () => {
    const old = result();
    delete (old as Record<string, unknown>).start_times;
    expect(() => loadBench([file('old.json', JSON.stringify(old))])).toThrow(/no "start_times"/);
    const json = file('old.json', JSON.stringify(old));
    writeFileSync(json.replace(/json$/, 'csv'), `${csvHeader}\n10,10.05,10.09,100,3,b\n10.5,10.54,10.56,50,2,a\n`);
    const flags = {
      maxLoras: 2,
      adapters: [
        { id: 'a', rank: 8 },
        { id: 'b', rank: 16 },
      ],
    };
    const run = loadBench([json, json.replace(/json$/, 'csv')], flags).runs[0]!;
    expect(run.requests.map((r) => [r.arrivalS, r.adapter])).toEqual([
      [0, 1],
      [0.5, 0],
    ]);
    expect(run.server.lora?.maxLoraRank).toBe(16);
    // a CSV of another run (other prompt lengths) is refused
    writeFileSync(json.replace(/json$/, 'csv'), `${csvHeader}\n10,10.05,10.09,99,3,b\n10.5,10.54,10.56,50,2,a\n`);
    expect(() => loadBench([json, json.replace(/json$/, 'csv')], flags)).toThrow(
      /old\.csv:2: column input_tokens: 99, but request 0 of .*old\.json has 100/,
    );
  });

  it('assigns adapters round-robin as vllm bench serve --lora-assignment round-robin does', () => {
    const flags = {
      maxLoras: 2,
      adapters: [
        { id: 'a', rank: 8 },
        { id: 'b', rank: 8 },
      ],
    };
    const three = result({
      input_lens: [1, 2, 3],
      output_lens: [1, 0, 1],
      ttfts: [0.1, 0, 0.1],
      itls: [[], [], []],
      start_times: [0, 1, 2],
      errors: ['', 'x', ''],
    });
    const path = file('rr.json', JSON.stringify(three));
    expect(
      loadBench([path], { ...flags, loraAssignment: 'round-robin' }).runs[0]!.requests.map((r) => r.adapter),
    ).toEqual([0, 0]);
    expect(loadBench([path], flags).runs[0]!.requests.map((r) => r.adapter)).toEqual([null, null]);
  });
});

describe('servers', () => {
  it('reads a server file: flags, adapters, log, runs relative to it', () => {
    const server = file(
      'server.json',
      JSON.stringify({
        vllmServe: {
          vllmVersion: '0.11.0',
          maxLoras: 4,
          maxNumBatchedTokens: 8192,
          loraModules: [{ name: 'sql', rank: 32 }],
          log: 'serve.log',
        },
        runs: [{ result: 'r.json', loraAssignment: 'round-robin' }],
      }),
    );
    writeFileSync(join(server, '..', 'serve.log'), 'GPU KV cache size: 250,000 tokens\n');
    writeFileSync(join(server, '..', 'r.json'), JSON.stringify(result()));
    const data = loadBench([server]);
    expect(data.servers[0]).toMatchObject({
      lora: { maxLoras: 4, maxLoraRank: 32, maxCpuLoras: 4, adapters: [{ id: 'sql', rank: 32 }] },
      maxNumBatchedTokens: 8192,
      maxNumSeqs: null,
      kvCacheTokens: 250000,
      vllmVersion: '0.11.0',
    });
    expect(data.runs[0]!.requests.map((r) => r.adapter)).toEqual([0, 0]);
    expect(data.files).toHaveLength(3);
  });

  it('refuses server settings vLLM would not start with, naming the field', () => {
    const bad = (vllmServe: Record<string, unknown>) =>
      file('server.json', JSON.stringify({ vllmServe, runs: [{ result: 'r.json' }] }));
    expect(() => loadBench([bad({ loraModules: [{ name: 'a', rank: 8 }] })])).toThrow(
      /server\.json:1:\d+: server file: vllmServe\.maxLoras: required with loraModules/,
    );
    expect(() => loadBench([bad({ maxLoras: 2, maxLoraRank: 24, loraModules: [{ name: 'a', rank: 8 }] })])).toThrow(
      /vllmServe\.maxLoraRank: vLLM accepts only 8, 16/,
    );
    expect(() => loadBench([bad({ maxLoras: 2, surprise: 1 })])).toThrow(/server file: vllmServe: Unrecognized key/);
    const runs = file('r.json', JSON.stringify(result()));
    expect(() => loadBench([runs], { maxLoras: 4 })).toThrow(/--max-loras: given without the adapters/);
    expect(() => loadBench([runs], { maxLoras: 4, adapters: [{ id: 'a', rank: 8 }], maxCpuLoras: 2 })).toThrow(
      /--max-cpu-loras: below --max-loras/,
    );
  });

  it('refuses a CSV whose adapter the server does not serve, and two logs that disagree', () => {
    const csv = file('r.csv', `${csvHeader}\n0,0.1,0.2,10,2,ghost\n`);
    expect(() => loadBench([csv], { maxLoras: 1, adapters: [{ id: 'a', rank: 8 }] })).toThrow(
      /r\.csv:2: column adapter: "ghost" is not among the adapters of the command line/,
    );
    expect(() => loadBench([csv])).toThrow(/r\.csv:2: column adapter: "ghost", but the command line serves no LoRA/);
    const a = file('a.log', 'GPU KV cache size: 1,000 tokens');
    const b = file('b.log', 'GPU KV cache size: 2,000 tokens');
    const ok = file('r.csv', `${csvHeader}\n0,0.1,0.2,10,2,\n`);
    expect(() => loadBench([ok, a, b])).toThrow(/b\.log:1: KV cache of 2000 tokens, but .*a\.log says 1000/);
  });
});

describe('positionOf: where a field is in a JSON text', () => {
  it('finds a nested value, and the parent of a missing key', () => {
    const text = '{\n  "a": [1, {"b": "x]"}, [2,\n 3]],\n  "c": 4\n}';
    expect(positionOf(text, ['a', 2, 1])).toEqual({ line: 3, column: 2 });
    expect(positionOf(text, ['c'])).toEqual({ line: 4, column: 8 });
    expect(positionOf(text, ['a', 1, 'b'])).toEqual({ line: 2, column: 18 });
    expect(positionOf(text, ['missing'])).toEqual({ line: 1, column: 1 });
    expect(readJsonDocument(file('x.json', text)).value).toEqual({ a: [1, { b: 'x]' }, [2, 3]], c: 4 });
  });
});

describe('engine steps read off a token timeline', () => {
  it('gives every readable step its duration and what it computed, as the Twin ran it', () => {
    // round numbers: step = 8 ms + 0.5 ms per decode + 0.2 ms per 1000 context tokens + 0.01 ms per prompt token
    const base = testProfile().forward.base;
    const profile = testProfile({
      forward: {
        ...testProfile().forward,
        base: { ...base, constantMs: 8, perDecodeMs: 0.5, perContextKiloTokenMs: 0.2, perPrefillTokenMs: 0.01 },
      },
    });
    const scenario = parseScenario({
      model: profile.model,
      gpu: profile.gpu,
      engine: { maxLoras: 2 },
      adapters: [
        { id: 'a', rank: 8, rate: 4 },
        { id: 'b', rank: 8, rate: 4 },
      ],
      inputTokens: { mean: 200 },
      outputTokens: { mean: 60 },
      durationS: 30,
      seed: 1,
    });
    const at = join(dir, 'steps');
    writeBenchFiles(at, twinBenchFiles(scenario, profile));
    const run = loadBench([join(at, 'server.json')]).runs[0]!;
    const { observations, counts } = observeSteps(run, { maxNumBatchedTokens: 2048, maxNumSeqs: 256, maxLoras: 2 });
    expect(counts.decodeOnly).toBeGreaterThan(500);
    expect(counts.withPrefill).toBeGreaterThan(20);
    const predicted = (o: (typeof observations)[number]) =>
      8 + 0.5 * o.decodes + (0.2 * o.contextTokens) / 1000 + 0.01 * o.prefillTokens;
    const worst = Math.max(...observations.map((o) => Math.abs(o.durationMs - predicted(o))));
    expect(worst).toBeLessThan(1e-6);
    expect(observations.every((o) => o.adapters >= 1 && o.adapters <= 2 && o.running >= o.decodes)).toBe(true);
  });
});
