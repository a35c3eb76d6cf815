import { KeyedMinHeap } from './heaps.js';
import { RequestState, type RequestTable } from './request-table.js';

/**
 * The running requests in admission order (vLLM's `self.running`), plus decode bookkeeping that
 * costs O(1) per step however large the batch:
 * - every decoder advances one token per step, so a decoder's output count is
 *   `decodeCounter - decodeBase[id]` and nothing is updated per request per step;
 * - a decoder needs a new 16-token KV block when its computed tokens hit a multiple of 16; decoders are
 *   bucketed by that phase, so the blocks needed this step are one array read;
 * - completions come off a min-heap keyed by the decode counter at which a decoder finishes.
 * At most one request is mid-prefill, and it is the tail: a prompt is only cut into chunks when it
 * exhausts the token budget, so nothing can be admitted after it until it completes.
 */
export class RunningBatch {
  private headId = -1;
  private tailId = -1;
  private running = 0;
  private decoding = 0;
  private decodeSteps = 0;
  /** request mid-prefill (always the tail), or -1 */
  private prefillTailId = -1;
  private readonly phaseBuckets: Int32Array;
  /** sum over decoders of (prompt - decodeBase): context tokens = this + decoders * decodeCounter */
  private contextOffset = 0;
  private readonly finishHeap = new KeyedMinHeap();
  private readonly runningPerAdapter: Int32Array;
  private adaptersRunning = 0;
  /** decoders of each adapter, and the adapters with at least one (compact, for per-adapter gap accounting) */
  private readonly decodersPerAdapter: Int32Array;
  private readonly decodingAdapters: Int32Array;
  private decodingAdapterTotal = 0;
  private readonly decodingPosition: Int32Array;

  constructor(
    private readonly req: RequestTable,
    adapters: number,
    private readonly blockSize: number,
    private readonly onAdapterActive: (adapter: number) => void,
    private readonly onAdapterIdle: (adapter: number) => void,
    /** keep decodersPerAdapter / decodingAdapters (per-adapter reports only: it costs a little per request) */
    private readonly countsDecodersPerAdapter = false,
    /** index of the base model's requests (-1: none): they hold no adapter slot */
    private readonly baseAdapter = -1,
  ) {
    this.runningPerAdapter = new Int32Array(adapters);
    this.decodersPerAdapter = new Int32Array(adapters);
    this.decodingAdapters = new Int32Array(adapters);
    this.decodingPosition = new Int32Array(adapters).fill(-1);
    this.phaseBuckets = new Int32Array(blockSize);
  }

  /** Oldest running request (first in admission order), or -1. */
  get head(): number {
    return this.headId;
  }

  /** Most recently admitted running request (the first to be preempted), or -1. */
  get tail(): number {
    return this.tailId;
  }

  /** Running requests. */
  get count(): number {
    return this.running;
  }

  /** Running requests past their prompt, decoding one token per step. */
  get decoders(): number {
    return this.decoding;
  }

  /** Decode steps run so far: a decoder's output count is this minus its decodeBase. */
  get decodeCounter(): number {
    return this.decodeSteps;
  }

  /** Request mid-prefill (always the tail), or -1. */
  get prefillTail(): number {
    return this.prefillTailId;
  }

  /** Adapters with at least one running request (the --max-loras slots in use; the base model is none). */
  get activeAdapters(): number {
    return this.adaptersRunning;
  }

  /** Adapters with at least one decoder (kept only with per-adapter counting). */
  get decodingAdapterCount(): number {
    return this.decodingAdapterTotal;
  }

  /** The `k`-th adapter with a decoder, 0 <= k < decodingAdapterCount. */
  decodingAdapter(k: number): number {
    return this.decodingAdapters[k]!;
  }

  /** Decoders of `adapter` (kept only with per-adapter counting). */
  decodersOf(adapter: number): number {
    return this.decodersPerAdapter[adapter]!;
  }

  /** Does `adapter` have a running request (i.e. hold a --max-loras slot, unless it is the base model)? */
  isRunning(adapter: number): boolean {
    return this.runningPerAdapter[adapter]! > 0;
  }

  /** `steps` decode steps ran: every decoder produced one token per step. */
  advanceDecodes(steps: number): void {
    this.decodeSteps += steps;
  }

  /** `id`, just admitted at the tail, gets only part of its prompt this step: it is the batch's prefill tail. */
  setPrefillTail(id: number): void {
    this.prefillTailId = id;
  }

  /** `id` computed the last chunk of its prompt: if it was the prefill tail, nothing is mid-prefill any more. */
  prefillDone(id: number): void {
    if (this.prefillTailId === id) this.prefillTailId = -1;
  }

  /** A decoder that has produced all its tokens by the current decode counter (removed from the heap), or -1. */
  popFinished(): number {
    if (this.nextFinishKey() > this.decodeSteps) return -1;
    const id = this.finishHeap.topId();
    this.finishHeap.pop();
    return id;
  }

  /** Appends a newly admitted request at the tail of the running list. */
  append(id: number): void {
    const r = this.req;
    r.prev[id] = this.tailId;
    r.next[id] = -1;
    if (this.tailId >= 0) r.next[this.tailId] = id;
    else this.headId = id;
    this.tailId = id;
    this.running++;
    const a = r.adapter[id]!;
    const before = this.runningPerAdapter[a]!;
    this.runningPerAdapter[a] = before + 1;
    if (before === 0 && a !== this.baseAdapter) {
      this.adaptersRunning++;
      this.onAdapterActive(a);
    }
  }

  /** Removes a request from the running list (finished or preempted). */
  unlink(id: number): void {
    const r = this.req;
    const p = r.prev[id]!;
    const n = r.next[id]!;
    if (p >= 0) r.next[p] = n;
    else this.headId = n;
    if (n >= 0) r.prev[n] = p;
    else this.tailId = p;
    this.running--;
    if (this.prefillTailId === id) this.prefillTailId = -1;
    const a = r.adapter[id]!;
    const after = this.runningPerAdapter[a]! - 1;
    this.runningPerAdapter[a] = after;
    if (after === 0 && a !== this.baseAdapter) {
      this.adaptersRunning--;
      this.onAdapterIdle(a);
    }
  }

  /** A request whose (re)prefill just completed starts decoding with the next step. */
  addDecoder(id: number): void {
    const r = this.req;
    const base = this.decodeSteps - r.generated[id]!;
    r.decodeBase[id] = base;
    r.state[id] = RequestState.Decoding;
    const phase = phaseOf(r.prompt[id]! - base - 1, this.blockSize);
    this.phaseBuckets[phase] = this.phaseBuckets[phase]! + 1;
    this.contextOffset += r.prompt[id]! - base;
    this.decoding++;
    if (this.countsDecodersPerAdapter) this.countDecoder(r.adapter[id]!, 1);
    this.finishHeap.push(base + r.output[id]!, id);
  }

  /** Stops tracking a decoder; returns the KV blocks it held. */
  removeDecoder(id: number): number {
    const r = this.req;
    const base = r.decodeBase[id]!;
    r.generated[id] = this.decodeSteps - base;
    const phase = phaseOf(r.prompt[id]! - base - 1, this.blockSize);
    this.phaseBuckets[phase] = this.phaseBuckets[phase]! - 1;
    this.contextOffset -= r.prompt[id]! - base;
    this.decoding--;
    if (this.countsDecodersPerAdapter) this.countDecoder(r.adapter[id]!, -1);
    return Math.ceil(this.computedOf(id) / this.blockSize);
  }

  private countDecoder(adapter: number, delta: 1 | -1): void {
    const n = this.decodersPerAdapter[adapter]! + delta;
    this.decodersPerAdapter[adapter] = n;
    if (delta === 1 && n === 1) {
      this.decodingPosition[adapter] = this.decodingAdapterTotal;
      this.decodingAdapters[this.decodingAdapterTotal++] = adapter;
    } else if (n === 0) {
      // swap-remove: the last listed adapter takes this one's place
      const at = this.decodingPosition[adapter]!;
      const last = this.decodingAdapters[--this.decodingAdapterTotal]!;
      this.decodingAdapters[at] = last;
      this.decodingPosition[last] = at;
      this.decodingPosition[adapter] = -1;
    }
  }

  /** KV tokens stored for a decoder (its prompt and all but the last sampled token). */
  computedOf(id: number): number {
    const r = this.req;
    return r.prompt[id]! + (this.decodeSteps - r.decodeBase[id]!) - 1;
  }

  /** Decoders that cross into a new KV block in the step `stepsAhead` steps from now. */
  blocksNeeded(stepsAhead = 0): number {
    return this.phaseBuckets[(this.blockSize - ((this.decodeSteps + stepsAhead) % this.blockSize)) % this.blockSize]!;
  }

  /** Does this decoder need a new block in the coming step? */
  needsBlockNow(id: number): boolean {
    return this.computedOf(id) % this.blockSize === 0;
  }

  contextTokens(): number {
    return this.contextOffset + this.decoding * this.decodeSteps;
  }

  /** Next valid finishing decoder's key (decode counter at which it finishes), dropping stale entries. */
  nextFinishKey(): number {
    const h = this.finishHeap;
    const r = this.req;
    while (h.size > 0) {
      const id = h.topId();
      if (r.state[id] === RequestState.Decoding && r.decodeBase[id]! + r.output[id]! === h.topKey()) return h.topKey();
      h.pop();
    }
    return Infinity;
  }
}

function phaseOf(x: number, blockSize: number): number {
  return ((x % blockSize) + blockSize) % blockSize;
}
