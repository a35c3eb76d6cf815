import type { z } from 'zod';
import { PoolSourceBody } from '../observe/traffic-source.js';
import type { Health } from './health.js';
import type { ModelsBody, ProfilesBody } from './models.js';
import type {
  AutoscaleBody,
  ErrorBody,
  PlacementBody,
  PoolBody,
  PredictionBody,
  RefreshJobBody,
  RefreshRequest,
  ScenarioBody,
  SimulationResultBody,
  WorkloadBody,
} from './schemas.js';

/**
 * An example of every operation's request body and answers, by operationId (the document's media type
 * `examples`). Real answers of the service on the embedded models (numbers rounded), typed by the routes' zod
 * schemas; test/api/openapi-examples.test.ts checks each against its schema in the document and the service's
 * own zod schema, and redocly lint (no-invalid-media-type-examples) against the document again.
 */

/** The smallest workload: a base model, a GPU type and adapters (id, LoRA rank, requests/s); the rest has defaults. */
export const minimalWorkload = {
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  adapters: [
    { id: 'support', rank: 8, rate: 2 },
    { id: 'sql', rank: 16, rate: 0.5 },
  ],
} satisfies z.input<typeof WorkloadBody>;

/** One GPU serving the minimal workload's adapters with two LoRA slots, for five simulated minutes. */
const scenario = {
  ...minimalWorkload,
  engine: { maxLoras: 2 },
  durationS: 300,
  seed: 1,
} satisfies z.input<typeof ScenarioBody>;

/** The JSON form of GET /v1/pools/{pool}/manifests (src/api/pools.ts KubernetesList). */
interface KubernetesListBody {
  apiVersion: 'v1';
  kind: 'List';
  items: Record<string, unknown>[];
}

const liveness = { status: 'ok' } satisfies z.output<typeof Health>;

/** GET /readyz: ready */
const readiness = {
  status: 'ready',
  profiles: ['llama-3.1-8b-instruct@h100-64gb', 'qwen-2.5-7b-instruct@h100-64gb'],
  models: ['llama-3.1-8b-instruct@h100-64gb:aeae32caeecc', 'qwen-2.5-7b-instruct@h100-64gb:64cf93a8df84'],
  store: { backend: 'memory', reachable: true, state: 'reachable' },
} satisfies z.output<typeof Health>;

/** POST /v1/predict */
const prediction = {
  throughput: 1046,
  idealThroughput: 1048,
  starvationProbability: 0.0002458,
  starved: false,
  memoryError: false,
  memoryErrorReason: null,
  itlMs: 15.78,
  ttftMs: 37.1,
  ttftP99Ms: 59.18,
  itlP99Ms: 24.74,
  worstAdapterTtftMs: 37.1,
  ttftP99UpperMs: 292.4,
  itlP99UpperMs: 87.3,
  ttftMeanUpperMs: 75.7,
  worstAdapterTtftUpperMs: 75.7,
  engine: {
    maxLoras: 2,
    maxCpuLoras: 2,
    maxLoraRank: 16,
    maxNumBatchedTokens: 2048,
    maxNumSeqs: 256,
    kvCacheTokens: 306518,
  },
  modelVersion: 'aeae32caeecc',
  estimator: 'predictors',
} satisfies z.output<typeof PredictionBody>;

/** POST /v1/placements of the minimal workload: one GPU */
const placement = {
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  objective: 'min-gpus',
  criterion: 'slo',
  judgedOn: 'estimate',
  slo: { ttftP99Ms: 2000, itlP99Ms: 200 },
  gpuCount: 1,
  lowerBound: 1,
  bounds: { throughput: 1, adapters: 1 },
  gpus: [
    {
      index: 0,
      gpu: 'h100-64gb',
      engine: {
        maxLoras: 2,
        maxCpuLoras: 2,
        maxLoraRank: 16,
        maxNumBatchedTokens: 2048,
        maxNumSeqs: 256,
        kvCacheTokens: 306518,
      },
      adapters: [
        { id: 'support', rank: 8, rate: 2 },
        { id: 'sql', rank: 16, rate: 0.5 },
      ],
      predicted: {
        throughput: 1046,
        idealThroughput: 1048,
        starvationProbability: 0.0002458,
        itlMs: 15.78,
        ttftMs: 37.1,
        ttftP99Ms: 59.18,
        itlP99Ms: 24.74,
        worstAdapterTtftMs: 37.1,
        ttftP99UpperMs: 292.4,
        itlP99UpperMs: 87.3,
        ttftMeanUpperMs: 75.7,
        worstAdapterTtftUpperMs: 75.7,
        headroom: 0.1,
      },
      meets: { criterion: 'slo', met: true, basis: 'predictors', failures: [] },
      vllmArgs: [
        '--enable-lora',
        '--max-loras=2',
        '--max-cpu-loras=2',
        '--max-lora-rank=16',
        '--max-num-seqs=256',
        '--max-num-batched-tokens=2048',
        '--lora-modules',
        'support=/models/lora/support',
        'sql=/models/lora/sql',
      ],
    },
  ],
  routing: [
    { adapter: 'support', targets: [{ gpu: 0, weight: 1 }] },
    { adapter: 'sql', targets: [{ gpu: 0, weight: 1 }] },
  ],
  unplaced: [],
  predictorEvaluations: 8,
  modelVersion: 'aeae32caeecc',
  estimator: 'predictors',
  elapsedMs: 3.259,
} satisfies z.output<typeof PlacementBody>;

/** GET /v1/profiles */
const profiles = {
  profiles: [
    {
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      description: 'llama-3.1-8b-instruct on h100-64gb, calibrated from ../shared/data/vllm-lora',
      vllmVersion: '0.1.dev6216+g1125ba0',
      maxModelLen: 131072,
      engineDefaults: { maxNumBatchedTokens: 2048, maxNumSeqs: 256 },
      hfModelId: 'meta-llama/Llama-3.1-8B-Instruct',
      source: {
        kind: 'calibrated',
        measuredOn: 'h100-64gb, vLLM 0.1.dev6216+g1125ba0',
        data: ['mem_max_table.csv', 'lat_model_base_latency_runs.csv', 'lat_model_lora_overhead_runs.csv'],
      },
      tensorParallelSize: 1,
      file: '/app/models/profiles/llama-3.1-8b-instruct@h100-64gb.json',
      hasPredictors: true,
    },
    {
      model: 'qwen-2.5-7b-instruct',
      gpu: 'h100-64gb',
      description: 'qwen-2.5-7b-instruct on h100-64gb, calibrated from ../shared/data/vllm-lora',
      vllmVersion: '0.1.dev6216+g1125ba0',
      maxModelLen: 32768,
      engineDefaults: { maxNumBatchedTokens: 2048, maxNumSeqs: 256 },
      hfModelId: 'Qwen/Qwen2.5-7B-Instruct',
      source: {
        kind: 'calibrated',
        measuredOn: 'h100-64gb, vLLM 0.1.dev6216+g1125ba0',
        data: ['mem_max_table.csv', 'lat_model_base_latency_runs.csv', 'lat_model_lora_overhead_runs.csv'],
      },
      tensorParallelSize: 1,
      file: '/app/models/profiles/qwen-2.5-7b-instruct@h100-64gb.json',
      hasPredictors: true,
    },
  ],
} satisfies z.output<typeof ProfilesBody>;

/** GET /v1/models (one of the embedded predictors) */
const models = {
  models: [
    {
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      version: 'aeae32caeecc',
      created: '2026-12-01T13:39:31Z',
      trainingRows: 8000,
      seed: 1,
      features: [
        'sum_rate',
        'std_rate',
        'max_rank',
        'mean_rank',
        'std_rank',
        'adapter_slots',
        'served_adapters',
        'mean_input_tokens',
        'mean_output_tokens',
        'demand_tokens_per_s',
        'kv_cache_tokens',
        'top_slots_rate_share',
        'effective_adapters',
        'max_lora_rank',
        'capacity_tokens_per_s',
        'load',
        'active_adapters_per_slot',
        'max_num_seqs',
        'max_num_batched_tokens',
        'slot_cycle_s',
        'backlog_fraction',
      ],
      metrics: {
        twinHoldout: {
          throughput: { smapeResearch: 3.072, smapeStandard: 6.144, r2: 0.9739 },
          itl: { smapeResearch: 4.119, smapeStandard: 8.238 },
          ttft: { smapeResearch: 13.85, smapeStandard: 27.71 },
          starved: { accuracy: 0.9725, macroF1: 0.9718 },
          ttftP99: { smapeResearch: 17.23, smapeStandard: 34.47 },
          itlP99: { smapeResearch: 6.633, smapeStandard: 13.27 },
          worstAdapterTtft: { smapeResearch: 23.6, smapeStandard: 47.2 },
          rows: 1600,
        },
        realRuns: {
          throughput: { smapeResearch: 3.574, smapeStandard: 7.148, r2: 0.9181 },
          itl: { smapeResearch: 8.464, smapeStandard: 16.93 },
          ttft: { smapeResearch: 11.46, smapeStandard: 22.92 },
          starved: { accuracy: 0.9618, macroF1: 0.9618 },
          ttftP99: { smapeResearch: 16.4, smapeStandard: 32.8 },
          itlP99: { smapeResearch: 37.05, smapeStandard: 74.1 },
          rows: 131,
        },
      },
      loadedAt: '2026-01-15T10:00:00.000Z',
    },
  ],
  refreshRunning: false,
} satisfies z.output<typeof ModelsBody>;

/** GET /v1/pools/llama-prod/manifests (format json) of the placement above */
const manifests = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'vllm-llama-prod-ed21cc5b9a',
        labels: {
          'app.kubernetes.io/managed-by': 'lora-placer',
          'lora-placer.io/pool': 'llama-prod',
          'lora-placer.io/engine': 'ed21cc5b9a',
          'app.kubernetes.io/name': 'vllm',
        },
        annotations: {
          'lora-placer.io/gpus': '0',
          'lora-placer.io/model-version': 'aeae32caeecc',
          'lora-placer.io/calibrated-vllm': '0.1.dev6216+g1125ba0',
        },
      },
      spec: {
        replicas: 1,
        selector: {
          matchLabels: {
            'app.kubernetes.io/managed-by': 'lora-placer',
            'lora-placer.io/pool': 'llama-prod',
            'lora-placer.io/engine': 'ed21cc5b9a',
          },
        },
        template: {
          metadata: {
            labels: {
              'app.kubernetes.io/managed-by': 'lora-placer',
              'lora-placer.io/pool': 'llama-prod',
              'lora-placer.io/engine': 'ed21cc5b9a',
              'app.kubernetes.io/name': 'vllm',
            },
            annotations: {
              'lora-placer.io/gpus': '0',
              'lora-placer.io/model-version': 'aeae32caeecc',
              'lora-placer.io/calibrated-vllm': '0.1.dev6216+g1125ba0',
            },
          },
          spec: {
            containers: [
              {
                name: 'vllm',
                image: 'vllm/vllm-openai:v0.8.5',
                args: [
                  '--model',
                  'meta-llama/Llama-3.1-8B-Instruct',
                  '--served-model-name',
                  'llama-3.1-8b-instruct',
                  '--port',
                  '8000',
                  '--max-model-len=131072',
                  '--enable-lora',
                  '--max-loras=2',
                  '--max-cpu-loras=2',
                  '--max-lora-rank=16',
                  '--max-num-seqs=256',
                  '--max-num-batched-tokens=2048',
                  '--lora-modules',
                  'support=/models/lora/support',
                  'sql=/models/lora/sql',
                ],
                ports: [{ name: 'http', containerPort: 8000 }],
                resources: { limits: { 'nvidia.com/gpu': 1 }, requests: { 'nvidia.com/gpu': 1 } },
                startupProbe: {
                  httpGet: { path: '/health', port: 'http' },
                  periodSeconds: 10,
                  failureThreshold: 120,
                },
                readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
                volumeMounts: [{ name: 'shm', mountPath: '/dev/shm' }],
              },
            ],
            volumes: [{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '2Gi' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'vllm-llama-prod-ed21cc5b9a',
        labels: {
          'app.kubernetes.io/managed-by': 'lora-placer',
          'lora-placer.io/pool': 'llama-prod',
          'lora-placer.io/engine': 'ed21cc5b9a',
          'app.kubernetes.io/name': 'vllm',
        },
      },
      spec: {
        selector: {
          'app.kubernetes.io/managed-by': 'lora-placer',
          'lora-placer.io/pool': 'llama-prod',
          'lora-placer.io/engine': 'ed21cc5b9a',
        },
        ports: [{ name: 'http', port: 8000, targetPort: 'http' }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'lora-placer-llama-prod-routing',
        labels: { 'app.kubernetes.io/managed-by': 'lora-placer', 'lora-placer.io/pool': 'llama-prod' },
      },
      data: {
        'routing.json': `${JSON.stringify(
          {
            pool: 'llama-prod',
            model: 'llama-3.1-8b-instruct',
            modelVersion: 'aeae32caeecc',
            adapters: ['support', 'sql'].map((adapter) => ({
              adapter,
              backends: [
                {
                  service: 'vllm-llama-prod-ed21cc5b9a',
                  url: 'http://vllm-llama-prod-ed21cc5b9a:8000',
                  group: 'ed21cc5b9a',
                  inferencePool: 'llama-prod-ed21cc5b9a',
                  weight: 1,
                },
              ],
            })),
          },
          null,
          2,
        )}\n`,
      },
    },
  ],
} satisfies KubernetesListBody;

/** GET /readyz: not ready (the state store does not answer) */
const notReady = {
  status: 'not ready',
  profiles: readiness.profiles,
  models: readiness.models,
  store: { backend: 'redis', reachable: false, state: 'unreachable' },
} satisfies z.output<typeof Health>;

/** POST /v1/simulate (300 simulated seconds) */
const simulation = {
  throughput: { input: 530.8, output: 497.5, total: 1028, requests: 2.32 },
  idealThroughput: 1045,
  starved: false,
  starvedAdapters: [],
  memoryError: null,
  ttftMs: { mean: 35.01, p50: 34.36, p90: 46.09, p99: 52.1 },
  itlMs: { mean: 15.34, p50: 15.17, p90: 15.47, p99: 25.1 },
  tpotMs: { mean: 15.32, p50: 15.31, p90: 15.69, p99: 16.46 },
  completedRequests: 696,
  arrivedRequests: 700,
  rejectedRequests: 0,
  runningAtEnd: 4,
  waitingAtEnd: 0,
  preemptions: 0,
  adapterLoads: 2,
  diskLoads: 2,
  steps: 19590,
  meanRunning: 7.763,
  meanAdaptersInBatch: 1.829,
  busyFraction: 0.9961,
  engine: prediction.engine,
  durationS: 300,
  wallMs: 43.8,
} satisfies z.output<typeof SimulationResultBody>;

const refreshRequest = {
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  workloads: 8000,
} satisfies z.input<typeof RefreshRequest>;

/** POST /v1/models/refresh: started (202, with a Location header to follow it) */
const refreshStarted = {
  id: 'df21dece-3625-4c09-9d2e-aa1d5e1ebda7',
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  seed: 1,
  workloads: 8000,
  state: 'running',
  trigger: 'request',
  replica: 'lora-placer-7d9f6c:1a2b3c4d',
  startedAt: '2026-01-15T10:00:00.000Z',
  finishedAt: null,
  durationS: null,
  progress: { sweepRowsDone: 0, sweepRowsTotal: null, lastLog: null },
  candidate: null,
  current: null,
  decision: null,
  persistedTo: null,
  error: null,
} satisfies z.output<typeof RefreshJobBody>;

/** GET /v1/models/refresh/{id}: the sweep under way */
const refreshRunning = {
  ...refreshStarted,
  progress: { sweepRowsDone: 2400, sweepRowsTotal: 8000, lastLog: null },
} satisfies z.output<typeof RefreshJobBody>;

/** DELETE /v1/models/refresh/{id} */
const refreshCancelled = {
  ...refreshStarted,
  state: 'cancelled',
  finishedAt: '2026-01-15T10:01:30.000Z',
  durationS: 90,
  progress: { sweepRowsDone: 2400, sweepRowsTotal: 8000, lastLog: null },
  error: 'cancelled by request',
} satisfies z.output<typeof RefreshJobBody>;

/** PUT and GET /v1/pools/llama-prod with the minimal workload */
const pool = {
  pool: 'llama-prod',
  updatedAt: '2026-01-15T10:00:00.000Z',
  computedAt: '2026-01-15T10:00:00.000Z',
  stale: false,
  placement,
} satisfies z.output<typeof PoolBody>;

/** PUT /v1/pools/llama-prod/source: the pool's adapters and their rates come from Prometheus */
const poolSource = {
  workload: { model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb' },
  prometheus: {
    selector: 'pool="llama-prod"',
    adapters: [
      { id: 'support', rank: 8 },
      { id: 'sql', rank: 16 },
    ],
  },
} satisfies z.input<typeof PoolSourceBody>;

/** its first plan: the observed rates happen to be the minimal workload's */
const observedPool = {
  ...pool,
  source: PoolSourceBody.parse(poolSource),
  observation: {
    attemptedAt: '2026-01-15T10:00:00.000Z',
    succeededAt: '2026-01-15T10:00:00.000Z',
    error: null,
    adapters: 2,
    ignoredSeries: 0,
    replanned: true,
  },
} satisfies z.output<typeof PoolBody>;

const autoscale = {
  pool: 'llama-prod',
  desiredReplicas: 1,
  lowerBoundReplicas: 1,
  computedAt: '2026-01-15T10:00:00.000Z',
  stale: false,
  modelVersion: 'aeae32caeecc',
} satisfies z.output<typeof AutoscaleBody>;

/** 503 of GET /v1/pools/{pool}/autoscale: KEDA keeps its fallback replicas */
const stalePlan = {
  error: {
    code: 'LP_ERR_STALE_PLAN',
    message:
      'the plan of pool "llama-prod" is stale (workload not updated within POOL_STALE_S, ' +
      'or computed with a replaced model)',
    details: { ...autoscale, stale: true },
  },
} satisfies z.output<typeof ErrorBody>;

interface Example {
  summary: string;
  value: unknown;
}

/** Per operationId: the request body's example and each documented answer's, by status. */
export interface OperationExamples {
  request?: Example;
  responses: Record<string, Example>;
}

const ex = (summary: string, value: unknown): Example => ({ summary, value });

export const operationExamples: Record<string, OperationExamples> = {
  getLiveness: { responses: { 200: ex('the process answers', liveness) } },
  getReadiness: { responses: { 200: ex('ready', readiness), 503: ex('the state store does not answer', notReady) } },
  predict: {
    request: ex('two adapters on one GPU with two LoRA slots (durationS and seed are ignored)', scenario),
    responses: { 200: ex("the distilled predictors' answer", prediction) },
  },
  simulate: {
    request: ex('two adapters on one GPU with two LoRA slots, five simulated minutes', scenario),
    responses: { 200: ex("the Digital Twin's answer", simulation) },
  },
  place: {
    request: ex('the minimal workload: model, GPU type, adapters (the rest has defaults)', minimalWorkload),
    responses: { 200: ex('one GPU serves both adapters within the default SLO', placement) },
  },
  listProfiles: { responses: { 200: ex('the embedded profiles', profiles) } },
  listModels: { responses: { 200: ex('one served predictor model', models) } },
  startRefresh: {
    request: ex('re-train the Llama predictors on 8,000 simulated workloads', refreshRequest),
    responses: { 202: ex('started', refreshStarted) },
  },
  getRefresh: { responses: { 200: ex('the sweep under way', refreshRunning) } },
  cancelRefresh: { responses: { 200: ex('cancelled; the served model stays', refreshCancelled) } },
  listPools: { responses: { 200: ex('one pool', { pools: [autoscale] }) } },
  putPool: {
    request: ex('the minimal workload', minimalWorkload),
    responses: { 200: ex('stored and placed', pool) },
  },
  getPool: { responses: { 200: ex("the pool's current placement", pool) } },
  putPoolSource: {
    request: ex('observe two known adapters of the pool in Prometheus', poolSource),
    responses: { 200: ex('the first plan from the observed traffic', observedPool) },
  },
  getPoolManifests: {
    responses: {
      200: ex('a vLLM Deployment and Service for the one engine setting, and the routing ConfigMap', manifests),
    },
  },
  getPoolAutoscale: {
    responses: { 200: ex('one GPU wanted', autoscale), 503: ex('stale: KEDA keeps its fallback', stalePlan) },
  },
};

type Operation = {
  operationId?: string;
  requestBody?: { content?: Record<string, { examples?: Record<string, unknown> }> };
  responses?: Record<string, { content?: Record<string, { examples?: Record<string, unknown> }> }>;
};

/** Adds operationExamples to the document's JSON request bodies and answers (as named media type examples). */
export function withExamples(doc: Record<string, unknown>): Record<string, unknown> {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const operations of Object.values(paths)) {
    for (const op of Object.values(operations)) {
      const examples = op.operationId ? operationExamples[op.operationId] : undefined;
      if (!examples) continue;
      const json = op.requestBody?.content?.['application/json'];
      if (json && examples.request) json.examples = { [op.operationId!]: examples.request };
      for (const [status, example] of Object.entries(examples.responses)) {
        const media = op.responses?.[status]?.content?.['application/json'];
        if (media) media.examples = { [`${op.operationId!}${status}`]: example };
      }
    }
  }
  return doc;
}
