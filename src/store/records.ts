import { z } from 'zod';
import { AppError, quoted } from '../shared/errors.js';
import type { PlanSummary, StoredJob, StoredPlan } from './pool-store.js';

/** The records a backend keeps as JSON: a pool's plan, its summary, a refresh job. */
export type RecordKind = 'plan' | 'summary' | 'job';

/** A record read back that is not what the service writes (edited by hand, truncated, written by a bug). */
export interface BadRecord {
  kind: RecordKind;
  /** the pool (plan, summary) or job id it is kept under */
  key: string;
  /** why it is malformed, briefly: "not JSON", or the first field that is wrong */
  reason: string;
}

// Shallow on purpose: the fields every reader of the record uses, checked in microseconds for a plan of 10,000
// adapters. Loose: fields a newer replica adds are kept (a conditional replace writes the record back whole).
// z.number() refuses NaN and the infinities (JSON has neither)
const Finite = z.number();
const PlanSummaryRecord = z.looseObject({
  pool: z.string(),
  model: z.string(),
  gpu: z.string(),
  gpuCount: Finite,
  lowerBound: Finite,
  modelVersion: z.string(),
  updatedAt: Finite,
  computedAt: Finite,
  observePeriodS: Finite.nullable(),
  observeAttemptedAt: Finite.nullable(),
  revision: z.string().nullable(),
});
const StoredPlanRecord = z.looseObject({
  pool: z.string(),
  workload: z.looseObject({ model: z.string(), gpu: z.string(), adapters: z.array(z.unknown()) }),
  placement: z.looseObject({
    gpuCount: Finite,
    lowerBound: Finite,
    modelVersion: z.string(),
    gpus: z.array(z.unknown()),
  }),
  updatedAt: Finite,
  computedAt: Finite,
  revision: z.string().optional(),
  source: z.looseObject({ prometheus: z.looseObject({ periodS: Finite }) }).optional(),
  observation: z
    .looseObject({
      attemptedAt: Finite,
      succeededAt: Finite.nullable(),
      error: z.string().nullable(),
      adapters: z.array(z.unknown()),
      ignoredSeries: Finite,
      replanned: z.boolean(),
    })
    .optional(),
});
const StoredJobRecord = z.looseObject({ id: z.string(), state: z.string() });

interface Records {
  plan: StoredPlan;
  summary: PlanSummary;
  job: StoredJob;
}
const schemas: { [K in RecordKind]: z.ZodType } = {
  plan: StoredPlanRecord,
  summary: PlanSummaryRecord,
  job: StoredJobRecord,
};

/** A record's JSON as read from the store: the record, or why it is malformed (it must also name its own key). */
export function decodeRecord<K extends RecordKind>(
  kind: K,
  key: string,
  json: string,
): { ok: true; value: Records[K] } | { ok: false; bad: BadRecord } {
  const bad = (reason: string) => ({ ok: false as const, bad: { kind, key, reason } });
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return bad('not JSON');
  }
  const parsed = schemas[kind].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return bad(`not a ${kind} record: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const record = parsed.data as Records[K];
  const named = 'id' in record ? record.id : (record as StoredPlan | PlanSummary).pool;
  if (named !== key) return bad(`kept under ${quoted(key)} but names ${quoted(String(named))}`);
  return { ok: true, value: record };
}

/** 500 LP_ERR_STORE_RECORD_INVALID: a retry does not help, a rewrite does. */
export function recordInvalid(r: BadRecord): AppError {
  const [what, remedy, details] =
    r.kind === 'job'
      ? [`refresh job ${quoted(r.key)}`, 'it is left out of the job list', { id: r.key, record: r.kind }]
      : [
          `pool ${quoted(r.key)}`,
          `PUT /v1/pools/${r.key} again to rewrite it, or DELETE it`,
          { pool: r.key, record: r.kind },
        ];
  return new AppError(
    'storeRecordInvalid',
    `the stored ${r.kind} of ${what} is malformed (${r.reason}); ${remedy}`,
    details,
  );
}

/**
 * The records this replica found malformed the last time it read them: a listing of summaries replaces those of
 * its kind, a read or write of one record by key settles that one. Each newly bad record is told to the listeners
 * once (a log line), not at every read (the observer lists the pools every second).
 */
export class BadRecords {
  private readonly bad = new Map<string, BadRecord>();
  private readonly listeners: ((record: BadRecord) => void)[] = [];

  watch(listener: (record: BadRecord) => void): void {
    this.listeners.push(listener);
  }

  found(record: BadRecord): void {
    const id = `${record.kind}\n${record.key}`;
    if (!this.bad.has(id)) for (const listener of this.listeners) listener(record);
    this.bad.set(id, record);
  }

  good(kind: RecordKind, key: string): void {
    this.bad.delete(`${kind}\n${key}`);
  }

  /** After reading every record of `kind`: the ones not found bad in it are no longer. */
  listed(kind: RecordKind, found: BadRecord[]): void {
    const still = new Set(found.map((r) => r.key));
    for (const record of this.bad.values())
      if (record.kind === kind && !still.has(record.key)) this.good(kind, record.key);
    for (const record of found) this.found(record);
  }

  list(): BadRecord[] {
    return [...this.bad.values()];
  }
}
