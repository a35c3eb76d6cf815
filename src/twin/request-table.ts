/** Request states. */
export const enum RequestState {
  Waiting = 1,
  Prefilling = 2,
  Decoding = 3,
  Done = 4,
}

/**
 * Every admitted request's state as parallel typed arrays (struct of arrays): the hot loop touches
 * numbers only, never allocates per token, and the table grows by doubling.
 */
export class RequestTable {
  size = 0;
  arrival = new Float64Array(0);
  adapter = new Int32Array(0);
  prompt = new Int32Array(0);
  output = new Int32Array(0);
  /** output tokens emitted so far (for decoders: decodeBase + this = the engine's decode counter) */
  generated = new Int32Array(0);
  /** tokens whose KV is computed in the current (re)prefill */
  computed = new Int32Array(0);
  /** KV blocks held by a prefilling request */
  blocks = new Int32Array(0);
  /** decoders: generated = decodeCounter - decodeBase */
  decodeBase = new Int32Array(0);
  firstTokenTime = new Float64Array(0);
  lastTokenTime = new Float64Array(0);
  /** running list (admission order) */
  prev = new Int32Array(0);
  next = new Int32Array(0);
  /** per-adapter waiting FIFO */
  waitNext = new Int32Array(0);
  state = new Uint8Array(0);

  constructor(initialCapacity = 1024) {
    this.grow(initialCapacity);
  }

  add(arrival: number, adapter: number, prompt: number, output: number): number {
    if (this.size === this.state.length) this.grow(this.state.length * 2);
    const id = this.size++;
    this.arrival[id] = arrival;
    this.adapter[id] = adapter;
    this.prompt[id] = prompt;
    this.output[id] = output;
    this.generated[id] = 0;
    this.computed[id] = 0;
    this.blocks[id] = 0;
    this.firstTokenTime[id] = -1;
    this.lastTokenTime[id] = -1;
    this.prev[id] = -1;
    this.next[id] = -1;
    this.waitNext[id] = -1;
    this.state[id] = RequestState.Waiting;
    return id;
  }

  private grow(capacity: number): void {
    const c = Math.max(16, capacity);
    this.arrival = resizeF64(this.arrival, c);
    this.adapter = resizeI32(this.adapter, c);
    this.prompt = resizeI32(this.prompt, c);
    this.output = resizeI32(this.output, c);
    this.generated = resizeI32(this.generated, c);
    this.computed = resizeI32(this.computed, c);
    this.blocks = resizeI32(this.blocks, c);
    this.decodeBase = resizeI32(this.decodeBase, c);
    this.firstTokenTime = resizeF64(this.firstTokenTime, c);
    this.lastTokenTime = resizeF64(this.lastTokenTime, c);
    this.prev = resizeI32(this.prev, c);
    this.next = resizeI32(this.next, c);
    this.waitNext = resizeI32(this.waitNext, c);
    const s = new Uint8Array(c);
    s.set(this.state);
    this.state = s;
  }
}

function resizeF64(a: Float64Array, c: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(c);
  b.set(a);
  return b;
}

function resizeI32(a: Int32Array, c: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(c);
  b.set(a);
  return b;
}
