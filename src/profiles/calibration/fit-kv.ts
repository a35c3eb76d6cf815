import { num, type CsvRow } from '../../shared/csv.js';
import { leastSquares, rms } from '../../shared/least-squares.js';
import type { KvRankCurve, Profile } from '../schema.js';
import type { MeasurementTables } from './tables.js';

/** Per-rank KV capacity curves from the start-up probes (KV tokens logged by vLLM, or the failure). */
export function fitKvCapacity(tables: MeasurementTables, model: string): Profile['kvCapacity'] {
  const rows = tables.rows('kvTable').filter((r) => r.model === model);
  const ranks = [...new Set(rows.map((r) => num(r, 'max_lora_rank')).filter((v): v is number => v !== null))].sort(
    (a, b) => a - b,
  );
  const residuals: number[] = [];
  const curves: KvRankCurve[] = ranks.map((rank) => {
    const atRank = rows.filter((r) => num(r, 'max_lora_rank') === rank);
    const points = atRank
      .filter((r) => r.status === 'ok' && num(r, 'kv_cache_tokens') !== null)
      .map((r) => ({ slots: num(r, 'A_max_max_loras') as number, tokens: num(r, 'kv_cache_tokens') as number }))
      .sort((a, b) => a.slots - b.slots);
    const failures = atRank
      .filter((r) => r.status !== 'ok')
      .map((r: CsvRow) => ({ slots: num(r, 'A_max_max_loras') as number, status: r.status ?? 'error' }))
      .sort((a, b) => a.slots - b.slots);
    let tokensPerSlot: number;
    if (points.length >= 2) {
      const fit = leastSquares(
        points.map((p) => [1, p.slots]),
        points.map((p) => p.tokens),
      );
      tokensPerSlot = -(fit.coefficients[1] as number);
      residuals.push(...fit.residuals);
    } else {
      // one point: slot cost proportional to rank, from the closest other rank is not available here
      tokensPerSlot = 50 * rank;
    }
    return { rank, points, tokensPerSlot: Math.max(1e-6, tokensPerSlot), failures };
  });
  return {
    ranks: curves.filter((c) => c.points.length > 0),
    fit: {
      source: [tables.file('kvTable')],
      rows: rows.length,
      rmsError: rms(residuals),
      unit: 'KV tokens',
      note:
        'Interpolation: piecewise linear in slots between measured points of a rank; outside them, linear with the ' +
        "rank's least-squares tokensPerSlot (the rmsError is that line's residual); between ranks, linear in rank; " +
        'beyond the measured ranks, slot cost proportional to rank. Memory error when KV < maxModelLen.',
    },
  };
}
