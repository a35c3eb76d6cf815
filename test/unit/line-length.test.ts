import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Biome formats to 120 columns but cannot break a long string or comment: this holds the rest of the line.
const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const maxColumns = 120;

/** The TypeScript files under src, test and scripts (read from disk: a checkout from a tarball has no git). */
function trackedSources(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return walk(path);
      return e.name.endsWith('.ts') ? [relative(root, path)] : [];
    });
  return [...['src', 'test', 'scripts'].flatMap((d) => walk(join(root, d))), 'vitest.config.ts'];
}

describe('line length', () => {
  it(`keeps every line of src, test and scripts within ${maxColumns} columns`, () => {
    const files = trackedSources();
    expect(files.length).toBeGreaterThan(100);
    const long = files.flatMap((file) =>
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => ([...line].length > maxColumns ? [`${file}:${i + 1} (${[...line].length})`] : [])),
    );
    expect(long).toEqual([]);
  });
});
