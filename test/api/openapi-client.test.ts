/**
 * A client generated from openapi/openapi.json with openapi-typescript (its defaults, as a user would run it)
 * typechecks a small typed fetch wrapper that sends the README's workload, and the same body placed by the real
 * app answers 200: the types accept what the service accepts (fields with a default are optional).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { Workload } from '../../src/placement/index.js';
import { buildTestApp } from '../helpers/app.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
/** The README's workload (examples/workload.json, which it PUTs with curl), kept here as README.md is rewritten. */
const workload = JSON.parse(read('test/fixtures/readme-workload.json')) as Record<string, unknown>;

const dir = mkdtempSync(join(tmpdir(), 'lp-openapi-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const client = (body: string) => `import type { components, paths } from './api.js';

type PlaceOperation = paths['/v1/placements']['post'];
export type Workload = NonNullable<PlaceOperation['requestBody']>['content']['application/json'];
export type Placement = PlaceOperation['responses'][200]['content']['application/json'];
export type Autoscale = components['schemas']['Autoscale'];

/** POST /v1/placements (the token only when the service wants one) */
export async function place(base: string, workload: Workload, token?: string): Promise<Placement> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = \`Bearer \${token}\`;
  const r = await fetch(\`\${base}/v1/placements\`, { method: 'POST', headers, body: JSON.stringify(workload) });
  if (!r.ok) throw new Error(\`POST /v1/placements: \${r.status}\`);
  return (await r.json()) as Placement;
}

/** PUT /v1/pools/{pool}, then what KEDA reads */
export async function putPool(base: string, pool: string, workload: Workload, token: string): Promise<Autoscale> {
  const headers = { 'content-type': 'application/json', authorization: \`Bearer \${token}\` };
  const put = await fetch(\`\${base}/v1/pools/\${pool}\`, { method: 'PUT', headers, body: JSON.stringify(workload) });
  if (!put.ok) throw new Error(\`PUT /v1/pools/\${pool}: \${put.status}\`);
  const r = await fetch(\`\${base}/v1/pools/\${pool}/autoscale\`, { headers });
  return (await r.json()) as Autoscale;
}

export const readmeWorkload: Workload = ${body};

export async function main(base: string): Promise<number> {
  const placement = await place(base, readmeWorkload);
  const gpus: number = placement.gpuCount;
  const args: string[] = placement.gpus.flatMap((g) => g.vllmArgs);
  const autoscale = await putPool(base, 'readme', readmeWorkload, 'token');
  return gpus + args.length + autoscale.desiredReplicas;
}
`;

/** Diagnostics of the client against the generated types: strict, the Node types of this project. */
function typecheck(source: string): string[] {
  writeFileSync(join(dir, 'client.ts'), source);
  const program = ts.createProgram([join(dir, 'client.ts')], {
    strict: true,
    noEmit: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
    skipLibCheck: true,
  });
  const where = (d: ts.Diagnostic) => (d.file ? `${d.file.fileName.slice(dir.length + 1)}: ` : '');
  return ts.getPreEmitDiagnostics(program).map((d) => where(d) + ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('a client generated with openapi-typescript', async () => {
  const doc = JSON.parse(read('openapi/openapi.json')) as Parameters<typeof openapiTS>[0];
  writeFileSync(join(dir, 'api.ts'), astToString(await openapiTS(doc)));

  it("the fixture is the README's workload, while README.md still sends examples/workload.json", () => {
    expect(Workload.safeParse(workload).success).toBe(true);
    const readme = read('README.md');
    if (readme.includes('examples/workload.json')) expect(workload).toEqual(JSON.parse(read('examples/workload.json')));
  });

  it("typechecks a client sending the README's workload (0 diagnostics)", () => {
    expect(typecheck(client(JSON.stringify(workload, null, 2)))).toEqual([]);
  });

  it('rejects a workload without adapters, or with a misspelled field', () => {
    const { adapters: _, ...noAdapters } = workload;
    expect(typecheck(client(JSON.stringify(noAdapters))).join('\n')).toMatch(/adapters/);
    expect(typecheck(client(JSON.stringify({ ...workload, verfiy: true }))).join('\n')).toMatch(/verfiy/);
  });

  describe('the same body, placed by the real app', async () => {
    const app = await buildTestApp({ apiToken: 'token' });
    afterAll(() => app.close());
    const auth = { authorization: 'Bearer token' };

    it('POST /v1/placements answers 200 with a placement', async () => {
      const r = await app.inject({ method: 'POST', url: '/v1/placements', headers: auth, payload: workload });
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      expect(r.json().gpuCount).toBeGreaterThan(0);
      expect(r.json().unplaced).toEqual([]);
    });

    it('PUT /v1/pools/{pool} answers 200 and the autoscale read follows', async () => {
      const put = await app.inject({ method: 'PUT', url: '/v1/pools/readme', headers: auth, payload: workload });
      expect(put.statusCode, put.body.slice(0, 300)).toBe(200);
      const autoscale = await app.inject({ url: '/v1/pools/readme/autoscale' });
      expect(autoscale.json().desiredReplicas).toBe(put.json().placement.gpuCount);
    });
  });
});
