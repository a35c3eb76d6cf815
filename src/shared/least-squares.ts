/**
 * Weighted linear least squares by the normal equations (the designs here have at most a dozen
 * columns). Returns coefficients and the residuals of every row.
 */
export interface LeastSquaresFit {
  coefficients: number[];
  residuals: number[];
  predictions: number[];
}

export function leastSquares(rows: number[][], targets: number[], weights?: number[]): LeastSquaresFit {
  const n = rows[0]?.length ?? 0;
  if (n === 0 || rows.length < n) throw new Error(`least squares needs at least ${n} rows, got ${rows.length}`);
  const a: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const b = new Array<number>(n).fill(0);
  rows.forEach((x, k) => {
    const w = weights?.[k] ?? 1;
    const y = targets[k] as number;
    for (let i = 0; i < n; i++) {
      const xi = x[i] as number;
      b[i] = (b[i] as number) + w * xi * y;
      const ai = a[i] as number[];
      for (let j = 0; j < n; j++) ai[j] = (ai[j] as number) + w * xi * (x[j] as number);
    }
  });
  const coefficients = solve(a, b);
  const predictions = rows.map((x) => x.reduce((s, xi, i) => s + xi * (coefficients[i] as number), 0));
  const residuals = predictions.map((p, k) => (targets[k] as number) - p);
  return { coefficients, residuals, predictions };
}

/** Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs((a[r] as number[])[col] as number) > Math.abs((a[pivot] as number[])[col] as number)) pivot = r;
    }
    [a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]];
    [b[col], b[pivot]] = [b[pivot] as number, b[col] as number];
    const rowC = a[col] as number[];
    const diag = rowC[col] as number;
    if (Math.abs(diag) < 1e-300) throw new Error('least squares: singular design (a column is constant or collinear)');
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const rowR = a[r] as number[];
      const f = (rowR[col] as number) / diag;
      if (f === 0) continue;
      for (let c = col; c < n; c++) rowR[c] = (rowR[c] as number) - f * (rowC[c] as number);
      b[r] = (b[r] as number) - f * (b[col] as number);
    }
  }
  return b.map((v, i) => v / ((a[i] as number[])[i] as number));
}

/** Root-mean-square of values. */
export function rms(values: number[]): number {
  if (values.length === 0) return 0;
  return Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
}

/**
 * Least squares with every coefficient >= 0 (active-set: drop the most negative column, refit).
 * Costs in a step-time model cannot be negative; a negative fit means the column is not supported.
 */
export function nonNegativeLeastSquares(rows: number[][], targets: number[], weights?: number[]): LeastSquaresFit {
  const n = rows[0]?.length ?? 0;
  const active = new Array<boolean>(n).fill(true);
  for (;;) {
    const cols = active.flatMap((a, i) => (a ? [i] : []));
    const fit = leastSquares(
      rows.map((r) => cols.map((c) => r[c] as number)),
      targets,
      weights,
    );
    let worst = -1;
    let worstValue = 0;
    fit.coefficients.forEach((v, k) => {
      if (v < worstValue) {
        worstValue = v;
        worst = cols[k] as number;
      }
    });
    if (worst < 0) {
      const full = new Array<number>(n).fill(0);
      cols.forEach((c, k) => {
        full[c] = fit.coefficients[k] as number;
      });
      return { coefficients: full, residuals: fit.residuals, predictions: fit.predictions };
    }
    active[worst] = false;
  }
}
