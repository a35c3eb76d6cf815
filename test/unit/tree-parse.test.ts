import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPredictorsDir } from '../../src/ml/registry.js';
import { parseTree, TreeJson, treeNodesValid } from '../../src/ml/tree.js';
import { parseOrThrow } from '../../src/shared/validate.js';

// parseTree checks a tree's nodes without zod (service start-up reads 14 trees): it must answer exactly what
// TreeJson answers, and fail exactly where TreeJson fails, with the same message.

const committed = readdirSync(defaultPredictorsDir).flatMap((bundle) =>
  readdirSync(join(defaultPredictorsDir, bundle))
    .filter((f) => f.endsWith('.json') && f !== 'metadata.json')
    .map((f) => ({
      name: `${bundle}/${f}`,
      json: JSON.parse(readFileSync(join(defaultPredictorsDir, bundle, f), 'utf8')),
    })),
);

const leaf = (distribution: unknown) => ({ distribution });
const split = (left: unknown, right: unknown, over: Record<string, unknown> = {}) => ({
  splitColumn: 3,
  splitValue: 0.5,
  left,
  right,
  ...over,
});
const tree = (root: unknown, name = 'DTRegression') => ({
  name,
  options: { kind: 'regression', gainFunction: 'regression', splitFunction: 'mean', minNumSamples: 5, maxDepth: 12 },
  root,
});

/** The message TreeJson's parse throws, or null when it accepts. */
function schemaError(value: unknown): string | null {
  try {
    parseOrThrow(TreeJson, value, 'tree t');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('parseTree', () => {
  it('answers what TreeJson answers for every committed tree', () => {
    expect(committed.length).toBeGreaterThanOrEqual(14);
    for (const { name, json } of committed) {
      expect(treeNodesValid(json.root), name).toBe(true);
      expect(parseTree(json, name), name).toEqual(TreeJson.parse(json));
    }
  });

  it('accepts a classifier leaf and drops unknown header keys like TreeJson', () => {
    const t = { ...tree(split(leaf([[0.2, 0.8]]), leaf(3)), 'DTClassifier'), extra: 1 };
    expect(schemaError(t)).toBeNull();
    expect(parseTree(t, 'tree t')).toEqual(TreeJson.parse(t));
    expect(parseTree(t, 'tree t')).not.toHaveProperty('extra');
  });

  it('fails with TreeJson message wherever TreeJson fails', () => {
    const bad = [
      tree(leaf(Number.NaN)),
      tree(leaf('1')),
      tree(leaf([[0.2, 1.5]])),
      tree(leaf([[0.2, 0.8, 0]])),
      tree(
        leaf([
          [0.2, 0.8],
          [0.1, 0.9],
        ]),
      ),
      tree(leaf([0.2, 0.8])),
      tree({ ...leaf(1), code: 'x' }),
      tree(split(leaf(1), leaf(2), { splitColumn: -1 })),
      tree(split(leaf(1), leaf(2), { splitColumn: 1.5 })),
      tree(split(leaf(1), leaf(2), { splitValue: Number.POSITIVE_INFINITY })),
      tree(split(leaf(1), leaf(2), { distribution: 1 })),
      tree(split(leaf(1), split(leaf(1), null))),
      tree({ splitColumn: 0, splitValue: 1, left: leaf(1) }),
      tree([leaf(1)]),
      tree(undefined),
      { ...tree(leaf(1)), name: 'Forest' },
      { ...tree(leaf(1)), options: {} },
      null,
      [],
    ];
    for (const value of bad) {
      const expected = schemaError(value);
      expect(expected, JSON.stringify(value)).not.toBeNull();
      expect(() => parseTree(value, 'tree t'), JSON.stringify(value)).toThrow(expected!);
    }
  });
});
