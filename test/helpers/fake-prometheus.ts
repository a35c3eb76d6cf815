import { createServer, type Server } from 'node:http';

/** A stand-in for Prometheus' /api/v1/query: answers the observed-traffic queries from `state`. */
export interface FakePrometheus {
  url: string;
  state: {
    rates: Record<string, number>;
    inputTokens: number;
    outputTokens: number;
    answer: 'vector' | 'garbage' | 'error';
  };
  queries: string[];
  close: () => Promise<void>;
}

export async function startFakePrometheus(): Promise<FakePrometheus> {
  const fake = {
    state: {
      rates: {} as Record<string, number>,
      inputTokens: 400,
      outputTokens: 120,
      answer: 'vector' as FakePrometheus['state']['answer'],
    },
    queries: [] as string[],
  };
  const server: Server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    fake.queries.push(query);
    if (fake.state.answer === 'error') return void res.writeHead(500).end('internal error');
    if (query.includes('bad('))
      return void res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'unknown function with name "bad"' }));
    if (fake.state.answer === 'garbage')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not prometheus</html>');
    const value = (id: string) =>
      query.includes('input_tokens')
        ? fake.state.inputTokens
        : query.includes('output_tokens')
          ? fake.state.outputTokens
          : fake.state.rates[id]!;
    const result = Object.keys(fake.state.rates).map((id) => ({
      metric: { target_model_name: id },
      value: [Date.now() / 1000, String(value(id))],
    }));
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, ...fake, close: () => new Promise((r) => server.close(() => r())) };
}
