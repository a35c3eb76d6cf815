/**
 * The service as a process under a seeded, bounded fuzz run derived from its own /openapi.json
 * (test/fuzz/run-fuzz.ts). Longer runs: FUZZ_REQUESTS=6000 npx vitest run test/integration/openapi-fuzz.test.ts;
 * another sequence: FUZZ_SEED=7.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/shared/free-port.js';
import { formatSummary, formatViolation, runFuzz, type FuzzSummary } from '../fuzz/run-fuzz.js';

const root = join(import.meta.dirname, '..', '..');
const requests = Number(process.env.FUZZ_REQUESTS ?? 400);
const seed = Number(process.env.FUZZ_SEED ?? 1);

/**
 * Small work limits keep the run bounded: the service must refuse bigger simulations, placements and
 * refreshes with a quick 4xx (variables the service does not know yet are ignored by it).
 */
const workLimits = {
  MAX_SIMULATED_REQUESTS: '200000',
  MAX_VERIFIED_REQUESTS: '400000',
  REFRESH_MAX_WORKLOADS: '60',
  TASK_TIMEOUT_MS: '20000',
  LOG_LEVEL: 'warn',
  // every answer checked against its schema: a NaN or null where a number is promised is a 500, so a violation
  CHECK_RESPONSES: '1',
  // a refresh that names no workload count uses this one; 60 keeps it within REFRESH_MAX_WORKLOADS
  REFRESH_WORKLOADS: '60',
};

async function untilReady(server: ChildProcess, base: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ready = () =>
    fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
  while (!(await ready())) {
    if (server.exitCode !== null)
      throw new Error(`the service exited with code ${server.exitCode} before it was ready (its stderr is above)`);
    if (Date.now() > deadline) throw new Error('timed out waiting for /readyz');
    await new Promise((r) => setTimeout(r, 250));
  }
}

function serviceEnv(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...workLimits };
  // the mutating routes must be reachable: the fuzzer sends no token
  delete env.API_TOKEN;
  return env;
}

describe('the service under an OpenAPI-derived fuzz run', () => {
  let server: ChildProcess;
  let base = '';
  let summary: FuzzSummary;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
      cwd: root,
      env: serviceEnv(port),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await untilReady(server, base);
  }, 90_000);

  afterAll(async () => {
    if (server.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      process.kill(server.pid, 'SIGKILL');
      await exited;
    }
  });

  it(
    `keeps its robustness contract over ${requests} requests (seed ${seed})`,
    async () => {
      summary = await runFuzz({
        baseUrl: base,
        requests,
        seed,
        concurrency: 2,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      console.log(formatSummary(summary));

      const listed = summary.violations.slice(0, 20).map(formatViolation).join('\n\n');
      expect(summary.violations.length, `${summary.violations.length} violations; the first 20:\n\n${listed}`).toBe(0);
      // not even the 503s an operation documents (a full queue, a stale plan): at this pace neither should occur
      expect(
        Object.keys(summary.statuses).filter((status) => Number(status) >= 500),
        'statuses >= 500',
      ).toEqual([]);
      const unexercised = Object.entries(summary.operations)
        .filter(([, op]) => op.sent === 0)
        .map(([key]) => key);
      expect(unexercised, 'operations of /openapi.json no request reached').toEqual([]);
      expect(summary.healthz.worstMs, 'worst /healthz latency (ms) during the run').toBeLessThan(1000);
      expect(server.exitCode, 'the service process exited during the run').toBeNull();
    },
    15 * 60_000,
  );
});
