import { quantileSorted } from '../shared/stats.js';

/** What a benchmark reports about a run, as `vllm bench serve` computes it. */
export interface RunFigures {
  ttftMeanMs: number;
  ttftP50Ms: number;
  ttftP90Ms: number;
  /** over every gap between streamed tokens */
  itlMeanMs: number;
  /** null when the run recorded only first and last tokens */
  itlP50Ms: number | null;
  /** per request: (last token - first token) / (output - 1), averaged */
  tpotMeanMs: number;
  /** output tokens / (last token of the run - first arrival) */
  outputTokensPerS: number;
}

export const figureLabels: Record<keyof RunFigures, string> = {
  ttftMeanMs: 'TTFT mean',
  ttftP50Ms: 'TTFT p50',
  ttftP90Ms: 'TTFT p90',
  itlMeanMs: 'ITL mean',
  itlP50Ms: 'ITL p50',
  tpotMeanMs: 'TPOT mean',
  outputTokensPerS: 'output tok/s',
};

export interface TimedResult {
  arrivalS: number;
  firstTokenS: number;
  lastTokenS: number;
  tokenTimes: Float64Array | null;
  output: number;
}

/** The figures of completed requests (measured or simulated alike), or null when none completed. */
export function figuresOf(requests: readonly TimedResult[]): RunFigures | null {
  if (requests.length === 0) return null;
  const ttfts = Float64Array.from(requests, (r) => (r.firstTokenS - r.arrivalS) * 1000).sort();
  const timed = requests.every((r) => r.tokenTimes !== null);
  let decodeS = 0;
  let gaps = 0;
  let tpotSum = 0;
  let tpotCount = 0;
  let output = 0;
  let start = Infinity;
  let end = -Infinity;
  for (const r of requests) {
    output += r.output;
    start = Math.min(start, r.arrivalS);
    end = Math.max(end, r.lastTokenS);
    if (r.output > 1) {
      tpotSum += ((r.lastTokenS - r.firstTokenS) * 1000) / (r.output - 1);
      tpotCount++;
    }
    decodeS += r.lastTokenS - r.firstTokenS;
    gaps += timed ? r.tokenTimes!.length - 1 : r.output - 1;
  }
  return {
    ttftMeanMs: ttfts.reduce((s, v) => s + v, 0) / ttfts.length,
    ttftP50Ms: quantileSorted(ttfts, 0.5),
    ttftP90Ms: quantileSorted(ttfts, 0.9),
    itlMeanMs: gaps > 0 ? (decodeS * 1000) / gaps : 0,
    itlP50Ms: timed && gaps > 0 ? medianGapMs(requests, gaps) : null,
    tpotMeanMs: tpotCount > 0 ? tpotSum / tpotCount : 0,
    outputTokensPerS: end > start ? output / (end - start) : 0,
  };
}

function medianGapMs(requests: readonly TimedResult[], count: number): number {
  const all = new Float64Array(count);
  let at = 0;
  for (const r of requests) {
    const t = r.tokenTimes!;
    for (let k = 1; k < t.length; k++) all[at++] = (t[k]! - t[k - 1]!) * 1000;
  }
  return quantileSorted(all.sort(), 0.5);
}
