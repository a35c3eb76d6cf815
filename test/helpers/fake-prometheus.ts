import { createServer, type Server } from 'node:http';

/**
 * What the fake answers: a vector of `state.rates` (`vector`); HTML (`garbage`); HTTP 500 (`error`); or a
 * hostile answer of HTTP 200: `nested` (a vector whose `result` is `state.nestedBytes` of nested arrays),
 * `many-series` (the vector plus `state.extraSeries` series of adapters nobody listed), `out-of-range` (the
 * vector with `state.outOfRange` overriding some adapters' values, as text: "1e308").
 */
export type FakeAnswer = 'vector' | 'garbage' | 'error' | 'nested' | 'many-series' | 'out-of-range';

/** A stand-in for Prometheus' /api/v1/query: answers the observed-traffic queries from `state`. */
export interface FakePrometheus {
  url: string;
  state: {
    rates: Record<string, number>;
    inputTokens: number;
    outputTokens: number;
    answer: FakeAnswer;
    /** a query containing one of these strings (e.g. a pool's selector `pool="x"`) gets its answer instead */
    answerBySelector: Record<string, FakeAnswer>;
    /** size of the `nested` answer */
    nestedBytes: number;
    /** series added by `many-series` */
    extraSeries: number;
    /** `out-of-range`: per query kind, adapter -> the value answered instead (text, as Prometheus writes it) */
    outOfRange: Partial<Record<'rate' | 'inputTokens' | 'outputTokens', Record<string, string>>>;
    /** when set, a request without exactly this Authorization header is answered 401 */
    authorization: string | null;
  };
  /** the PromQL of every request */
  queries: string[];
  /** the Authorization header of every request (null: none) */
  authorizations: (string | null)[];
  close: () => Promise<void>;
}

const vectorHead = '{"status":"success","data":{"resultType":"vector","result":[';
const vectorAnswer = (result: unknown[]): string => `${vectorHead}${result.map((s) => JSON.stringify(s)).join(',')}]}}`;

const hostileCache = new Map<string, Buffer>();
const cached = (key: string, make: () => string): Buffer => {
  const body = hostileCache.get(key) ?? Buffer.from(make());
  hostileCache.set(key, body);
  return body;
};

/** A 200 answer of about `bytes` whose `result` is one array nested as deep as the bytes allow: `[[[...]]]`. */
export function nestedArraysAnswer(bytes: number): Buffer {
  return cached(`nested:${bytes}`, () => {
    const depth = Math.max(1, Math.floor((bytes - vectorHead.length - 3) / 2));
    return `${vectorHead}${'['.repeat(depth)}${']'.repeat(depth)}]}}`;
  });
}

/** `count` series of distinct adapters (`unlisted-000000`, ...) each at rate 1, labelled by `label`. */
export function manySeries(count: number, label = 'target_model_name'): unknown[] {
  const now = Date.now() / 1000;
  return Array.from({ length: count }, (_, i) => ({
    metric: { [label]: `unlisted-${String(i).padStart(6, '0')}` },
    value: [now, '1'],
  }));
}

export async function startFakePrometheus(): Promise<FakePrometheus> {
  const fake = {
    state: {
      rates: {} as Record<string, number>,
      inputTokens: 400,
      outputTokens: 120,
      answer: 'vector' as FakeAnswer,
      answerBySelector: {} as Record<string, FakeAnswer>,
      nestedBytes: 10 * 1024 * 1024,
      extraSeries: 100_000,
      outOfRange: {} as FakePrometheus['state']['outOfRange'],
      authorization: null as string | null,
    },
    queries: [] as string[],
    authorizations: [] as (string | null)[],
  };
  const server: Server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    fake.queries.push(query);
    fake.authorizations.push(req.headers.authorization ?? null);
    const answer =
      Object.entries(fake.state.answerBySelector).find(([selector]) => query.includes(selector))?.[1] ??
      fake.state.answer;
    if (fake.state.authorization !== null && req.headers.authorization !== fake.state.authorization)
      return void res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized: secret-realm');
    if (answer === 'error') return void res.writeHead(500).end('internal error: upstream-secret');
    if (query.includes('bad('))
      return void res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'unknown function with name "bad"' }));
    if (answer === 'garbage')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not prometheus</html>');
    const json = { 'content-type': 'application/json' };
    if (answer === 'nested') return void res.writeHead(200, json).end(nestedArraysAnswer(fake.state.nestedBytes));
    const kind = query.includes('input_tokens')
      ? 'inputTokens'
      : query.includes('output_tokens')
        ? 'outputTokens'
        : 'rate';
    const value = (id: string): string =>
      (answer === 'out-of-range' ? fake.state.outOfRange[kind]?.[id] : undefined) ??
      String(kind === 'rate' ? fake.state.rates[id]! : fake.state[kind]);
    const result = Object.keys(fake.state.rates).map((id) => ({
      metric: { target_model_name: id },
      value: [Date.now() / 1000, value(id)],
    }));
    if (answer === 'many-series') {
      // the listed adapters' series first, then the extra ones
      const extra = cached(`many:${fake.state.extraSeries}`, () =>
        manySeries(fake.state.extraSeries)
          .map((s) => JSON.stringify(s))
          .join(','),
      );
      const listed = result.map((s) => `${JSON.stringify(s)},`).join('');
      return void res
        .writeHead(200, json)
        .end(Buffer.concat([Buffer.from(vectorHead + listed), extra, Buffer.from(']}}')]));
    }
    res.writeHead(200, json).end(vectorAnswer(result));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, ...fake, close: () => new Promise((r) => server.close(() => r())) };
}
