import { isDeepStrictEqual } from 'node:util';

/**
 * fastify-type-provider-zod renders every named zod schema twice, `XInput` (what a request may send:
 * fields with a default optional) and `X` (what a response holds), and lists both forms of every schema
 * among the components whether a route uses it or not. This keeps the ones the operations use and
 * names them for the reader and for generated clients:
 * - a JSON request body whose schema is an input form `XInput` becomes the request body component `X`
 *   (components.requestBodies), its schema inlined there: openapi-typescript types a property with a
 *   `default` as always present in a schema component, even one only requests use, but as optional in a
 *   request body (so a client may leave out what has a default, as the service allows);
 * - a form no operation reaches (directly or through another component) is dropped;
 * - `XInput` is named `X` when no response uses `X`, and is merged into `X` when both forms are the same;
 * - so a name ending in `Input` is left only where a request and a response hold different forms of one
 *   schema outside a body, and responses always refer to the output form under its own name.
 */
export function tidyComponents(generated: Record<string, unknown>): Record<string, unknown> {
  const doc = withRequestBodyComponents(generated);
  const components = (doc.components ?? {}) as { schemas?: Record<string, unknown> };
  const schemas = components.schemas ?? {};
  const { schemas: _, ...otherComponents } = components;
  const outside = { ...doc, components: otherComponents };

  const reachable = reachableFrom(outside, schemas);
  // renames, decided until nothing changes: a merge can make two components that refer to them equal
  const renamed = new Map<string, string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of reachable) {
      if (!name.endsWith('Input') || renamed.has(name)) continue;
      const output = name.slice(0, -'Input'.length);
      if (!(output in schemas)) continue;
      const same =
        reachable.has(output) &&
        isDeepStrictEqual(withRefsRenamed(schemas[name], renamed), withRefsRenamed(schemas[output], renamed));
      if (!reachable.has(output) || same) {
        renamed.set(name, output);
        changed = true;
      }
    }
  }

  const tidy: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const target = renamed.get(name);
    // dropped; or merged into its output form, which is emitted under its own name
    if (!reachable.has(name) || (target !== undefined && reachable.has(target))) continue;
    tidy[target ?? name] = withRefsRenamed(schema, renamed);
  }
  return {
    ...(withRefsRenamed(outside, renamed) as Record<string, unknown>),
    components: { ...otherComponents, schemas: sortedByName(tidy) },
  };
}

const prefix = '#/components/schemas/';

interface Body {
  required?: boolean;
  description?: string;
  content?: Record<string, { schema?: { $ref?: string }; examples?: Record<string, unknown> }>;
}

/** JSON request bodies of an input-form schema as request body components (the schema inlined), by name. */
function withRequestBodyComponents(doc: Record<string, unknown>): Record<string, unknown> {
  const components = (doc.components ?? {}) as {
    schemas?: Record<string, unknown>;
    requestBodies?: Record<string, Body>;
  };
  const schemas = components.schemas ?? {};
  const bodies: Record<string, Body> = { ...components.requestBodies };
  const paths: Record<string, Record<string, { requestBody?: Body | { $ref: string } }>> = {};
  for (const [path, item] of Object.entries((doc.paths ?? {}) as typeof paths)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(item)) {
      const body = op.requestBody as Body | undefined;
      const json = body?.content?.['application/json'];
      const ref = json?.schema?.$ref;
      const input = ref?.startsWith(prefix) && ref.endsWith('Input') ? ref.slice(prefix.length) : undefined;
      if (!body || !json || !input || !(input in schemas) || Object.keys(body.content!).length !== 1) {
        paths[path][method] = op;
        continue;
      }
      const name = input.slice(0, -'Input'.length);
      const same = bodies[name];
      const examples = { ...same?.content?.['application/json']?.examples, ...json.examples };
      const media = { schema: schemas[input] as object, ...(Object.keys(examples).length ? { examples } : {}) };
      bodies[name] = {
        ...(body.description ? { description: body.description } : {}),
        required: body.required ?? false,
        content: { 'application/json': media },
      };
      paths[path][method] = { ...op, requestBody: { $ref: `#/components/requestBodies/${name}` } };
    }
  }
  return { ...doc, paths, components: { ...components, requestBodies: sortedByName(bodies) } };
}

/** The component schemas `root` refers to, and those they refer to. */
function reachableFrom(root: unknown, schemas: Record<string, unknown>): Set<string> {
  const seen = new Set<string>();
  const pending = refsIn(root);
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name) || !(name in schemas)) continue;
    seen.add(name);
    pending.push(...refsIn(schemas[name]));
  }
  return seen;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(prefix)) out.push(v.slice(prefix.length));
      else refsIn(v, out);
    }
  }
  return out;
}

function withRefsRenamed(value: unknown, renamed: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => withRefsRenamed(v, renamed));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(prefix)) {
        const name = v.slice(prefix.length);
        return [k, prefix + (renamed.get(name) ?? name)];
      }
      return [k, withRefsRenamed(v, renamed)];
    }),
  );
}

function sortedByName(schemas: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
