/**
 * IndexedDB backend (browser), via idb. One object store "kv"; one
 * readwrite transaction per batch, so IndexedDB's own atomicity gives
 * all-or-nothing. A full quota aborts the transaction (nothing of the batch is
 * written) and surfaces as RewindError('quota').
 */
import { openDB, type IDBPDatabase } from 'idb';
import { RewindError } from '../../core/errors.js';
import type { BatchEntry, StorageBackend } from '../backend.js';

const STORE = 'kv';

function isQuota(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** Values from this size on are stored as a Blob (read back as bytes). */
const BLOB_FROM = 64 * 1024;

/**
 * What IndexedDB is given for `bytes`: a big value as a Blob, whose bytes the
 * browser moves to storage away from the page's main thread (a byte array is
 * serialized on it: 100+ ms for a Linux VM's few MiB, a stall while it runs).
 */
function stored(bytes: Uint8Array): Uint8Array | Blob {
  return bytes.length >= BLOB_FROM && typeof Blob !== 'undefined' ? new Blob([bytes as BlobPart]) : bytes;
}

/** A {@link StorageBackend} over one IndexedDB database. */
export class IdbBackend implements StorageBackend {
  private constructor(private readonly db: IDBPDatabase) {}

  /** Opens (creating if needed) the database `name`. */
  static async open(name: string): Promise<IdbBackend> {
    try {
      const db = await openDB(name, 1, {
        upgrade(d) {
          if (!d.objectStoreNames.contains(STORE)) d.createObjectStore(STORE);
        },
      });
      return new IdbBackend(db);
    } catch (e) {
      throw new RewindError(
        'io',
        `cannot open browser storage "${name}" (${e instanceof Error ? e.message : String(e)})`,
      );
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const v: unknown = await this.db.get(STORE, key);
    if (v === undefined) return undefined;
    if (v instanceof Uint8Array) return v;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    if (typeof Blob !== 'undefined' && v instanceof Blob) return new Uint8Array(await v.arrayBuffer());
    throw new RewindError('io', `browser storage holds a non-byte value under ${key}`);
  }

  async putBatch(entries: readonly BatchEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const tx = this.db.transaction(STORE, 'readwrite');
    try {
      const ops: Promise<unknown>[] = [];
      for (const e of entries)
        ops.push(e.value === null ? tx.store.delete(e.key) : tx.store.put(stored(e.value), e.key));
      ops.push(tx.done);
      await Promise.all(ops);
    } catch (e) {
      try {
        tx.abort();
      } catch {
        // already aborted by the error
      }
      if (isQuota(e) || isQuota(tx.error)) {
        throw new RewindError(
          'quota',
          'browser storage is full: the last change was not saved (free space or export a .vmi)',
        );
      }
      throw new RewindError(
        'io',
        `browser storage write failed, nothing of it was saved (${e instanceof Error ? e.message : String(e)})`,
      );
    }
  }

  async list(prefix: string): Promise<string[]> {
    const range = IDBKeyRange.bound(prefix, prefix + '\uffff');
    const keys = await this.db.getAllKeys(STORE, range);
    return keys
      .map(String)
      .filter((k) => k.startsWith(prefix))
      .sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.putBatch(keys.map((key) => ({ key, value: null })));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
