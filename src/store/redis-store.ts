import { Redis, ReplyError } from 'ioredis';
import { AppError } from '../shared/errors.js';
import {
  revised,
  summaryOf,
  type PlanSummary,
  type PoolStore,
  type PutOutcome,
  type StoreState,
  type StoredJob,
  type StoredPlan,
} from './pool-store.js';
import { BadRecords, decodeRecord, recordInvalid, type BadRecord, type RecordKind } from './records.js';

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] (REDIS_URL) */
  url: string;
  /** prefix of every key, so one Redis can hold several deployments' state (REDIS_KEY_PREFIX) */
  keyPrefix: string;
  /** most time one command may take before the request it serves answers 503 LP_ERR_STORE_TIMEOUT (default 5000) */
  commandTimeoutMs?: number;
  /** connection problems (logged by the service; ioredis reconnects by itself) */
  onError?: (err: Error) => void;
}

// Each script runs atomically in Redis: the check and the write cannot interleave with another replica's.
// KEYS: plans, summaries; ARGV: pool, plan JSON, summary JSON, maxPools | expected revision
const putPlanScript = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1`;
// a malformed summary (not JSON) matches no revision: the script answers 0 instead of failing
const replacePlanIfScript = `
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return 0 end
local ok, summary = pcall(cjson.decode, current)
if not ok or type(summary) ~= 'table' or summary.revision ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1`;
const deletePlanScript = `
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])`;
const putJobScript = `
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
while redis.call('LLEN', KEYS[2]) > tonumber(ARGV[3]) do redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2])) end
return 1`;
const acquireLeaseScript = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
const releaseLeaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Seconds a client waits before retrying, by failure: ioredis reconnects within 2 s, a slow Redis is often a
 * moment's; memory is freed by someone deleting pools or raising maxmemory.
 */
const retryAfterS = { storeUnavailable: 5, storeTimeout: 5, storeFull: 30 } as const;

/** An error Redis answered (ioredis types its class as any). */
function isReplyError(err: unknown): err is Error {
  return err instanceof (ReplyError as typeof Error);
}

/** Redis refuses a write for memory: "OOM command not allowed when used memory > 'maxmemory'" (also from a script). */
const outOfMemory = /^OOM\b|\bOOM command not allowed\b/;

/**
 * Whether INFO memory shows Redis over maxmemory with nothing it may evict (policy noeviction): every write is then
 * refused. (Other policies evict on the next write; their refusals are seen as OOM answers.)
 */
export function overMaxmemory(info: string): boolean {
  const field = (name: string) => new RegExp(`^${name}:(\\S+)\r?$`, 'm').exec(info)?.[1];
  const max = Number(field('maxmemory'));
  if (!(max > 0) || field('maxmemory_policy') !== 'noeviction') return false;
  return Number(field('used_memory')) - Number(field('mem_not_counted_for_evict') ?? 0) > max;
}

interface Scripts {
  putPlan(
    plans: string,
    summaries: string,
    pool: string,
    json: string,
    summary: string,
    maxPools: string,
  ): Promise<number>;
  replacePlanIf(
    plans: string,
    summaries: string,
    pool: string,
    json: string,
    summary: string,
    expected: string,
  ): Promise<number>;
  deletePlan(plans: string, summaries: string, pool: string): Promise<number>;
  putJob(jobs: string, order: string, id: string, json: string, keep: string): Promise<number>;
  acquireLease(lease: string, owner: string, ttlMs: string): Promise<number>;
  releaseLease(lease: string, owner: string): Promise<number>;
}

/**
 * Pools, plans, job records and leases in Redis (ioredis), shared by every replica pointed at it.
 * Plans are JSON in one hash (field = pool) beside a hash of their summaries (what lists and scrapes
 * read; the conditional replace compares its `revision`); leases are keys with an expiry (SET PX),
 * freed only by their owner.
 * Durability is the Redis server's: run it with appendonly for restarts of Redis itself (deploy/redis).
 */
export class RedisPoolStore implements PoolStore {
  readonly backend = 'redis';
  private readonly client: Redis & Scripts;
  private readonly commandTimeoutMs: number;
  /** Redis refused a write for memory, and no write succeeded since */
  private refusedForMemory = false;
  private readonly bad = new BadRecords();
  private readonly keys: {
    plans: string;
    summaries: string;
    jobs: string;
    jobOrder: string;
    lease: (name: string) => string;
  };

  constructor(o: RedisStoreOptions) {
    this.commandTimeoutMs = o.commandTimeoutMs ?? 5000;
    const client = new Redis(o.url, {
      // a request waits for at most one reconnect attempt, then answers 503; ioredis keeps reconnecting
      maxRetriesPerRequest: 1,
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: 5000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    client.on('error', (err: Error) => o.onError?.(err));
    client.defineCommand('putPlan', { numberOfKeys: 2, lua: putPlanScript });
    client.defineCommand('replacePlanIf', { numberOfKeys: 2, lua: replacePlanIfScript });
    client.defineCommand('deletePlan', { numberOfKeys: 2, lua: deletePlanScript });
    client.defineCommand('putJob', { numberOfKeys: 2, lua: putJobScript });
    client.defineCommand('acquireLease', { numberOfKeys: 1, lua: acquireLeaseScript });
    client.defineCommand('releaseLease', { numberOfKeys: 1, lua: releaseLeaseScript });
    this.client = client as Redis & Scripts;
    const p = o.keyPrefix;
    this.keys = {
      plans: `${p}plans`,
      summaries: `${p}plan-summaries`,
      jobs: `${p}jobs`,
      jobOrder: `${p}job-order`,
      lease: (name) => `${p}lease:${name}`,
    };
  }

  putPlan(given: StoredPlan, maxPools: number): Promise<PutOutcome> {
    const plan = revised(given);
    const { plans, summaries } = this.keys;
    return this.write(async () => {
      const stored =
        (await this.client.putPlan(
          plans,
          summaries,
          plan.pool,
          JSON.stringify(plan),
          JSON.stringify(summaryOf(plan)),
          String(maxPools),
        )) === 1;
      if (stored) this.rewritten(plan.pool);
      return stored ? 'stored' : 'full';
    });
  }

  replacePlanIf(given: StoredPlan, expectedRevision: string): Promise<boolean> {
    const plan = revised(given);
    const { plans, summaries } = this.keys;
    return this.write(async () => {
      const stored =
        (await this.client.replacePlanIf(
          plans,
          summaries,
          plan.pool,
          JSON.stringify(plan),
          JSON.stringify(summaryOf(plan)),
          expectedRevision,
        )) === 1;
      if (stored) this.rewritten(plan.pool);
      return stored;
    });
  }

  async getPlan(pool: string): Promise<StoredPlan | null> {
    return this.decoded('plan', pool, await this.call(() => this.client.hget(this.keys.plans, pool)));
  }

  /** Every summary that reads well; the malformed ones are left out (and named by `badRecords`). */
  async listSummaries(): Promise<PlanSummary[]> {
    const all = await this.call(() => this.client.hgetall(this.keys.summaries));
    const found: BadRecord[] = [];
    const summaries = Object.keys(all)
      .sort()
      .flatMap((pool) => {
        const read = decodeRecord('summary', pool, all[pool]!);
        if (read.ok) return [read.value];
        found.push(read.bad);
        return [];
      });
    this.bad.listed('summary', found);
    return summaries;
  }

  hasPool(pool: string): Promise<boolean> {
    return this.call(async () => (await this.client.hexists(this.keys.plans, pool)) === 1);
  }

  countPools(): Promise<number> {
    return this.call(() => this.client.hlen(this.keys.plans));
  }

  deletePlan(pool: string): Promise<boolean> {
    return this.write(async () => {
      const existed = (await this.client.deletePlan(this.keys.plans, this.keys.summaries, pool)) === 1;
      this.rewritten(pool);
      return existed;
    });
  }

  putJob(job: StoredJob, keep: number): Promise<void> {
    return this.write(async () => {
      await this.client.putJob(this.keys.jobs, this.keys.jobOrder, job.id, JSON.stringify(job), String(keep));
      this.bad.good('job', job.id);
    });
  }

  async getJob(id: string): Promise<StoredJob | null> {
    return this.decoded('job', id, await this.call(() => this.client.hget(this.keys.jobs, id)));
  }

  /** Every job record that reads well, oldest first; the malformed ones are left out (and named by `badRecords`). */
  async listJobs(): Promise<StoredJob[]> {
    const [ids, records] = await this.call(async () => {
      const order = await this.client.lrange(this.keys.jobOrder, 0, -1);
      return [order, order.length === 0 ? [] : await this.client.hmget(this.keys.jobs, ...order)] as const;
    });
    const found: BadRecord[] = [];
    const jobs = records.flatMap((json, i) => {
      if (json === null) return [];
      const read = decodeRecord('job', ids[i]!, json);
      if (read.ok) return [read.value];
      found.push(read.bad);
      return [];
    });
    this.bad.listed('job', found);
    return jobs;
  }

  acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.write(
      async () =>
        (await this.client.acquireLease(this.keys.lease(name), owner, String(Math.max(1, Math.round(ttlMs))))) === 1,
    );
  }

  releaseLease(name: string, owner: string): Promise<void> {
    return this.write(async () => {
      await this.client.releaseLease(this.keys.lease(name), owner);
    });
  }

  leaseHolder(name: string): Promise<string | null> {
    return this.call(() => this.client.get(this.keys.lease(name)));
  }

  /**
   * One INFO memory: full when a write was refused for memory and none succeeded since, or when Redis is over its
   * maxmemory under noeviction (a write from another replica was refused, or is about to be); unreachable when it
   * does not answer within the command timeout. A Redis that refuses INFO (ACLs) is asked PING instead.
   */
  async state(): Promise<StoreState> {
    try {
      const info = await this.client.info('memory').catch(async (err: unknown) => {
        if (!isReplyError(err)) throw err;
        await this.client.ping();
        return '';
      });
      return this.refusedForMemory || overMaxmemory(info) ? 'full' : 'reachable';
    } catch {
      return 'unreachable';
    }
  }

  badRecords(): BadRecord[] {
    return this.bad.list();
  }

  watchBadRecords(listener: (record: BadRecord) => void): void {
    this.bad.watch(listener);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  /** A record read by its key: null when absent; a malformed one rejects (500) and is remembered as bad. */
  private decoded<K extends 'plan' | 'job'>(kind: K, key: string, json: string | null) {
    if (json === null) {
      this.bad.good(kind, key);
      return null;
    }
    const read = decodeRecord(kind, key, json);
    if (!read.ok) {
      this.bad.found(read.bad);
      throw recordInvalid(read.bad);
    }
    this.bad.good(kind, key);
    return read.value;
  }

  /** A pool's plan and summary were just written (or deleted) together: neither is malformed now. */
  private rewritten(pool: string): void {
    for (const kind of ['plan', 'summary'] as RecordKind[]) this.bad.good(kind, pool);
  }

  /** A write: its success ends the "full" state a refusal for memory began. */
  private async write<T>(command: () => Promise<T>): Promise<T> {
    const value = await this.call(command, 'write');
    this.refusedForMemory = false;
    return value;
  }

  /** Every command's failure becomes a 503 the API answers (unreachable, full, timed out); nothing else is thrown. */
  private async call<T>(command: () => Promise<T>, kind: 'read' | 'write' = 'read'): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw this.failure(err as Error, kind);
    }
  }

  private failure(err: Error, kind: 'read' | 'write'): AppError {
    // the reason without the address: error bodies reach clients that need no token
    const reason = err.message.replace(/\b[\w.-]+:\d{2,5}\b/g, '<redis>');
    const [code, message]: [keyof typeof retryAfterS, string] =
      isReplyError(err) && outOfMemory.test(err.message)
        ? [
            'storeFull',
            'the state store (Redis) is full (maxmemory reached, no eviction): it refused the write, nothing was ' +
              'changed; delete pools, or give Redis more memory',
          ]
        : err.message === 'Command timed out'
          ? // ioredis stopped waiting, but the command was sent: Redis may still run it
            [
              'storeTimeout',
              `the state store (Redis) did not answer within ${this.commandTimeoutMs} ms` +
                (kind === 'write' ? ': the write may or may not have been applied (read it back, or repeat it)' : ''),
            ]
          : isReplyError(err)
            ? ['storeUnavailable', `the state store (Redis) refused the command: ${reason}`]
            : ['storeUnavailable', `the state store (Redis) cannot be reached: ${reason}`];
    if (code === 'storeFull') this.refusedForMemory = true;
    const failure = new AppError(code, message, { backend: 'redis' });
    failure.retryAfterS = retryAfterS[code];
    return failure;
  }
}
