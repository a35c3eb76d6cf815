import { CountTree, IndexedMinHeap } from './heaps.js';
import { adapterKey } from './metrics-scrapes.js';
import type { RequestTable } from './request-table.js';

const none = 0x7fffffff;
/** salt of the waiting set's adapter keys (the running set's is another) */
export const waitingSalt = 0x5bd1e995;

/**
 * vLLM's FCFS waiting queue, organised so that its skip-and-continue scan is cheap:
 * - preempted requests sit at the front (most recently preempted first), as vLLM's appendleft does;
 * - arrived requests are kept in one FIFO per adapter; request ids grow with arrival order, so the
 *   global FCFS head is the adapter FIFO head with the smallest id (heap `all`);
 * - once the adapter slots are full only adapters already in the batch may be admitted (heap `inBatch`);
 * - a Fenwick tree counts waiting ids, so "how many requests did the scan skip" is one query.
 */
export class WaitingQueue {
  /** preempted requests; the LAST element is the first in line */
  readonly front: number[] = [];
  readonly headId: Int32Array;
  private readonly tailId: Int32Array;
  readonly all: IndexedMinHeap;
  readonly inBatch: IndexedMinHeap;
  private readonly tree = new CountTree();
  /** arrived (never admitted) requests waiting */
  fifoCount = 0;
  /** XOR of adapterKey over the adapters with arrived requests waiting (vLLM's waiting_lora_adapters) */
  adapterSetKey = 0;
  /** adapters with arrived requests waiting */
  adapterSetSize = 0;

  constructor(
    private readonly req: RequestTable,
    adapters: number,
    private readonly isInBatch: (adapter: number) => boolean,
  ) {
    this.headId = new Int32Array(adapters).fill(none);
    this.tailId = new Int32Array(adapters).fill(-1);
    this.all = new IndexedMinHeap(adapters, this.headId);
    this.inBatch = new IndexedMinHeap(adapters, this.headId);
  }

  get size(): number {
    return this.fifoCount + this.front.length;
  }

  pushArrival(id: number): void {
    const a = this.req.adapter[id]!;
    this.req.waitNext[id] = -1;
    if (this.headId[a] === none) {
      this.adapterSetKey ^= adapterKey(a, waitingSalt);
      this.adapterSetSize++;
      this.headId[a] = id;
      this.tailId[a] = id;
      this.all.insert(a);
      if (this.isInBatch(a)) this.inBatch.insert(a);
    } else {
      this.req.waitNext[this.tailId[a]!] = id;
      this.tailId[a] = id;
    }
    this.tree.add(id, 1);
    this.fifoCount++;
  }

  /** Removes the FIFO head of `adapter` (the caller admits it). */
  popHead(adapter: number): number {
    const id = this.headId[adapter]!;
    const next = this.req.waitNext[id]!;
    if (next < 0) {
      this.adapterSetKey ^= adapterKey(adapter, waitingSalt);
      this.adapterSetSize--;
      this.headId[adapter] = none;
      this.tailId[adapter] = -1;
      this.all.remove(adapter);
      this.inBatch.remove(adapter);
    } else {
      this.headId[adapter] = next;
      this.all.update(adapter);
      this.inBatch.update(adapter);
    }
    this.tree.add(id, -1);
    this.fifoCount--;
    return id;
  }

  pushFront(id: number): void {
    this.front.push(id);
  }

  /** The adapter got its first running request: its waiting requests become admissible with full slots. */
  adapterEnteredBatch(adapter: number): void {
    if (this.headId[adapter] !== none && !this.inBatch.has(adapter)) this.inBatch.insert(adapter);
  }

  adapterLeftBatch(adapter: number): void {
    this.inBatch.remove(adapter);
  }

  /** Arrived requests still waiting whose id is below `id` (ahead of it in FCFS order). */
  countAhead(id: number): number {
    return this.tree.countBelow(id);
  }
}
