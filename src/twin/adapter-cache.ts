import { IndexedMinHeap } from './heaps.js';

/** What a load cost, so the caller can charge it to the step. */
export interface LoadCharge {
  gpuLoads: number;
  diskLoads: number;
  ms: number;
}

/**
 * Two-tier adapter residency as in vLLM's LRU worker manager: `gpuSlots` GPU slots (--max-loras) and a
 * CPU cache of `cpuSlots` adapters (--max-cpu-loras). Adapters in the running batch are never evicted;
 * among idle residents the least recently used goes first. Evicting from the CPU tier also drops the
 * adapter from its GPU slot, as vLLM's remove_adapter does.
 */
export class AdapterCache {
  private readonly onGpu: Uint8Array;
  private readonly onCpu: Uint8Array;
  private gpuCount = 0;
  private cpuCount = 0;
  /** LRU order of idle adapters: sequence number of when each last left the batch */
  private readonly lastUse: Int32Array;
  private useCounter = 0;
  private readonly idleOnGpu: IndexedMinHeap;
  private readonly idleOnCpu: IndexedMinHeap;
  gpuLoads = 0;
  diskLoads = 0;

  constructor(
    adapters: number,
    private readonly gpuSlots: number,
    private readonly cpuSlots: number,
    private readonly gpuLoadMs: (adapter: number) => number,
    private readonly diskLoadMs: (adapter: number) => number,
  ) {
    this.onGpu = new Uint8Array(adapters);
    this.onCpu = new Uint8Array(adapters);
    this.lastUse = new Int32Array(adapters);
    this.idleOnGpu = new IndexedMinHeap(adapters, this.lastUse);
    this.idleOnCpu = new IndexedMinHeap(adapters, this.lastUse);
  }

  /** The adapter's first request entered the batch: make it GPU resident; returns the load time (ms). */
  activate(adapter: number): number {
    this.idleOnGpu.remove(adapter);
    this.idleOnCpu.remove(adapter);
    let ms = 0;
    if (!this.onCpu[adapter]) {
      if (this.cpuCount >= this.cpuSlots) this.evictCpu();
      this.onCpu[adapter] = 1;
      this.cpuCount++;
      this.diskLoads++;
      ms += this.diskLoadMs(adapter);
    }
    if (!this.onGpu[adapter]) {
      if (this.gpuCount >= this.gpuSlots) this.evictGpu();
      this.onGpu[adapter] = 1;
      this.gpuCount++;
      this.gpuLoads++;
      ms += this.gpuLoadMs(adapter);
    }
    return ms;
  }

  /** The adapter's last running request left the batch: it becomes an eviction candidate. */
  release(adapter: number): void {
    this.lastUse[adapter] = ++this.useCounter;
    if (this.onGpu[adapter]) this.idleOnGpu.insert(adapter);
    if (this.onCpu[adapter]) this.idleOnCpu.insert(adapter);
  }

  /** Adapters held in the CPU tier (every GPU-resident adapter is also held there). */
  get heldAdapters(): number {
    return this.cpuCount;
  }

  isOnGpu(adapter: number): boolean {
    return this.onGpu[adapter] === 1;
  }

  private evictGpu(): void {
    const victim = this.idleOnGpu.top();
    if (victim < 0) throw new Error('adapter cache: every GPU slot is in use by the batch');
    this.idleOnGpu.remove(victim);
    this.onGpu[victim] = 0;
    this.gpuCount--;
  }

  private evictCpu(): void {
    const victim = this.idleOnCpu.top();
    if (victim < 0) throw new Error('adapter cache: every CPU slot is in use by the batch');
    this.idleOnCpu.remove(victim);
    this.onCpu[victim] = 0;
    this.cpuCount--;
    if (this.onGpu[victim]) {
      this.idleOnGpu.remove(victim);
      this.onGpu[victim] = 0;
      this.gpuCount--;
    }
  }
}
