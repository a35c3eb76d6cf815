import { randomBytes } from 'node:crypto';
import { defaultImage } from './default-image.js';
import { groupKeys, serverGroups } from './engine-groups.js';
import { defaultLoraSyncerImage } from './lora-syncer.js';
import { inferencePools } from './inference-pool.js';
import type { ManifestOptions } from './manifest-options.js';
import { defaultModelId, poolManifests, type PoolManifestInput } from './pool-manifests.js';
import { adapterMount, adapterVolume, vllmEnv } from './vllm-deployment.js';
import { toYamlDocument } from './yaml-documents.js';

export type ManifestFormat = 'json' | 'yaml';
export type AdapterLoading = ManifestOptions['adapterLoading'];

/** A place in a template's text that the operator's options fill. */
type Hole =
  /** `namespace` of an object's metadata: the whole field (and, in YAML, its line) goes when none is asked for */
  | { kind: 'namespaceField'; indent: string }
  /** `.<namespace>.svc` in the routing URLs */
  | { kind: 'namespaceHost' }
  | { kind: 'image' }
  /** the lora-syncer sidecar's image (adapterLoading=dynamic) */
  | { kind: 'syncerImage' }
  | { kind: 'modelId' }
  /** the adapter volume of a pod and its mount: items there only with an adapterClaim */
  | { kind: 'adapterVolume'; indent: string }
  | { kind: 'adapterMount'; indent: string }
  /**
   * the `env` field of a vLLM container (HF_TOKEN, VLLM_ALLOW_RUNTIME_LORA_UPDATING): there only with an
   * hfTokenSecret or adapterLoading=dynamic
   */
  | { kind: 'hfTokenEnv'; indent: string }
  /** the InferencePools, after the other objects, with gateway=inference-extension */
  | { kind: 'gateway' };

/**
 * A plan's manifests, rendered once, with the operator's options left as holes. Building, validating and serializing
 * a thousand-GPU plan's objects takes the better part of a second; filling the holes of its text takes milliseconds,
 * so a request with a new namespace or image costs the plan's size in string copies, not a render.
 */
export interface ManifestTemplate {
  format: ManifestFormat;
  /** how adapters are loaded: the objects differ (groups, env, sidecar, ConfigMaps), so it is the template's own */
  adapterLoading: AdapterLoading;
  pool: string;
  /** what vLLM loads unless `modelId` is given */
  defaultModelId: string;
  /** the image unless `image` is given */
  defaultImage: string;
  /** the server groups' keys: one InferencePool each */
  groups: string[];
  adapterRoot: string;
  parts: (string | Hole)[];
  /** characters of text held: what the template costs in memory, one byte each (manifests are ASCII) */
  chars: number;
}

/** Option values the objects are first built with: unique to this render, so every occurrence is a hole. */
function marks() {
  const nonce = randomBytes(8).toString('hex');
  return {
    nonce,
    namespace: `lpns${nonce}`,
    image: `lpimage${nonce}`,
    syncerImage: `lpsyncer${nonce}`,
    modelId: `lpmodel${nonce}`,
    claim: `lpclaim${nonce}`,
    volume: `lpvolume${nonce}`,
    mount: `lpmount${nonce}`,
    secret: `lpsecret${nonce}`,
    env: `lpenv${nonce}`,
  };
}
type Marks = ReturnType<typeof marks>;

/** Where each hole is in the text, by format; a `(?<indent>)` group keeps a YAML line's indentation. */
function holePatterns(m: Marks, format: ManifestFormat): [Hole['kind'], string][] {
  const host: [Hole['kind'], string] = ['namespaceHost', `\\.${m.namespace}\\.svc`];
  if (format === 'json')
    return [
      ['namespaceField', `,"namespace":"${m.namespace}"`],
      host,
      ['image', `"${m.image}"`],
      ['syncerImage', `"${m.syncerImage}"`],
      ['modelId', `"${m.modelId}"`],
      ['adapterVolume', `"${m.volume}",`],
      ['adapterMount', `"${m.mount}",`],
      ['hfTokenEnv', `,"env":"${m.env}"`],
    ];
  return [
    ['namespaceField', `\\n(?<indent>[ ]*)namespace: ${m.namespace}(?=\\n)`],
    host,
    ['image', m.image],
    ['syncerImage', m.syncerImage],
    ['modelId', m.modelId],
    ['adapterVolume', `\\n(?<indent>[ ]*)- ${m.volume}(?=\\n)`],
    ['adapterMount', `\\n(?<indent>[ ]*)- ${m.mount}(?=\\n)`],
    ['hfTokenEnv', `\\n(?<indent>[ ]*)env: ${m.env}(?=\\n)`],
  ];
}

type Item = Record<string, unknown>;

/**
 * The adapter volume and its mount as one marked item each, and the container's env (the HF token) as one marked
 * value (the objects were validated with them in place): the template drops or fills them as a whole. The env keeps
 * its place among the container's fields.
 */
function markOptionalParts(item: Item, m: Marks): void {
  if (item.kind !== 'Deployment') return;
  const pod = (item.spec as { template: { spec: { volumes: Item[]; containers: Item[] } } }).template.spec;
  pod.volumes = pod.volumes.map((v) => (v.name === 'adapters' ? m.volume : v)) as Item[];
  // vLLM's containers (a lora-syncer sidecar is an init container, with an env of its own)
  for (const c of pod.containers) {
    c.volumeMounts = (c.volumeMounts as Item[]).map((v) => (v.name === 'adapters' ? m.mount : v));
    c.env = m.env;
  }
}

/** Lets other work run (the service: a turn of its event loop); a long render calls it between objects. */
export type Pause = () => Promise<void>;

/** Longest stretch of YAML writing between two pauses. */
const yamlSliceMs = 10;

/** One YAML document per object; the `yaml` package takes about a second for a thousand GPUs' objects. */
async function yamlDocuments(items: Item[], pause: Pause | undefined): Promise<string> {
  const documents: string[] = [];
  let since = performance.now();
  for (const item of items) {
    documents.push(toYamlDocument(item));
    if (pause && performance.now() - since > yamlSliceMs) {
      await pause();
      since = performance.now();
    }
  }
  return documents.join('---\n');
}

/**
 * Renders a plan's manifests with every option a hole (see ManifestTemplate). `pause`, when given, is awaited between
 * the steps (objects, text, holes) and between objects while the YAML is written.
 */
export async function manifestTemplate(
  input: PoolManifestInput,
  format: ManifestFormat,
  pause?: Pause,
  adapterLoading: AdapterLoading = 'startup',
): Promise<ManifestTemplate> {
  const m = marks();
  const list = poolManifests(input, {
    image: m.image,
    modelId: m.modelId,
    namespace: m.namespace,
    adapterClaim: m.claim,
    hfTokenSecret: m.secret,
    gateway: 'none',
    adapterLoading,
    loraSyncerImage: m.syncerImage,
  });
  for (const item of list.items) markOptionalParts(item, m);
  await pause?.();
  const text =
    format === 'json'
      ? JSON.stringify({ apiVersion: list.apiVersion, kind: list.kind, items: list.items }).slice(0, -2)
      : await yamlDocuments(list.items, pause);
  await pause?.();
  const patterns = holePatterns(m, format);
  const all = new RegExp(patterns.map(([kind, p]) => `(?<${kind}>${p.replaceAll('?<indent>', '')})`).join('|'), 'g');
  const withIndent = new Set(patterns.filter(([, p]) => p.includes('?<indent>')).map(([kind]) => kind));
  const parts: (string | Hole)[] = [];
  const counts = new Map<Hole['kind'], number>();
  let at = 0;
  for (const match of text.matchAll(all)) {
    const kind = patterns.find(([k]) => match.groups![k] !== undefined)![0];
    parts.push(text.slice(at, match.index));
    const indent = withIndent.has(kind) ? /^\n( *)/.exec(match[0])![1]! : '';
    parts.push({ kind, indent } as Hole);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    at = match.index + match[0].length;
  }
  parts.push(text.slice(at), { kind: 'gateway' }, format === 'json' ? ']}' : '');
  checkHoles(parts, counts, list.items, m, adapterLoading);
  return {
    format,
    adapterLoading,
    pool: input.pool,
    defaultModelId: defaultModelId(input),
    defaultImage: defaultImage(input.profile.vllmVersion),
    groups: groupKeys(serverGroups(input.placement, adapterLoading)),
    adapterRoot: input.adapterRoot,
    parts,
    chars: parts.reduce((n, p) => n + (typeof p === 'string' ? p.length : 0), 0),
  };
}

/**
 * Every option value went into a hole, as many times as there are objects that hold it: a serializer that wrote a
 * marked value some other way (quoted, folded) fails here, not in an answer.
 */
function checkHoles(
  parts: (string | Hole)[],
  counts: Map<Hole['kind'], number>,
  items: Item[],
  m: Marks,
  adapterLoading: AdapterLoading,
): void {
  const deployments = items.filter((i) => i.kind === 'Deployment').length;
  const expected: [Hole['kind'], number][] = [
    ['namespaceField', items.length],
    ['image', deployments],
    ['syncerImage', adapterLoading === 'dynamic' ? deployments : 0],
    ['modelId', deployments],
    ['adapterVolume', deployments],
    ['adapterMount', deployments],
    ['hfTokenEnv', deployments],
  ];
  for (const [kind, n] of expected)
    if ((counts.get(kind) ?? 0) !== n)
      throw new Error(`manifest template: ${counts.get(kind) ?? 0} ${kind} holes, not ${n}`);
  if (parts.some((p) => typeof p === 'string' && p.includes(m.nonce)))
    throw new Error('manifest template: an option value was written where no hole is');
}

/** `text` (YAML lines) indented by `indent`, each line on a line of its own after a newline. */
const indented = (text: string, indent: string): string =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => `\n${indent}${line}`)
    .join('');

/**
 * The text of each hole for `o`, every value serialized once per answer. The InferencePools are built (and checked)
 * here, before any text is given out.
 */
function holeFiller(t: ManifestTemplate, o: ManifestOptions): (h: Hole) => string {
  const json = t.format === 'json';
  const scalar = (s: string): string => (json ? JSON.stringify(s) : toYamlDocument(s).trimEnd());
  const item = (value: unknown, indent: string): string =>
    json ? `${JSON.stringify(value)},` : indented(toYamlDocument([value]), indent);
  const image = scalar(o.image ?? t.defaultImage);
  const env = vllmEnv({ ...o, adapterLoading: t.adapterLoading });
  const syncerImage = scalar(o.loraSyncerImage ?? defaultLoraSyncerImage);
  const modelId = scalar(o.modelId ?? t.defaultModelId);
  const namespace = o.namespace ? scalar(o.namespace) : null;
  const host = o.namespace ? `.${o.namespace}.svc` : '';
  const pools = o.gateway === 'inference-extension' ? inferencePools(t.pool, t.groups, o) : [];
  const gateway = pools.map((p) => (json ? `,${JSON.stringify(p)}` : `---\n${toYamlDocument(p)}`)).join('');
  const byIndent = new Map<string, string>();
  /** the same hole at the same indentation is the same text */
  const once = (key: string, make: () => string): string => {
    const kept = byIndent.get(key);
    if (kept !== undefined) return kept;
    const text = make();
    byIndent.set(key, text);
    return text;
  };
  return (h: Hole): string => {
    switch (h.kind) {
      case 'namespaceField':
        if (namespace === null) return '';
        return json ? `,"namespace":${namespace}` : once(`n${h.indent}`, () => `\n${h.indent}namespace: ${namespace}`);
      case 'namespaceHost':
        return host;
      case 'image':
        return image;
      case 'syncerImage':
        return syncerImage;
      case 'modelId':
        return modelId;
      case 'adapterVolume':
        return o.adapterClaim ? once(`v${h.indent}`, () => item(adapterVolume(o.adapterClaim!), h.indent)) : '';
      case 'adapterMount':
        return o.adapterClaim ? once(`m${h.indent}`, () => item(adapterMount(t.adapterRoot), h.indent)) : '';
      case 'hfTokenEnv':
        if (env === null) return '';
        return json
          ? `,"env":${JSON.stringify(env)}`
          : once(`e${h.indent}`, () => indented(toYamlDocument({ env }), h.indent));
      case 'gateway':
        return gateway;
    }
  };
}

/**
 * The manifests for `o` in pieces of about `chunkChars` characters, made as they are asked for: a large answer is
 * written a piece at a time and other requests are served in between. Joined, the very text `poolManifests` +
 * JSON.stringify / toYamlDocuments would give.
 */
export function* templateChunks(t: ManifestTemplate, o: ManifestOptions, chunkChars = 256 * 1024): Generator<string> {
  const fill = holeFiller(t, o);
  let pieces: string[] = [];
  let size = 0;
  for (const part of t.parts) {
    const text = typeof part === 'string' ? part : fill(part);
    pieces.push(text);
    size += text.length;
    if (size >= chunkChars) {
      yield pieces.join('');
      pieces = [];
      size = 0;
    }
  }
  if (size > 0) yield pieces.join('');
}

/** The manifests for `o` as one string (see templateChunks). */
export function fillTemplate(t: ManifestTemplate, o: ManifestOptions): string {
  return [...templateChunks(t, o)].join('');
}
