/**
 * fast-check arbitraries derived from an OpenAPI 3.1 document, in the JSON Schema dialect zod 4's
 * toJSONSchema emits: VALID values of a schema, MUTATIONS that make them invalid or hostile, and whole
 * HTTP requests for every operation of the document. Pure: no I/O, everything is drawn from
 * fast-check's seeded generator, so one seed always gives the same request sequence.
 */
import fc from 'fast-check';
import { allowedMaxLoraRanks, resolveLength, type LengthSpec } from '../../src/twin/index.js';

// ---------------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------------

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  default?: unknown;
  /** OpenAPI 3.0's nullable form (3.1 uses `type: [..., "null"]` or `anyOf` with `{ type: "null" }`) */
  nullable?: boolean;
}

interface ParameterObject {
  in: string;
  name: string;
  schema?: JsonSchema;
}

interface RequestBodyObject {
  content?: Record<string, { schema?: JsonSchema }>;
}

interface OperationObject {
  parameters?: ParameterObject[];
  /** inline, or a reference to components.requestBodies */
  requestBody?: RequestBodyObject & { $ref?: string };
  responses?: Record<string, unknown>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject | ParameterObject[]>>;
  components?: { schemas?: Record<string, JsonSchema>; requestBodies?: Record<string, RequestBodyObject> };
}

/** One method + path of the document, with what the fuzzer needs to build requests for it. */
export interface Operation {
  /** "POST /v1/simulate" */
  key: string;
  method: string;
  path: string;
  pathParams: { name: string; schema: JsonSchema }[];
  /** the application/json request body, null for operations without one */
  bodySchema: JsonSchema | null;
  /** statuses the document declares for this operation */
  documentedStatuses: number[];
}

const httpMethods = ['get', 'put', 'post', 'delete', 'patch'];

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of httpMethods) {
      const op = item[method] as OperationObject | undefined;
      if (!op) continue;
      const params = [...shared, ...(op.parameters ?? [])];
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: params
          .filter((p) => p.in === 'path')
          .map((p) => ({ name: p.name, schema: p.schema ?? { type: 'string' } })),
        bodySchema: requestBodyOf(doc, op)?.content?.['application/json']?.schema ?? null,
        documentedStatuses: Object.keys(op.responses ?? {})
          .map(Number)
          .filter(Number.isInteger),
      });
    }
  }
  return operations;
}

/** The operation's request body, a `$ref: "#/components/requestBodies/..."` followed. */
function requestBodyOf(doc: OpenApiDocument, op: OperationObject): RequestBodyObject | undefined {
  const ref = op.requestBody?.$ref;
  if (ref === undefined) return op.requestBody;
  const prefix = '#/components/requestBodies/';
  const body = ref.startsWith(prefix) ? doc.components?.requestBodies?.[ref.slice(prefix.length)] : undefined;
  if (!body) throw new Error(`cannot resolve $ref ${ref}`);
  return body;
}

/** Follows `$ref: "#/components/schemas/...` (the only kind zod emits) to the schema itself. */
export function deref(schema: JsonSchema, doc: OpenApiDocument): JsonSchema {
  let s = schema;
  for (let hops = 0; s.$ref !== undefined; hops++) {
    const prefix = '#/components/schemas/';
    if (!s.$ref.startsWith(prefix) || hops > 32) throw new Error(`cannot resolve $ref ${s.$ref}`);
    const name = s.$ref.slice(prefix.length).replaceAll('~1', '/').replaceAll('~0', '~');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`$ref to a missing schema: ${s.$ref}`);
    s = target;
  }
  return s;
}

/** The JSON types a schema allows; [] means any. Covers `type: [x, "null"]` and `nullable: true`. */
function declaredTypes(s: JsonSchema): string[] {
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? [...s.type] : [s.type];
  if (types.length === 0 && (s.properties || s.additionalProperties !== undefined)) types.push('object');
  if (types.length === 0 && s.items) types.push('array');
  if (types.length === 0 && s.enum) types.push(...new Set(s.enum.map(jsonTypeOf)));
  if (types.length === 0 && 'const' in s) types.push(jsonTypeOf(s.const));
  if (s.nullable === true && types.length > 0 && !types.includes('null')) types.push('null');
  return types;
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeAllowed(types: readonly string[], type: string): boolean {
  return types.length === 0 || types.includes(type) || (type === 'integer' && types.includes('number'));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------------
// Valid values
// ---------------------------------------------------------------------------------------------------

export interface GenerationHints {
  /**
   * Partial objects merged (90 % of the time) into generated objects that declare all their keys:
   * e.g. `{ model, gpu }` pairs the service knows, so valid bodies reach the code behind the 404.
   */
  overlays?: Record<string, unknown>[];
  /** items of arrays of objects are kept unique by these keys when they have them (adapter ids) */
  uniqueItemKeys?: string[];
  /** array lengths: usually at most minItems + usualItems, 1 in 20 up to rareItems (outermost arrays only) */
  usualItems?: number;
  rareItems?: number;
}

interface GenContext {
  doc: OpenApiDocument;
  hints: Required<GenerationHints>;
  insideArray: boolean;
}

const defaultHints: Required<GenerationHints> = { overlays: [], uniqueItemKeys: ['id'], usualItems: 8, rareItems: 200 };

/** An arbitrary of values valid for `schema` (JSON Schema rules only; see applyServiceRules). */
export function validArbitrary(
  schema: JsonSchema,
  doc: OpenApiDocument,
  hints: GenerationHints = {},
): fc.Arbitrary<unknown> {
  return valid(schema, { doc, hints: { ...defaultHints, ...hints }, insideArray: false });
}

function valid(schema: JsonSchema, ctx: GenContext): fc.Arbitrary<unknown> {
  const s = deref(schema, ctx.doc);
  if ('const' in s) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const branches = s.anyOf ?? s.oneOf;
  if (branches) return fc.oneof(...branches.map((b) => valid(b, ctx)));
  const types = declaredTypes(s);
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  const arbs = types.map((t) => validOfType(t, s, ctx));
  return arbs.length === 1 ? arbs[0]! : fc.oneof(...arbs);
}

function validOfType(type: string, s: JsonSchema, ctx: GenContext): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return integerArbitrary(s);
    case 'number':
      return numberArbitrary(s);
    case 'string':
      return stringArbitrary(s);
    case 'array':
      return arrayArbitrary(s, ctx);
    case 'object':
      return objectArbitrary(s, ctx);
    default:
      throw new Error(`unsupported JSON Schema type ${type}`);
  }
}

/** Most values small, many on the boundaries, a few anywhere in the range (where bugs and costs hide). */
function biased<T>(small: fc.Arbitrary<T>, edges: T[], anywhere: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof(
    { arbitrary: small, weight: 4 },
    { arbitrary: fc.constantFrom(...edges), weight: 2 },
    { arbitrary: anywhere, weight: 1 },
  );
}

/** Bounds of a number schema; an absent bound is ±1e9, plausible for every field of this API. */
interface Range {
  lo: number;
  hi: number;
  loOpen: boolean;
  hiOpen: boolean;
}
const unboundedSpan = 1e9;

function rangeOf(s: JsonSchema): Range {
  let lo = -Infinity;
  let hi = Infinity;
  let loOpen = false;
  let hiOpen = false;
  if (s.minimum !== undefined) lo = s.minimum;
  if (s.exclusiveMinimum !== undefined && s.exclusiveMinimum >= lo) [lo, loOpen] = [s.exclusiveMinimum, true];
  if (s.maximum !== undefined) hi = s.maximum;
  if (s.exclusiveMaximum !== undefined && s.exclusiveMaximum <= hi) [hi, hiOpen] = [s.exclusiveMaximum, true];
  if (lo === -Infinity) lo = Math.min(-unboundedSpan, hi - unboundedSpan);
  if (hi === Infinity) hi = Math.max(unboundedSpan, lo + unboundedSpan);
  return { lo, hi, loOpen, hiOpen };
}

/** Whether a number satisfies a number/integer schema (also used to state what a mutation breaks). */
export function numberFits(n: number, s: JsonSchema): boolean {
  if (!Number.isFinite(n)) return false;
  if (declaredTypes(s).includes('integer') && !declaredTypes(s).includes('number') && !Number.isInteger(n))
    return false;
  if (s.minimum !== undefined && n < s.minimum) return false;
  if (s.exclusiveMinimum !== undefined && n <= s.exclusiveMinimum) return false;
  if (s.maximum !== undefined && n > s.maximum) return false;
  if (s.exclusiveMaximum !== undefined && n >= s.exclusiveMaximum) return false;
  return true;
}

const justInside = (bound: number, direction: 1 | -1): number =>
  bound + direction * Math.max(Math.abs(bound) * 1e-9, 1e-9);
const unique = <T>(values: T[]): T[] => [...new Set(values)];

function integerBetween(lo: number, hi: number): fc.Arbitrary<number> {
  // fc.integer is 32-bit; seeds and work budgets go up to 2^32 - 1 and beyond
  if (lo >= -(2 ** 31) && hi <= 2 ** 31 - 1) return fc.integer({ min: lo, max: hi });
  return fc.bigInt({ min: BigInt(lo), max: BigInt(hi) }).map(Number);
}

/** Where "small" starts: the lower bound, or the upper one minus 10, or 0 when unbounded. */
function smallStart(s: JsonSchema, r: Range): number {
  if (s.minimum !== undefined || s.exclusiveMinimum !== undefined) return r.lo;
  if (s.maximum !== undefined || s.exclusiveMaximum !== undefined) return r.hi - 10;
  return 0;
}

function integerArbitrary(s: JsonSchema): fc.Arbitrary<number> {
  const r = rangeOf(s);
  const lo = r.loOpen ? Math.floor(r.lo) + 1 : Math.ceil(r.lo);
  const hi = r.hiOpen ? Math.ceil(r.hi) - 1 : Math.floor(r.hi);
  const start = Math.max(lo, Math.ceil(smallStart(s, r)));
  const edges = unique([lo, lo + 1, hi - 1, hi, 0, 1]).filter((v) => v >= lo && v <= hi);
  return biased(integerBetween(start, Math.min(hi, start + 10)), edges, integerBetween(lo, hi));
}

function numberArbitrary(s: JsonSchema): fc.Arbitrary<number> {
  const r = rangeOf(s);
  const fits = (v: number) => numberFits(v, { ...s, type: 'number' }) && v >= r.lo && v <= r.hi;
  // "small" on a grid of 1/100 steps: fc.double alone mostly draws tiny magnitudes like 1e-200
  const start = smallStart(s, r);
  const small = fc
    .integer({ min: 0, max: 1000 })
    .map((k) => start + k / 100)
    .filter(fits);
  const edges = unique([
    r.loOpen ? justInside(r.lo, 1) : r.lo,
    justInside(r.lo, 1),
    r.hiOpen ? justInside(r.hi, -1) : r.hi,
    justInside(r.hi, -1),
    0,
    0.5,
    1,
  ]);
  const anywhere = fc.double({
    min: r.lo,
    max: r.hi,
    minExcluded: r.loOpen,
    maxExcluded: r.hiOpen,
    noNaN: true,
    noDefaultInfinity: true,
  });
  return biased(small, edges.filter(fits), anywhere);
}

/** Whether a string satisfies a string schema (lengths in UTF-16 units, as zod counts them). */
export function stringFits(v: string, s: JsonSchema): boolean {
  if (s.enum && !s.enum.includes(v)) return false;
  if ('const' in s && s.const !== v) return false;
  if (s.minLength !== undefined && v.length < s.minLength) return false;
  if (s.maxLength !== undefined && v.length > s.maxLength) return false;
  return s.pattern === undefined || new RegExp(s.pattern).test(v);
}

function stringArbitrary(s: JsonSchema): fc.Arbitrary<string> {
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((v) => stringFits(v, s));
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? Infinity;
  const usualMax = Math.min(max, min + 16);
  const sized = (lo: number, hi: number, unit: 'grapheme-ascii' | 'binary') =>
    fc.string({ minLength: lo, maxLength: hi, unit }).filter((v) => stringFits(v, s));
  const edgeLengths = unique([min, ...(max <= 4096 ? [max] : [])]);
  return fc.oneof(
    { arbitrary: sized(min, usualMax, 'grapheme-ascii'), weight: 6 },
    // any code point, control characters included: valid strings are not only ASCII
    { arbitrary: sized(min, usualMax, 'binary'), weight: 2 },
    { arbitrary: fc.constantFrom(...edgeLengths).chain((n) => sized(n, n, 'grapheme-ascii')), weight: 1 },
  );
}

function uniqueKeyOf(items: JsonSchema | undefined, ctx: GenContext): string | undefined {
  if (!items) return undefined;
  const s = deref(items, ctx.doc);
  return ctx.hints.uniqueItemKeys.find((k) => s.required?.includes(k));
}

function arrayArbitrary(s: JsonSchema, ctx: GenContext): fc.Arbitrary<unknown[]> {
  const min = s.minItems ?? 0;
  const max = s.maxItems ?? Number.MAX_SAFE_INTEGER;
  const item = valid(s.items ?? {}, { ...ctx, insideArray: true });
  const usual = Math.min(max, min + ctx.hints.usualItems);
  // long arrays only at the outermost level: 200 adapters x 200 token values would be megabytes
  const rare = ctx.insideArray ? usual : Math.min(max, Math.max(usual, ctx.hints.rareItems));
  const key = uniqueKeyOf(s.items, ctx);
  const upTo = (maxLength: number): fc.Arbitrary<unknown[]> =>
    key
      ? fc.uniqueArray(item, {
          minLength: min,
          maxLength,
          size: 'max',
          selector: (v) => (v as Record<string, unknown>)[key],
        })
      : fc.array(item, { minLength: min, maxLength, size: 'max' });
  return rare > usual
    ? fc.oneof({ arbitrary: upTo(usual), weight: 19 }, { arbitrary: upTo(rare), weight: 1 })
    : upTo(usual);
}

function withDefault(arb: fc.Arbitrary<unknown>, schema: JsonSchema, ctx: GenContext): fc.Arbitrary<unknown> {
  const d = deref(schema, ctx.doc).default;
  return d === undefined ? arb : fc.oneof({ arbitrary: arb, weight: 3 }, { arbitrary: fc.constant(d), weight: 1 });
}

function objectArbitrary(s: JsonSchema, ctx: GenContext): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  if (Object.keys(props).length === 0 && s.additionalProperties !== false) {
    const values = typeof s.additionalProperties === 'object' ? s.additionalProperties : {};
    return fc.dictionary(fc.string({ maxLength: 8 }), valid(values, ctx), { maxKeys: 4 });
  }
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, schema] of Object.entries(props)) model[name] = withDefault(valid(schema, ctx), schema, ctx);
  const requiredKeys = (s.required ?? []).filter((k) => k in props);
  const record = fc.record(model, { requiredKeys, noNullPrototype: true }) as fc.Arbitrary<Record<string, unknown>>;
  const overlays = ctx.hints.overlays.filter((o) => Object.keys(o).every((k) => k in props));
  if (overlays.length === 0) return record;
  return fc
    .tuple(record, fc.option(fc.constantFrom(...overlays), { freq: 10 }))
    .map(([v, overlay]) => (overlay ? { ...v, ...overlay } : v));
}

// ---------------------------------------------------------------------------------------------------
// What the document cannot say
// ---------------------------------------------------------------------------------------------------

/** What the service says about a profile in GET /v1/profiles (the rules below need its limits). */
export interface ProfileFacts {
  model: string;
  gpu: string;
  maxModelLen?: number;
  engineDefaults?: { maxNumBatchedTokens: number; maxNumSeqs: number };
}

/**
 * Rules the service enforces that JSON Schema cannot express (zod refinements, vLLM's start-up checks),
 * applied to a generated body so that "valid" means valid to the service. Without them nearly every
 * valid Scenario would be a 400 for the same few reasons and never reach the Twin. Only fields that are
 * there are touched, so this is harmless for bodies of other shapes; the profile rules apply when the
 * body names a profile of `profiles`. `scenario`: the body is a Scenario, whose traffic and LoRA rules
 * (adapters or baseModel, maxLoras unless enableLora is false) add fields a Workload would refuse.
 */
export function applyServiceRules(body: unknown, profiles: ProfileFacts[] = [], scenario = false): unknown {
  if (!isRecord(body)) return body;
  const doc = structuredClone(body);
  const profile = profiles.find((p) => p.model === doc.model && p.gpu === doc.gpu);
  if (scenario && isRecord(doc.engine)) repairLora(doc, doc.engine);
  const adapters = Array.isArray(doc.adapters) ? doc.adapters.filter(isRecord) : [];
  const base = isRecord(doc.baseModel) ? [doc.baseModel] : [];
  const lengthSpecs = [doc, ...adapters, ...base].flatMap((owner) =>
    ['inputTokens', 'outputTokens']
      .filter((k) => isRecord(owner[k]))
      .map((k) => [owner[k] as Record<string, unknown>, k] as const),
  );
  for (const [spec, key] of lengthSpecs) {
    repairLengthSpec(spec);
    if (profile?.maxModelLen) capLengthMean(spec, key === 'inputTokens' ? 'input' : 'output', profile.maxModelLen / 2);
  }
  if (isRecord(doc.arrivals))
    repairArrivals(
      doc.arrivals,
      adapters.map((a) => String(a.id)),
    );
  if (isRecord(doc.engine)) repairEngine(doc.engine, adapters, profile);
  if (typeof doc.gpuCount === 'number' && typeof doc.maxGpus === 'number' && doc.gpuCount > doc.maxGpus)
    doc.gpuCount = doc.maxGpus;
  return doc;
}

/**
 * vLLM refuses requests longer than max_model_len, so the service refuses an adapter whose mean prompt
 * plus mean output exceeds it: every length spec is kept at half of it, shrunk in proportion.
 */
function capLengthMean(spec: Record<string, unknown>, kind: 'input' | 'output', cap: number): void {
  const meanOf = () => resolveLength(spec as LengthSpec, kind).mean;
  const mean = meanOf();
  if (mean <= cap) return;
  const f = (0.9 * cap) / mean;
  if (typeof spec.mean === 'number') spec.mean = Math.max(1, spec.mean * f);
  if (typeof spec.std === 'number') spec.std *= f;
  if (Array.isArray(spec.values)) spec.values = spec.values.map((v: number) => Math.max(1, Math.floor(v * f)));
  if (meanOf() > cap) {
    for (const k of Object.keys(spec)) delete spec[k];
    Object.assign(spec, { distribution: 'fixed', mean: Math.floor(cap) });
  }
}

/** LengthSpec: empirical needs values, normal/lognormal/fixed a mean, normal/lognormal a std. */
function repairLengthSpec(spec: Record<string, unknown>): void {
  const dist =
    (spec.distribution as string | undefined) ??
    (spec.values ? 'empirical' : spec.std !== undefined ? 'normal' : 'sharegpt');
  if (dist === 'empirical' && !spec.values)
    spec.values = [Math.min(1_000_000, Math.max(1, Math.round(Number(spec.mean ?? 100))))];
  if (dist !== 'empirical' && !dist.startsWith('sharegpt') && spec.mean === undefined) spec.mean = 100;
  if ((dist === 'normal' || dist === 'lognormal') && spec.std === undefined) spec.std = 10;
}

/**
 * Scenario traffic: adapters or baseModel (a server without LoRA: baseModel, no adapters, no LoRA flags); maxLoras
 * when LoRA is on.
 */
function repairLora(doc: Record<string, unknown>, engine: Record<string, unknown>): void {
  if (engine.enableLora === false) {
    for (const flag of ['maxLoras', 'maxCpuLoras', 'maxLoraRank']) delete engine[flag];
    delete doc.adapters;
  } else if (engine.maxLoras === undefined) {
    engine.maxLoras = typeof engine.maxCpuLoras === 'number' ? Math.min(4, engine.maxCpuLoras) : 4;
  }
  // an absent list means no adapters; an empty one is refused
  if (Array.isArray(doc.adapters) && doc.adapters.length === 0) delete doc.adapters;
  if (!Array.isArray(doc.adapters) && !isRecord(doc.baseModel)) doc.baseModel = { rate: 1 };
}

/**
 * ArrivalSpec: gamma needs cv; events exactly with the trace process, naming adapters of the body (or, without
 * adapters, none: requests to the base model).
 */
function repairArrivals(arrivals: Record<string, unknown>, adapterIds: string[]): void {
  const process = arrivals.process ?? 'poisson';
  if (process === 'gamma' && arrivals.cv === undefined) arrivals.cv = 1;
  if (process !== 'trace') {
    delete arrivals.events;
    return;
  }
  const events = Array.isArray(arrivals.events) ? arrivals.events.filter(isRecord) : [];
  events.forEach((e, i) => {
    if (adapterIds.length > 0) e.adapter = adapterIds[i % adapterIds.length];
    else delete e.adapter;
  });
  arrivals.events = events;
}

/**
 * vLLM refuses max_num_seqs > max_num_batched_tokens (either may be the profile's default), a --max-lora-rank off its
 * list, ranks above it, max_cpu_loras < max_loras.
 */
function repairEngine(
  engine: Record<string, unknown>,
  adapters: Record<string, unknown>[],
  profile: ProfileFacts | undefined,
): void {
  const seqs = engine.maxNumSeqs ?? profile?.engineDefaults?.maxNumSeqs;
  const batched = engine.maxNumBatchedTokens ?? profile?.engineDefaults?.maxNumBatchedTokens;
  if (typeof seqs === 'number' && typeof batched === 'number' && seqs > batched) engine.maxNumSeqs = batched;
  if (typeof engine.maxLoraRank === 'number') {
    const rank = engine.maxLoraRank;
    const allowed = allowedMaxLoraRanks.find((r) => r >= rank) ?? allowedMaxLoraRanks[allowedMaxLoraRanks.length - 1]!;
    engine.maxLoraRank = allowed;
    for (const a of adapters) if (typeof a.rank === 'number' && a.rank > allowed) a.rank = allowed;
  }
  if (
    typeof engine.maxCpuLoras === 'number' &&
    typeof engine.maxLoras === 'number' &&
    engine.maxCpuLoras < engine.maxLoras
  )
    engine.maxCpuLoras = engine.maxLoras;
}

// ---------------------------------------------------------------------------------------------------
// JSON text with tokens JSON.stringify cannot write
// ---------------------------------------------------------------------------------------------------

/** A literal piece of JSON text inside a value: `-0`, `1e400`, nesting too deep for JSON.stringify. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON.stringify, with RawJson pieces written verbatim. */
export function toJsonText(value: unknown): string {
  const raw: string[] = [];
  const marker = (i: number) => `\u0001raw${i}\u0001`;
  const text =
    JSON.stringify(value, (_key, v: unknown) => (v instanceof RawJson ? marker(raw.push(v.text) - 1) : v)) ?? 'null';
  return raw.reduce((t, piece, i) => t.replace(JSON.stringify(marker(i)), piece), text);
}

// ---------------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------------

/** A place in a value, with the schema that governs it. */
interface SchemaNode {
  path: (string | number)[];
  value: unknown;
  /** the schema of the branch the value is in (deref'd) */
  schema: JsonSchema;
  /** JSON types allowed here, over all anyOf/oneOf branches; [] = any */
  types: string[];
  /** under a union of several non-null branches: a change may still match another branch */
  ambiguous: boolean;
}

function nodesOf(
  value: unknown,
  schema: JsonSchema,
  doc: OpenApiDocument,
  path: (string | number)[] = [],
  ambiguous = false,
): SchemaNode[] {
  const s = deref(schema, doc);
  const branches = (s.anyOf ?? s.oneOf ?? []).map((b) => deref(b, doc));
  const types = branches.length ? unique(branches.flatMap(declaredTypes)) : declaredTypes(s);
  const nonNull = branches.filter((b) => !(declaredTypes(b).length === 1 && declaredTypes(b)[0] === 'null'));
  const branch = branches.length ? (nonNull.find((b) => typeAllowed(declaredTypes(b), jsonTypeOf(value))) ?? s) : s;
  const isAmbiguous = ambiguous || nonNull.length > 1;
  const node: SchemaNode = { path, value, schema: branch, types, ambiguous: isAmbiguous };
  const children: SchemaNode[] = [];
  if (isRecord(value) && branch.properties) {
    for (const [k, v] of Object.entries(value)) {
      const ps = branch.properties[k];
      if (ps) children.push(...nodesOf(v, ps, doc, [...path, k], isAmbiguous));
    }
  }
  // a few items per array are enough, and keep long arrays from drowning out every other node
  if (Array.isArray(value) && branch.items)
    value.slice(0, 3).forEach((v, i) => {
      children.push(...nodesOf(v, branch.items!, doc, [...path, i], isAmbiguous));
    });
  return [node, ...children];
}

type Replacement = { set: unknown } | { deleteKey: string } | { addKey: string; value: unknown };

interface Mutation {
  replacement: Replacement;
  /** the document's schema rejects the result (stated conservatively: false when unsure) */
  rejects: boolean;
}

interface Mutator {
  appliesTo(node: SchemaNode): boolean;
  mutate(node: SchemaNode): fc.Arbitrary<Mutation>;
}

const set = (value: unknown, rejects: boolean): Mutation => ({ replacement: { set: value }, rejects });
const isNumberNode = (n: SchemaNode) => typeof n.value === 'number';
const isStringNode = (n: SchemaNode) => typeof n.value === 'string';

/** Values just outside a number schema's bounds (integers: the next integer out). */
function numbersOutside(s: JsonSchema): number[] {
  const integer = declaredTypes(s).includes('integer');
  const out: number[] = [];
  const below = (b: number) => (integer ? b - 1 : justInside(b, -1));
  const above = (b: number) => (integer ? b + 1 : justInside(b, 1));
  if (s.minimum !== undefined) out.push(below(s.minimum));
  if (s.exclusiveMinimum !== undefined) out.push(s.exclusiveMinimum, below(s.exclusiveMinimum));
  if (s.maximum !== undefined) out.push(above(s.maximum));
  if (s.exclusiveMaximum !== undefined) out.push(s.exclusiveMaximum, above(s.exclusiveMaximum));
  return out.filter((n) => !numberFits(n, s));
}

/** Strings a string schema refuses: a length just outside, off the enum, not matching the pattern. */
function stringsOutside(s: JsonSchema): string[] {
  const out: string[] = [];
  if ((s.minLength ?? 0) > 0) out.push('a'.repeat(s.minLength! - 1));
  if (s.maxLength !== undefined && s.maxLength <= 100_000) out.push('a'.repeat(s.maxLength + 1));
  if (s.enum) out.push('not-one-of-the-enum', String(s.enum[0]).toUpperCase(), ` ${String(s.enum[0])}`);
  if (s.pattern) out.push('', 'UPPER', '-starts-with-dash', 'a'.repeat(64), 'has space', 'ünïcödé', 'a/b');
  return out.filter((v) => !stringFits(v, s));
}

/** Out of an array's item bounds: one fewer than minItems, one more than a small maxItems. */
function arraysOutside(value: unknown[], s: JsonSchema): unknown[][] {
  const out: unknown[][] = [];
  if ((s.minItems ?? 0) > 0) out.push(value.slice(0, s.minItems! - 1));
  if (s.maxItems !== undefined && s.maxItems <= 1000 && value.length > 0)
    out.push(Array.from({ length: s.maxItems + 1 }, (_, i) => value[i % value.length]));
  return out;
}

function otherTypeValues(n: SchemaNode): unknown[] {
  if (n.types.length === 0) return [];
  return [42, 1.5, 'fuzz', '42', true, {}, [], [n.value]].filter((c) => !typeAllowed(n.types, jsonTypeOf(c)));
}

function valuesOutside(n: SchemaNode): unknown[] {
  if (isNumberNode(n)) return numbersOutside(n.schema);
  if (isStringNode(n)) return stringsOutside(n.schema);
  return Array.isArray(n.value) ? arraysOutside(n.value, n.schema) : [];
}

const hostileNumbers = [
  1e308,
  -1e308,
  1e-300,
  -1e-300,
  new RawJson('-0'),
  new RawJson('1e400'),
  new RawJson('-1e400'),
  new RawJson('9007199254740993'),
  2 ** 53,
  -1,
  0,
];
const numericValueOf = (v: unknown): number => (v instanceof RawJson ? Number(v.text) : (v as number));

const hostileStrings = [
  '\u0000',
  'nul\u0000in the middle',
  '\u0007\u0008\u001b[31mred\u001b[0m',
  '\ud800',
  '\udfff\ud800',
  '\u202eevil',
  '\ufeffbom',
  '👩‍👩‍👧‍👦',
  'e\u0301\u0301\u0301',
  '\r\n\r\nHTTP/1.1 200 OK',
  '<script>alert(1)</script>',
  "'; DROP TABLE pools; --",
  '../../../../etc/passwd',
  '%s%s%s%n',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile string, not a template
  '${process.exit()}',
  '__proto__',
  'constructor',
  ' ',
  '',
];

const extraKeys = ['unexpected', '__proto__', 'constructor', 'prototype', '', 'x'.repeat(1000)];

function deeplyNested(depth: number, shape: 'array' | 'object'): RawJson {
  return shape === 'array'
    ? new RawJson('['.repeat(depth) + ']'.repeat(depth))
    : new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

export const mutators = {
  /** a required property removed */
  dropRequired: {
    appliesTo: (n) => isRecord(n.value) && (n.schema.required ?? []).some((k) => k in (n.value as object)),
    mutate: (n) =>
      fc
        .constantFrom(...(n.schema.required ?? []).filter((k) => k in (n.value as object)))
        .map((k) => ({ replacement: { deleteKey: k }, rejects: !n.ambiguous })),
  },
  /** a value of another JSON type */
  wrongType: {
    appliesTo: (n) => otherTypeValues(n).length > 0,
    mutate: (n) => fc.constantFrom(...otherTypeValues(n)).map((c) => set(c, true)),
  },
  /** a number, string length, item count, enum value or pattern just outside what is allowed */
  outOfRange: {
    appliesTo: (n) => valuesOutside(n).length > 0,
    mutate: (n) => fc.constantFrom(...valuesOutside(n)).map((c) => set(c, !n.ambiguous)),
  },
  /** 1e308, 1e-300, -0, 1e400 (Infinity once parsed), 2^53 + 1 */
  hugeNumber: {
    appliesTo: isNumberNode,
    mutate: (n) =>
      fc
        .constantFrom(...hostileNumbers)
        .map((c) => set(c, !n.ambiguous && !numberFits(numericValueOf(c) + 0, n.schema))),
  },
  /** a fraction where an integer is required */
  nonInteger: {
    appliesTo: (n) => isNumberNode(n) && n.types.includes('integer') && !n.types.includes('number'),
    // near 2^53 no fraction is representable: then the sum is an integer and nothing is claimed
    mutate: (n) =>
      fc
        .constantFrom(0.5, 1e-9, 0.999999)
        .map((f) => (n.value as number) + f)
        .map((v) => set(v, !Number.isInteger(v))),
  },
  /** 10 to 100 KB of text */
  longString: {
    appliesTo: isStringNode,
    mutate: (n) =>
      fc
        .tuple(fc.integer({ min: 10_000, max: 100_000 }), fc.constantFrom('a', 'é', '\u0000', '𝄞', '\\"'))
        .map(([length, unit]) => {
          const text = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
          return set(text, !n.ambiguous && !stringFits(text, n.schema));
        }),
  },
  /** control characters, lone surrogates, bidi overrides, injection-looking text */
  unicodeString: {
    appliesTo: isStringNode,
    mutate: (n) => fc.constantFrom(...hostileStrings).map((c) => set(c, !n.ambiguous && !stringFits(c, n.schema))),
  },
  /** a property the schema does not declare (also `__proto__` and `constructor`) */
  extraProperty: {
    appliesTo: (n) => isRecord(n.value) && n.schema.additionalProperties === false,
    // extraKeys are never all declared: "" and a 1000-character key are no property names of this API
    mutate: (n) =>
      fc
        .constantFrom(...extraKeys.filter((k) => !(k in (n.schema.properties ?? {}))))
        .map((k) => ({ replacement: { addKey: k, value: { polluted: true } }, rejects: !n.ambiguous })),
  },
  /** arrays or objects nested thousands deep */
  deepNesting: {
    appliesTo: (n) => n.types.length > 0 && (!typeAllowed(n.types, 'array') || !typeAllowed(n.types, 'object')),
    mutate: (n) =>
      fc
        .constantFrom(1_000, 5_000, 20_000)
        .map((depth) => set(deeplyNested(depth, typeAllowed(n.types, 'array') ? 'object' : 'array'), true)),
  },
  /** null where null is not allowed */
  nullValue: {
    appliesTo: (n) => n.types.length > 0 && !typeAllowed(n.types, 'null'),
    mutate: () => fc.constant(set(null, true)),
  },
  /** {} where an object with required properties, or no object, is expected */
  emptyObject: {
    appliesTo: (n) =>
      n.types.length > 0 && (!typeAllowed(n.types, 'object') || (!n.ambiguous && (n.schema.required ?? []).length > 0)),
    mutate: () => fc.constant(set({}, true)),
  },
  /** the whole body an array, a string, a number, a boolean or null */
  topLevel: {
    appliesTo: (n) => n.path.length === 0,
    mutate: (n) =>
      fc
        .constantFrom([], [n.value], 'a string', 42, true, null)
        .map((c) => set(c, !typeAllowed(n.types, jsonTypeOf(c)))),
  },
} satisfies Record<string, Mutator>;

export type MutatorName = keyof typeof mutators;
export const mutatorNames = Object.keys(mutators) as MutatorName[];

export interface MutatedValue {
  value: unknown;
  mutator: MutatorName;
  /** dotted path of the mutated place, "(root)" for the body itself */
  at: string;
  rejects: boolean;
}

function applyReplacement(root: unknown, path: (string | number)[], r: Replacement): unknown {
  if (path.length === 0 && 'set' in r) return r.set;
  const copy = structuredClone(root);
  // `set` replaces the node inside its parent; deleteKey and addKey change the node (an object) itself
  const target = 'set' in r ? path.slice(0, -1) : path;
  let parent = copy as Record<string | number, unknown>;
  for (const key of target) parent = parent[key] as Record<string | number, unknown>;
  if ('set' in r) parent[path[path.length - 1]!] = r.set;
  else if ('deleteKey' in r) delete parent[r.deleteKey];
  // defineProperty: assigning "__proto__" would change the prototype instead of adding a key
  else
    Object.defineProperty(parent, r.addKey, { value: r.value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** One mutation of a value drawn from `validValues`: first the mutator, then one place it applies to. */
export function mutatedArbitrary(
  schema: JsonSchema,
  doc: OpenApiDocument,
  validValues: fc.Arbitrary<unknown>,
  only?: MutatorName[],
): fc.Arbitrary<MutatedValue> {
  const allowed = only ?? mutatorNames;
  return validValues.chain((value) => {
    const nodes = nodesOf(value, schema, doc);
    const choices = allowed
      .map((name) => ({ name, places: nodes.filter((n) => (mutators[name] as Mutator).appliesTo(n)) }))
      .filter((c) => c.places.length > 0);
    if (choices.length === 0) return fc.constant({ value, mutator: allowed[0]!, at: '(root)', rejects: false });
    return fc
      .constantFrom(...choices)
      .chain(({ name, places }) =>
        fc
          .constantFrom(...places)
          .chain((node) => (mutators[name] as Mutator).mutate(node).map((m) => ({ name, node, m }))),
      )
      .map(({ name, node, m }) => ({
        value: applyReplacement(value, node.path, m.replacement),
        mutator: name,
        at: node.path.join('.') || '(root)',
        rejects: m.rejects,
      }));
  });
}

// ---------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------

/**
 * A path parameter: a literal (already URL-encoded, or deliberately broken), or "one the server
 * handed out" (the `pick`-th value of that name seen in a 2xx body, e.g. a pool just PUT or a refresh
 * job id), resolved when the request is sent; `literal` stands in while nothing was learned yet.
 */
export interface PathParam {
  name: string;
  literal: string;
  learnedPick: number | null;
}

export interface FuzzRequest {
  operation: string;
  method: string;
  /** the path template, e.g. /v1/pools/{pool} */
  template: string;
  params: PathParam[];
  /** "" or "?..." */
  query: string;
  headers: Record<string, string>;
  body: string | null;
  /** send a content-length this many bytes off the real length (over a raw socket) */
  contentLengthLie: number;
  /** "valid", "body:dropRequired@adapters.0.rank", "raw:truncated", "path:%zz", ... */
  label: string;
  /** the document's schema rejects this request's body */
  claimedInvalid: boolean;
}

export interface RequestOptions {
  hints?: GenerationHints;
  /** the service's profiles: their { model, gpu } go into valid bodies, their limits into applyServiceRules */
  profiles?: ProfileFacts[];
  /** relative weight per operation key (default 3); expensive operations get less */
  weights?: Record<string, number>;
  /** largest body generated (bigger candidates are drawn again) */
  maxBodyBytes?: number;
}

const jsonHeaders = { 'content-type': 'application/json' };

const invalidJsonTexts = [
  '{',
  '}',
  '{"model":}',
  "{'model':'x'}",
  '{"a":1,}',
  'NaN',
  '{"a":1}{"b":2}',
  '[1,2',
  '{"a":"\\x"}',
  '\u0000',
  'nul',
  '\ufeff{}',
  '{"a":1e}',
  '{"a":01}',
  '"unterminated',
];
const wrongContentTypes = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'application/xml',
  'application/json; charset=utf-16',
  'application/JSON',
  'application/json, text/plain',
  '',
];
const contentEncodings = ['gzip', 'deflate', 'br', 'identity, gzip', 'x-unknown'];
const badPathValues = [
  '%zz',
  '%',
  '%E0%A4%A',
  '%c3%28',
  '..',
  '%2e%2e',
  '%2F',
  'a%2Fb',
  '%00',
  'UPPER',
  '-x-',
  'é',
  '<script>',
  'a;b',
  '~',
  "'",
  '*',
  'a/b',
  '',
];
const badQueries = [
  '?a=1',
  '?pool=x&pool=y',
  '?__proto__[polluted]=1',
  '?constructor[prototype][x]=1',
  `?${'q=1&'.repeat(2000)}`,
  '?%zz=1',
  '?a=%zz',
  '?&&&=',
  '?x[]=1&x[]=2',
  `?long=${'v'.repeat(10_000)}`,
];
const oddRequestIds = [
  '',
  '   ',
  'a'.repeat(1000),
  'a'.repeat(8000),
  'x\ty',
  'é',
  '../..',
  'null',
  '{"json":true}',
  '\u00ff\u00fe',
];
const bogusAuthorizations = [
  'Bearer',
  'Bearer ',
  `Bearer ${'x'.repeat(10_000)}`,
  'Basic Zm9vOmJhcg==',
  'Bearer a b c',
  '\t',
  'null',
  'Bearer é',
];
const hugeHeaderValue = 'h'.repeat(20_000);

function pathParamLiteral(value: unknown): string {
  return encodeURIComponent(String(value));
}

/** Valid parameters: mostly a few fixed values or ones the server handed out, so GET/DELETE meet PUT. */
function validParams(op: Operation, doc: OpenApiDocument): fc.Arbitrary<PathParam[]> {
  return fc.tuple(
    ...op.pathParams.map((p) => {
      const fresh = validArbitrary(p.schema, doc).map(pathParamLiteral);
      // fixed by the parameter's schema alone, not by the run's seed: the same few names in every run
      const few = fc.sample(fresh, { seed: 20240601, numRuns: 3 });
      return fc.record({
        name: fc.constant(p.name),
        literal: fc.oneof({ arbitrary: fc.constantFrom(...few), weight: 3 }, { arbitrary: fresh, weight: 1 }),
        learnedPick: fc.option(fc.nat(), { freq: 2 }),
      });
    }),
  );
}

/** A valid request of one operation, and the ways to break it. */
function operationArbitrary(op: Operation, doc: OpenApiDocument, o: RequestOptions): fc.Arbitrary<FuzzRequest> {
  const profiles = o.profiles ?? [];
  const hints = { overlays: profiles.map(({ model, gpu }) => ({ model, gpu })), ...o.hints };
  const schemaValid = op.bodySchema ? validArbitrary(op.bodySchema, doc, hints) : null;
  // a Scenario body is the one with base-model traffic
  const scenario = op.bodySchema ? 'baseModel' in (deref(op.bodySchema, doc).properties ?? {}) : false;
  const bodyValues = schemaValid?.map((v) => applyServiceRules(v, profiles, scenario)) ?? null;
  // 1 in 4 valid bodies skip the service's rules: valid to the document, refused by the service (a 4xx)
  const validBody =
    schemaValid && bodyValues
      ? fc.oneof(
          { arbitrary: bodyValues.map((b) => ({ b, label: 'valid' })), weight: 3 },
          { arbitrary: schemaValid.map((b) => ({ b, label: 'valid:schema-only' })), weight: 1 },
        )
      : fc.constant({ b: null, label: 'valid' });
  const base = fc
    .record({ params: validParams(op, doc), body: validBody })
    .map(({ params, body: { b: body, label } }) => ({
      operation: op.key,
      method: op.method,
      template: op.path,
      params,
      query: '',
      headers: body === null ? {} : { ...jsonHeaders },
      body: body === null ? null : toJsonText(body),
      contentLengthLie: 0,
      label,
      claimedInvalid: false,
    }));
  const variants: { arbitrary: fc.Arbitrary<FuzzRequest>; weight: number }[] = [];
  if (op.bodySchema && bodyValues) {
    variants.push({ arbitrary: bodyMutations(base, op.bodySchema, doc, bodyValues), weight: 4 });
    variants.push({ arbitrary: rawBodyMutations(base), weight: 2 });
  }
  if (op.pathParams.length > 0) variants.push({ arbitrary: pathMutations(base), weight: 3 });
  variants.push({ arbitrary: queryMutations(base), weight: 1 }, { arbitrary: headerMutations(base), weight: 1 });
  // as many valid requests as mutated ones
  const mutatedWeight = variants.reduce((sum, v) => sum + v.weight, 0);
  return fc.oneof({ arbitrary: base, weight: mutatedWeight }, ...variants);
}

function bodyMutations(
  base: fc.Arbitrary<FuzzRequest>,
  schema: JsonSchema,
  doc: OpenApiDocument,
  bodyValues: fc.Arbitrary<unknown>,
): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(base, mutatedArbitrary(schema, doc, bodyValues)).map(([r, m]) => ({
    ...r,
    body: toJsonText(m.value),
    label: `body:${m.mutator}@${m.at}`,
    claimedInvalid: m.rejects,
  }));
}

function rawBodyMutations(base: fc.Arbitrary<FuzzRequest>): fc.Arbitrary<FuzzRequest> {
  const text = (r: FuzzRequest) => r.body ?? '{}';
  return fc
    .oneof(
      fc
        .tuple(base, fc.constantFrom(...invalidJsonTexts))
        .map(([r, body]) => ({ ...r, body, label: 'raw:invalid-json' })),
      fc.tuple(base, fc.nat()).map(([r, n]) => ({
        ...r,
        body: text(r).slice(0, n % Math.max(1, text(r).length - 1)),
        label: 'raw:truncated-json',
      })),
      base.map((r) => ({ ...r, body: '', label: 'raw:empty-body' })),
      fc.tuple(base, fc.constantFrom(...wrongContentTypes)).map(([r, type]) => ({
        ...r,
        headers: type ? { ...r.headers, 'content-type': type } : {},
        label: `raw:content-type=${type || '(none)'}`,
      })),
      fc.tuple(base, fc.constantFrom(...contentEncodings)).map(([r, enc]) => ({
        ...r,
        headers: { ...r.headers, 'content-encoding': enc },
        label: `raw:content-encoding=${enc}`,
      })),
      fc.tuple(base, fc.constantFrom(-1, -5, 1, 100)).map(([r, lie]) => ({
        ...r,
        contentLengthLie: Math.max(lie, -text(r).length),
        label: `raw:content-length${lie > 0 ? '+' : ''}${lie}`,
      })),
    )
    .map((r) => ({ ...r, claimedInvalid: true }));
}

function pathMutations(base: fc.Arbitrary<FuzzRequest>): fc.Arbitrary<FuzzRequest> {
  const longValue = fc.constantFrom(64, 101, 1000, 10_000, 20_000).map((n) => 'a'.repeat(n));
  return fc.tuple(base, fc.nat(), fc.oneof(fc.constantFrom(...badPathValues), longValue)).map(([r, which, value]) => {
    const i = which % r.params.length;
    const params = r.params.map((p, j) => (j === i ? { ...p, literal: value, learnedPick: null } : p));
    return { ...r, params, label: `path:${value.length > 40 ? `${value.length} chars` : value || '(empty)'}` };
  });
}

function queryMutations(base: fc.Arbitrary<FuzzRequest>): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(base, fc.constantFrom(...badQueries))
    .map(([r, query]) => ({ ...r, query, label: `query:${query.length > 40 ? `${query.length} chars` : query}` }));
}

function headerMutations(base: fc.Arbitrary<FuzzRequest>): fc.Arbitrary<FuzzRequest> {
  const odd = fc.oneof(
    fc.constantFrom(...oddRequestIds).map((v) => ['x-request-id', v] as const),
    fc.constantFrom(...bogusAuthorizations).map((v) => ['authorization', v] as const),
    fc
      .constantFrom('text/html', 'application/xml', '*/*;q=0', 'application/json;q=0')
      .map((v) => ['accept', v] as const),
    fc.constant(['x-request-id', hugeHeaderValue] as const),
  );
  return fc.tuple(base, odd).map(([r, [name, value]]) => ({
    ...r,
    headers: { ...r.headers, [name]: value },
    label: `header:${name}=${value.length > 40 ? `${value.length} chars` : JSON.stringify(value)}`,
  }));
}

/** Requests over every operation of the document, weighted per operation. */
export function requestArbitrary(doc: OpenApiDocument, o: RequestOptions = {}): fc.Arbitrary<FuzzRequest> {
  const maxBody = o.maxBodyBytes ?? 256 * 1024;
  const perOperation = operationsOf(doc).map((op) => ({
    arbitrary: operationArbitrary(op, doc, o),
    weight: o.weights?.[op.key] ?? 3,
  }));
  return fc.oneof(...perOperation).filter((r) => (r.body?.length ?? 0) <= maxBody);
}

/** The request sequence of a seed: the same seed and count always give the same requests. */
export function requestSequence(
  doc: OpenApiDocument,
  seed: number,
  count: number,
  o: RequestOptions = {},
): FuzzRequest[] {
  return fc.sample(requestArbitrary(doc, o), { seed, numRuns: count });
}
