/**
 * The storage backend interface: a small asynchronous key-value store whose
 * batches are atomic. Keys are strings; values are bytes.
 *
 * Implementations: {@link MemoryBackend} (tests, browser fallback) and
 * `IdbBackend` (IndexedDB, the web app's library).
 */

/** One write of a batch: a value to store under `key`, or null to delete it. */
export interface BatchEntry {
  key: string;
  value: Uint8Array | null;
}

/** A transactional key-value store. */
export interface StorageBackend {
  /** The value under `key`, or undefined. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Applies all entries or none: after a crash or an error, either every
   * entry of the batch is visible or none is, and what was committed before
   * is intact. Later entries for the same key win.
   */
  putBatch(entries: readonly BatchEntry[]): Promise<void>;
  /** Keys starting with `prefix`, sorted (UTF-16 code unit order). */
  list(prefix: string): Promise<string[]>;
  /** Deletes keys atomically (a batch of deletions). */
  delete(keys: readonly string[]): Promise<void>;
  /** Releases files or database handles. */
  close(): Promise<void>;
}

/** A backend held in memory; values are copied in and out. */
export class MemoryBackend implements StorageBackend {
  private readonly data = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = this.data.get(key);
    return v ? v.slice() : undefined;
  }

  async putBatch(entries: readonly BatchEntry[]): Promise<void> {
    // Copy first, so that nothing is applied when a value is not bytes.
    const staged = entries.map((e) => {
      if (typeof e.key !== 'string') throw new TypeError('batch key must be a string');
      if (e.value !== null && !(e.value instanceof Uint8Array))
        throw new TypeError(`value for ${e.key} must be a Uint8Array or null`);
      return [e.key, e.value ? e.value.slice() : null] as const;
    });
    for (const [k, v] of staged) {
      if (v === null) this.data.delete(k);
      else this.data.set(k, v);
    }
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.putBatch(keys.map((key) => ({ key, value: null })));
  }

  async close(): Promise<void> {}
}
