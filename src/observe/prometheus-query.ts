import { setImmediate as nextTurn } from 'node:timers/promises';
import { AppError } from '../shared/errors.js';
import { authorization, prometheusEndpoint, type PrometheusAuth } from './prometheus-auth.js';
import { VectorAnswerError, VectorReader, type VectorReaderOptions, type VectorReading } from './vector-reader.js';

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

/** Which series of an answer are kept: by the value of one label, at most `maxSeries` (one more refuses it). */
export type VectorQuery = Omit<VectorReaderOptions, 'maxDepth'>;

/**
 * Read between two turns of the event loop: the scan of a 16 MiB answer (about 10 ms per MiB) is spread over 64
 * turns at least.
 */
const bytesPerTurn = 256 * 1024;

/** errorType values of Prometheus' API: the only words of an error answer repeated (its text never is). */
const errorTypes = new Set(['bad_data', 'execution', 'timeout', 'canceled', 'internal', 'unavailable', 'not_found']);

/**
 * Runs one instant query, its answer read as it arrives (VectorReader: only the series `q` keeps are kept, the rest
 * counted). Anything but a well-formed vector answer within the time and size allowed (Prometheus down, an error
 * status, HTML, a matrix, nesting past 32 levels, more series kept than allowed) rejects with AppError
 * `sourceUnavailable` naming what went wrong generically (timeout, HTTP status, too large, not a vector): never the
 * URL (it may hold a password) nor the answer's text (pool views and their `observation.error` are readable without
 * a token, and the message is logged); a query Prometheus refuses rejects with QueryRefused. NaN and infinite
 * samples (0/0 of an idle adapter's token mean) are left out.
 */
export async function instantQuery(o: PrometheusOptions, promql: string, q: VectorQuery): Promise<VectorReading> {
  const endpoint = prometheusEndpoint(o.url);
  const header = await authorization(endpoint, o);
  // Prometheus stops evaluating at its own deadline too, so a heavy query does not outlive ours there
  const url =
    `${endpoint.base}/api/v1/query?query=${encodeURIComponent(promql)}` +
    `&timeout=${Math.max(1, Math.floor(o.timeoutMs / 1000))}s`;
  const vector = new VectorReader(q);
  let text = '';
  let status: number;
  try {
    const r = await fetch(url, {
      signal: AbortSignal.timeout(o.timeoutMs),
      redirect: 'error',
      ...(header ? { headers: { authorization: header } } : {}),
    });
    status = r.status;
    // an error answer is read only for its errorType
    if (status === 200) await readBody(r, o.maxBytes, (chunk) => vector.push(chunk));
    else if (status === 400 || status === 422) text = await boundedText(r, 64 * 1024);
    else await r.body?.cancel();
  } catch (err) {
    if (err instanceof VectorAnswerError) throw unavailable(`Prometheus (PROMETHEUS_URL) answered ${err.message}`);
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
  try {
    return vector.end();
  } catch (err) {
    throw unavailable(`Prometheus (PROMETHEUS_URL) answered ${(err as Error).message}`);
  }
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

/**
 * The body, chunk by chunk to `consume`, abandoned once it passes `maxBytes` (content-length may be absent or wrong)
 * or `consume` throws; the event loop gets a turn every `bytesPerTurn` (chunks already received resolve reads
 * without one).
 */
async function readBody(r: Response, maxBytes: number, consume: (chunk: Uint8Array) => void): Promise<void> {
  const reader = r.body?.getReader();
  if (!reader) return;
  let bytes = 0;
  let sinceTurn = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      bytes += value.byteLength;
      if (bytes > maxBytes) throw new AnswerTooLarge();
      consume(value);
      sinceTurn += value.byteLength;
      if (sinceTurn >= bytesPerTurn) {
        sinceTurn = 0;
        await nextTurn();
      }
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  }
}

/** The first `maxBytes` of the body as text (an error answer, read for its errorType). */
async function boundedText(r: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  await readBody(r, maxBytes, (chunk) => chunks.push(chunk)).catch((err: unknown) => {
    if (!(err instanceof AnswerTooLarge)) throw err;
  });
  return Buffer.concat(chunks).toString('utf8');
}

function unavailable(message: string): AppError {
  return new AppError('sourceUnavailable', message, { source: 'prometheus' });
}
