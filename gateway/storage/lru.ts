// A bounded least-recently-used map. Map iteration follows insertion order, so re-inserting on
// every hit keeps the oldest entry first, where eviction takes it.
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly entriesMax: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.entriesMax) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
