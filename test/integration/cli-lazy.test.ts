import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, startService } from '../helpers/service-process.js';

// Issue 22, "the CLI starts fast": a command imports what it uses when it runs. Each case runs src/cli.ts (tsx)
// with test/helpers/module-trace.mjs recording every module the process loads, and checks which ones it did.
// No timings here: `lora-placer bench cli` measures those.

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lora-placer-cli-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const srcUrl = pathToFileURL(join(root, 'src')).href;
let runs = 0;

const hook = pathToFileURL(join(root, 'test/helpers/module-trace.mjs')).href;

/** The src files (relative to src/) and the packages of a trace file. */
function loaded(trace: string): { files: string[]; packages: Set<string> } {
  const urls = [...new Set(readFileSync(trace, 'utf8').split('\n').filter(Boolean))];
  const files = urls.filter((u) => u.startsWith(`${srcUrl}/`)).map((u) => u.slice(srcUrl.length + 1));
  const packages = new Set(
    urls.flatMap((u) => {
      const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
      return m ? [m[1]!] : [];
    }),
  );
  return { files, packages };
}

/** Runs the CLI; answers its status, stdout, and the loaded modules (src files relative to src/, packages by name). */
function traced(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string; files: string[]; packages: Set<string> } {
  const trace = join(dir, `trace-${++runs}.txt`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', hook, join(root, 'src/cli.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...env, MODULE_TRACE_FILE: trace },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ...loaded(trace) };
}

/** Packages no quick command needs: the service, Kubernetes manifests, worker threads, Redis, the sweep queue. */
const heavy = [
  'fastify',
  '@fastify/swagger',
  'kubernetes-models',
  'yaml',
  'piscina',
  'pino',
  'prom-client',
  'ioredis',
  'bullmq',
];
/** The sweep queue's files: only `worker` and queued sweeps (train --queue) load them. */
const queueFiles = ['training/queue-sweep-runner.ts', 'training/sweep-queue-worker.ts'];
const loadedOf = (packages: Set<string>, names: string[]): string[] => names.filter((p) => packages.has(p));

describe('the CLI loads what a command uses', () => {
  it('answers --version, --help and a command --help from four files and no package', () => {
    const helps = [
      ['serve', '--help'],
      ['bench', 'cli', '--help'],
      ['train', '--help'],
      ['worker', '--help'],
    ];
    for (const args of [['--version'], ['--help'], ...helps]) {
      const r = traced(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.files.sort(), args.join(' ')).toEqual([
        'cli.ts',
        'cli/exit-codes.ts',
        'cli/help.ts',
        'shared/errors.ts',
      ]);
      expect(loadedOf(r.packages, [...heavy, 'zod']), args.join(' ')).toEqual([]);
    }
  });

  it('simulates and places without the service, the manifests, the benchmarks or worker threads', () => {
    for (const args of [['simulate', 'examples/scenario.json'], ['place', 'examples/workload.json'], ['profiles']]) {
      const r = traced(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.files, args.join(' ')).toContain(`cli/${args[0]}.ts`);
      expect(loadedOf(r.packages, heavy), args.join(' ')).toEqual([]);
      // three light files: config.ts reads AUTH_SCOPE's values from api/auth.ts (node:crypto) and checks
      // PROMETHEUS_URL with observe/prometheus-auth.ts (node:fs), and profiles prints the service's catalog entries
      // (api/catalog.ts, type imports only); the heavy packages are checked above
      const light = ['api/auth.ts', 'api/catalog.ts', 'observe/prometheus-auth.ts'];
      const unused = r.files.filter(
        (f) => /^(api|bench|manifests|store|training|validation|observe|refit)\//.test(f) && !light.includes(f),
      );
      expect(unused, args.join(' ')).toEqual([]);
    }
  });

  it('trains on local threads without the queue library (BullMQ, ioredis)', () => {
    const out = join(dir, 'predictors');
    const r = traced([
      'train',
      ...['--model', 'qwen-2.5-7b-instruct', '--gpu', 'h100-64gb', '--workloads', '8', '--workers', '1'],
      ...['--teacher-trees', '2', '--dense-samples', '200', '--out', out, '--dataset', join(dir, 'sweep.jsonl')],
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^trained qwen-2.5-7b-instruct@h100-64gb/m);
    expect(r.files).toContain('training/train.ts');
    expect(loadedOf(r.packages, ['bullmq', 'ioredis'])).toEqual([]);
    expect(r.files.filter((f) => queueFiles.includes(f))).toEqual([]);
  }, 60_000);

  it('checks the options of worker and of a queued train before it loads the queue library', () => {
    const { REDIS_URL: _, ...noRedis } = process.env;
    const profile = ['--model', 'qwen-2.5-7b-instruct', '--gpu', 'h100-64gb'];
    for (const [args, message] of [
      [['worker', '--redis', 'http://example.com'], /--redis: expected a redis:\/\/ or rediss:\/\/ URL/],
      [['worker'], /--redis: required \(or REDIS_URL\)/],
      [['train', ...profile, '--runner', 'queue'], /--queue: required \(a redis:\/\/ URL, or REDIS_URL\)/],
      [['train', ...profile, '--queue', 'redis://127.0.0.1:1', '--workers', '2'], /--workers: not with a queue/],
    ] as const) {
      const r = traced([...args], noRedis);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(loadedOf(r.packages, ['bullmq', 'ioredis']), args.join(' ')).toEqual([]);
      expect(
        r.files.filter((f) => queueFiles.includes(f)),
        args.join(' '),
      ).toEqual([]);
    }
  });

  it('loads kubernetes-models and yaml for place --output manifests, and still writes them', () => {
    const r = traced(['place', 'examples/workload.json', '--output', 'manifests']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^kind: Deployment$/m);
    expect(r.stdout).toMatch(/^kind: ConfigMap$/m);
    // the trace sees packages: the manifests' own ones are there
    expect(loadedOf(r.packages, heavy)).toEqual(['kubernetes-models', 'yaml']);
    expect(r.files).toContain('manifests/pool-manifests.ts');
  });

  // typescript: from the sources (tsx) the web view's script is transpiled when first asked for, never at start
  it('starts the service without kubernetes-models, ioredis, bullmq (no REDIS_URL) or typescript', async () => {
    const trace = join(dir, 'trace-service.txt');
    const service = await startService({ MODULE_TRACE_FILE: trace }, 60_000, { nodeArgs: ['--import', hook] });
    service.process.kill('SIGTERM'); // a graceful exit: the hook writes the CommonJS modules on exit
    expect(await exited(service.process)).toBe(0);
    const { files, packages } = loaded(trace);
    expect(loadedOf(packages, ['fastify', 'pino', 'kubernetes-models', 'ioredis', 'bullmq', 'typescript'])).toEqual([
      'fastify',
      'pino',
    ]);
    expect(files.filter((f) => queueFiles.includes(f))).toEqual([]);
    // the manifest options' schema and the template cache (type imports only) load; the renderer does not
    const light = ['manifests/manifest-options.ts', 'manifests/manifest-cache.ts'];
    expect(files.filter((f) => f.startsWith('manifests/') && !light.includes(f))).toEqual([]);
    expect(files).not.toContain('store/redis-store.ts');
  });
});
