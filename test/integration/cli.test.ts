import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lora-placer-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), ...args], { cwd: root, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const scenario = (seed: number, rate = 1) => ({
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  engine: { maxLoras: 4 },
  adapters: [
    { id: 'a', rank: 8, rate },
    { id: 'b', rank: 16, rate },
  ],
  durationS: 120,
  seed,
});

describe('lora-placer CLI', () => {
  it('simulates one scenario from a file and prints one SimulationResult', () => {
    const f = join(dir, 'one.json');
    writeFileSync(f, JSON.stringify(scenario(1)));
    const r = cli(['simulate', f]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.memoryError).toBeNull();
    expect(out.completedRequests).toBeGreaterThan(100);
  });

  it('answers a JSON array line by line in input order, also across worker threads', () => {
    const input = JSON.stringify([scenario(1, 2), scenario(2, 0.2), scenario(3, 1)]);
    const r = cli(['simulate', '--workers', '2'], input);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    const serial = cli(['simulate', '--workers', '1'], input).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.arrivedRequests)).toEqual(serial.map((l) => l.arrivedRequests));
    expect(lines[0].arrivedRequests).toBeGreaterThan(lines[1].arrivedRequests);
  });

  it('reads JSONL from stdin', () => {
    const r = cli(['simulate'], `${JSON.stringify(scenario(4))}\n${JSON.stringify(scenario(5))}\n`);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('exits 2 naming the offending field, with the item index for batches', () => {
    const bad = { ...scenario(1), adapters: [{ id: 'a', rank: 0, rate: 1 }] };
    const one = cli(['simulate'], JSON.stringify(bad));
    expect(one.status).toBe(2);
    expect(one.stderr).toContain('adapters.0.rank');
    expect(one.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const batch = cli(['simulate'], JSON.stringify([scenario(1), bad]));
    expect(batch.status).toBe(2);
    expect(batch.stderr).toContain('[1].adapters.0.rank');
    expect(batch.stdout).toBe('');
  });

  it('exits 2 on malformed JSON, unknown options, unknown commands and unknown profiles', () => {
    expect(cli(['simulate'], '{"model": ').status).toBe(2);
    expect(cli(['simulate', '--frobnicate']).status).toBe(2);
    expect(cli(['frobnicate']).status).toBe(2);
    const unknown = cli(['simulate'], JSON.stringify({ ...scenario(1), gpu: 'tpu-v9' }));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no profile for model "llama-3.1-8b-instruct" on gpu "tpu-v9"');
  });

  it('exits 2 when calibrate or validate miss required options', () => {
    expect(cli(['calibrate', '--gpu', 'x']).stderr).toContain('--data');
    expect(cli(['validate']).status).toBe(2);
    expect(cli(['validate', '--runs', join(dir, 'missing.csv')]).stderr).toContain('does not exist');
  });
});
