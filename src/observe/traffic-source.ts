import { z } from 'zod';
import { Workload, WorkloadAdapter } from '../placement/index.js';
import { AdapterId } from '../twin/index.js';

/**
 * Default queries: the request and token counters the endpoint picker exports per target model (llm-d's
 * `llm_d_epp_*`, or the Gateway API Inference Extension's `inference_objective_*`; after `rate()` the two
 * carry the same labels, so `or` never counts a request twice). For LoRA traffic the target model is the adapter.
 * `$selector` becomes the source's label matchers, `$window` its window, `$label` its adapter label.
 */
export const defaultQueries = {
  rate:
    'sum by ($label) (rate(llm_d_epp_request_total{$selector}[$window]) or ' +
    'rate(inference_objective_request_total{$selector}[$window]))',
  inputTokens: tokenMean('input'),
  outputTokens: tokenMean('output'),
} as const;

/** Mean tokens per request from the token histograms (llm-d's names, else GIE's `inference_objective_*`). */
function tokenMean(direction: 'input' | 'output'): string {
  const series = (part: 'sum' | 'count') =>
    `rate(llm_d_epp_request_${direction}_tokens_${part}{$selector}[$window]) or ` +
    `rate(inference_objective_${direction}_tokens_${part}{$selector}[$window])`;
  return `sum by ($label) (${series('sum')}) / sum by ($label) (${series('count')})`;
}

const LabelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/, 'a Prometheus label name');
/** label matchers only (`a="x",b=~"y.*"`): the selector is pasted into PromQL */
const Selector = z
  .string()
  .max(1024)
  .regex(
    /^([a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"[^"\\]*"(\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"[^"\\]*")*)?$/,
    'Prometheus label matchers, e.g. pool="llama-prod",namespace="serving"',
  );
const Query = z.string().min(1).max(4096);

export const TrafficSource = z
  .object({
    selector: Selector.default('').describe("label matchers of this pool's series, in every default query"),
    adapterLabel: LabelName.default('target_model_name').describe('the label whose value is the adapter name'),
    windowS: z.number().int().min(5).max(86_400).default(300).describe('PromQL rate window, seconds'),
    periodS: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(60)
      .describe('the traffic is re-read and the pool re-planned this often'),
    graceS: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(900)
      .describe('an adapter gone from the traffic keeps its last rate this long, then leaves the workload'),
    hysteresis: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe(
        "no re-plan while every adapter's rate is within this fraction of the planned one and none came or left",
      ),
    queries: z
      .object({ rate: Query.optional(), inputTokens: Query.optional(), outputTokens: Query.optional() })
      .strict()
      .default({})
      .describe('PromQL overrides ($selector, $window, $label are replaced); each answers one value per adapter label'),
    admitUnknown: z
      .boolean()
      .default(false)
      .describe(
        'plan adapters seen in the traffic but not listed in `adapters` (false: they are ignored and counted; ' +
          'anyone who can send the gateway a request with a new model name would otherwise add an adapter)',
      ),
    unknownAdapterRank: z
      .number()
      .int()
      .min(1)
      .max(512)
      .optional()
      .describe(
        'LoRA rank of an admitted adapter not listed in `adapters` (Prometheus does not know ranks); ' +
          'required with admitUnknown',
      ),
    adapters: z
      .array(WorkloadAdapter.partial({ rate: true }))
      .max(10_000)
      .default([])
      .describe(
        'known adapters: rank and path; listed ones are planned beside the observed traffic ' +
          '(their `rate` when none is observed)',
      ),
  })
  .strict()
  .superRefine((source, ctx) => {
    if (source.admitUnknown && source.unknownAdapterRank === undefined)
      ctx.addIssue({ code: 'custom', path: ['unknownAdapterRank'], message: 'required when admitUnknown is true' });
    if (!source.admitUnknown && source.adapters.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['adapters'],
        message: 'list the adapters to observe, or set admitUnknown (with unknownAdapterRank)',
      });
  });
export type TrafficSource = z.output<typeof TrafficSource>;

/** The workload fields an observed pool keeps fixed; its adapters come from the traffic. */
const { adapters: _observed, ...templateFields } = Workload.shape;
export const WorkloadTemplate = z.object(templateFields).strict();
export type WorkloadTemplate = z.output<typeof WorkloadTemplate>;

export const PoolSourceBody = z
  .object({ workload: WorkloadTemplate, prometheus: TrafficSource })
  .strict()
  .meta({ id: 'PoolSource' });
export type PoolSource = z.output<typeof PoolSourceBody>;

/** One adapter's traffic as last seen. */
export const ObservedAdapter = z.object({
  id: AdapterId,
  rate: z.number(),
  inputTokens: z.number().nullable(),
  outputTokens: z.number().nullable(),
  lastSeenAt: z.number(),
});
export type ObservedAdapter = z.infer<typeof ObservedAdapter>;

/** Series of planned adapters dropped because their value is outside the Workload's own limits, per query. */
export interface DroppedSeries {
  rate: number;
  inputTokens: number;
  outputTokens: number;
}

export function resolvedQueries(source: TrafficSource): Record<keyof typeof defaultQueries, string> {
  const fill = (q: string) =>
    q
      .replaceAll('$selector', source.selector)
      .replaceAll('$window', `${source.windowS}s`)
      .replaceAll('$label', source.adapterLabel);
  return {
    rate: fill(source.queries.rate ?? defaultQueries.rate),
    inputTokens: fill(source.queries.inputTokens ?? defaultQueries.inputTokens),
    outputTokens: fill(source.queries.outputTokens ?? defaultQueries.outputTokens),
  };
}
