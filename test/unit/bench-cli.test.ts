import { describe, expect, it } from 'vitest';
import { bareName, cliBars, formatCliBench, summarizeCli } from '../../src/bench/cli.js';

// bench cli's arithmetic: medians against bare node's, and the bars read from the build under test.

const rows = (version: number[], simulate: number[], npmStart: number[], build = 'this') =>
  summarizeCli([
    { name: bareName, build: null, command: bareName, samplesMs: [50, 40, 60, 45, 55] },
    { name: '--version', build, command: 'lora-placer --version', samplesMs: version },
    { name: 'simulate 10 s', build, command: 'lora-placer simulate', samplesMs: simulate },
    { name: 'npm start -> /readyz', build, command: 'npm start', samplesMs: npmStart },
  ]);

describe('bench cli', () => {
  it('answers median, min, p90 and the median minus bare node', () => {
    const [bare, version] = rows([130, 60, 70, 65, 900], [0], [0]);
    expect(bare).toMatchObject({ medianMs: 50, minMs: 40, vsBareMs: 0 });
    // one slow outlier moves p90, not the median
    expect(version).toMatchObject({ medianMs: 70, minMs: 60, vsBareMs: 20 });
    expect(version!.p90Ms).toBeCloseTo(592, 0);
  });

  it('passes the bars at their limits and fails them one millisecond beyond', () => {
    const met = cliBars(rows([150], [250], [1500]), 'this');
    expect(met.map((b) => [b.valueMs, b.met])).toEqual([
      [100, true],
      [200, true],
      [1500, true],
    ]);
    const missed = cliBars(rows([151], [251], [1501]), 'this');
    expect(missed.map((b) => b.met)).toEqual([false, false, false]);
  });

  it('reads the bars from the build under test only, and misses a bar whose row is absent', () => {
    const both = [...rows([60], [60], [600], 'this'), ...rows([900], [900], [9000], 'baseline').slice(1)];
    expect(cliBars(both, 'this').every((b) => b.met)).toBe(true);
    expect(cliBars(both, 'baseline').some((b) => b.met)).toBe(false);
    expect(cliBars(rows([60], [60], [600]), 'other').map((b) => b.met)).toEqual([false, false, false]);
  });

  it('prints one line per case and build and says which bar failed', () => {
    const result = {
      repeats: 5,
      builds: [{ label: 'this', root: '/x', commit: 'abc1234' }],
      rows: rows([60], [400], [600]),
      bars: cliBars(rows([60], [400], [600]), 'this'),
    };
    const text = formatCliBench(result);
    expect(text).toMatch(/^--version\s+this\s+60\s+60\s+60\s+\+10$/m);
    expect(text).toContain('FAIL  10-second simulate within 200 ms of bare node: +350 ms');
    expect(text).toContain('pass  --version within 100 ms of bare node: +10 ms');
  });
});

describe('bench place --slo options', () => {
  it('refuses a bad --fresh-seeds or --slo-ttft-s before any work, exit 2 naming the option', async () => {
    const { cli } = await import('../helpers/cli.js');
    const seeds = cli(['bench', 'place', '--slo', '--fresh-seeds', '11']);
    expect(seeds.status).toBe(2);
    expect(seeds.stderr).toMatch(/--fresh-seeds: expected 1 to 10, got 11/);
    expect(cli(['bench', 'place', '--slo', '--fresh-seeds', '0']).stderr).toMatch(/--fresh-seeds: expected a positive/);
    const targets = cli(['bench', 'place', '--slo', '--slo-ttft-s', '2,abc']);
    expect(targets.status).toBe(2);
    expect(targets.stderr).toMatch(/--slo-ttft-s: .*got "2,abc"/);
    expect(targets.stdout).toBe('');
  });
});
