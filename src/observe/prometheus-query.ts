import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { authorization, prometheusEndpoint, type PrometheusAuth } from './prometheus-auth.js';

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

export interface PrometheusOptions extends PrometheusAuth {
  /**
   * PROMETHEUS_URL, e.g. http://prometheus.monitoring.svc:9090; credentials in it (http://user:pass@host) are
   * sent as `Authorization: Basic`, never in the URL
   */
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

/** errorType values of Prometheus' API: the only words of an error answer repeated (its text never is). */
const errorTypes = new Set(['bad_data', 'execution', 'timeout', 'canceled', 'internal', 'unavailable', 'not_found']);

/**
 * Runs one instant query. Anything but a well-formed vector answer within the time and size allowed
 * (Prometheus down, an error status, HTML, a matrix) rejects with AppError `sourceUnavailable` naming what
 * went wrong generically (timeout, HTTP status, too large, not a vector): never the URL (it may hold a password)
 * nor the answer's text (pool views and their `observation.error` are readable without a token, and a message is
 * logged); a query Prometheus refuses rejects with QueryRefused. NaN and infinite samples (0/0 of an idle
 * adapter's token mean) are dropped.
 */
export async function instantQuery(o: PrometheusOptions, promql: string): Promise<Sample[]> {
  const endpoint = prometheusEndpoint(o.url);
  const header = await authorization(endpoint, o);
  // Prometheus stops evaluating at its own deadline too, so a heavy query does not outlive ours there
  const url =
    `${endpoint.base}/api/v1/query?query=${encodeURIComponent(promql)}` +
    `&timeout=${Math.max(1, Math.floor(o.timeoutMs / 1000))}s`;
  let text: string;
  let status: number;
  try {
    const r = await fetch(url, {
      signal: AbortSignal.timeout(o.timeoutMs),
      redirect: 'error',
      ...(header ? { headers: { authorization: header } } : {}),
    });
    status = r.status;
    // an error answer is read only for its errorType
    text = await boundedText(r, status === 200 ? o.maxBytes : 64 * 1024);
  } catch (err) {
    throw unavailable(`cannot query Prometheus (PROMETHEUS_URL): ${fetchFailure(err, o)}`);
  }
  if (status === 400 || status === 422) {
    // bad_data / execution: the query itself is wrong, retrying will not help
    const type = /"errorType"\s*:\s*"([a-z_]{1,20})"/.exec(text)?.[1];
    throw new QueryRefused(`HTTP ${status}${type && errorTypes.has(type) ? `, ${type}` : ''}`);
  }
  if (status === 401 || status === 403)
    throw unavailable(
      `Prometheus (PROMETHEUS_URL) answered HTTP ${status}: check the credentials (PROMETHEUS_URL's user and ` +
        'password, PROMETHEUS_BASIC_AUTH_PASSWORD_FILE or PROMETHEUS_BEARER_TOKEN_FILE)',
    );
  if (status !== 200) throw unavailable(`Prometheus (PROMETHEUS_URL) answered HTTP ${status}`);
  let parsed: z.infer<typeof QueryAnswer>;
  try {
    parsed = QueryAnswer.parse(JSON.parse(text));
  } catch {
    throw unavailable('Prometheus (PROMETHEUS_URL) answered something that is not an instant vector');
  }
  return parsed.data.result
    .map((s) => ({ labels: s.metric, value: Number(s.value[1]) }))
    .filter((s) => Number.isFinite(s.value));
}

/** Why a query got no answer, in words that quote nothing of the URL or the answer. */
function fetchFailure(err: unknown, o: PrometheusOptions): string {
  if (err instanceof AnswerTooLarge) return `the answer is larger than ${o.maxBytes} bytes`;
  const e = err as { name?: unknown; cause?: { code?: unknown; name?: unknown } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return `no answer within ${o.timeoutMs} ms`;
  const code = e.cause?.code;
  // ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET, ...: names, never a message (undici's may quote the URL)
  return typeof code === 'string' && /^[A-Z][A-Z_]{1,40}$/.test(code) ? `connection failed (${code})` : 'failed';
}

class AnswerTooLarge extends Error {}

/**
 * Prometheus refused the query (a PromQL error): the source's query is wrong, not Prometheus down. The message
 * is the HTTP status and Prometheus' errorType: its error text is the upstream's, never repeated.
 */
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
      throw new AnswerTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function unavailable(message: string): AppError {
  return new AppError('sourceUnavailable', message, { source: 'prometheus' });
}
