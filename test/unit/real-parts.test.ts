import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'real-parts');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
// a PATH of node alone (its own directory may hold the real programs), and one with a fake redis-server
const scratch = mkdtempSync(join(tmpdir(), 'lora-placer-real-parts-'));
const nodeOnly = join(scratch, 'node-only');
const fakeParts = join(scratch, 'fake-parts');
mkdirSync(nodeOnly);
mkdirSync(fakeParts);
symlinkSync(process.execPath, join(nodeOnly, 'node'));
writeFileSync(join(fakeParts, 'redis-server'), '#!/bin/sh\nexit 0\n');
chmodSync(join(fakeParts, 'redis-server'), 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** vitest on the fixture suite, with or without a redis-server on the PATH. */
function runFixture(o: { withRedis: boolean; required: boolean }) {
  const path = [nodeOnly, ...(o.withRedis ? [fakeParts] : [])].join(':');
  const env: NodeJS.ProcessEnv = { PATH: path, HOME: process.env.HOME, NO_COLOR: '1' };
  if (o.required) env.LORA_PLACER_REAL_PARTS = 'required';
  const r = spawnSync(process.execPath, [vitest, 'run', '--config', join(fixtures, 'vitest.config.ts')], {
    cwd: fixtures,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('tests that need a real program (describeWith and the skip reporter)', () => {
  it('npm test: a missing program skips its suite, passes, and lists it with its Debian package', () => {
    const r = runFixture({ withRedis: false, required: false });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/skipped: 1 test in 1 group/);
    expect(r.out).toMatch(/a suite that starts redis-server \(1\): needs redis-server \(Debian package redis-server/);
  });

  it('test:all: a missing program fails its suite, naming the package, and the run', () => {
    const r = runFixture({ withRedis: false, required: true });
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(/cannot run: needs redis-server \(Debian package redis-server/);
    expect(r.out).toMatch(/skipped: nothing/);
  });

  it('an installed program runs the suite, skipping nothing', () => {
    const r = runFixture({ withRedis: true, required: true });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/2 passed/);
    expect(r.out).toMatch(/skipped: nothing/);
  });
});
