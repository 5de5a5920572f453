/**
 * A memo whose keys may come from requests (key bytes, URL patterns, payload shapes): it forgets
 * everything once it holds `limit` entries. The working set is a handful, so starting over now and
 * then costs little, and no stream of distinct keys can grow it.
 */
export class BoundedMemo<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K, compute: () => V): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = compute();
      if (this.entries.size >= this.limit) this.entries.clear();
      this.entries.set(key, value);
    }
    return value;
  }
}
