import { z } from 'zod';
import { AppError } from '../shared/errors.js';

/** Prometheus' instant-query answer (GET /api/v1/query), vector results only. */
const QueryAnswer = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })).max(100_000),
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
 * (Prometheus down, an error status, HTML, NaN values, a matrix) rejects with AppError `sourceUnavailable`
 * naming what went wrong; NaN and infinite samples (0/0 of an idle adapter's token mean) are dropped.
 */
export async function instantQuery(o: PrometheusOptions, promql: string): Promise<Sample[]> {
  const url = `${o.url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}`;
  let text: string;
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs), redirect: 'error' });
    const length = Number(r.headers.get('content-length') ?? 0);
    if (length > o.maxBytes) throw new Error(`answer of ${length} bytes is more than the ${o.maxBytes} allowed`);
    text = await r.text();
    if (text.length > o.maxBytes) throw new Error(`answer of ${text.length} bytes is more than the ${o.maxBytes} allowed`);
    if (!r.ok) throw new Error(`HTTP ${r.status}: ${text.slice(0, 200)}`);
  } catch (err) {
    throw unavailable(`cannot query Prometheus at ${o.url}: ${(err as Error).message}`);
  }
  let parsed: z.infer<typeof QueryAnswer>;
  try {
    parsed = QueryAnswer.parse(JSON.parse(text));
  } catch {
    throw unavailable(`Prometheus at ${o.url} answered something that is not an instant vector: ${text.slice(0, 120)}`);
  }
  return parsed.data.result.map((s) => ({ labels: s.metric, value: Number(s.value[1]) })).filter((s) => Number.isFinite(s.value));
}

function unavailable(message: string): AppError {
  return new AppError('sourceUnavailable', message, { source: 'prometheus' });
}
