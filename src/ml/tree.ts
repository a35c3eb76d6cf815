import { z } from 'zod';
import { parseOrThrow } from '../shared/validate.js';

/** A node of ml-cart's JSON: internal nodes split on `x[splitColumn] < splitValue`, leaves hold `distribution`. */
export interface TreeNodeJson {
  splitColumn?: number;
  splitValue?: number;
  left?: TreeNodeJson;
  right?: TreeNodeJson;
  /** regression: the value; classifier: one row of class probabilities */
  distribution?: number | number[][];
}

const finite = z.number().finite();

export const TreeNodeSchema: z.ZodType<TreeNodeJson> = z.lazy(() =>
  z.union([
    z.object({ distribution: z.union([finite, z.array(z.array(finite.min(0).max(1)).length(2)).length(1)]) }).strict(),
    z
      .object({
        splitColumn: z.number().int().nonnegative(),
        splitValue: finite,
        left: TreeNodeSchema,
        right: TreeNodeSchema,
      })
      .strict(),
  ]),
);

/** A student tree as stored on disk: ml-cart's DecisionTreeRegression / DecisionTreeClassifier JSON. */
export const TreeJson = z.object({
  name: z.enum(['DTRegression', 'DTClassifier']),
  options: z.object({
    kind: z.enum(['regression', 'classifier']),
    gainFunction: z.enum(['regression', 'gini']),
    splitFunction: z.literal('mean'),
    minNumSamples: z.number().int().positive(),
    maxDepth: z.number().int().positive(),
  }),
  root: TreeNodeSchema,
});
export type TreeJson = z.infer<typeof TreeJson>;

const TreeHead = TreeJson.omit({ root: true });

const finiteIn01 = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;

/**
 * Whether every node from `root` down is one TreeNodeSchema accepts, checked without zod: a student has
 * thousands of nodes, which zod's recursive union checks at about 10 ms a tree, and the service reads 14 trees
 * before it is ready. It accepts no node the schema refuses (a node with another key, a value of another type
 * or out of range is a no), so a yes may skip the schema; a no goes to the schema, whose issues name the fault.
 */
export function treeNodesValid(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (typeof n !== 'object' || n === null || Array.isArray(n)) return false;
    const node = n as Record<string, unknown>;
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === 'distribution') {
      const d = node.distribution;
      if (typeof d === 'number' ? Number.isFinite(d) : Array.isArray(d) && d.length === 1 && pair(d[0])) continue;
      return false;
    }
    const split =
      keys.length === 4 &&
      Number.isSafeInteger(node.splitColumn) &&
      (node.splitColumn as number) >= 0 &&
      typeof node.splitValue === 'number' &&
      Number.isFinite(node.splitValue) &&
      Object.hasOwn(node, 'left') &&
      Object.hasOwn(node, 'right');
    if (!split) return false;
    stack.push(node.right, node.left);
  }
  return true;
}

const pair = (row: unknown): boolean =>
  Array.isArray(row) && row.length === 2 && finiteIn01(row[0]) && finiteIn01(row[1]);

/** A student tree read from a file: TreeJson's answer and errors (`what` names the file), its nodes checked fast. */
export function parseTree(value: unknown, what: string): TreeJson {
  if (typeof value === 'object' && value !== null && treeNodesValid((value as { root?: unknown }).root)) {
    const { root, ...head } = value as { root: TreeNodeJson };
    return { ...parseOrThrow(TreeHead, head, what), root };
  }
  return parseOrThrow(TreeJson, value, what);
}

/** Leaf value of a node: the regression value, or P(class 1) of a two-class classifier. */
export function leafValue(node: TreeNodeJson): number {
  const d = node.distribution;
  if (typeof d === 'number') return d;
  return d?.[0]?.[1] ?? 0;
}

export function treeStats(root: TreeNodeJson): { nodes: number; leaves: number; depth: number; maxColumn: number } {
  let nodes = 0;
  let leaves = 0;
  let depth = 0;
  let maxColumn = -1;
  const visit = (n: TreeNodeJson, d: number): void => {
    nodes++;
    depth = Math.max(depth, d);
    if (n.left && n.right) {
      maxColumn = Math.max(maxColumn, n.splitColumn!);
      visit(n.left, d + 1);
      visit(n.right, d + 1);
    } else {
      leaves++;
    }
  };
  visit(root, 0);
  return { nodes, leaves, depth, maxColumn };
}

/** Flat arrays of a tree, walked in a loop: the reference the compiled function is tested against. */
export interface FlatTree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

export function flatten(root: TreeNodeJson): FlatTree {
  const { nodes } = treeStats(root);
  const t: FlatTree = {
    feature: new Int32Array(nodes).fill(-1),
    threshold: new Float64Array(nodes),
    left: new Int32Array(nodes).fill(-1),
    right: new Int32Array(nodes).fill(-1),
    value: new Float64Array(nodes),
  };
  let next = 0;
  const place = (n: TreeNodeJson): number => {
    const i = next++;
    if (n.left && n.right) {
      t.feature[i] = n.splitColumn!;
      t.threshold[i] = n.splitValue!;
      t.left[i] = place(n.left);
      t.right[i] = place(n.right);
    } else {
      t.value[i] = leafValue(n);
    }
    return i;
  };
  place(root);
  return t;
}

export function walk(t: FlatTree, x: ArrayLike<number>): number {
  let i = 0;
  while (t.feature[i]! >= 0) i = x[t.feature[i]!]! < t.threshold[i]! ? t.left[i]! : t.right[i]!;
  return t.value[i]!;
}

/** Levels per generated function: small functions stay under V8's size limit for optimisation (8 measured fastest). */
const levelsPerFunction = 8;

/**
 * Compiles a tree into nested conditionals, one small function per 8-level subtree (a single function
 * for a 2,000-node tree is too large for V8 to optimise and runs slower than a plain walk). The source
 * is built only from the numbers of a zod-validated tree (integer columns within range, finite
 * thresholds and values; String(number) round-trips doubles exactly), so nothing but numbers ever
 * reaches `new Function`.
 */
export function compile(tree: TreeJson, featureCount: number): (x: ArrayLike<number>) => number {
  const valid = TreeJson.parse(tree);
  const functions: string[] = [];
  const emitFunction = (root: TreeNodeJson): number => {
    const id = functions.length;
    functions.push('');
    const emit = (n: TreeNodeJson, level: number): string => {
      if (!(n.left && n.right)) return numberLiteral(leafValue(n));
      if (level === levelsPerFunction) return `f${emitFunction(n)}(x)`;
      const col = n.splitColumn!;
      if (!Number.isInteger(col) || col < 0 || col >= featureCount)
        throw new RangeError(`split column ${col} outside 0..${featureCount - 1}`);
      return `(x[${col}] < ${numberLiteral(n.splitValue!)} ? ${emit(n.left, level + 1)} : ${emit(n.right, level + 1)})`;
    };
    functions[id] = `function f${id}(x) { return ${emit(root, 0)}; }`;
    return id;
  };
  emitFunction(valid.root);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(`${functions.join('\n')}\nreturn f0;`)() as (x: ArrayLike<number>) => number;
}

function numberLiteral(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError('tree numbers must be finite');
  return Object.is(v, -0) ? '0' : String(v);
}
