import type { Placement } from './placement.js';

/**
 * Each adapter's rate as the placement was planned for it: its shares on every GPU plus what was left
 * unplaced. The current placement is the record of the last plan, so a re-plan compares against this.
 */
export function plannedRates(placement: Pick<Placement, 'gpus' | 'unplaced'>): Map<string, number> {
  const rates = new Map<string, number>();
  const add = (id: string, rate: number): void => void rates.set(id, (rates.get(id) ?? 0) + rate);
  for (const gpu of placement.gpus) for (const adapter of gpu.adapters) add(adapter.id, adapter.rate);
  for (const left of placement.unplaced) add(left.id, left.rate);
  return rates;
}
