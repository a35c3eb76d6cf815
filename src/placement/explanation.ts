import { z } from 'zod';

/**
 * The parts of a Placement that explain its count (docs/placement.md, "Why this many GPUs"): the traffic
 * it carries, what binds each GPU, and what failed on one GPU fewer. Additive fields of Placement and GpuPlan.
 */

export const TrafficTotals = z
  .object({
    requestsPerSecond: z.number(),
    promptTokensPerSecond: z.number().describe('requests/s x mean prompt tokens'),
    outputTokensPerSecond: z.number().describe('requests/s x mean output tokens'),
  })
  .describe('the traffic carried (so that a rate typed per minute, or lengths in characters, show)');
export type TrafficTotals = z.infer<typeof TrafficTotals>;

export const BindingConstraint = z
  .enum(['kv-cache', 'lora-slots', 'throughput', 'slo'])
  .describe(
    '"slo": a latency target (figure says which); "lora-slots": adapters queue for the --max-loras slots; ' +
      '"kv-cache": the KV cache caps the running batch; "throughput": the GPU completes too little of its traffic',
  );

export const BindingFigure = z
  .enum([
    'ttftP99Ms',
    'itlP99Ms',
    'ttftMs',
    'itlMs',
    'worstAdapterTtftMs',
    'servedFraction',
    'starvationProbability',
    'slots',
  ])
  .describe(
    "the predicted figure that fails first: a latency (ms; worstAdapterTtftMs is the worst adapter's mean " +
      'TTFT), the served fraction (at least options.minServedFraction), the starvation probability (at most ' +
      'options.maxStarvationProbability), or the slots memory allows',
  );

export const Binding = z
  .object({
    constraint: BindingConstraint,
    figure: BindingFigure,
    value: z.number().describe("the figure's predicted value at the GPU's own traffic"),
    limit: z.number().describe('the bound it must stay within'),
    failingValue: z
      .number()
      .optional()
      .describe("the figure's value just past the headroom, where it fails (absent when it never fails)"),
    twinValue: z
      .number()
      .optional()
      .describe("verify: true: the figure in the Twin's run of the GPU at its own traffic (where the run has it)"),
    headroom: z
      .number()
      .describe(
        "how much the GPU's traffic could grow, as a fraction of it, before the figure fails (by the predictors, " +
          'at these knobs); negative: by how much it would have to drop. The placement asks each GPU for at ' +
          'least predicted.headroom (options.headroom). At most 1,023 (the search stops at 1,024x)',
      ),
    summary: z.string().describe('the same in one sentence'),
  })
  .describe('what limits this GPU: the first check of the criterion to fail as its traffic grows');
export type Binding = z.infer<typeof Binding>;

export const OneFewer = z
  .object({
    gpus: z.number().int().describe('the count tried: gpuCount - 1'),
    outcome: z
      .enum(['fails', 'passes', 'at-lower-bound', 'not-tried'])
      .describe(
        '"fails": some GPU of the spread misses the criterion; "passes": the predictors accept it (the packing ' +
          'did not find it); "at-lower-bound": gpuCount is the lower bound, no placement serves the workload on ' +
          'fewer; "not-tried": min-latency (the count was asked for) or nothing was placed',
      ),
    basis: z.literal('predictors').describe('judged by the predictors, as packing judges a GPU'),
    failingGpus: z.number().int().optional().describe('GPUs of the spread that miss the criterion'),
    worst: z
      .object({
        adapters: z.number().int(),
        totals: TrafficTotals,
        binding: Binding,
      })
      .optional()
      .describe('the GPU of the spread that fails by the most (lowest headroom)'),
    summary: z.string().describe('the same in one sentence'),
  })
  .describe(
    'why not one GPU fewer: the placed adapters re-spread by load over gpuCount - 1 GPUs (as the descent does), ' +
      "each GPU's knobs chosen by the predictors, and judged with the placement's criterion and margins",
  );
export type OneFewer = z.infer<typeof OneFewer>;
