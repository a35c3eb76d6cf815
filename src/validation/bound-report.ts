import { loadRegimes, type BoundEstimator, type BoundedFigure, type LatencyBoundFactors } from '../twin/index.js';
import type { BoundScore } from './bound-calibration.js';

/** Left-aligned text columns, then right-aligned ones: one table row. */
const row = (left: [string, number][], right: [string, number][] = []): string =>
  left.map(([t, w]) => t.padEnd(w)).join('') + right.map(([t, w]) => t.padStart(w)).join('');

const figureNames: Record<BoundedFigure, string> = { ttftP99: 'p99 TTFT', itlP99: 'p99 ITL', ttftMean: 'mean TTFT' };

/** The factors per estimator, model and regime, with the runs each was fitted on. */
export function formatFactors(f: LatencyBoundFactors): string {
  const lines = [
    `Factors (bound = estimate x factor; ${f.coverage * 100} % split-conformal on log(real / estimate))`,
    row([
      ['estimator', 10],
      ['model', 24],
      ['regime', 11],
      ['p99 TTFT', 16],
      ['p99 ITL', 16],
      ['mean TTFT', 16],
    ]),
  ];
  for (const estimator of ['twin', 'students'] as const)
    for (const [model, byRegime] of Object.entries(f[estimator]))
      for (const regime of loadRegimes) {
        const cell = (figure: BoundedFigure): [string, number] => {
          const c = byRegime[regime][figure];
          return [`x${c.factor.toFixed(2)} (${c.runs}${c.pooled ? ' p' : ''})`, 16];
        };
        lines.push(
          row([[estimator, 10], [model, 24], [regime, 11], cell('ttftP99'), cell('itlP99'), cell('ttftMean')]),
        );
      }
  lines.push('(n): runs the factor was fitted on; p: too few in its cell, pooled (docs/bounds.md)');
  return lines.join('\n');
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '-');
const ratio = (x: number): string => (Number.isFinite(x) ? `x${x.toFixed(2)}` : '-');
const scoreColumns = (s: BoundScore | undefined, runsWidth: number): [string, number][] => [
  [String(s?.runs ?? 0), runsWidth],
  [pct(s?.coverage ?? Number.NaN), 10],
  [ratio(s?.medianBoundOverReal ?? Number.NaN), 12],
];

/** Coverage and median bound / real per model and figure: leave-one-workload-out, and the scored file's. */
export function formatScores(
  estimator: BoundEstimator,
  lowo: BoundScore[],
  validation: BoundScore[],
  validationFile: string | null,
): string {
  const scored = validationFile !== null;
  const head: [string, number][] = [
    ['runs', 5],
    ['coverage', 10],
    ['bound/real', 12],
  ];
  const lines = [
    `${estimator === 'twin' ? 'Twin' : 'Students'}: leave-one-workload-out on the fit runs` +
      (scored ? `; ${validationFile} scored with the factors above` : ''),
    row(
      [
        ['model', 24],
        ['figure', 11],
      ],
      scored ? [...head, ['runs', 7], ['coverage', 10], ['bound/real', 12]] : head,
    ),
  ];
  for (const s of lowo) {
    const v = validation.find((x) => x.model === s.model && x.figure === s.figure);
    lines.push(
      row(
        [
          [s.model, 24],
          [figureNames[s.figure], 11],
        ],
        [...scoreColumns(s, 5), ...(scored ? scoreColumns(v, 7) : [])],
      ),
    );
  }
  return lines.join('\n');
}
