import { describe, expect, it } from 'vitest';
import {
  ManifestCache,
  ManifestOptions,
  fillTemplate,
  manifestTemplate,
  poolManifests,
  toYamlDocuments,
  type ManifestFormat,
  type ManifestTemplate,
  type TemplateKey,
} from '../../src/manifests/index.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { parseWorkload, place } from '../../src/placement/index.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { smallWorkload } from '../helpers/app.js';

const profiles = embeddedProfiles();
const predictor = PredictorRegistry.fromDirectory(profiles).get('llama-3.1-8b-instruct', 'h100-64gb');

describe('manifest templates: rendered once, filled per request', async () => {
  // two heavy adapters split over GPUs, many light ones: several engine groups and weighted routes
  const workload = parseWorkload(
    smallWorkload({
      adapters: smallWorkload().adapters.map((a: { rate: number }, i: number) => ({ ...a, rate: i < 2 ? 45 : a.rate })),
      options: { loraModulesRoot: '/mnt/lora' },
    }),
  );
  const placement = await place(workload, predictor);
  const input = {
    pool: 'llama.prod',
    placement,
    profile: profiles.get(workload.model, workload.gpu),
    adapterRoot: '/mnt/lora',
  };
  const options = [
    {},
    { namespace: 'serving', adapterClaim: 'lora-adapters', gateway: 'inference-extension' },
    { image: 'registry.local/vllm:v0.10.2', modelId: 'Qwen/Qwen2.5-7B-Instruct' },
    // values a YAML 1.1 reader takes for booleans and numbers, where the answer must quote them
    { namespace: 'on', image: '12:30', modelId: '1e3_0', adapterClaim: '0b101', gateway: 'inference-extension' },
    { namespace: 'y', image: '0o17', modelId: 'null', adapterClaim: '1.5' },
    // the HF token Secret, alone and with every other option
    { hfTokenSecret: 'hf-token' },
    { namespace: 'no', adapterClaim: 'on', hfTokenSecret: 'on/1e3', gateway: 'inference-extension' },
  ];

  it.each(['json', 'yaml'] as const)(
    '%s: gives the very text of a render with the options, for each',
    async (format) => {
      const template = await manifestTemplate(input, format);
      expect(placement.gpuCount).toBeGreaterThan(1);
      for (const given of options) {
        const o = ManifestOptions.parse(given);
        const list = poolManifests(input, o);
        const rendered = format === 'json' ? JSON.stringify(list) : toYamlDocuments(list);
        expect(fillTemplate(template, o), JSON.stringify(given)).toBe(rendered);
      }
    },
  );

  it('holds the text it is filled from, and no value of the render it was made with', async () => {
    const template = await manifestTemplate(input, 'json');
    const text = template.parts.filter((p) => typeof p === 'string').join('');
    expect(template.chars).toBe(text.length);
    expect(text).not.toMatch(/lp(ns|image|model|claim|volume|mount|secret|env)[0-9a-f]{16}/);
    expect(fillTemplate(template, ManifestOptions.parse({})).length).toBeGreaterThan(0.9 * template.chars);
  });
});

/** A template of `chars` characters (the cache looks at nothing else). */
const sized = (chars: number, format: ManifestFormat = 'json'): ManifestTemplate => ({
  format,
  adapterLoading: 'startup',
  pool: 'p',
  defaultModelId: 'm',
  defaultImage: 'i',
  groups: [],
  adapterRoot: '/a',
  parts: ['x'.repeat(chars)],
  chars,
});
const profile = { maxModelLen: 8192, vllmVersion: '0.10.2' };
const key = (pool: string, revision: string | null = 'r1', format: ManifestFormat = 'json'): TemplateKey => ({
  pool,
  format,
  revision,
  profile,
});

describe('ManifestCache', () => {
  /** a cache whose renders are counted per pool */
  function counted(maxBytes: number) {
    const renders: string[] = [];
    const cache = new ManifestCache(maxBytes);
    const get = (k: TemplateKey, chars = 100) =>
      cache.template(k, async () => {
        renders.push(`${k.pool}@${k.revision}`);
        return { template: sized(chars, k.format), key: k };
      });
    return { cache, renders, get };
  }

  it('renders a revision once, again when the revision or the profile changes', async () => {
    const { cache, renders, get } = counted(10_000);
    await get(key('a'));
    await get(key('a'));
    await get(key('a', 'r1', 'yaml'));
    await get(key('a', 'r2'));
    await get(key('a', 'r2'));
    await get({ ...key('a', 'r2'), profile: { ...profile, maxModelLen: 4096 } });
    expect(renders).toEqual(['a@r1', 'a@r1', 'a@r2', 'a@r2']);
    expect(cache.renders).toBe(4);
    // one template per pool and format: the older revision's went
    expect(cache.bytes).toBe(200);
  });

  it('keeps at most its bound in bytes, dropping the least recently used', async () => {
    const { cache, renders, get } = counted(1000);
    for (const pool of ['a', 'b', 'c', 'd']) {
      await get(key(pool), 300);
      expect(cache.bytes).toBeLessThanOrEqual(1000);
    }
    expect(cache.bytes).toBe(900);
    renders.length = 0;
    await get(key('b'), 300); // kept; now the most recent
    await get(key('a'), 300); // dropped when d came: rendered again, and c (least recent) goes
    await get(key('b'), 300);
    await get(key('c'), 300);
    expect(renders).toEqual(['a@r1', 'c@r1']);
    expect(cache.bytes).toBe(900);
  });

  it('answers a template larger than its bound without keeping it, and keeps none without a revision', async () => {
    const { cache, renders, get } = counted(1000);
    await get(key('big'), 5000);
    await get(key('big'), 5000);
    await get(key('old', null));
    await get(key('old', null));
    expect(renders).toEqual(['big@r1', 'big@r1', 'old@null', 'old@null']);
    expect(cache.bytes).toBe(0);
  });

  it('makes requests that come during a render wait for it, and forgets a render that failed', async () => {
    const cache = new ManifestCache(10_000);
    let renders = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = async () => {
      renders++;
      await gate;
      return { template: sized(10), key: key('a') };
    };
    const waiting = Array.from({ length: 8 }, () => cache.template(key('a'), slow));
    release();
    const answers = await Promise.all(waiting);
    expect(renders).toBe(1);
    expect(new Set(answers).size).toBe(1);
    const failing = () => Promise.reject(new Error('pool deleted meanwhile'));
    await expect(cache.template(key('b'), failing)).rejects.toThrow(/deleted/);
    await expect(cache.template(key('b'), async () => ({ template: sized(10), key: key('b') }))).resolves.toBeDefined();
  });
});
