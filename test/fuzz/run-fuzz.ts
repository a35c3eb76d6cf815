/**
 * The HTTP side of the OpenAPI fuzzer: reads the running service's /openapi.json, sends a seeded
 * sequence of valid and hostile requests for every operation, polls /healthz all along, and checks
 * the robustness contract:
 *  - no status >= 500, except a 503 the operation documents (busy queue, stale autoscale plan): that
 *    is back-pressure, not a failure, and is listed in the summary instead;
 *  - every non-2xx body is exactly `{ "error": { "code": "LP_ERR_...", "message": string, "details"?: any } }`;
 *  - every body is under 4 MiB (the work limits bound an answer: at most MAX_GPUS GPUs, each listing its
 *    adapters with ids and paths of bounded length; about 2.6 MB at the defaults);
 *  - every request is answered within the per-request timeout;
 *  - /healthz answers all along (its worst latency is in the summary), and the service still works at the end.
 */
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  operationsOf,
  requestSequence,
  type FuzzRequest,
  type OpenApiDocument,
  type Operation,
  type ProfileFacts,
} from './openapi-arbitraries.js';

export interface FuzzOptions {
  baseUrl: string;
  requests: number;
  seed: number;
  /** requests in flight at once (default 2: the machine has 2 cores and the service needs one) */
  concurrency?: number;
  /** per-request timeout (default 60 s) */
  requestTimeoutMs?: number;
  /**
   * after this many timeouts of one operation its remaining requests are skipped, keeping a hung service's run bounded
   * (default 3)
   */
  hangLimit?: number;
  /** relative weights per operation key (default: expensiveOperations 1, every other 3) */
  weights?: Record<string, number>;
  /** progress lines (every 100 requests) */
  log?: (line: string) => void;
}

/** Operations that simulate or place: fewer of them, so that a run stays bounded. */
export const expensiveOperations = [
  'POST /v1/simulate',
  'POST /v1/placements',
  'PUT /v1/pools/{pool}',
  'POST /v1/models/refresh',
];

const maxResponseBytes = 4 * 1024 * 1024;
const healthzIntervalMs = 100;
const healthzTimeoutMs = 10_000;
/** a content-length longer than the body: the server rightly waits for bytes that never come */
const incompleteBodyWaitMs = 3_000;

export type ViolationKind =
  | 'server-error'
  | 'error-shape'
  | 'body-too-large'
  | 'timeout'
  | 'connection-failed'
  | 'healthz'
  | 'liveness';

/** The request as it went on the wire, trimmed for reading. */
export interface RequestRecord {
  index: number;
  operation: string;
  method: string;
  path: string;
  label: string;
  headers: Record<string, string>;
  body: string | null;
  bodyBytes: number;
  contentLengthLie: number;
}

export interface Violation {
  kind: ViolationKind;
  message: string;
  request: RequestRecord | null;
  response?: { status: number; body: string };
}

export interface OperationStats {
  sent: number;
  skipped: number;
  statuses: Record<string, number>;
}

export interface HealthzStats {
  polls: number;
  failures: number;
  worstMs: number;
  p99Ms: number;
}

export interface FuzzSummary {
  seed: number;
  requests: number;
  wallMs: number;
  operations: Record<string, OperationStats>;
  statuses: Record<string, number>;
  violations: Violation[];
  /** bodies the document's schema rejects that were answered 2xx anyway (not part of the contract; worth a look) */
  acceptedInvalid: RequestRecord[];
  /** 5xx answers the operation documents (503 busy, stale plan): allowed, but listed */
  documented5xx: RequestRecord[];
  healthz: HealthzStats;
}

// ---------------------------------------------------------------------------------------------------
// The wire
// ---------------------------------------------------------------------------------------------------

interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  contentLengthLie: number;
}

type Outcome =
  | { kind: 'answered'; status: number; body: Buffer; tooLarge: boolean; ms: number }
  | { kind: 'timeout'; ms: number }
  | { kind: 'failed'; message: string; reusedSocket: boolean; ms: number };

interface Target {
  host: string;
  port: number;
}

function targetOf(baseUrl: string): Target {
  const url = new URL(baseUrl);
  return { host: url.hostname, port: Number(url.port || 80) };
}

/** Collects a response body up to maxResponseBytes; beyond that the answer is cut and flagged. */
function readBody(
  res: http.IncomingMessage,
  done: (body: Buffer, tooLarge: boolean) => void,
  failed: (message: string) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxResponseBytes) {
      res.destroy();
      done(Buffer.concat(chunks), true);
    } else chunks.push(chunk);
  });
  res.on('end', () => done(Buffer.concat(chunks), false));
  res.on('error', (err) => failed(err.message));
}

function sendHttp(target: Target, req: WireRequest, timeoutMs: number, agent: http.Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const ms = () => performance.now() - started;
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== null) headers['content-length'] = String(Buffer.byteLength(req.body));
    let r: http.ClientRequest;
    try {
      r = http.request(
        { host: target.host, port: target.port, method: req.method, path: req.path, headers, agent },
        (res) =>
          readBody(
            res,
            (body, tooLarge) => finish({ kind: 'answered', status: res.statusCode ?? 0, body, tooLarge, ms: ms() }),
            (message) => finish({ kind: 'failed', message, reusedSocket: false, ms: ms() }),
          ),
      );
    } catch (err) {
      // node refused to send it (a header or path it considers malformed): nothing reached the service
      resolve({ kind: 'failed', message: `not sendable: ${(err as Error).message}`, reusedSocket: false, ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      finish({ kind: 'timeout', ms: ms() });
      r.destroy();
    }, timeoutMs);
    r.on('error', (err: NodeJS.ErrnoException) =>
      finish({ kind: 'failed', message: err.code ?? err.message, reusedSocket: r.reusedSocket, ms: ms() }),
    );
    r.end(req.body ?? undefined);
  });
}

/** The first HTTP response in what a raw socket received (content-length or chunked body). */
function parseRawResponse(data: Buffer): { status: number; body: Buffer } | null {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const [statusLine = '', ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = new Map(
    lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  let body = data.subarray(headEnd + 4);
  if (headers.has('content-length')) body = body.subarray(0, Number(headers.get('content-length')));
  else if (headers.get('transfer-encoding')?.includes('chunked')) body = dechunk(body);
  return { status: Number(statusLine.split(' ')[1]), body };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    const lineEnd = data.indexOf('\r\n', at);
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (lineEnd < 0 || !(size > 0)) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** A request whose content-length lies: node's client would not send it, so it goes over a raw socket. */
function sendRaw(target: Target, req: WireRequest, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const body = Buffer.from(req.body ?? '');
    const length = Math.max(0, body.length + req.contentLengthLie);
    const head = [
      `${req.method} ${req.path} HTTP/1.1`,
      `host: ${target.host}:${target.port}`,
      'connection: close',
      ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`),
      `content-length: ${length}`,
    ];
    const chunks: Buffer[] = [];
    const socket = net.connect(target.port, target.host);
    const settle = (o: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const answered = () => {
      const parsed = parseRawResponse(Buffer.concat(chunks));
      if (parsed)
        settle({
          kind: 'answered',
          status: parsed.status,
          body: parsed.body,
          tooLarge: parsed.body.length > maxResponseBytes,
          ms: performance.now() - started,
        });
      else
        settle({
          kind: 'failed',
          message: chunks.length ? 'unparsable response' : 'closed without an answer',
          reusedSocket: false,
          ms: performance.now() - started,
        });
    };
    const timer = setTimeout(
      () => (chunks.length ? answered() : settle({ kind: 'timeout', ms: performance.now() - started })),
      timeoutMs,
    );
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', answered);
    socket.on('error', (err: NodeJS.ErrnoException) =>
      settle({
        kind: 'failed',
        message: err.code ?? err.message,
        reusedSocket: false,
        ms: performance.now() - started,
      }),
    );
    socket.write(`${head.join('\r\n')}\r\n\r\n`, 'latin1');
    // half-close: the server sees the end of the body it was promised more of
    socket.end(body);
  });
}

/** Sends once; a reset on a reused keep-alive socket is the client's race, so that one is retried fresh. */
async function send(target: Target, req: WireRequest, timeoutMs: number, agent: http.Agent): Promise<Outcome> {
  if (req.contentLengthLie !== 0)
    return sendRaw(target, req, req.contentLengthLie > 0 ? incompleteBodyWaitMs : timeoutMs);
  const first = await sendHttp(target, req, timeoutMs, agent);
  if (first.kind === 'failed' && first.reusedSocket) return sendHttp(target, req, timeoutMs, false);
  return first;
}

// ---------------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------------

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What is wrong with an error body, or null when it has exactly the documented shape. */
export function errorShapeProblem(body: Buffer): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body.length === 0 ? 'empty body' : `not JSON: ${clip(JSON.stringify(body.toString('utf8')), 120)}`;
  }
  if (!isRecord(parsed)) return `not an object: ${clip(JSON.stringify(parsed), 120)}`;
  const topKeys = Object.keys(parsed);
  if (topKeys.length !== 1 || topKeys[0] !== 'error')
    return `top-level keys ${JSON.stringify(topKeys)}, expected ["error"]`;
  const e = parsed.error;
  if (!isRecord(e)) return '"error" is not an object';
  const extra = Object.keys(e).filter((k) => !['code', 'message', 'details'].includes(k));
  if (extra.length > 0) return `unexpected keys in "error": ${JSON.stringify(extra)}`;
  if (typeof e.code !== 'string' || !e.code.startsWith('LP_ERR_'))
    return `error.code ${JSON.stringify(e.code)} does not start with LP_ERR_`;
  if (typeof e.message !== 'string') return 'error.message is not a string';
  return null;
}

function judge(op: Operation, req: FuzzRequest, outcome: Outcome): Omit<Violation, 'request'> | null {
  if (outcome.kind === 'timeout') {
    return req.contentLengthLie > 0
      ? null
      : { kind: 'timeout', message: `no answer within ${Math.round(outcome.ms)} ms` };
  }
  if (outcome.kind === 'failed') {
    if (req.contentLengthLie > 0 || outcome.message.startsWith('not sendable')) return null;
    return { kind: 'connection-failed', message: `${outcome.message} after ${Math.round(outcome.ms)} ms` };
  }
  const response = { status: outcome.status, body: clip(outcome.body.toString('utf8'), 600) };
  if (outcome.tooLarge)
    return {
      kind: 'body-too-large',
      message: `status ${outcome.status}, body over ${maxResponseBytes} bytes`,
      response,
    };
  const documented5xx = outcome.status !== 500 && op.documentedStatuses.includes(outcome.status);
  if (outcome.status >= 500 && !documented5xx)
    return { kind: 'server-error', message: `status ${outcome.status}`, response };
  if (outcome.status >= 200 && outcome.status < 300) return null;
  const problem = errorShapeProblem(outcome.body);
  return problem ? { kind: 'error-shape', message: `status ${outcome.status}: ${problem}`, response } : null;
}

// ---------------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------------

/** Values the server handed out (pool names, refresh job ids), per path-parameter name. */
class Learned {
  private readonly values = new Map<string, string[]>();

  constructor(private readonly names: Set<string>) {}

  /** Remembers top-level string properties named like a path parameter of a 2xx JSON body. */
  learnFrom(body: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    if (!isRecord(parsed)) return;
    for (const name of this.names) {
      const v = parsed[name];
      if (typeof v !== 'string') continue;
      const list = this.values.get(name) ?? [];
      if (!list.includes(v)) list.push(v);
      this.values.set(name, list.slice(-20));
    }
  }

  pick(name: string, n: number): string | undefined {
    const list = this.values.get(name);
    return list?.length ? list[n % list.length] : undefined;
  }
}

function pathOf(req: FuzzRequest, learned: Learned): string {
  const filled = req.template.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const p = req.params.find((x) => x.name === name);
    if (!p) return whole;
    const seen = p.learnedPick === null ? undefined : learned.pick(name, p.learnedPick);
    return seen === undefined ? p.literal : encodeURIComponent(seen);
  });
  return filled + req.query;
}

function recordOf(index: number, req: FuzzRequest, path: string): RequestRecord {
  return {
    index,
    operation: req.operation,
    method: req.method,
    path: clip(path, 300),
    label: req.label,
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, clip(v, 200)])),
    body: req.body === null ? null : clip(req.body, 2000),
    bodyBytes: req.body === null ? 0 : Buffer.byteLength(req.body),
    contentLengthLie: req.contentLengthLie,
  };
}

function statusKey(o: Outcome): string {
  return o.kind === 'answered' ? String(o.status) : o.kind;
}

function startHealthzPoller(target: Target): { stop: () => Promise<HealthzStats & { violations: Violation[] }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const violations: Violation[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const o = await sendHttp(
        target,
        { method: 'GET', path: '/healthz', headers: {}, body: null, contentLengthLie: 0 },
        healthzTimeoutMs,
        agent,
      );
      latencies.push(o.ms);
      if (o.kind !== 'answered' || o.status !== 200) {
        failures++;
        if (violations.length < 20)
          violations.push({
            kind: 'healthz',
            message: `GET /healthz: ${statusKey(o)} after ${Math.round(o.ms)} ms`,
            request: null,
          });
      }
      await new Promise((r) => setTimeout(r, Math.max(0, healthzIntervalMs - o.ms)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        polls: latencies.length,
        failures,
        worstMs: sorted.at(-1) ?? 0,
        p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
        violations,
      };
    },
  };
}

async function getJson(target: Target, path: string): Promise<unknown> {
  const o = await sendHttp(
    target,
    { method: 'GET', path, headers: {}, body: null, contentLengthLie: 0 },
    30_000,
    false,
  );
  if (o.kind !== 'answered' || o.status !== 200) throw new Error(`GET ${path}: ${statusKey(o)}`);
  return JSON.parse(o.body.toString('utf8'));
}

/** The profiles the service knows: without their { model, gpu } nearly every valid body is a 404. */
async function knownProfiles(target: Target): Promise<ProfileFacts[]> {
  const body = (await getJson(target, '/v1/profiles').catch(() => ({}))) as { profiles?: ProfileFacts[] };
  return (body.profiles ?? []).map(({ model, gpu, maxModelLen, engineDefaults }) => ({
    model,
    gpu,
    maxModelLen,
    engineDefaults,
  }));
}

/** The service stopped accepting connections: the requests unanswered or in flight just then are the suspects. */
function deathOf(index: number, suspects: RequestRecord[]): Violation {
  const unique = [...new Map(suspects.map((r) => [r.index, r])).values()].sort((a, b) => a.index - b.index);
  const listed = unique.map((r) => `#${r.index} ${r.method} ${r.path.slice(0, 60)} [${r.label}]`).join('; ');
  return {
    kind: 'liveness',
    message:
      `the service refused connections from request #${index} on (it died); unanswered or in flight then: ` +
      `${listed}`,
    request: unique[0] ?? null,
  }; // the oldest: it has been working longest
}

/** After the run: the process answers, and a small known-good prediction still works. */
async function livenessViolations(
  target: Target,
  profile: ProfileFacts | undefined,
  timeoutMs: number,
): Promise<Violation[]> {
  const out: Violation[] = [];
  const health = await sendHttp(
    target,
    { method: 'GET', path: '/healthz', headers: {}, body: null, contentLengthLie: 0 },
    timeoutMs,
    false,
  );
  if (health.kind !== 'answered' || health.status !== 200)
    out.push({ kind: 'liveness', message: `GET /healthz after the run: ${statusKey(health)}`, request: null });
  const body = JSON.stringify({
    model: profile?.model,
    gpu: profile?.gpu,
    engine: { maxLoras: 4 },
    adapters: [
      { id: 'a', rank: 8, rate: 1 },
      { id: 'b', rank: 16, rate: 0.5 },
    ],
  });
  const predict = await sendHttp(
    target,
    { method: 'POST', path: '/v1/predict', headers: { 'content-type': 'application/json' }, body, contentLengthLie: 0 },
    timeoutMs,
    false,
  );
  if (predict.kind !== 'answered' || predict.status !== 200) {
    const detail = predict.kind === 'answered' ? ` ${clip(predict.body.toString('utf8'), 300)}` : '';
    out.push({
      kind: 'liveness',
      message: `known-good POST /v1/predict after the run: ${statusKey(predict)}${detail}`,
      request: null,
    });
  }
  return out;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const target = targetOf(o.baseUrl);
  const timeoutMs = o.requestTimeoutMs ?? 60_000;
  const hangLimit = o.hangLimit ?? 3;
  const doc = (await getJson(target, '/openapi.json')) as OpenApiDocument;
  const operations = new Map(operationsOf(doc).map((op) => [op.key, op]));
  const profiles = await knownProfiles(target);
  const weights = o.weights ?? Object.fromEntries(expensiveOperations.map((k) => [k, 1]));
  // generated before the clock and the poller start: generation is CPU work of this process
  const requests = requestSequence(doc, o.seed, o.requests, { profiles, weights });

  const stats: Record<string, OperationStats> = Object.fromEntries(
    [...operations.keys()].map((k) => [k, { sent: 0, skipped: 0, statuses: {} }]),
  );
  const statuses: Record<string, number> = {};
  const violations: Violation[] = [];
  const acceptedInvalid: RequestRecord[] = [];
  const documented5xx: RequestRecord[] = [];
  const timeouts = new Map<string, number>();
  const learned = new Learned(new Set([...operations.values()].flatMap((op) => op.pathParams.map((p) => p.name))));
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency ?? 2 });
  const started = performance.now();
  const poller = startHealthzPoller(target);

  // once the service refuses connections it is gone: one violation naming the likely culprits, not a thousand
  let diedAt: number | null = null;
  const unanswered: RequestRecord[] = [];
  const inFlight = new Map<number, RequestRecord>();

  const runOne = async (index: number): Promise<void> => {
    const req = requests[index]!;
    const op = operations.get(req.operation)!;
    const opStats = stats[req.operation]!;
    if (diedAt !== null || (timeouts.get(req.operation) ?? 0) >= hangLimit) {
      opStats.skipped++;
      return;
    }
    const path = pathOf(req, learned);
    inFlight.set(index, recordOf(index, req, path));
    const outcome = await send(
      target,
      { method: req.method, path, headers: req.headers, body: req.body, contentLengthLie: req.contentLengthLie },
      timeoutMs,
      agent,
    );
    inFlight.delete(index);
    if (outcome.kind === 'failed' && outcome.message === 'ECONNREFUSED') {
      // a request in flight when the process died is retried (reset on a reused socket) and lands here too
      if (diedAt === null)
        violations.push(deathOf(index, [...unanswered, recordOf(index, req, path), ...inFlight.values()]));
      diedAt ??= index;
      opStats.skipped++;
      return;
    }
    opStats.sent++;
    const key = statusKey(outcome);
    opStats.statuses[key] = (opStats.statuses[key] ?? 0) + 1;
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (outcome.kind === 'timeout' && req.contentLengthLie <= 0)
      timeouts.set(req.operation, (timeouts.get(req.operation) ?? 0) + 1);
    const verdict = judge(op, req, outcome);
    if (verdict) violations.push({ ...verdict, request: recordOf(index, req, path) });
    if (verdict?.kind === 'timeout' || verdict?.kind === 'connection-failed') {
      unanswered.push(recordOf(index, req, path));
      if (unanswered.length > 5) unanswered.shift();
    }
    if (outcome.kind === 'answered' && outcome.status >= 500 && !verdict)
      documented5xx.push(recordOf(index, req, path));
    if (outcome.kind === 'answered' && outcome.status >= 200 && outcome.status < 300) {
      learned.learnFrom(outcome.body);
      if (req.claimedInvalid) acceptedInvalid.push(recordOf(index, req, path));
    }
  };

  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      await runOne(next++);
      // ten progress lines per run, so that CI logs show progress without a line per hundred requests
      if (++done % Math.max(100, Math.ceil(requests.length / 10)) === 0)
        o.log?.(
          `fuzz: ${done}/${requests.length} requests, ${violations.length} violations, ` +
            `${Math.round((performance.now() - started) / 1000)} s`,
        );
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 2 }, worker));
  const { violations: healthzViolations, ...healthz } = await poller.stop();
  agent.destroy();
  violations.push(...healthzViolations, ...(await livenessViolations(target, profiles[0], timeoutMs)));
  return {
    seed: o.seed,
    requests: requests.length,
    wallMs: performance.now() - started,
    operations: stats,
    statuses,
    violations,
    acceptedInvalid,
    documented5xx,
    healthz,
  };
}

// ---------------------------------------------------------------------------------------------------
// Reading the result
// ---------------------------------------------------------------------------------------------------

/**
 * The mutation family of a label: "body:hugeNumber@rate" -> "body:hugeNumber", "header:x-request-id=..." ->
 * "header:x-request-id".
 */
function labelFamily(label: string): string {
  if (label.startsWith('body:')) return label.split('@')[0]!;
  if (label.startsWith('header:')) return label.split('=')[0]!;
  return label;
}

function errorCodeOf(body: string | undefined): string {
  return /"code"\s*:\s*"([^"]+)"/.exec(body ?? '')?.[1] ?? '';
}

export interface ViolationGroup {
  key: string;
  count: number;
  operations: string[];
  example: Violation;
}

/**
 * Violations grouped by what they say (kind, status and code or shape problem, mutation family), with the operations
 * they hit.
 */
export function groupViolations(violations: Violation[]): ViolationGroup[] {
  const groups = new Map<string, ViolationGroup>();
  for (const v of violations) {
    const what =
      v.kind === 'error-shape'
        ? v.message.replace(/(not JSON|not an object): .*/s, '$1')
        : v.response
          ? `status ${v.response.status} ${errorCodeOf(v.response.body)}`
          : v.message.replace(/ after \d+ ms.*/, '');
    const key = `${v.kind} | ${what}${v.request ? ` | ${labelFamily(v.request.label)}` : ''}`;
    const g = groups.get(key) ?? { key, count: 0, operations: [], example: v };
    g.count++;
    if (v.request && !g.operations.includes(v.request.operation)) g.operations.push(v.request.operation);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

export function formatViolation(v: Violation): string {
  const lines = [`${v.kind}: ${v.message}`];
  const r = v.request;
  if (r) {
    lines.push(`  #${r.index} ${r.method} ${r.path}   [${r.label}]`);
    if (Object.keys(r.headers).length) lines.push(`  headers: ${JSON.stringify(r.headers)}`);
    if (r.contentLengthLie)
      lines.push(`  content-length: body length ${r.contentLengthLie > 0 ? '+' : ''}${r.contentLengthLie}`);
    if (r.body !== null) lines.push(`  body (${r.bodyBytes} bytes): ${r.body}`);
  }
  if (v.response) lines.push(`  -> ${v.response.status} ${v.response.body}`);
  return lines.join('\n');
}

export function formatSummary(s: FuzzSummary): string {
  const pad = (text: string | number, width: number) => String(text).padStart(width);
  const bucket = (statuses: Record<string, number>, test: (status: number) => boolean) =>
    Object.entries(statuses)
      .filter(([k]) => test(Number(k)))
      .reduce((sum, [, n]) => sum + n, 0);
  const width = Math.max(9, ...Object.keys(s.operations).map((k) => k.length));
  const lines = [
    `OpenAPI fuzz: seed ${s.seed}, ${s.requests} requests in ${(s.wallMs / 1000).toFixed(1)} s; /healthz worst ` +
      `${Math.round(s.healthz.worstMs)} ms, p99 ${Math.round(s.healthz.p99Ms)} ms over ${s.healthz.polls} polls ` +
      `(${s.healthz.failures} failed)`,
    `${'operation'.padEnd(width)}  ${pad('sent', 5)} ${pad('2xx', 5)} ${pad('4xx', 5)} ${pad('5xx', 5)} ` +
      `${pad('other', 5)} ${pad('skip', 5)}`,
  ];
  for (const [key, op] of Object.entries(s.operations)) {
    const ok = bucket(op.statuses, (n) => n >= 200 && n < 300);
    const client = bucket(op.statuses, (n) => n >= 400 && n < 500);
    const server = bucket(op.statuses, (n) => n >= 500);
    lines.push(
      `${key.padEnd(width)}  ${pad(op.sent, 5)} ${pad(ok, 5)} ${pad(client, 5)} ${pad(server, 5)} ` +
        `${pad(op.sent - ok - client - server, 5)} ${pad(op.skipped, 5)}`,
    );
  }
  lines.push(
    `statuses: ${Object.entries(s.statuses)
      .sort()
      .map(([k, n]) => `${k} x${n}`)
      .join(', ')}`,
  );
  const example = (records: RequestRecord[]) =>
    records[0] ? ` (e.g. #${records[0].index} ${records[0].operation} [${records[0].label}])` : '';
  lines.push(`accepted although the schema rejects them: ${s.acceptedInvalid.length}${example(s.acceptedInvalid)}`);
  lines.push(`documented 5xx (allowed): ${s.documented5xx.length}${example(s.documented5xx)}`);
  const groups = groupViolations(s.violations);
  lines.push(`violations: ${s.violations.length}${groups.length ? `, ${groups.length} kinds:` : ''}`);
  for (const g of groups)
    lines.push(`  ${pad(g.count, 4)} x ${g.key}${g.operations.length ? ` (${g.operations.join(', ')})` : ''}`);
  return lines.join('\n');
}
