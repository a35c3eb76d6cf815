import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The architecture rule, checked on the import statements of src/**: the core (profiles -> twin -> ml ->
// placement, in that data-flow order) is a pure library; benchmarks and their baselines live in src/bench.

const root = fileURLToPath(new URL('../../', import.meta.url));
const src = join(root, 'src');

interface Import {
  /** file, relative to src */
  file: string;
  /** the specifier as written */
  spec: string;
  /** top folder under src the specifier resolves to (e.g. "ml", "cli.ts"), or null for a package */
  folder: string | null;
  typeOnly: boolean;
}

const topOf = (path: string): string => relative(src, path).split('/')[0]!;

/** Source without comments (enough for import statements: no specifier contains a comment marker). */
const withoutComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

const sources = readdirSync(src, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .map((file) => ({ file, text: withoutComments(readFileSync(join(src, file), 'utf8')) }));

function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const add = (spec: string, typeOnly: boolean): void => {
    const folder = spec.startsWith('.') ? topOf(resolve(dirname(join(src, file)), spec)) : null;
    found.push({ file, spec, folder, typeOnly });
  };
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?'([^']+)'/g))
    add(m[2]!, m[1] !== undefined);
  for (const m of text.matchAll(/(?<!typeof\s)\bimport\(\s*'([^']+)'\s*\)/g)) add(m[1]!, false);
  for (const m of text.matchAll(/\brequire(?:\.resolve)?\(\s*'([^']+)'\s*\)/g)) add(m[1]!, false);
  return found;
}

const imports = sources.flatMap((s) => importsOf(s.file, s.text));
const folderOf = (file: string): string => file.split('/')[0]!;

/** The core in data-flow order: each folder may import the ones before it, itself and src/shared. */
const core = ['profiles', 'twin', 'ml', 'placement'];
/** Packages the core may use: Node's own modules and zod (schemas); no service framework, logger or metrics. */
const corePackage = (spec: string): boolean => spec.startsWith('node:') || spec === 'zod';

describe('layering', () => {
  it('finds the import statements', () => {
    expect(sources.length).toBeGreaterThan(100);
    const features = imports.filter((i) => i.file === join('placement', 'context.ts'));
    expect(features.map((i) => i.spec)).toContain('../ml/features.js');
    expect(imports.some((i) => i.spec === 'fastify' && folderOf(i.file) === 'api')).toBe(true);
  });

  it('keeps the core a library in data-flow order: profiles -> twin -> ml -> placement, plus shared', () => {
    const wrong = imports.filter((i) => {
      const at = core.indexOf(folderOf(i.file));
      if (at < 0) return false;
      if (i.folder === null) return !corePackage(i.spec);
      if (i.folder === 'shared') return false;
      const to = core.indexOf(i.folder);
      return to < 0 || to > at;
    });
    expect(wrong.map((i) => `${i.file} imports ${i.spec}`)).toEqual([]);
  });

  it('keeps the core free of process.env', () => {
    const reading = sources.filter((s) => core.includes(folderOf(s.file)) && /\bprocess\.env\b/.test(s.text));
    expect(reading.map((s) => s.file)).toEqual([]);
  });

  it('keeps src/shared free of the rest of src', () => {
    const wrong = imports.filter((i) => folderOf(i.file) === 'shared' && i.folder !== null && i.folder !== 'shared');
    expect(wrong.map((i) => `${i.file} imports ${i.spec}`)).toEqual([]);
  });

  it('lets only the CLI reach the benchmarks (the service never loads them)', () => {
    const wrong = imports.filter((i) => i.folder === 'bench' && !['bench', 'cli'].includes(folderOf(i.file)));
    expect(wrong.map((i) => `${i.file} imports ${i.spec}`)).toEqual([]);
  });

  it('keeps the research baselines out of src/placement', () => {
    const placement = sources.filter((s) => folderOf(s.file) === 'placement');
    expect(placement.length).toBeGreaterThan(10);
    expect(placement.map((s) => s.file).filter((f) => /baseline|fewest/i.test(f))).toEqual([]);
    const baselines = /\b(rateBalancing|roundRobin|dynamoLike|dloraProactive|researchNextFit|fewestVerifiedGpus)\b/;
    expect(placement.filter((s) => baselines.test(s.text)).map((s) => s.file)).toEqual([]);
  });

  it('loads no dev dependency from src at run time (type-only imports aside)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const dev = new Set(Object.keys(pkg.devDependencies));
    const name = (spec: string): string =>
      spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/');
    // bench predict and bench http load theirs with createRequire when they run, and do without them; the web
    // view's script loader imports typescript only when run from the sources (a build reads dist/ui/client.js)
    const optional = new Set([join('bench', 'predict.ts'), join('bench', 'http.ts'), join('api', 'ui', 'script.ts')]);
    const wrong = imports.filter(
      (i) => i.folder === null && !i.typeOnly && dev.has(name(i.spec)) && !optional.has(i.file),
    );
    expect(wrong.map((i) => `${i.file} imports ${i.spec}`)).toEqual([]);
  });
});
