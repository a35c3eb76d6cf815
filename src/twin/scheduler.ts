import type { AdapterCache } from './adapter-cache.js';
import type { KvBlocks } from './kv-blocks.js';
import type { Metrics } from './metrics.js';
import { RequestState, type RequestTable } from './request-table.js';
import type { RunningBatch } from './running-batch.js';
import type { ResolvedEngine } from './scenario.js';
import type { WaitingQueue } from './waiting-queue.js';

/** What the scheduler decided for one step. Reused between steps (no allocation per step). */
export class StepPlan {
  decodes = 0;
  prefillTokens = 0;
  /** requests computing prompt tokens this step, and how many */
  prefillIds = new Int32Array(64);
  prefillChunks = new Int32Array(64);
  prefillCount = 0;
  admitted = 0;
  preempted = 0;
  /** waiting requests the scan passed over because their adapter would exceed --max-loras */
  skipped = 0;
  loadMs = 0;

  reset(): void {
    this.decodes = 0;
    this.prefillTokens = 0;
    this.prefillCount = 0;
    this.admitted = 0;
    this.preempted = 0;
    this.skipped = 0;
    this.loadMs = 0;
  }

  addPrefill(id: number, chunk: number): void {
    if (this.prefillCount === this.prefillIds.length) {
      const ids = new Int32Array(this.prefillCount * 2);
      ids.set(this.prefillIds);
      this.prefillIds = ids;
      const ch = new Int32Array(this.prefillCount * 2);
      ch.set(this.prefillChunks);
      this.prefillChunks = ch;
    }
    this.prefillIds[this.prefillCount] = id;
    this.prefillChunks[this.prefillCount++] = chunk;
    this.prefillTokens += chunk;
  }

  /** Same decoders as the previous step and nothing else: eligible for fast-forward. */
  get decodeOnly(): boolean {
    return (
      this.prefillCount === 0 && this.admitted === 0 && this.preempted === 0 && this.loadMs === 0 && this.decodes > 0
    );
  }
}

/**
 * vLLM V1's scheduling policy for one step:
 * 1. running requests first, in admission order: each decoder takes one token of the budget, the
 *    request mid-prefill (the tail) takes min(remaining prompt, budget left). When the KV blocks they
 *    need exceed the free blocks, the most recently admitted request is preempted (recompute from zero,
 *    back to the front of the waiting queue) until the rest fit;
 * 2. if nothing was preempted, waiting requests in FCFS order while budget, max_num_seqs and KV allow;
 *    a request whose adapter would push the batch over --max-loras is skipped and the scan goes on. A
 *    base-model request needs no slot: it is never skipped (the waiting queue counts it as in the batch).
 */
export class V1Scheduler {
  readonly plan = new StepPlan();

  constructor(
    private readonly req: RequestTable,
    private readonly batch: RunningBatch,
    private readonly waiting: WaitingQueue,
    private readonly cache: AdapterCache,
    private readonly kv: KvBlocks,
    private readonly metrics: Metrics,
    private readonly engine: ResolvedEngine,
    private readonly onPreempt?: (id: number, adapter: number, atS: number) => void,
    /** index of the base model's requests (-1: none): they need no slot and load nothing */
    private readonly baseAdapter = -1,
  ) {}

  schedule(now: number): StepPlan {
    const plan = this.plan;
    plan.reset();
    const budgetLeft = this.scheduleRunning(now, plan);
    if (plan.preempted === 0) this.scheduleWaiting(plan, budgetLeft);
    return plan;
  }

  private target(id: number): number {
    return this.req.prompt[id]! + this.req.generated[id]!;
  }

  private scheduleRunning(now: number, plan: StepPlan): number {
    const { batch, req, kv } = this;
    const budget = this.engine.maxNumBatchedTokens;
    let decodes = batch.decoders;
    let decodeBlocks = batch.blocksNeeded();
    let tail = batch.prefillTail;
    let tailChunk = 0;
    let tailBlocks = 0;
    if (tail >= 0) {
      const computed = req.computed[tail]!;
      tailChunk = Math.min(this.target(tail) - computed, budget - decodes);
      tailBlocks = tailChunk > 0 ? kv.blocksFor(computed + tailChunk) - req.blocks[tail]! : 0;
    }
    while (decodeBlocks + tailBlocks > kv.free && batch.count > 0) {
      const victim = batch.tail;
      if (victim === tail) {
        tail = -1;
        tailChunk = 0;
        tailBlocks = 0;
      } else {
        if (batch.needsBlockNow(victim)) decodeBlocks--;
        decodes--;
      }
      this.preempt(victim, now);
      plan.preempted++;
    }
    kv.allocate(decodeBlocks + tailBlocks);
    plan.decodes = decodes;
    if (tailChunk > 0) {
      req.blocks[tail] = req.blocks[tail]! + tailBlocks;
      plan.addPrefill(tail, tailChunk);
    }
    return budget - decodes - tailChunk;
  }

  private preempt(id: number, now: number): void {
    const { req, batch } = this;
    let freed: number;
    if (req.state[id] === RequestState.Decoding) {
      freed = batch.removeDecoder(id);
      // its last token was streamed at the end of the previous step, i.e. now
      req.lastTokenTime[id] = now;
    } else {
      freed = req.blocks[id]!;
    }
    batch.unlink(id);
    this.kv.release(freed);
    req.state[id] = RequestState.Waiting;
    req.computed[id] = 0;
    req.blocks[id] = 0;
    this.waiting.pushFront(id);
    this.metrics.preemptions++;
    this.onPreempt?.(id, req.adapter[id]!, now);
  }

  private scheduleWaiting(plan: StepPlan, budget: number): void {
    const { batch, waiting, req, engine } = this;
    const front = waiting.front;
    let stopped = false;
    for (let i = front.length - 1; i >= 0; i--) {
      if (batch.count >= engine.maxNumSeqs || budget <= 0) {
        stopped = true;
        break;
      }
      const id = front[i]!;
      if (this.slotsFullFor(req.adapter[id]!)) {
        plan.skipped++;
        continue;
      }
      const chunk = Math.min(this.target(id), budget);
      const blocks = this.kv.blocksFor(chunk);
      if (blocks > this.kv.free) {
        stopped = true;
        break;
      }
      front.splice(i, 1);
      this.place(id, chunk, blocks, plan);
      budget -= chunk;
    }
    if (stopped) return;
    let lastExamined = -1;
    let exhausted = false;
    for (;;) {
      if (batch.count >= engine.maxNumSeqs || budget <= 0) break;
      const full = batch.activeAdapters >= engine.maxLoras;
      const adapter = (full ? waiting.inBatch : waiting.all).top();
      if (adapter < 0) {
        exhausted = full;
        break;
      }
      const id = waiting.headId[adapter]!;
      lastExamined = id;
      const chunk = Math.min(this.target(id), budget);
      const blocks = this.kv.blocksFor(chunk);
      if (blocks > this.kv.free) break;
      waiting.popHead(adapter);
      this.place(id, chunk, blocks, plan);
      budget -= chunk;
    }
    if (batch.activeAdapters >= engine.maxLoras) {
      if (exhausted) plan.skipped += waiting.fifoCount;
      else if (lastExamined >= 0) plan.skipped += waiting.countAhead(lastExamined);
    }
  }

  private slotsFullFor(adapter: number): boolean {
    return (
      this.batch.activeAdapters >= this.engine.maxLoras &&
      adapter !== this.baseAdapter &&
      !this.batch.isRunning(adapter)
    );
  }

  private place(id: number, chunk: number, blocks: number, plan: StepPlan): void {
    const { req, batch } = this;
    const adapter = req.adapter[id]!;
    if (adapter !== this.baseAdapter && !batch.isRunning(adapter)) plan.loadMs += this.cache.activate(adapter);
    req.state[id] = RequestState.Prefilling;
    req.computed[id] = 0;
    req.blocks[id] = blocks;
    this.kv.allocate(blocks);
    batch.append(id);
    if (chunk < this.target(id)) batch.setPrefillTail(id);
    plan.addPrefill(id, chunk);
    plan.admitted++;
  }
}
