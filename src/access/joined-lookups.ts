/**
 * Lookups of the same key that arrive together share one query. Clients answered by one group commit
 * send their next requests at once, and each would ask the database for the same API key. A lookup
 * waits one turn of the event loop for others of its key, then goes out; once it has gone out no one
 * joins it, so every answer was read after its request arrived. Nothing is remembered past the query:
 * a key revoked before a request came is refused, whichever instance revoked it.
 */
export class JoinedLookups<V> {
  private readonly waiting = new Map<string, Promise<V>>();

  constructor(private readonly load: (key: string) => Promise<V>) {}

  get(key: string): Promise<V> {
    let joined = this.waiting.get(key);
    if (!joined) {
      joined = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.waiting.delete(key);
        return this.load(key);
      });
      this.waiting.set(key, joined);
    }
    return joined;
  }
}
