/**
 * The GPU's KV cache as vLLM's block pool: `total` blocks of `blockSize` tokens, the ones not held by
 * running requests free. The scheduler and the engine take and give back blocks only through it.
 */
export class KvBlocks {
  readonly total: number;
  private freeBlocks: number;

  constructor(
    kvCacheTokens: number,
    readonly blockSize: number,
  ) {
    this.total = Math.floor(kvCacheTokens / blockSize);
    this.freeBlocks = this.total;
  }

  /** Blocks no request holds. */
  get free(): number {
    return this.freeBlocks;
  }

  /** Blocks held by running requests. */
  get used(): number {
    return this.total - this.freeBlocks;
  }

  /** Blocks needed to hold `tokens` tokens. */
  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.blockSize);
  }

  /** Takes `blocks` free blocks (the caller has checked that they fit). */
  allocate(blocks: number): void {
    this.freeBlocks -= blocks;
  }

  /** Gives back `blocks` blocks of a finished or preempted request. */
  release(blocks: number): void {
    this.freeBlocks += blocks;
  }
}
