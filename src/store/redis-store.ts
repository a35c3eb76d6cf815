import { Redis } from 'ioredis';
import { AppError } from '../shared/errors.js';
import {
  revised,
  summaryOf,
  type PlanSummary,
  type PoolStore,
  type PutOutcome,
  type StoredJob,
  type StoredPlan,
} from './pool-store.js';

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] (REDIS_URL) */
  url: string;
  /** prefix of every key, so one Redis can hold several deployments' state (REDIS_KEY_PREFIX) */
  keyPrefix: string;
  /** most time one command may take before the request it serves answers 503 */
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
const replacePlanIfScript = `
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current or cjson.decode(current).revision ~= ARGV[4] then return 0 end
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
  private readonly keys: {
    plans: string;
    summaries: string;
    jobs: string;
    jobOrder: string;
    lease: (name: string) => string;
  };

  constructor(o: RedisStoreOptions) {
    const client = new Redis(o.url, {
      // a request waits for at most one reconnect attempt, then answers 503; ioredis keeps reconnecting
      maxRetriesPerRequest: 1,
      commandTimeout: o.commandTimeoutMs ?? 5000,
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
    return this.call(async () =>
      (await this.client.putPlan(
        plans,
        summaries,
        plan.pool,
        JSON.stringify(plan),
        JSON.stringify(summaryOf(plan)),
        String(maxPools),
      )) === 1
        ? 'stored'
        : 'full',
    );
  }

  replacePlanIf(given: StoredPlan, expectedRevision: string): Promise<boolean> {
    const plan = revised(given);
    const { plans, summaries } = this.keys;
    return this.call(
      async () =>
        (await this.client.replacePlanIf(
          plans,
          summaries,
          plan.pool,
          JSON.stringify(plan),
          JSON.stringify(summaryOf(plan)),
          expectedRevision,
        )) === 1,
    );
  }

  getPlan(pool: string): Promise<StoredPlan | null> {
    return this.call(async () => parsed<StoredPlan>(await this.client.hget(this.keys.plans, pool)));
  }

  listSummaries(): Promise<PlanSummary[]> {
    return this.call(async () => {
      const all = await this.client.hgetall(this.keys.summaries);
      return Object.keys(all)
        .sort()
        .map((pool) => parsed<PlanSummary>(all[pool]!)!);
    });
  }

  hasPool(pool: string): Promise<boolean> {
    return this.call(async () => (await this.client.hexists(this.keys.plans, pool)) === 1);
  }

  countPools(): Promise<number> {
    return this.call(() => this.client.hlen(this.keys.plans));
  }

  deletePlan(pool: string): Promise<boolean> {
    return this.call(async () => (await this.client.deletePlan(this.keys.plans, this.keys.summaries, pool)) === 1);
  }

  putJob(job: StoredJob, keep: number): Promise<void> {
    return this.call(async () => {
      await this.client.putJob(this.keys.jobs, this.keys.jobOrder, job.id, JSON.stringify(job), String(keep));
    });
  }

  getJob(id: string): Promise<StoredJob | null> {
    return this.call(async () => parsed<StoredJob>(await this.client.hget(this.keys.jobs, id)));
  }

  listJobs(): Promise<StoredJob[]> {
    return this.call(async () => {
      const ids = await this.client.lrange(this.keys.jobOrder, 0, -1);
      if (ids.length === 0) return [];
      const records = await this.client.hmget(this.keys.jobs, ...ids);
      return records.flatMap((r) => (r === null ? [] : [parsed<StoredJob>(r)!]));
    });
  }

  acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.call(
      async () =>
        (await this.client.acquireLease(this.keys.lease(name), owner, String(Math.max(1, Math.round(ttlMs))))) === 1,
    );
  }

  releaseLease(name: string, owner: string): Promise<void> {
    return this.call(async () => {
      await this.client.releaseLease(this.keys.lease(name), owner);
    });
  }

  leaseHolder(name: string): Promise<string | null> {
    return this.call(() => this.client.get(this.keys.lease(name)));
  }

  ping(): Promise<void> {
    return this.call(async () => {
      await this.client.ping();
    });
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  /** Every command's failure (Redis down, timeout) becomes a 503 the API answers; nothing else is thrown. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      // the reason without the address: error bodies reach clients that need no token
      const reason = (err as Error).message.replace(/\b[\w.-]+:\d{2,5}\b/g, '<redis>');
      throw new AppError('storeUnavailable', `the state store (Redis) cannot be reached: ${reason}`, {
        backend: 'redis',
      });
    }
  }
}

function parsed<T>(json: string | null | undefined): T | null {
  return json === null || json === undefined ? null : (JSON.parse(json) as T);
}
