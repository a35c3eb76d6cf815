import type { AdapterSets } from './moves.js';

/**
 * Which GPU of `current` each GPU of `next` should continue so that the fewest adapters move: the
 * assignment that keeps the most adapters where they are (Hungarian method on the adapters two GPUs
 * share). Used for a placement made from scratch, whose GPU numbers say nothing about the last plan;
 * null for a GPU of `next` left over when it has more GPUs than `current`.
 */
export function alignGpus(current: AdapterSets, next: AdapterSets): (number | null)[] {
  const holders = new Map<string, number[]>();
  current.gpus.forEach((gpu, index) => {
    for (const a of gpu.adapters) (holders.get(a.id) ?? holders.set(a.id, []).get(a.id)!).push(index);
  });
  const size = Math.max(current.gpus.length, next.gpus.length);
  const shared = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  next.gpus.forEach((gpu, row) => {
    for (const a of gpu.adapters) for (const column of holders.get(a.id) ?? []) shared[row]![column]!++;
  });
  const columns = cheapestAssignment(shared.map((row) => row.map((n) => -n)));
  return next.gpus.map((_, row) => (columns[row]! < current.gpus.length ? columns[row]! : null));
}

/**
 * The column of each row in a minimum-cost perfect assignment of a square cost matrix (the Hungarian
 * method with potentials, O(n^3)).
 */
export function cheapestAssignment(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  // 1-based potentials and matching; column 0 is the virtual start of each augmenting path
  const rowPotential = new Array<number>(n + 1).fill(0);
  const columnPotential = new Array<number>(n + 1).fill(0);
  const rowOfColumn = new Array<number>(n + 1).fill(0);
  const via = new Array<number>(n + 1).fill(0);
  for (let row = 1; row <= n; row++) {
    rowOfColumn[0] = row;
    let column = 0;
    const slack = new Array<number>(n + 1).fill(Infinity);
    const visited = new Array<boolean>(n + 1).fill(false);
    do {
      visited[column] = true;
      const from = rowOfColumn[column]!;
      let delta = Infinity;
      let nextColumn = 0;
      for (let j = 1; j <= n; j++) {
        if (visited[j]) continue;
        const reduced = cost[from - 1]![j - 1]! - rowPotential[from]! - columnPotential[j]!;
        if (reduced < slack[j]!) {
          slack[j] = reduced;
          via[j] = column;
        }
        if (slack[j]! < delta) {
          delta = slack[j]!;
          nextColumn = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (visited[j]) {
          rowPotential[rowOfColumn[j]!]! += delta;
          columnPotential[j]! -= delta;
        } else slack[j]! -= delta;
      }
      column = nextColumn;
    } while (rowOfColumn[column] !== 0);
    do {
      const back = via[column]!;
      rowOfColumn[column] = rowOfColumn[back]!;
      column = back;
    } while (column !== 0);
  }
  const assignment = new Array<number>(n).fill(0);
  for (let j = 1; j <= n; j++) if (rowOfColumn[j]! > 0) assignment[rowOfColumn[j]! - 1] = j - 1;
  return assignment;
}
