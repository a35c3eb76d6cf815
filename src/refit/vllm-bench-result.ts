import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { parseDocument, type JsonDocument } from './json-document.js';

/**
 * What `vllm bench serve --save-result --save-detailed` writes, as far as calibration reads it. Field names
 * are those of vllm-project/vllm `vllm/benchmarks/serve.py` (`benchmark()` builds `result`, `main_async()`
 * adds the traffic settings and drops the per-request lists unless --save-detailed):
 * - `ttfts`, `itls`: per request, seconds; `itls[i]` holds the gaps between the streamed chunks after the
 *   first (`RequestFuncOutput.itl`, one chunk per engine step);
 * - `input_lens`, `output_lens`: per request, tokens (`output_lens` 0 for a failed request);
 * - `start_times`: per request, `time.perf_counter()` when it was sent (newer vLLM only);
 * - `errors`: per request, "" when it succeeded;
 * - `duration` (s), `completed`, `request_rate` (a number or "inf"), `burstiness`, `max_concurrency`.
 * Everything else vLLM writes (means, percentiles, generated texts, metadata) is ignored.
 */
const Seconds = z.number().finite().nonnegative();
const Tokens = z.number().int().nonnegative();

export const VllmBenchResult = z
  .object({
    duration: z.number().finite().positive().describe('benchmark duration, s'),
    completed: Tokens,
    request_rate: z.union([z.number().finite().positive(), z.literal('inf')]),
    burstiness: z.number().finite().positive().optional(),
    max_concurrency: z.number().int().positive().nullable().optional(),
    input_lens: z.array(Tokens),
    output_lens: z.array(Tokens),
    ttfts: z.array(Seconds),
    itls: z.array(z.array(Seconds)),
    start_times: z.array(z.number().finite()).optional(),
    errors: z.array(z.string().nullable()).optional(),
  })
  .superRefine((r, ctx) => {
    const n = r.ttfts.length;
    const lists = { input_lens: r.input_lens, output_lens: r.output_lens, itls: r.itls } as Record<string, unknown[]>;
    if (r.start_times) lists.start_times = r.start_times;
    if (r.errors) lists.errors = r.errors;
    for (const [name, list] of Object.entries(lists)) {
      if (list.length !== n)
        ctx.addIssue({ code: 'custom', path: [name], message: `has ${list.length} entries, ttfts has ${n}` });
    }
    if (n === 0) ctx.addIssue({ code: 'custom', path: ['ttfts'], message: 'no request' });
  });
export type VllmBenchResult = z.infer<typeof VllmBenchResult>;

/** A bench result's JSON document, validated; errors name the file, the place in it and the field. */
export function parseVllmBenchResult(doc: JsonDocument): VllmBenchResult {
  const { value, file } = doc;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('ttfts' in value)) {
    throw new AppError(
      'invalidInput',
      `${file}: no "ttfts": not a result of "vllm bench serve --save-result --save-detailed" (without ` +
        '--save-detailed vLLM drops the per-request lists calibration needs)',
      { file, field: 'ttfts' },
    );
  }
  return parseDocument(VllmBenchResult, doc, 'vllm bench serve result');
}

/** Is request `i` one vLLM counted as successful? (failed ones have an error and no tokens) */
export function succeeded(r: VllmBenchResult, i: number): boolean {
  return (r.errors?.[i] ?? '') === '' && r.output_lens[i]! > 0;
}
