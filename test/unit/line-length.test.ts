import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Biome formats to 120 columns but cannot break a long string or comment: this holds the rest of the line.
const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const maxColumns = 120;

function trackedSources(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--', 'src', 'test', 'scripts', 'vitest.config.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  return listed.split('\0').filter((f) => f.endsWith('.ts'));
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
