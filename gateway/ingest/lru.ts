// A bounded map: every per-device cache in the gateway has a limit (a device flood must not grow memory).

/** A Map that forgets its least recently used entry beyond `entriesMax`. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly entriesMax: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.entriesMax) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }

  clear(): void {
    this.map.clear();
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
