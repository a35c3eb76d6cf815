/**
 * PyTorch's CUDA caching allocator, reduced to what decides how much GPU memory a set of long-lived tensors
 * reserves (c10/cuda/CUDACachingAllocator.cpp, default settings): sizes round up to 512 B; requests up to 1 MiB
 * are carved from 2 MiB segments, requests up to 10 MiB from 20 MiB segments, larger ones get a segment rounded
 * up to 2 MiB; a block is split when what remains is at least 512 B (small pool) or more than 1 MiB (large pool),
 * best fit first. vLLM 0.8's KV budget is total x utilization minus the torch peak minus non-torch memory, and
 * the holes of segments that hold live tensors count as non-torch memory: so what the weights and LoRA slots
 * cost is the segments they reserve, not their bytes.
 */
const MiB = 2 ** 20;
const minBlock = 512;
const smallSize = MiB;
const smallBuffer = 2 * MiB;
const largeBuffer = 20 * MiB;
const minLargeAlloc = 10 * MiB;
const roundLarge = 2 * MiB;

export class CachingAllocatorModel {
  /** bytes of all segments obtained from CUDA */
  reserved = 0;
  /** bytes of all live blocks (what torch.cuda.memory_allocated reports) */
  allocated = 0;
  private readonly smallFree: number[] = [];
  private readonly largeFree: number[] = [];

  /** Allocates a tensor of `bytes` that stays alive. */
  alloc(bytes: number): void {
    const size = Math.max(minBlock, Math.ceil(bytes / minBlock) * minBlock);
    const small = size <= smallSize;
    const free = small ? this.smallFree : this.largeFree;
    let block = takeBestFit(free, size);
    if (block === undefined) {
      block = small ? smallBuffer : size < minLargeAlloc ? largeBuffer : Math.ceil(size / roundLarge) * roundLarge;
      this.reserved += block;
    }
    const remaining = block - size;
    const split = small ? remaining >= minBlock : remaining > smallSize;
    if (split) free.push(remaining);
    this.allocated += split ? size : block;
  }
}

function takeBestFit(free: number[], size: number): number | undefined {
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const f = free[i] as number;
    if (f >= size && (best < 0 || f < (free[best] as number))) best = i;
  }
  if (best < 0) return undefined;
  const [block] = free.splice(best, 1);
  return block;
}
