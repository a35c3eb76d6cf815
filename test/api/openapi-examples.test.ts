import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { operationExamples } from '../../src/api/examples.js';
import { ModelsBody, ProfilesBody } from '../../src/api/models.js';
import { Health } from '../../src/api/health.js';
import { openapiDocument } from '../../src/api/openapi.js';
import {
  AutoscaleBody,
  ErrorBody,
  PlacementBody,
  PoolBody,
  PredictionBody,
  RefreshJobBody,
  RefreshRequest,
  ScenarioBody,
  SimulationResultBody,
  WorkloadBody,
} from '../../src/api/schemas.js';
import { PoolSourceBody } from '../../src/observe/traffic-source.js';

type Json = Record<string, unknown>;
interface Media {
  schema: Json;
  examples?: Record<string, { summary?: string; value: unknown }>;
}
interface Operation {
  operationId?: string;
  summary?: string;
  security?: Record<string, string[]>[];
  requestBody?: { $ref: string };
  responses: Record<string, { content?: Record<string, Media> }>;
}

const doc = await openapiDocument();
const { schemas, requestBodies } = doc.components as {
  schemas: Record<string, Json>;
  requestBodies: Record<string, { required: boolean; content: Record<string, Media> }>;
};
/** request bodies are components (src/api/openapi-tidy.ts): the name, and the JSON media type */
const bodyOf = (op: Operation) => {
  if (!op.requestBody) return undefined;
  const name = op.requestBody.$ref.slice('#/components/requestBodies/'.length);
  return { name, media: requestBodies[name]!.content['application/json']! };
};
const operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
);

/** The document's schema as a zod schema (components as $defs): what a generic client or validator would check. */
function documentSchema(schema: Json): z.ZodType {
  const text = JSON.stringify({ ...schema, $defs: schemas }).replaceAll('"#/components/schemas/', '"#/$defs/');
  return z.fromJSONSchema(JSON.parse(text));
}

/** The service's own zod schema of each request body and each answer component. */
const requestSchemas: Record<string, z.ZodType> = {
  Workload: WorkloadBody,
  Scenario: ScenarioBody,
  RefreshRequest,
  PoolSource: PoolSourceBody,
};
const serviceSchemas: Record<string, z.ZodType> = {
  Placement: PlacementBody,
  Prediction: PredictionBody,
  SimulationResult: SimulationResultBody,
  RefreshJob: RefreshJobBody,
  Pool: PoolBody,
  Autoscale: AutoscaleBody,
  Error: ErrorBody,
};
const inlineSchemas: Record<string, z.ZodType> = {
  'GET /healthz 200': Health,
  'GET /readyz 200': Health,
  'GET /readyz 503': Health,
  'GET /v1/profiles 200': ProfilesBody,
  'GET /v1/models 200': ModelsBody,
  'GET /v1/pools 200': z.object({ pools: z.array(AutoscaleBody) }),
};

/** Every example of the document: where it is, its value, the schema beside it. */
const examples = operations.flatMap(({ key, op }) => {
  const media: { where: string; media: Media }[] = [];
  const bodyName = bodyOf(op)?.name;
  const body = bodyOf(op);
  if (body) media.push({ where: `${key} request`, media: body.media });
  for (const [status, response] of Object.entries(op.responses)) {
    const json = response.content?.['application/json'];
    if (json) media.push({ where: `${key} ${status}`, media: json });
  }
  return media.flatMap(({ where, media: m }) =>
    Object.entries(m.examples ?? {}).map(([name, e]) => ({
      where,
      body: bodyName,
      name,
      value: e.value,
      schema: m.schema,
    })),
  );
});

describe('every operation of the OpenAPI document', () => {
  it('has a unique camelCase operationId and a summary', () => {
    expect(operations.length).toBeGreaterThanOrEqual(17);
    const ids = operations.map(({ op }) => op.operationId);
    for (const [i, { key, op }] of operations.entries()) {
      expect(op.operationId, key).toMatch(/^[a-z][A-Za-z0-9]*$/);
      expect(ids.indexOf(op.operationId), `${key}: ${op.operationId} is not unique`).toBe(i);
      expect(op.summary?.length ?? 0, key).toBeGreaterThan(10);
    }
  });

  it('has an example of its request body and of each JSON success answer', () => {
    for (const { key, op } of operations) {
      const body = bodyOf(op);
      if (body) expect(Object.keys(body.media.examples ?? {}), `${key} request`).toContain(op.operationId);
      for (const [status, response] of Object.entries(op.responses)) {
        const json = response.content?.['application/json'];
        if (!json || !status.startsWith('2')) continue;
        expect(Object.keys(json.examples ?? {}), `${key} ${status}`).toHaveLength(1);
      }
    }
    // each example written in src/api/examples.ts is in the document: none names a missing operation or status
    // (a request body component shared by two operations holds both operations' examples)
    const distinct = examples.map((e) => `${e.where.endsWith(' request') ? 'request' : e.where} ${e.name}`);
    const inDocument = new Set(distinct).size;
    const written = Object.values(operationExamples)
      .map((e) => (e.request ? 1 : 0) + Object.keys(e.responses).length)
      .reduce((a, b) => a + b, 0);
    expect(inDocument).toBe(written);
  });

  it('declares security: a token, an optional token, or none (probes)', () => {
    for (const { key, op } of operations) {
      expect(op.security, key).toBeDefined();
      if (key === 'GET /healthz' || key === 'GET /readyz') expect(op.security, key).toEqual([]);
      else
        expect(
          op.security?.some((s) => 'bearer' in s),
          key,
        ).toBe(true);
    }
  });
});

describe('components', () => {
  it('answers refer to output forms, never to a name ending in Input', () => {
    for (const { key, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect(JSON.stringify(response), `${key} ${status}`).not.toMatch(/Input"/);
      }
    }
    for (const name of ['Placement', 'SimulationResult', 'Prediction', 'Pool', 'RefreshJob', 'Autoscale', 'Error']) {
      expect(schemas, name).toHaveProperty([name]);
    }
  });

  it('request bodies are the input form (fields with a default optional), as request body components', () => {
    expect(Object.keys(requestBodies).sort()).toEqual(['PoolSource', 'RefreshRequest', 'Scenario', 'Workload']);
    for (const body of Object.values(requestBodies)) expect(body.required).toBe(true);
    const workload = requestBodies.Workload!.content['application/json']!.schema as {
      required: string[];
      properties: Json;
    };
    expect(workload.required.sort()).toEqual(['adapters', 'gpu', 'model']);
    expect(workload.properties).toHaveProperty('verify');
    const scenario = requestBodies.Scenario!.content['application/json']!.schema as { required: string[] };
    expect(scenario.required).not.toContain('durationS');
  });

  it('lists only components some operation uses', () => {
    const text = JSON.stringify([doc.paths, requestBodies]);
    const paths = JSON.stringify(doc.paths);
    for (const name of Object.keys(requestBodies)) expect(paths).toContain(`"#/components/requestBodies/${name}"`);
    const used = new Set<string>();
    const visit = (name: string) => {
      if (used.has(name)) return;
      used.add(name);
      for (const m of JSON.stringify(schemas[name]).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) visit(m[1]!);
    };
    for (const m of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) visit(m[1]!);
    expect(Object.keys(schemas).sort()).toEqual([...used].sort());
  });
});

describe('the example checks', () => {
  it('reject a broken example (the document schema and the zod schema alike)', () => {
    const op = operations.find(({ key }) => key === 'POST /v1/placements')!.op;
    const place = bodyOf(op)!.media;
    const broken = { ...(operationExamples.place!.request!.value as Json), adapters: [{ id: 'a', rank: 0, rate: 1 }] };
    expect(documentSchema(place.schema).safeParse(broken).success).toBe(false);
    expect(documentSchema(place.schema).safeParse({ ...broken, adapters: [] }).success).toBe(false);
    expect(WorkloadBody.safeParse(broken).success).toBe(false);
    const placement = op.responses['200']!.content!['application/json']!;
    const answer = operationExamples.place!.responses['200']!.value as Json;
    expect(documentSchema(placement.schema).safeParse(answer).success).toBe(true);
    expect(documentSchema(placement.schema).safeParse({ ...answer, gpuCount: 'one' }).success).toBe(false);
  });
});

describe.each(examples)('example $name ($where)', ({ where, body, value, schema }) => {
  it('is valid against its schema in the document', () => {
    const result = documentSchema(schema).safeParse(value);
    expect(result.success, JSON.stringify(result.error?.issues.slice(0, 3))).toBe(true);
  });

  it("is valid against the service's own zod schema", () => {
    const ref = typeof schema.$ref === 'string' ? schema.$ref.slice('#/components/schemas/'.length) : undefined;
    const zod = where.endsWith(' request') ? requestSchemas[body!] : ref ? serviceSchemas[ref] : inlineSchemas[where];
    if (!zod) {
      // the manifests answer: a v1 List (or YAML text); its items are Kubernetes objects the document leaves open
      expect(where).toBe('GET /v1/pools/{pool}/manifests 200');
      return;
    }
    const result = where.endsWith(' request') ? zod.safeParse(value) : z.safeEncode(zod, value as never);
    expect(result.success, JSON.stringify(result.error?.issues.slice(0, 3))).toBe(true);
  });
});
