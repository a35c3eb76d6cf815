import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/shared/rng.js';
import { LogHistogram, quantileSorted, summarize } from '../../src/shared/stats.js';
import { leastSquares, nonNegativeLeastSquares } from '../../src/shared/least-squares.js';
import { parseCsv, num } from '../../src/shared/csv.js';
import { CountTree, IndexedMinHeap, KeyedMinHeap } from '../../src/twin/heaps.js';

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

describe('Rng', () => {
  it('repeats its sequence for a seed and differs between seeds and streams', () => {
    const draw = (r: Rng): number[] => Array.from({ length: 5 }, () => r.next());
    expect(draw(new Rng(42))).toEqual(draw(new Rng(42)));
    expect(draw(new Rng(42))).not.toEqual(draw(new Rng(43)));
    expect(draw(new Rng(42, 1))).not.toEqual(draw(new Rng(42, 2)));
  });

  it('draws uniforms in [0, 1) and exponential, normal and gamma variates with the right moments', () => {
    const r = new Rng(7);
    const u = Array.from({ length: 50_000 }, () => r.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(mean(u)).toBeCloseTo(0.5, 2);
    expect(mean(Array.from({ length: 50_000 }, () => r.exponential(4)))).toBeCloseTo(0.25, 2);
    const z = Array.from({ length: 50_000 }, () => r.normal());
    expect(mean(z)).toBeCloseTo(0, 1);
    expect(mean(z.map((x) => x * x))).toBeCloseTo(1, 1);
    for (const shape of [0.3, 2.5]) {
      const g = Array.from({ length: 50_000 }, () => r.gamma(shape));
      const m = mean(g);
      expect(m).toBeCloseTo(shape, 1);
      expect(mean(g.map((x) => (x - m) ** 2))).toBeCloseTo(shape, 0);
    }
  });
});

describe('statistics', () => {
  it('uses linearly interpolated quantiles', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([10], 0.99)).toBe(10);
    const s = summarize(Float64Array.from([5, 1, 3, 2, 4]), 5)!;
    expect(s).toEqual({ mean: 3, p50: 3, p90: 4.6, p99: 4.96 });
    expect(summarize(new Float64Array(3), 0)).toBeNull();
  });

  it('keeps weighted histogram quantiles within half a bucket', () => {
    const h = new LogHistogram();
    h.add(10, 50);
    h.add(100, 49);
    h.add(1000, 1);
    expect(h.mean()).toBeCloseTo((500 + 4900 + 1000) / 100, 9);
    expect(Math.abs(h.quantile(0.5) - 10) / 10).toBeLessThan(0.005);
    expect(Math.abs(h.quantile(0.9) - 100) / 100).toBeLessThan(0.005);
    expect(Math.abs(h.quantile(0.995) - 1000) / 1000).toBeLessThan(0.005);
  });
});

describe('least squares', () => {
  it('recovers the coefficients of a noiseless linear model', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [1, i, (i * i) % 7]);
    const y = rows.map(([a, b, c]) => 3 * a! - 0.5 * b! + 2 * c!);
    const fit = leastSquares(rows, y);
    fit.coefficients.forEach((c, i) => {
      expect(c).toBeCloseTo([3, -0.5, 2][i]!, 9);
    });
  });

  it('drops columns that would need a negative coefficient', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [1, i, Math.sin(i)]);
    const y = rows.map(([, b, c]) => 2 + 0.5 * b! - 0.1 * c!);
    const fit = nonNegativeLeastSquares(rows, y);
    expect(fit.coefficients[2]).toBe(0);
    expect(fit.coefficients.every((c) => c >= 0)).toBe(true);
  });
});

describe('csv', () => {
  it('parses quoted fields with commas, quotes and newlines', () => {
    const rows = parseCsv('a,b,c\n1,"x, ""y""",\n2,"multi\nline",3.5\n');
    expect(rows).toEqual([
      { a: '1', b: 'x, "y"', c: '' },
      { a: '2', b: 'multi\nline', c: '3.5' },
    ]);
    expect(num(rows[0]!, 'c')).toBeNull();
    expect(num(rows[1]!, 'c')).toBe(3.5);
  });
});

describe('engine heaps', () => {
  it('pops keyed entries in (key, id) order', () => {
    const h = new KeyedMinHeap();
    const items = [
      [5, 1],
      [3, 9],
      [5, 0],
      [1, 4],
      [3, 2],
    ] as const;
    for (const [k, id] of items) h.push(k, id);
    const out: number[][] = [];
    while (h.size > 0) {
      out.push([h.topKey(), h.topId()]);
      h.pop();
    }
    expect(out).toEqual([
      [1, 4],
      [3, 2],
      [3, 9],
      [5, 0],
      [5, 1],
    ]);
  });

  it('re-keys and removes members of an indexed heap', () => {
    const keys = Int32Array.from([50, 10, 30, 20]);
    const h = new IndexedMinHeap(4, keys);
    [0, 1, 2, 3].forEach((i) => {
      h.insert(i);
    });
    expect(h.top()).toBe(1);
    keys[1] = 60;
    h.update(1);
    expect(h.top()).toBe(3);
    h.remove(3);
    expect(h.top()).toBe(2);
    expect(h.has(3)).toBe(false);
  });

  it('counts present ids below a bound while growing', () => {
    const t = new CountTree();
    for (const id of [3, 7, 7, 1500, 20_000]) t.add(id, 1);
    t.add(7, -1);
    expect(t.countBelow(0)).toBe(0);
    expect(t.countBelow(7)).toBe(1);
    expect(t.countBelow(8)).toBe(2);
    expect(t.countBelow(1501)).toBe(3);
    expect(t.countBelow(1_000_000)).toBe(4);
  });
});
