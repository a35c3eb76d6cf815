/**
 * Split-conformal upper quantile: with n calibration scores exchangeable with a new one, the
 * ceil((n + 1) x coverage)-th smallest score bounds the new score with probability >= coverage. The +1 is the
 * finite-sample correction (the new score is one of n + 1); with too few scores no finite quantile guarantees
 * the coverage, and the answer is Infinity.
 */
export function conformalQuantile(scores: readonly number[], coverage: number): number {
  const n = scores.length;
  const k = Math.ceil((n + 1) * coverage - 1e-9);
  if (k > n) return Infinity;
  const sorted = [...scores].sort((a, b) => a - b);
  return sorted[k - 1]!;
}

/** The fewest scores for which conformalQuantile is finite at this coverage (9 at 90 %). */
export function minConformalScores(coverage: number): number {
  let n = 1;
  while (Math.ceil((n + 1) * coverage - 1e-9) > n) n++;
  return n;
}
