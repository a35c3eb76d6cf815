/**
 * Measured kernel latencies of one GPU and vLLM version (aiconfigurator's vLLM micro-benchmarks), indexed for
 * lookups at any shape: GEMMs by (m, n, k), decode attention by (batch, KV length, heads), prefill attention by
 * (batch, prompt length, heads), all-reduce by (GPUs, bytes). Between grid points, latency is interpolated
 * linearly in the logarithms of the sizes (exact for the power laws kernels follow); beyond the largest n, a
 * GEMM is split into pieces of the largest measured n. All latencies in ms.
 */
export interface GemmPoint {
  m: number;
  n: number;
  k: number;
  ms: number;
}
export interface AttentionPoint {
  batch: number;
  /** decode: KV tokens per sequence; prefill: prompt tokens per sequence */
  length: number;
  heads: number;
  kvHeads: number;
  ms: number;
}
export interface AllReducePoint {
  gpus: number;
  bytes: number;
  ms: number;
}

/** The rows a profile needs, already filtered to one dtype and kernel (see kernel-table-files.ts). */
export interface KernelTables {
  system: string;
  /** the vLLM version the tables were measured with */
  vllmVersion: string;
  files: string[];
  gemm: GemmPoint[];
  decodeAttention: AttentionPoint[];
  prefillAttention: AttentionPoint[];
  allReduce: AllReducePoint[];
}

/** Piecewise-linear interpolation of y over sorted x (clamped-slope extrapolation at both ends). */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 1) return ys[0] as number;
  let i = 1;
  while (i < n - 1 && (xs[i] as number) < x) i++;
  const x0 = xs[i - 1] as number;
  const x1 = xs[i] as number;
  const f = (x - x0) / (x1 - x0);
  return (ys[i - 1] as number) + f * ((ys[i] as number) - (ys[i - 1] as number));
}

const lg = Math.log2;

/** Sorted distinct values. */
function grid(values: Iterable<number>): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Bracketing grid values of x (the same one twice when x is outside or on the grid). */
function bracket(g: readonly number[], x: number): [number, number] {
  if (x <= (g[0] as number)) return [g[0] as number, g[0] as number];
  const last = g[g.length - 1] as number;
  if (x >= last) return [last, last];
  let i = 1;
  while ((g[i] as number) < x) i++;
  return [g[i - 1] as number, g[i] as number];
}

function logWeight(lo: number, hi: number, x: number): number {
  return lo === hi ? 0 : (lg(x) - lg(lo)) / (lg(hi) - lg(lo));
}

/** GEMM latency lookup over a (m, n, k) grid. */
export class GemmModel {
  private readonly byNk = new Map<string, { m: number[]; ms: number[] }>();
  private readonly ns: number[];
  private readonly ks: number[];

  constructor(points: readonly GemmPoint[]) {
    if (points.length === 0) throw new Error('no GEMM rows');
    const groups = new Map<string, GemmPoint[]>();
    for (const p of points) {
      const key = `${p.n}x${p.k}`;
      const g = groups.get(key) ?? [];
      g.push(p);
      groups.set(key, g);
    }
    for (const [key, g] of groups) {
      g.sort((a, b) => a.m - b.m);
      this.byNk.set(key, { m: g.map((p) => lg(p.m)), ms: g.map((p) => p.ms) });
    }
    this.ns = grid(points.map((p) => p.n));
    this.ks = grid(points.map((p) => p.k));
  }

  /** ms of an (m x k) by (k x n) GEMM. */
  ms(m: number, n: number, k: number): number {
    const maxN = this.ns[this.ns.length - 1] as number;
    if (n > maxN) return (n / maxN) * this.ms(m, maxN, k);
    const [n0, n1] = bracket(this.ns, n);
    const [k0, k1] = bracket(this.ks, k);
    const fn = logWeight(n0, n1, n);
    const fk = logWeight(k0, k1, k);
    const at = (nn: number, kk: number) => lg(Math.max(1e-6, this.atGrid(m, nn, kk)));
    const low = at(n0, k0) * (1 - fn) + at(n1, k0) * fn;
    const high = at(n0, k1) * (1 - fn) + at(n1, k1) * fn;
    // sizes below the grid are clamped to it (such GEMMs cost a kernel launch)
    return 2 ** (low * (1 - fk) + high * fk);
  }

  private atGrid(m: number, n: number, k: number): number {
    const row = this.byNk.get(`${n}x${k}`);
    if (!row) throw new Error(`GEMM table has no n=${n}, k=${k}`);
    return interpolate(row.m, row.ms, lg(Math.max(1, m)));
  }
}

/** Attention latency lookup: per (heads, kvHeads) a grid over (batch, length). */
export class AttentionModel {
  private readonly byHeads = new Map<string, AttentionPoint[]>();
  private readonly combos: { heads: number; kvHeads: number }[] = [];

  constructor(points: readonly AttentionPoint[]) {
    if (points.length === 0) throw new Error('no attention rows');
    for (const p of points) {
      const key = `${p.heads}/${p.kvHeads}`;
      const g = this.byHeads.get(key);
      if (g) g.push(p);
      else {
        this.byHeads.set(key, [p]);
        this.combos.push({ heads: p.heads, kvHeads: p.kvHeads });
      }
    }
  }

  /**
   * ms of one layer's attention for `batch` sequences of `length` tokens with `heads` query and `kvHeads` KV
   * heads on this GPU. Without that head count in the table, the nearest measured pair with the same grouping is
   * scaled: decode by KV heads (it streams the KV cache), prefill by query heads (it is compute-bound).
   */
  ms(batch: number, length: number, heads: number, kvHeads: number, scaleBy: 'kv' | 'q'): number {
    const ref = this.nearest(heads, kvHeads);
    const pts = this.byHeads.get(`${ref.heads}/${ref.kvHeads}`) as AttentionPoint[];
    const scale = scaleBy === 'kv' ? kvHeads / ref.kvHeads : heads / ref.heads;
    return scale * gridLookup(pts, Math.max(1, batch), Math.max(1, length));
  }

  private nearest(heads: number, kvHeads: number): { heads: number; kvHeads: number } {
    let best = this.combos[0] as { heads: number; kvHeads: number };
    let bestD = Infinity;
    for (const c of this.combos) {
      const d = Math.abs(lg(c.heads / c.kvHeads) - lg(heads / kvHeads)) * 4 + Math.abs(lg(c.kvHeads / kvHeads));
      if (d < bestD) {
        best = c;
        bestD = d;
      }
    }
    return best;
  }
}

/** Bilinear interpolation in log batch and log length over a (possibly ragged) grid. */
function gridLookup(points: readonly AttentionPoint[], batch: number, length: number): number {
  const batches = grid(points.map((p) => p.batch));
  const [b0, b1] = bracket(batches, batch);
  const along = (b: number): number => {
    const row = points.filter((p) => p.batch === b).sort((x, y) => x.length - y.length);
    const xs = row.map((p) => lg(p.length));
    const ys = row.map((p) => p.ms);
    const maxLen = row[row.length - 1]?.length ?? 1;
    // beyond the longest measured length the cost grows in proportion (KV streamed or attention computed)
    if (length > maxLen) return (ys[ys.length - 1] as number) * (length / maxLen);
    return interpolate(xs, ys, lg(length));
  };
  const fb = logWeight(b0, b1, batch);
  const v0 = along(b0);
  const v1 = b1 === b0 ? v0 : along(b1);
  const lo = batches[0] as number;
  const scale = batch > (batches[batches.length - 1] as number) ? batch / (batches[batches.length - 1] as number) : 1;
  return (v0 * (1 - fb) + v1 * fb) * (batch < lo ? batch / lo : 1) * scale;
}

/** All-reduce latency by GPUs and message bytes (vLLM's custom all-reduce under CUDA graphs). */
export function allReduceMs(points: readonly AllReducePoint[], gpus: number, bytes: number): number {
  if (gpus <= 1) return 0;
  const counts = grid(points.map((p) => p.gpus));
  const g = counts.includes(gpus) ? gpus : (counts.find((c) => c >= gpus) ?? (counts[counts.length - 1] as number));
  const row = points.filter((p) => p.gpus === g).sort((a, b) => a.bytes - b.bytes);
  if (row.length === 0) return 0;
  return interpolate(
    row.map((p) => lg(p.bytes)),
    row.map((p) => p.ms),
    lg(Math.max(1, bytes)),
  );
}
