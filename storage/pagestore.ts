/**
 * Content-addressed page storage: each distinct 4 KiB page is stored once,
 * under the digest of its bytes, compressed with fflate (raw deflate, level 1)
 * or raw when compression does not help. Append-only, no refcounts: a page
 * once stored stays until the store is rebuilt.
 *
 * Record encoding (also used inside `.vmi` files and backends):
 *   byte 0 = encoding (0 raw, 1 deflate), then the data.
 */
import { Inflate, deflateSync, inflateSync } from 'fflate';
import { PAGE_SIZE } from '../core/memmap.js';
import { RewindError, type ErrorCode } from '../core/errors.js';
import type { Hash128 } from './hash.js';
import { ZERO_PAGE_HASH, hashPage } from './statehash.js';
import type { PageRecords } from './vmi-common.js';

/** Record encoding byte: the bytes follow as they are. */
export const ENCODING_RAW = 0;
/** Record encoding byte: raw deflate (RFC 1951) follows. */
export const ENCODING_DEFLATE = 1;

/** Compresses `data` (deflate level 1) unless that does not make it smaller. Returns [encoding, bytes]. */
export function compressChunk(data: Uint8Array): [number, Uint8Array] {
  const z = deflateSync(data, { level: 1 });
  return z.length < data.length ? [ENCODING_DEFLATE, z] : [ENCODING_RAW, data.slice()];
}

/**
 * Inflates raw-deflate `data` that must produce exactly `size` bytes. Feeds
 * the inflater in small pieces and stops as soon as the output would exceed
 * `size`, so a decompression bomb costs at most about 1 MiB of work.
 * Throws RewindError(code, ...) naming `what` on any failure.
 */
export function inflateExact(data: Uint8Array, size: number, code: ErrorCode, what: string): Uint8Array {
  const out = new Uint8Array(size);
  let got = 0;
  let done = false;
  let over = false;
  const inf = new Inflate((chunk, final) => {
    if (got + chunk.length > size) {
      over = true;
      return;
    }
    out.set(chunk, got);
    got += chunk.length;
    if (final) done = true;
  });
  const STEP = 1024; // deflate expands at most ~1032:1, so one step yields at most ~1 MiB
  try {
    for (let i = 0; i < data.length && !over; i += STEP) {
      inf.push(data.subarray(i, i + STEP), i + STEP >= data.length);
    }
    if (data.length === 0) inf.push(data, true);
  } catch (e) {
    throw new RewindError(code, `${what}: corrupt compressed data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (over) throw new RewindError(code, `${what}: inflates to more than the declared ${size} bytes`);
  if (!done || got !== size) throw new RewindError(code, `${what}: inflates to ${got} bytes instead of ${size}`);
  return out;
}

/** Decodes a chunk given its encoding and expected raw size. */
export function decompressChunk(
  encoding: number,
  data: Uint8Array,
  size: number,
  code: ErrorCode,
  what: string,
): Uint8Array {
  if (encoding === ENCODING_RAW) {
    if (data.length !== size)
      throw new RewindError(code, `${what}: raw data is ${data.length} bytes instead of ${size}`);
    return data.slice();
  }
  if (encoding === ENCODING_DEFLATE) return inflateExact(data, size, code, what);
  throw new RewindError(code, `${what}: unknown encoding ${encoding}`);
}

/** Encodes a page as a store record: encoding byte + data. */
export function encodePageRecord(page: Uint8Array): Uint8Array {
  const [enc, data] = compressChunk(page);
  const rec = new Uint8Array(1 + data.length);
  rec[0] = enc;
  rec.set(data, 1);
  return rec;
}

/** Decodes a store record into a fresh 4 KiB page. */
export function decodePageRecord(rec: Uint8Array, code: ErrorCode = 'io', what = 'page'): Uint8Array {
  if (rec.length < 1) throw new RewindError(code, `${what}: empty record`);
  return decompressChunk(rec[0]!, rec.subarray(1), PAGE_SIZE, code, what);
}

/**
 * Pages stored once by content digest: held in memory, or read when needed
 * from a colder store behind it (a `.vmi` file's chunks).
 */
export class PageStore {
  private readonly records = new Map<Hash128, Uint8Array>();
  private readonly cold: PageRecords | null;
  private fresh: Hash128[] = [];
  /** Pages put raw, to be deflated by compress(). */
  private uncompressed: Hash128[] = [];
  /** Bytes of encoded records held. */
  storedBytes = 0;

  constructor(options: { cold?: PageRecords } = {}) {
    this.cold = options.cold ?? null;
  }

  /** True when the page is held (the zero page always is). */
  has(hash: Hash128): boolean {
    return hash === ZERO_PAGE_HASH || this.records.has(hash) || (this.cold?.has(hash) ?? false);
  }

  /**
   * Stores `page` (4 KiB) unless a page with the same digest is held; returns
   * its digest. Pass `hash` when already known to skip re-hashing.
   */
  put(page: Uint8Array, hash: Hash128 = hashPage(page)): Hash128 {
    if (page.length !== PAGE_SIZE)
      throw new RewindError('bad-argument', `a page is ${PAGE_SIZE} bytes, not ${page.length}`);
    if (this.has(hash)) return hash;
    // Stored raw now and deflated later (compress), so capturing a checkpoint stays off the hot path.
    const rec = new Uint8Array(PAGE_SIZE + 1);
    rec[0] = ENCODING_RAW;
    rec.set(page, 1);
    this.records.set(hash, rec);
    this.storedBytes += rec.length;
    this.fresh.push(hash);
    this.uncompressed.push(hash);
    return hash;
  }

  /**
   * Deflates up to `maxPages` of the pages stored raw by put (all when
   * omitted); returns how many remain. Call between run slices when idle,
   * and before exporting.
   */
  compress(maxPages = Infinity): number {
    let n = 0;
    while (this.uncompressed.length > 0 && n < maxPages) {
      const hash = this.uncompressed.pop()!;
      const rec = this.records.get(hash);
      if (!rec || rec[0] !== ENCODING_RAW || rec.length !== PAGE_SIZE + 1) continue;
      const packed = encodePageRecord(rec.subarray(1));
      this.records.set(hash, packed);
      this.storedBytes += packed.length - rec.length;
      n++;
    }
    return this.uncompressed.length;
  }

  /**
   * Adds an already-encoded record (loading from a backend or a file). When
   * `verify` is set, decodes it and checks its digest.
   */
  putRecord(hash: Hash128, rec: Uint8Array, verify = false): void {
    if (this.has(hash)) return;
    if (verify) {
      const page = decodePageRecord(rec, 'io', `page ${hash}`);
      if (hashPage(page) !== hash) throw new RewindError('io', `page ${hash}: content does not match its hash`);
    }
    this.records.set(hash, rec);
    this.storedBytes += rec.length;
  }

  /** A fresh copy of the page with digest `hash`; throws RewindError('not-found') when missing. */
  get(hash: Hash128): Uint8Array {
    if (hash === ZERO_PAGE_HASH) return new Uint8Array(PAGE_SIZE);
    const rec = this.records.get(hash);
    if (!rec) {
      const page = this.cold?.page ? this.cold.page(hash) : undefined;
      if (page) return page;
      const cold = this.cold?.get(hash);
      if (!cold) throw new RewindError('not-found', `page ${hash} is not in the page store`);
      return decodePageRecord(cold, 'io', `page ${hash}`);
    }
    if (rec[0] === ENCODING_DEFLATE) {
      // Records here were made by us or checked on the way in (a .vmi import
      // inflates every page with inflateExact), so the fast path is safe.
      try {
        const out = inflateSync(rec.subarray(1), { out: new Uint8Array(PAGE_SIZE) });
        if (out.length === PAGE_SIZE) return out;
      } catch {
        // fall through to the checked path, which reports the problem
      }
    }
    return decodePageRecord(rec, 'io', `page ${hash}`);
  }

  /** The encoded record of a page (undefined for the zero page or a missing one). */
  getRecord(hash: Hash128): Uint8Array | undefined {
    return this.records.get(hash) ?? this.cold?.get(hash);
  }

  /** Number of distinct non-zero pages held in memory. */
  get size(): number {
    return this.records.size;
  }

  /** All digests held in memory (zero page excluded). */
  hashes(): IterableIterator<Hash128> {
    return this.records.keys();
  }

  /** Pages added by {@link put} since the previous call, with their records (for persisting); resets the list. */
  takeFresh(): Array<[Hash128, Uint8Array]> {
    const out = this.fresh.map((h) => [h, this.records.get(h)!] as [Hash128, Uint8Array]);
    this.fresh = [];
    return out;
  }
}
