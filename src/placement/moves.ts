import type { PlacementMoves } from './placement.js';

/** What moves are counted on: each GPU's adapter ids. */
export interface AdapterSets {
  gpus: readonly { adapters: readonly { id: string }[] }[];
}

/**
 * The moves from `current` to `next`, where `previous[g]` is the GPU of `current` that GPU g of `next`
 * continues (null: a new GPU). An adapter on a GPU that did not hold it is an addition (a cold load and
 * a routing change); one gone from a GPU is a removal. An adapter's share that only changes its rate on
 * a GPU that already held it is neither.
 */
export function movesBetween(
  current: AdapterSets,
  next: AdapterSets,
  previous: readonly (number | null)[],
): PlacementMoves {
  const idsOf = (gpu: { adapters: readonly { id: string }[] } | undefined): Set<string> =>
    new Set(gpu?.adapters.map((a) => a.id) ?? []);
  const added: PlacementMoves['added'] = [];
  next.gpus.forEach((gpu, index) => {
    const before = idsOf(previous[index] === null ? undefined : current.gpus[previous[index]!]);
    const loaded = [...idsOf(gpu)].filter((id) => !before.has(id));
    if (loaded.length > 0) added.push({ gpu: index, adapters: loaded });
  });
  const successor = new Map(previous.flatMap((p, index) => (p === null ? [] : [[p, index] as const])));
  const removed: PlacementMoves['removed'] = [];
  current.gpus.forEach((gpu, index) => {
    const after = successor.get(index);
    const kept = idsOf(after === undefined ? undefined : next.gpus[after]);
    const dropped = [...idsOf(gpu)].filter((id) => !kept.has(id));
    if (dropped.length > 0) removed.push({ gpu: index, adapters: dropped });
  });
  return {
    added,
    removed,
    gpuMap: next.gpus.map((_, gpu) => ({ gpu, previous: previous[gpu] ?? null })),
    count: added.reduce((n, a) => n + a.adapters.length, 0),
  };
}
