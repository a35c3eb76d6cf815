import { z } from 'zod';
import { authScopes } from './api/auth.js';
import { parsePrometheusUrl } from './observe/prometheus-auth.js';
import { AppError } from './shared/errors.js';
import { defaultWorkLimits, type WorkLimits } from './shared/work-limits.js';

/** A decimal integer in [min, max]: "", "0x1f", "1e3" and " 80 " are refused, not coerced. */
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a decimal integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max, `must be a decimal integer from ${min} to ${max}`));

/** Seconds, decimal, 0 (meaning "off" where described) or within [min, max]. */
const seconds = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `must be 0 or a decimal number of seconds from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .refine(
          (v) => v === 0 || (v >= min && v <= max),
          `must be 0 or a decimal number of seconds from ${min} to ${max}`,
        ),
    )
    .describe(what);

/** A path to a file of secrets (read later; the start-up checks it can be). */
const secretFile = z.string().min(1).max(4096).optional();

/** What is wrong with PROMETHEUS_URL and its credentials, as [variable, problem] (never quoting a value). */
function prometheusAuthIssues(c: {
  PROMETHEUS_URL?: string | undefined;
  PROMETHEUS_BEARER_TOKEN_FILE?: string | undefined;
  PROMETHEUS_BASIC_AUTH_PASSWORD_FILE?: string | undefined;
}): [string, string][] {
  const bearer = c.PROMETHEUS_BEARER_TOKEN_FILE !== undefined;
  const passwordFile = c.PROMETHEUS_BASIC_AUTH_PASSWORD_FILE !== undefined;
  if (c.PROMETHEUS_URL === undefined) {
    const orphan = bearer
      ? 'PROMETHEUS_BEARER_TOKEN_FILE'
      : passwordFile
        ? 'PROMETHEUS_BASIC_AUTH_PASSWORD_FILE'
        : null;
    return orphan ? [[orphan, 'needs PROMETHEUS_URL']] : [];
  }
  const endpoint = parsePrometheusUrl(c.PROMETHEUS_URL);
  if ('problem' in endpoint) return [['PROMETHEUS_URL', endpoint.problem]];
  if (bearer && passwordFile)
    return [['PROMETHEUS_BEARER_TOKEN_FILE', 'set it or PROMETHEUS_BASIC_AUTH_PASSWORD_FILE, not both']];
  if (bearer && endpoint.username !== null)
    return [['PROMETHEUS_BEARER_TOKEN_FILE', 'set it or credentials in PROMETHEUS_URL, not both']];
  if (passwordFile && endpoint.username === null)
    return [['PROMETHEUS_BASIC_AUTH_PASSWORD_FILE', 'needs the user name in PROMETHEUS_URL (http://user@host:9090)']];
  if (passwordFile && endpoint.password !== null)
    return [['PROMETHEUS_BASIC_AUTH_PASSWORD_FILE', 'set it or a password in PROMETHEUS_URL, not both']];
  return [];
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Service configuration: the only place that reads process.env. Parsed once at start. */
export const Config = z
  .object({
    PORT: integer(1, 65535).default(8080),
    HOST: z.string().min(1).max(253).default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MODELS_DIR: z
      .string()
      .min(1)
      .optional()
      .describe(
        'where refreshed predictors are written and read (predictors/<model>@<gpu>/); unset: the embedded ' +
          'models, refreshes kept in memory',
      ),
    PROFILES_DIR: z
      .string()
      .max(65_536)
      .default('')
      .transform((v) => v.split(':').filter((d) => d !== ''))
      .describe(
        'directories of more profiles (<model>@<gpu>.json), colon-separated, read at start after the embedded ' +
          'models/profiles; a later directory overrides an earlier one for the same model@gpu',
      ),
    MODELS_RELOAD_S: seconds(
      1,
      86_400,
      'how often MODELS_DIR is checked for models another replica refreshed; 0 = only at start',
    ).default(30),
    API_TOKEN: z
      .string()
      .min(8, 'must be at least 8 characters')
      .max(4096)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without blanks')
      .optional()
      .describe('when set, the routes of AUTH_SCOPE need `Authorization: Bearer <token>`'),
    AUTH_SCOPE: z
      .enum(authScopes)
      .default('expensive')
      .describe('routes that need the token: mutating, expensive (mutating + simulate + placements), all (/v1/*)'),
    BODY_LIMIT_BYTES: integer(KiB, 1024 * MiB).default(8 * MiB),
    PREDICT_BODY_LIMIT_BYTES: integer(KiB, 1024 * MiB)
      .default(MiB)
      .describe('/v1/predict answers on the HTTP thread: its bodies are capped lower'),
    REQUEST_TIMEOUT_MS: integer(1000, 3_600_000)
      .default(30_000)
      .describe('time allowed to receive a whole request; a stalled body is cut with 408'),
    HEADERS_TIMEOUT_MS: integer(1000, 600_000).default(10_000).describe('time allowed to receive the request headers'),
    KEEP_ALIVE_TIMEOUT_MS: integer(100, 600_000).default(5000),
    MAX_CONNECTIONS: integer(16, 1_000_000)
      .default(2048)
      .describe('open connections; past it idle ones are closed first, then new ones refused'),
    SHUTDOWN_TIMEOUT_MS: integer(100, 3_600_000)
      .default(25_000)
      .describe('SIGTERM: requests in flight get this long, then the process exits anyway'),
    REFRESH_INTERVAL_S: seconds(60, 30 * 86_400, "periodic refresh of every profile's predictors; 0 = off").default(0),
    REFRESH_WORKLOADS: integer(50, 1_000_000).default(8000),
    REFRESH_MAX_WORKLOADS: integer(50, 1_000_000)
      .default(20_000)
      .describe('most workloads a refresh request may ask for'),
    REFRESH_THREADS: integer(1, 256)
      .default(1)
      .describe('Twin worker threads for refresh sweeps (leave a core to the HTTP loop)'),
    REFRESH_SEED: integer(0, 2 ** 32 - 1).default(1),
    REFRESH_SWEEPS: z
      .enum(['local', 'queue'])
      .default('local')
      .describe(
        "where a refresh's sweep runs: local (REFRESH_THREADS threads of this replica) or queue (the sweep queue on " +
          'REDIS_URL, taken by `lora-placer worker` processes and SWEEP_WORKER=1 replicas)',
      ),
    SWEEP_WORKER: z
      .enum(['0', '1'])
      .default('0')
      .describe('1: this replica also takes sweep jobs from the sweep queue on REDIS_URL (as `lora-placer worker`)'),
    SWEEP_WORKER_THREADS: integer(1, 256)
      .default(1)
      .describe('Twin threads (and jobs at once) of SWEEP_WORKER=1 (leave a core to the HTTP loop)'),
    MAX_POOLS: integer(1, 100_000).default(256).describe('pools kept; a PUT of one more is refused with 409'),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
      .max(4096)
      .optional()
      .describe(
        'pools, plans and refresh jobs in this Redis, shared by the replicas pointed at it; unset: in memory ' +
          '(one process, lost on restart)',
      ),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:._-]{1,64}$/, '1-64 letters, digits, ":", ".", "_" or "-"')
      .default('lora-placer:')
      .describe('prefix of every key lora-placer writes in REDIS_URL'),
    PROMETHEUS_URL: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL')
      .max(2048)
      .optional()
      .describe(
        'the Prometheus observed pools are read from (PUT /v1/pools/{pool}/source); unset: pools are pushed only. ' +
          'http://user:pass@host: sent as Authorization: Basic (the URL is never echoed)',
      ),
    PROMETHEUS_BEARER_TOKEN_FILE: secretFile.describe(
      'a file holding the token sent as Authorization: Bearer to PROMETHEUS_URL (e.g. a mounted Secret); ' +
        'read at every query, so a rotated token is used at once; not with credentials in PROMETHEUS_URL',
    ),
    PROMETHEUS_BASIC_AUTH_PASSWORD_FILE: secretFile.describe(
      'a file holding the password of the user PROMETHEUS_URL names (http://user@host:9090); read at every query',
    ),
    PROMETHEUS_MAX_BYTES: integer(64 * KiB, 256 * MiB)
      .default(16 * MiB)
      .describe(
        'one Prometheus answer; larger is a failed read. Answers are scanned as they arrive (about 10 ms of CPU ' +
          'per MiB, no copy kept), so this bounds time, not memory',
      ),
    PROMETHEUS_TIMEOUT_MS: integer(100, 120_000)
      .default(5000)
      .describe('one Prometheus query; slower is a failed read (the last plan stays)'),
    POOL_STALE_S: seconds(
      1,
      30 * 86_400,
      'a pool plan whose workload was not updated for this long is stale (autoscale answers 503); 0 = never',
    ).default(900),
    VERIFY_THREADS: integer(1, 256)
      .default(1)
      .describe('worker threads for simulations and placements (the HTTP thread never runs them)'),
    WORK_QUEUE_MAX: integer(0, 10_000)
      .default(16)
      .describe('simulations and placements allowed to wait for a thread; beyond, 503 with Retry-After'),
    TASK_TIMEOUT_MS: integer(100, 3_600_000)
      .default(60_000)
      .describe('a simulation or placement not done this long after admission is stopped (503)'),
    MAX_SIMULATED_REQUESTS: integer(1000, 1e9).default(defaultWorkLimits.maxSimulatedRequests),
    MAX_SIMULATED_SECONDS: integer(1, 7 * 86_400).default(defaultWorkLimits.maxSimulatedSeconds),
    MAX_VERIFIED_REQUESTS: integer(1000, 1e10).default(defaultWorkLimits.maxVerifiedRequests),
    MAX_GPUS: integer(1, 100_000).default(defaultWorkLimits.maxGpus),
    CHECK_RESPONSES: z
      .enum(['0', '1'])
      .default('0')
      .describe(
        '1: check every answer against its schema (a number that is NaN becomes a 500); for tests and fuzzing, ' +
          "about 15 % of a prediction's CPU",
      ),
  })
  .superRefine((c, ctx) => {
    for (const [path, message] of prometheusAuthIssues(c)) ctx.addIssue({ code: 'custom', path: [path], message });
    for (const key of ['REFRESH_SWEEPS', 'SWEEP_WORKER'] as const) {
      const queued = key === 'REFRESH_SWEEPS' ? c.REFRESH_SWEEPS === 'queue' : c.SWEEP_WORKER === '1';
      if (queued && c.REDIS_URL === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: 'the sweep queue needs REDIS_URL' });
    }
    if (c.REFRESH_WORKLOADS > c.REFRESH_MAX_WORKLOADS)
      ctx.addIssue({
        code: 'custom',
        path: ['REFRESH_WORKLOADS'],
        message: `must be <= REFRESH_MAX_WORKLOADS (${c.REFRESH_MAX_WORKLOADS})`,
      });
  });
export type Config = z.infer<typeof Config>;

/** Parses the environment or throws one message naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Config.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** The work limits alone, from the same variables: what the CLI applies (other service settings do not concern it). */
export function loadWorkLimits(env: NodeJS.ProcessEnv = process.env): WorkLimits {
  const keys = ['MAX_SIMULATED_REQUESTS', 'MAX_SIMULATED_SECONDS', 'MAX_VERIFIED_REQUESTS', 'MAX_GPUS'] as const;
  const parsed = Config.safeParse(Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]])));
  if (!parsed.success) {
    throw new AppError(
      'invalidInput',
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return workLimitsOf(parsed.data);
}

/** PROFILES_DIR's directories: the CLI reads them too, before its --profiles ones. */
export function loadProfileDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const parsed = Config.shape.PROFILES_DIR.safeParse(env.PROFILES_DIR);
  if (!parsed.success)
    throw new AppError('invalidInput', `invalid configuration: PROFILES_DIR: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/** The work limits of the configuration (the CLI reads the same variables, with the same defaults). */
export function workLimitsOf(
  config: Pick<Config, 'MAX_SIMULATED_REQUESTS' | 'MAX_SIMULATED_SECONDS' | 'MAX_VERIFIED_REQUESTS' | 'MAX_GPUS'>,
): WorkLimits {
  return {
    maxSimulatedRequests: config.MAX_SIMULATED_REQUESTS,
    maxSimulatedSeconds: config.MAX_SIMULATED_SECONDS,
    maxVerifiedRequests: config.MAX_VERIFIED_REQUESTS,
    maxGpus: config.MAX_GPUS,
  };
}
