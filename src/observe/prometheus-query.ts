import { z } from 'zod';
import { AppError } from '../shared/errors.js';

/** Prometheus' instant-query answer (GET /api/v1/query), vector results only. */
const QueryAnswer = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z
      .array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) }))
      .max(100_000),
  }),
});

export interface PrometheusOptions {
  /** PROMETHEUS_URL, e.g. http://prometheus.monitoring.svc:9090 */
  url: string;
  timeoutMs: number;
  /** a larger answer is refused, not read */
  maxBytes: number;
}

/** One series' value, by its labels. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/**
 * Runs one instant query. Anything but a well-formed vector answer within the time and size allowed
 * (Prometheus down, an error status, HTML, a matrix) rejects with AppError `sourceUnavailable` naming what
 * went wrong (but not the URL: pool views are readable without a token); a query Prometheus refuses
 * rejects with QueryRefused. NaN and infinite samples (0/0 of an idle adapter's token mean) are dropped.
 */
export async function instantQuery(o: PrometheusOptions, promql: string): Promise<Sample[]> {
  // Prometheus stops evaluating at its own deadline too, so a heavy query does not outlive ours there
  const url =
    `${o.url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}` +
    `&timeout=${Math.max(1, Math.floor(o.timeoutMs / 1000))}s`;
  let text: string;
  let status: number;
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs), redirect: 'error' });
    status = r.status;
    text = await boundedText(r, o.maxBytes);
  } catch (err) {
    throw unavailable(`cannot query Prometheus (PROMETHEUS_URL): ${(err as Error).message}`);
  }
  if (status === 400 || status === 422) {
    // bad_data / execution: the query itself is wrong, retrying will not help
    const reason = /"error"\s*:\s*"([^"]{0,300})/.exec(text)?.[1] ?? text.slice(0, 200);
    throw new QueryRefused(reason);
  }
  if (status !== 200) throw unavailable(`Prometheus (PROMETHEUS_URL) answered HTTP ${status}: ${text.slice(0, 200)}`);
  let parsed: z.infer<typeof QueryAnswer>;
  try {
    parsed = QueryAnswer.parse(JSON.parse(text));
  } catch {
    throw unavailable(
      `Prometheus (PROMETHEUS_URL) answered something that is not an instant vector: ${text.slice(0, 120)}`,
    );
  }
  return parsed.data.result
    .map((s) => ({ labels: s.metric, value: Number(s.value[1]) }))
    .filter((s) => Number.isFinite(s.value));
}

/** Prometheus refused the query (a PromQL error): the source's query is wrong, not Prometheus down. */
export class QueryRefused extends Error {}

/** The body, read chunk by chunk and abandoned once it passes `maxBytes` (content-length may be absent or wrong). */
async function boundedText(r: Response, maxBytes: number): Promise<string> {
  const reader = r.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new Error(`answer of more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function unavailable(message: string): AppError {
  return new AppError('sourceUnavailable', message, { source: 'prometheus' });
}
