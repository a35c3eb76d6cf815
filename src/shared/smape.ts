/**
 * Symmetric mean absolute percentage error. The research papers drop the factor 2 (range 0-100 %);
 * the standard definition keeps it (0-200 %). Both are reported; pairs with y = yhat = 0 count as 0.
 */
export function smapeResearch(actual: number[], predicted: number[]): number {
  if (actual.length === 0) return NaN;
  let sum = 0;
  actual.forEach((y, i) => {
    const p = predicted[i]!;
    const denom = Math.abs(y) + Math.abs(p);
    sum += denom === 0 ? 0 : Math.abs(y - p) / denom;
  });
  return (100 * sum) / actual.length;
}

export function smapeStandard(actual: number[], predicted: number[]): number {
  return 2 * smapeResearch(actual, predicted);
}
