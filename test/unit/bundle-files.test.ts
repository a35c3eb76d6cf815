import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ModelsDirSync } from '../../src/jobs/models-sync.js';
import { bundleFiles } from '../../src/ml/bundle.js';
import {
  loadBundle,
  maxMetadataFileBytes,
  readBundle,
  servedFilesDir,
  writeFlatBundle,
  writeVersionedBundle,
} from '../../src/ml/bundle-store.js';
import { defaultPredictorsDir, PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { readRegularFile } from '../../src/shared/files.js';
import { llamaBundleName, variant } from '../helpers/bundle-variant.js';

/** the version of the embedded Llama predictors (models/predictors), whatever the last training made it */
const embeddedLlamaVersion = (
  JSON.parse(
    readFileSync(
      new URL('../../models/predictors/llama-3.1-8b-instruct@h100-64gb/metadata.json', import.meta.url),
      'utf8',
    ),
  ) as { version: string }
).version;

const root = mkdtempSync(join(tmpdir(), 'lora-placer-bundle-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const a = variant(0.5);
const b = variant(0.75);
const c = variant(0.25);
const dataFile = { code: 'LP_ERR_DATA_FILE' };

let modelsDir: string;
let bundleDir: string;
let n = 0;
beforeEach(() => {
  modelsDir = join(root, `m${n++}`);
  bundleDir = join(modelsDir, 'predictors', llamaBundleName);
});

const entries = (): string[] => readdirSync(bundleDir).sort();
const longAgo = (path: string): void =>
  utimesSync(path, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));

describe('versioned bundle layout (MODELS_DIR)', () => {
  it('round-trips: CURRENT names v-<version>, which holds the five files, and nothing else is left', () => {
    expect(writeVersionedBundle(bundleDir, a)).toBe(join(bundleDir, `v-${a.metadata.version}`));
    expect(readFileSync(join(bundleDir, 'CURRENT'), 'utf8')).toBe(`v-${a.metadata.version}\n`);
    expect(entries()).toEqual(['CURRENT', `v-${a.metadata.version}`]);
    expect(readdirSync(join(bundleDir, `v-${a.metadata.version}`)).sort()).toEqual([...bundleFiles(a).keys()].sort());
    expect(readBundle(bundleDir)).toEqual(a);
    expect(loadBundle(bundleDir)).toEqual(a);
    writeVersionedBundle(bundleDir, b);
    expect(loadBundle(bundleDir)).toEqual(b);
  });

  it('ignores a leftover .tmp-* directory and a v-* directory CURRENT was never switched to', () => {
    writeVersionedBundle(bundleDir, a);
    const tmp = join(bundleDir, `.tmp-${b.metadata.version}-1-deadbeef`);
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'throughput.json'), '{"half":');
    const orphan = join(bundleDir, `v-${b.metadata.version}`);
    mkdirSync(orphan);
    for (const [name, text] of bundleFiles(b)) writeFileSync(join(orphan, name), text);
    expect(loadBundle(bundleDir)).toEqual(a);
  });

  it(
    'refuses CURRENT naming a missing, malformed or escaping directory (dataFile), ' +
      'and the sync keeps the served model',
    () => {
      writeVersionedBundle(bundleDir, a);
      const profiles = embeddedProfiles();
      const predictors = PredictorRegistry.fromDirectory(profiles);
      const errors: string[] = [];
      const sync = new ModelsDirSync({
        dir: modelsDir,
        predictors,
        profiles,
        onError: (e, dir) => errors.push(`${dir}: ${e.message}`),
      });
      expect(sync.syncOnce()).toEqual([llamaBundleName]);
      const outside = join(root, `outside-${n}`);
      mkdirSync(outside);
      for (const [name, text] of bundleFiles(b)) writeFileSync(join(outside, name), text);
      symlinkSync(outside, join(bundleDir, `v-${b.metadata.version}`));
      const cases: Array<[string, RegExp]> = [
        ['v-000000000000\n', /missing/],
        ['../../../etc\n', /not a version directory name/],
        ['v-4C2F16975D51\n', /not a version directory name/],
        [`v-${b.metadata.version}\n`, /not a directory/],
      ];
      for (const [pointer, message] of cases) {
        writeFileSync(join(bundleDir, 'CURRENT'), pointer);
        expect(() => loadBundle(bundleDir)).toThrow(
          expect.objectContaining({ ...dataFile, message: expect.stringMatching(message) }),
        );
        errors.length = 0;
        expect(sync.syncOnce()).toEqual([]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(message);
        expect(predictors.get(a.metadata.model, a.metadata.gpu).version).toBe(a.metadata.version);
      }
    },
  );

  it('prunes every version but the current and the one it replaced, and stale temp leftovers only', () => {
    writeVersionedBundle(bundleDir, a);
    writeVersionedBundle(bundleDir, b);
    const stale = join(bundleDir, '.tmp-000000000000-7-cafecafe');
    const fresh = join(bundleDir, '.tmp-111111111111-8-beefbeef');
    mkdirSync(stale);
    mkdirSync(fresh);
    for (const e of [`v-${a.metadata.version}`, `v-${b.metadata.version}`, '.tmp-000000000000-7-cafecafe'])
      longAgo(join(bundleDir, e));
    writeVersionedBundle(bundleDir, c);
    expect(entries()).toEqual(
      ['.tmp-111111111111-8-beefbeef', 'CURRENT', `v-${b.metadata.version}`, `v-${c.metadata.version}`].sort(),
    );
    expect(loadBundle(bundleDir)).toEqual(c);
    // republishing the version it replaced reuses that directory
    writeVersionedBundle(bundleDir, b);
    expect(entries()).toContain(`v-${c.metadata.version}`);
    expect(loadBundle(bundleDir)).toEqual(b);
  });

  it('rewrites a version directory that is there but not sound instead of pointing at it', () => {
    writeVersionedBundle(bundleDir, a);
    const broken = join(bundleDir, `v-${b.metadata.version}`);
    mkdirSync(broken);
    writeFileSync(join(broken, 'metadata.json'), '{}');
    writeVersionedBundle(bundleDir, b);
    expect(loadBundle(bundleDir)).toEqual(b);
  });

  it('refuses to publish a bundle whose version is not the hash of its trees', () => {
    expect(() =>
      writeVersionedBundle(bundleDir, { ...a, metadata: { ...a.metadata, version: b.metadata.version } }),
    ).toThrow(/not the hash of its trees/);
  });
});

describe('flat bundle layout (models/predictors, train)', () => {
  it('is still read: the embedded models and a bundle written flat', () => {
    const embedded = join(defaultPredictorsDir, llamaBundleName);
    expect(servedFilesDir(embedded)).toBe(embedded);
    expect(loadBundle(embedded).metadata.version).toBe(embeddedLlamaVersion);
    const written = writeFlatBundle(bundleDir, a);
    expect(written.map((p) => p.slice(bundleDir.length + 1)).sort()).toEqual([...bundleFiles(a).keys()].sort());
    expect(loadBundle(bundleDir)).toEqual(a);
  });

  it('reports trees that do not hash to the version (a flat bundle caught mid-write)', () => {
    writeFlatBundle(bundleDir, a);
    writeFileSync(join(bundleDir, 'throughput.json'), JSON.stringify(b.trees.throughput));
    expect(() => loadBundle(bundleDir)).toThrow(
      expect.objectContaining({ ...dataFile, message: expect.stringMatching(/do not hash/) }),
    );
  });
});

describe('predictor files: regular files of sane size only', () => {
  /** A flat copy of the embedded bundle, to spoil one file of. */
  const copy = (): string => {
    cpSync(join(defaultPredictorsDir, llamaBundleName), bundleDir, { recursive: true });
    return bundleDir;
  };

  it('refuses a directory named throughput.json', () => {
    rmSync(join(copy(), 'throughput.json'));
    mkdirSync(join(bundleDir, 'throughput.json'));
    expect(() => readBundle(bundleDir)).toThrow(
      expect.objectContaining({
        ...dataFile,
        message: expect.stringMatching(/throughput\.json is a directory, not a regular file/),
      }),
    );
  });

  it('refuses a FIFO without opening it (a child process reading it exits at once)', () => {
    rmSync(join(copy(), 'itl.json'));
    expect(spawnSync('mkfifo', [join(bundleDir, 'itl.json')]).status).toBe(0);
    const script = `import { readBundle } from ${JSON.stringify(join(process.cwd(), 'src/ml/bundle-store.ts'))};
try { readBundle(${JSON.stringify(bundleDir)}); console.log('read'); } catch (e) { console.log(e.code, e.message); }`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.signal).toBeNull();
    expect(r.stdout).toMatch(/^LP_ERR_DATA_FILE .*itl\.json is a FIFO, not a regular file/);
  });

  it('refuses a file over its size cap, before reading it', () => {
    copy();
    writeFileSync(join(bundleDir, 'metadata.json'), ' '.repeat(maxMetadataFileBytes + 1));
    expect(() => readBundle(bundleDir)).toThrow(
      expect.objectContaining({
        ...dataFile,
        message: expect.stringMatching(/metadata\.json is \d+ bytes, more than the 1048576 allowed/),
      }),
    );
    expect(() => readRegularFile(join(bundleDir, 'ttft.json'), 1000, 'predictor file')).toThrow(
      /more than the 1000 allowed/,
    );
  });

  it('follows a symlink to a regular file, refuses one to a FIFO or to nothing', () => {
    copy();
    const target = join(root, `ttft-${n}.json`);
    cpSync(join(bundleDir, 'ttft.json'), target);
    rmSync(join(bundleDir, 'ttft.json'));
    symlinkSync(target, join(bundleDir, 'ttft.json'));
    expect(loadBundle(bundleDir).metadata.version).toBe(embeddedLlamaVersion);
    const fifo = join(root, `fifo-${n}`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    rmSync(join(bundleDir, 'ttft.json'));
    symlinkSync(fifo, join(bundleDir, 'ttft.json'));
    expect(() => readRegularFile(join(bundleDir, 'ttft.json'), 1000, 'predictor file')).toThrow(/is a FIFO/);
    rmSync(join(bundleDir, 'ttft.json'));
    symlinkSync(join(root, 'nothing-here'), join(bundleDir, 'ttft.json'));
    expect(() => readBundle(bundleDir)).toThrow(
      expect.objectContaining({ ...dataFile, message: expect.stringMatching(/ttft\.json is missing/) }),
    );
  });

  it('names a file that is not JSON', () => {
    writeFileSync(join(copy(), 'starved.json'), '{"name": "DTClassifier", ');
    expect(() => readBundle(bundleDir)).toThrow(
      expect.objectContaining({ ...dataFile, message: expect.stringMatching(/starved\.json is not JSON/) }),
    );
  });
});
