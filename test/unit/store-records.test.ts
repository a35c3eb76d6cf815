import { describe, expect, it } from 'vitest';
import { BadRecords, decodeRecord, recordInvalid } from '../../src/store/records.js';
import { storedPlan } from '../helpers/store-contract.js';

describe('records read back from the state store', () => {
  it('decodes a plan the service wrote, and keeps fields it does not know', () => {
    const plan = { ...storedPlan('p', 5), revision: 'r1', addedLater: { x: 1 } };
    expect(decodeRecord('plan', 'p', JSON.stringify(plan))).toEqual({ ok: true, value: plan });
  });

  it('names what is wrong: not JSON, a missing or mistyped field, a record kept under another key', () => {
    const reason = (kind: 'plan' | 'summary' | 'job', key: string, json: string) => {
      const read = decodeRecord(kind, key, json);
      return read.ok ? null : read.bad.reason;
    };
    expect(reason('summary', 'x', 'not json')).toBe('not JSON');
    expect(reason('plan', 'p', JSON.stringify({ ...storedPlan('p', 1), placement: 'none' }))).toMatch(/^not a plan/);
    expect(reason('plan', 'p', JSON.stringify({ ...storedPlan('p', 1), updatedAt: '1' }))).toMatch(/updatedAt/);
    expect(reason('plan', 'p', JSON.stringify(storedPlan('q', 1)))).toBe('kept under "p" but names "q"');
    expect(reason('job', 'j', JSON.stringify({ id: 'j' }))).toMatch(/state/);
    expect(reason('plan', 'p', 'null')).toMatch(/^not a plan record: \(root\)/);
  });

  it('answers 500 LP_ERR_STORE_RECORD_INVALID naming the pool and the way out', () => {
    const err = recordInvalid({ kind: 'plan', key: 'p', reason: 'not JSON' });
    expect(err.status).toBe(500);
    expect(err.code).toBe('LP_ERR_STORE_RECORD_INVALID');
    expect(err.message).toBe(
      'the stored plan of pool "p" is malformed (not JSON); PUT /v1/pools/p again to rewrite it, or DELETE it',
    );
    expect(err.details).toEqual({ pool: 'p', record: 'plan' });
  });

  it('tells a listener of each bad record once, until it reads well again', () => {
    const bad = new BadRecords();
    const told: string[] = [];
    bad.watch((r) => told.push(`${r.kind}:${r.key}`));
    const summary = (key: string) => ({ kind: 'summary' as const, key, reason: 'not JSON' });
    bad.listed('summary', [summary('a'), summary('b')]);
    bad.listed('summary', [summary('a'), summary('b')]);
    bad.found({ kind: 'plan', key: 'a', reason: 'not JSON' });
    expect(told).toEqual(['summary:a', 'summary:b', 'plan:a']);
    bad.listed('summary', [summary('b')]);
    expect(bad.list().map((r) => `${r.kind}:${r.key}`)).toEqual(['summary:b', 'plan:a']);
    bad.good('plan', 'a');
    bad.listed('summary', [summary('a')]);
    expect(told).toEqual(['summary:a', 'summary:b', 'plan:a', 'summary:a']);
    expect(bad.list()).toEqual([summary('a')]);
  });
});
