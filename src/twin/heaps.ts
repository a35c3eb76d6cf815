/**
 * Min-heap of (integer key, id) pairs with lazy deletion: the owner re-checks an entry when it pops it.
 * Ties are broken by id so the order is deterministic.
 */
export class KeyedMinHeap {
  private keys = new Int32Array(64);
  private ids = new Int32Array(64);
  size = 0;

  push(key: number, id: number): void {
    if (this.size === this.keys.length) {
      const k = new Int32Array(this.size * 2);
      k.set(this.keys);
      this.keys = k;
      const d = new Int32Array(this.size * 2);
      d.set(this.ids);
      this.ids = d;
    }
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = this.keys[p]!;
      if (pk < key || (pk === key && this.ids[p]! < id)) break;
      this.keys[i] = pk;
      this.ids[i] = this.ids[p]!;
      i = p;
    }
    this.keys[i] = key;
    this.ids[i] = id;
  }

  topKey(): number {
    return this.size > 0 ? this.keys[0]! : Infinity;
  }

  topId(): number {
    return this.ids[0]!;
  }

  pop(): void {
    const last = --this.size;
    if (last === 0) return;
    const key = this.keys[last]!;
    const id = this.ids[last]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (
        c + 1 < last &&
        (this.keys[c + 1]! < this.keys[c]! || (this.keys[c + 1] === this.keys[c] && this.ids[c + 1]! < this.ids[c]!))
      )
        c++;
      if (this.keys[c]! > key || (this.keys[c] === key && this.ids[c]! > id)) break;
      this.keys[i] = this.keys[c]!;
      this.ids[i] = this.ids[c]!;
      i = c;
    }
    this.keys[i] = key;
    this.ids[i] = id;
  }
}

/**
 * Min-heap over a fixed set of small integer items (adapters) whose keys live in a caller-owned array;
 * supports insert, remove and re-keying of any member in O(log n).
 */
export class IndexedMinHeap {
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  size = 0;

  constructor(
    capacity: number,
    private readonly key: Int32Array,
  ) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
  }

  has(item: number): boolean {
    return this.pos[item]! >= 0;
  }

  top(): number {
    return this.size > 0 ? this.heap[0]! : -1;
  }

  insert(item: number): void {
    const i = this.size++;
    this.heap[i] = item;
    this.pos[item] = i;
    this.up(i);
  }

  remove(item: number): void {
    const i = this.pos[item]!;
    if (i < 0) return;
    const last = --this.size;
    this.pos[item] = -1;
    if (i === last) return;
    const moved = this.heap[last]!;
    this.heap[i] = moved;
    this.pos[moved] = i;
    this.up(i);
    this.down(this.pos[moved]!);
  }

  /** Call after the item's key changed. */
  update(item: number): void {
    const i = this.pos[item]!;
    if (i < 0) return;
    this.up(i);
    this.down(this.pos[item]!);
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a]!;
    const kb = this.key[b]!;
    return ka < kb || (ka === kb && a < b);
  }

  private up(i: number): void {
    const item = this.heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = this.heap[p]!;
      if (!this.less(item, parent)) break;
      this.heap[i] = parent;
      this.pos[parent] = i;
      i = p;
    }
    this.heap[i] = item;
    this.pos[item] = i;
  }

  private down(i: number): void {
    const item = this.heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.less(this.heap[c + 1]!, this.heap[c]!)) c++;
      const child = this.heap[c]!;
      if (!this.less(child, item)) break;
      this.heap[i] = child;
      this.pos[child] = i;
      i = c;
    }
    this.heap[i] = item;
    this.pos[item] = i;
  }
}

/** Counts of present ids with prefix sums (Fenwick tree), growing as ids grow. */
export class CountTree {
  private tree = new Int32Array(1024);

  add(id: number, delta: number): void {
    if (id + 1 >= this.tree.length) this.grow(id + 1);
    for (let i = id + 1; i < this.tree.length; i += i & -i) this.tree[i] = this.tree[i]! + delta;
  }

  /** number of present ids < id */
  countBelow(id: number): number {
    let s = 0;
    for (let i = Math.min(id, this.tree.length - 1); i > 0; i -= i & -i) s += this.tree[i]!;
    return s;
  }

  private grow(minSize: number): void {
    let size = this.tree.length;
    while (size <= minSize) size *= 2;
    // rebuild: recover point counts from the old tree, then re-add
    const old = this.tree;
    const counts = new Int32Array(old.length);
    for (let i = 1; i < old.length; i++) {
      counts[i] = old[i]!;
      const parentStart = i - (i & -i);
      for (let j = i - 1; j > parentStart; j -= j & -j) counts[i] = counts[i]! - old[j]!;
    }
    this.tree = new Int32Array(size);
    for (let i = 1; i < old.length; i++) {
      const c = counts[i]!;
      if (c !== 0) for (let k = i; k < size; k += k & -k) this.tree[k] = this.tree[k]! + c;
    }
  }
}
