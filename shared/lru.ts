// A bounded cache with approximately least-recently-used eviction, in two generations: entries
// live in `young` until it fills, then `young` becomes `old` and the previous `old` is dropped.
// A hit in `old` moves the entry back to `young`. Every operation is O(1) Map work without the
// delete-and-reinsert of an exact LRU on each hit (which showed in the chain bench's profile:
// the upper nodes of the state tree are read by every update). Holds at most `entriesMax` entries.
export class Lru<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly generationMax: number;

  constructor(readonly entriesMax: number) {
    this.generationMax = Math.max(1, Math.floor(entriesMax / 2));
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.put(key, o);
    }
    return o;
  }

  set(key: K, value: V): void {
    this.old.delete(key);
    this.put(key, value);
  }

  private put(key: K, value: V): void {
    this.young.set(key, value);
    if (this.young.size >= this.generationMax) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
