import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { maxSecretFileBytes, readSecretFile } from '../../src/observe/prometheus-auth.js';
import { freePort } from '../../src/shared/free-port.js';
import { buildTestApp, llama } from '../helpers/app.js';
import { startFakePrometheus } from '../helpers/fake-prometheus.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
/** a password with characters a URL must percent-encode */
const password = 'p@ss:w0rd/s3cret-zebra';
const source = {
  workload: llama,
  prometheus: { periodS: 1, graceS: 0, adapters: [{ id: 'ad-a', rank: 8 }] },
};

/** A logger whose JSON lines the test reads. */
function capturedLogger(): { logger: FastifyBaseLogger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream) as unknown as FastifyBaseLogger, text: () => lines.join('') };
}

describe('Prometheus credentials', async () => {
  const prometheus = await startFakePrometheus();
  prometheus.state.rates = { 'ad-a': 2 };
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-prom-auth-'));
  afterAll(async () => {
    await prometheus.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const host = prometheus.url.slice('http://'.length);
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (const deadline = Date.now() + 10_000; !(await probe()); await sleep(100))
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  };

  it('sends the user and password of PROMETHEUS_URL as Basic auth, and never echoes them or the answer', async () => {
    prometheus.state.answer = 'vector';
    prometheus.state.authorization = basic('reader', password);
    const log = capturedLogger();
    const app = await buildTestApp({
      logger: log.logger,
      prometheus: { url: `http://reader:${encodeURIComponent(password)}@${host}/`, timeoutMs: 2000, maxBytes: 1 << 20 },
      poolStaleS: 60,
    });
    const pool = async () => (await app.inject({ url: '/v1/pools/p' })).json();
    try {
      const put = await app.inject({ method: 'PUT', url: '/v1/pools/p/source', payload: source });
      expect(put.body).not.toContain('s3cret');
      expect(put.statusCode).toBe(200);
      expect(prometheus.authorizations.at(-1)).toBe(basic('reader', password));

      // Prometheus fails with a text of its own: the stored error names the status only
      prometheus.state.answer = 'error';
      await until('a failed read', async () => (await pool()).observation.error !== null);
      expect((await pool()).observation.error).toBe('Prometheus (PROMETHEUS_URL) answered HTTP 500');
      prometheus.state.answer = 'vector';
      prometheus.state.authorization = basic('reader', 'rotated elsewhere');
      await until('a refused read', async () => /HTTP 401/.test((await pool()).observation.error ?? ''));
      expect((await pool()).observation.error).toMatch(/answered HTTP 401: check the credentials/);

      // a second pool while Prometheus refuses: the 503 names the status, not the URL
      const refused = await app.inject({ method: 'PUT', url: '/v1/pools/q/source', payload: source });
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error).toMatchObject({ code: 'LP_ERR_SOURCE_UNAVAILABLE' });
      expect(log.text()).toMatch(/pool traffic not observed/);
      const everything = `${refused.body}${JSON.stringify(await pool())}${log.text()}`;
      for (const secret of ['s3cret', 'upstream-secret', 'secret-realm', 'reader', host])
        expect(everything).not.toContain(secret);
    } finally {
      await app.close();
      prometheus.state.authorization = null;
    }
  });

  it('says only "connection failed" with the errno code when Prometheus cannot be reached', async () => {
    const port = await freePort();
    const app = await buildTestApp({
      prometheus: {
        url: `http://reader:${encodeURIComponent(password)}@127.0.0.1:${port}`,
        timeoutMs: 2000,
        maxBytes: 1 << 20,
      },
    });
    try {
      const put = await app.inject({ method: 'PUT', url: '/v1/pools/p/source', payload: source });
      expect(put.statusCode).toBe(503);
      expect(put.json().error.message).toBe(
        'cannot query Prometheus (PROMETHEUS_URL): connection failed (ECONNREFUSED)',
      );
    } finally {
      await app.close();
    }
  });

  it('sends the token of PROMETHEUS_BEARER_TOKEN_FILE, re-read at every query', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'tok-1\n');
    prometheus.state.answer = 'vector';
    prometheus.state.authorization = 'Bearer tok-1';
    const app = await buildTestApp({
      prometheus: { url: prometheus.url, timeoutMs: 2000, maxBytes: 1 << 20, bearerTokenFile: tokenFile },
      poolStaleS: 60,
    });
    const pool = async () => (await app.inject({ url: '/v1/pools/p' })).json();
    try {
      expect((await app.inject({ method: 'PUT', url: '/v1/pools/p/source', payload: source })).statusCode).toBe(200);
      // the Secret is rotated: Prometheus now wants the new token, which the next reads send
      prometheus.state.authorization = 'Bearer tok-2';
      writeFileSync(tokenFile, 'tok-2');
      const rotatedAt = Date.now();
      await until(
        'a read with the new token',
        async () =>
          Date.parse((await pool()).observation.attemptedAt) > rotatedAt && (await pool()).observation.error === null,
      );
      expect(prometheus.authorizations.at(-1)).toBe('Bearer tok-2');
      rmSync(tokenFile);
      await until('a failed read', async () => (await pool()).observation.error !== null);
      expect((await pool()).observation.error).toBe('cannot read PROMETHEUS_BEARER_TOKEN_FILE: ENOENT');
    } finally {
      await app.close();
      prometheus.state.authorization = null;
    }
  });

  it("repeats a refused query's HTTP status and errorType, not its error text", async () => {
    const app = await buildTestApp({ prometheus: { url: prometheus.url, timeoutMs: 2000, maxBytes: 1 << 20 } });
    try {
      const r = await app.inject({
        method: 'PUT',
        url: '/v1/pools/p/source',
        payload: { ...source, prometheus: { ...source.prometheus, queries: { rate: 'bad(x)' } } },
      });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.message).toBe(
        'prometheus.queries.rate: Prometheus refused the rate query (HTTP 400, bad_data)',
      );
    } finally {
      await app.close();
    }
  });

  it('checks the variables at start, naming the one at fault and never quoting PROMETHEUS_URL', () => {
    const url = `http://reader:${password.replaceAll('@', '%40').replaceAll('/', '%2F')}@prometheus:9090`;
    const bad: [Record<string, string>, RegExp][] = [
      [
        { PROMETHEUS_URL: url, PROMETHEUS_BEARER_TOKEN_FILE: '/t' },
        /PROMETHEUS_BEARER_TOKEN_FILE: set it or credentials/,
      ],
      [{ PROMETHEUS_URL: 'http://prometheus:9090', PROMETHEUS_BASIC_AUTH_PASSWORD_FILE: '/p' }, /needs the user name/],
      [{ PROMETHEUS_URL: url, PROMETHEUS_BASIC_AUTH_PASSWORD_FILE: '/p' }, /a password in PROMETHEUS_URL, not both/],
      [{ PROMETHEUS_BEARER_TOKEN_FILE: '/t' }, /PROMETHEUS_BEARER_TOKEN_FILE: needs PROMETHEUS_URL/],
      [{ PROMETHEUS_URL: `${url}/?x=s3cret` }, /PROMETHEUS_URL: must not carry a query/],
      [{ PROMETHEUS_URL: 'http://reader:s3cret%zz@prometheus:9090' }, /PROMETHEUS_URL: .*percent-encoded/],
      [{ PROMETHEUS_URL: 'ftp://prometheus:9090' }, /PROMETHEUS_URL: must be an http/],
    ];
    for (const [env, message] of bad) {
      let thrown = '';
      try {
        loadConfig(env);
      } catch (err) {
        thrown = (err as Error).message;
      }
      expect(thrown, JSON.stringify(env)).toMatch(message);
      expect(thrown).not.toContain('s3cret');
    }
    expect(() => loadConfig({ PROMETHEUS_MAX_BYTES: '1e6' })).toThrow(/PROMETHEUS_MAX_BYTES: must be a decimal/);
    expect(loadConfig({ PROMETHEUS_URL: url })).toMatchObject({ PROMETHEUS_URL: url, PROMETHEUS_MAX_BYTES: 16 << 20 });
    expect(
      loadConfig({ PROMETHEUS_URL: 'http://reader@prometheus:9090/prom', PROMETHEUS_BASIC_AUTH_PASSWORD_FILE: '/p' })
        .PROMETHEUS_BASIC_AUTH_PASSWORD_FILE,
    ).toBe('/p');
  });

  it('reads a secret file trimmed and bounded, refusing a token with blanks', async () => {
    const file = join(dir, 'secret');
    writeFileSync(file, '  tok-3\r\n');
    expect(await readSecretFile(file, 'PROMETHEUS_BEARER_TOKEN_FILE', 'token')).toBe('tok-3');
    writeFileSync(file, 'two words\n');
    await expect(readSecretFile(file, 'PROMETHEUS_BEARER_TOKEN_FILE', 'token')).rejects.toThrow(/printable ASCII/);
    expect(await readSecretFile(file, 'PROMETHEUS_BASIC_AUTH_PASSWORD_FILE', 'password')).toBe('two words');
    writeFileSync(file, 'x'.repeat(maxSecretFileBytes + 1));
    await expect(readSecretFile(file, 'PROMETHEUS_BEARER_TOKEN_FILE', 'token')).rejects.toThrow(
      `cannot read PROMETHEUS_BEARER_TOKEN_FILE: larger than ${maxSecretFileBytes} bytes`,
    );
    await expect(readSecretFile(dir, 'PROMETHEUS_BEARER_TOKEN_FILE', 'token')).rejects.toThrow(/not a regular file/);
  });
});
