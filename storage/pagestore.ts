/**
 * Content-addressed page storage: each distinct 4 KiB page is stored once,
 * under the digest of its bytes, encoded (sparse words, deflate or raw: see
 * {@link encodePageRecordInto}). A page stays until a sweep finds that
 * nothing names it. With a spill store behind it (a recording's file on
 * disk), each page goes to the spill store as it is put, which encodes and
 * keeps it, so a recording's length costs disk, not memory.
 *
 * Record encoding (also used inside `.vmi` files and backends):
 *   byte 0 = encoding (0 raw, 1 deflate, 2 sparse), then the data.
 */
import { Inflate, deflateSync, inflateSync } from 'fflate';
import { PAGE_SIZE } from '../core/memmap.js';
import { RewindError, type ErrorCode } from '../core/errors.js';
import { deflateFixed } from './deflate.js';
import { bytesToHash, hashToBytes, type Hash128 } from './hash.js';
import { ZERO_PAGE_HASH, hashPage } from './statehash.js';
import type { PageRecords } from './vmi-common.js';

/** Record encoding byte: the bytes follow as they are. */
export const ENCODING_RAW = 0;
/** Record encoding byte: raw deflate (RFC 1951) follows. */
export const ENCODING_DEFLATE = 1;
/**
 * Record encoding byte: zero words left out. A bitmap with one bit per
 * 32-bit word (bit i of byte i/8 set when word i is not zero), then the
 * non-zero words in order. Memory that is partly written (a heap, a buffer
 * being filled) shrinks this way at a small fraction of deflate's cost.
 */
export const ENCODING_SPARSE = 2;

/** Compresses `data` (deflate level 1) unless that does not make it smaller. Returns [encoding, bytes]. */
export function compressChunk(data: Uint8Array): [number, Uint8Array] {
  const z = deflateSync(data, { level: 1 });
  return z.length < data.length ? [ENCODING_DEFLATE, z] : [ENCODING_RAW, data.slice()];
}

/** n·log2(n) for every byte count a page can hold. */
const N_LOG_N = Float64Array.from({ length: PAGE_SIZE + 1 }, (_, n) => (n === 0 ? 0 : n * Math.log2(n)));
const counts = new Uint16Array(256);

/**
 * Bytes an encoder needs to write a page's record in: the encoding byte and
 * the page's sparse form, which it writes before it knows what is smallest.
 */
export const RECORD_ROOM = 1 + PAGE_SIZE + PAGE_SIZE / 32;

/**
 * A page's {@link ENCODING_SPARSE} form written into `out` from `at` (room
 * for the bitmap and every word); returns its length. On the way it counts
 * in `counts` one byte of each non-zero word, for {@link sampledEntropy}:
 * one pass over the page serves both.
 */
function sparseWordsInto(data: Uint8Array, out: Uint8Array, at: number): number {
  // Signed words: an unsigned one past 2^31 is a double in V8, and every step slows down.
  const w = new Int32Array(data.buffer, data.byteOffset, data.length >>> 2);
  const mapBytes = w.length >>> 3;
  counts.fill(0);
  // The words go to an aligned scratch, one store each, and into `out` (not aligned) in one copy.
  let k = 0;
  // Without a branch on each word: where zero and non-zero words mix at random (a page half
  // written), the branch was mispredicted as often as not, and the pass took 10 µs, not 2.
  for (let g = 0; g < w.length; g += 8) {
    let mask = 0;
    for (let j = 0; j < 8; j++) {
      const i = g + j;
      const v = w[i]!;
      const kept = (v | -v) >>> 31;
      mask |= kept << j;
      sparseScratch[k] = v;
      k += kept;
      // A byte of each word, going round the four lanes so that a field at a fixed place in every
      // word (the high byte of pointers) is sampled as often as the others. The word is the page's
      // bytes little-endian (as on every host we run on: see core/paged.ts).
      counts[(v >>> ((i & 3) << 3)) & 255]! += kept;
    }
    out[at + (g >>> 3)] = mask;
  }
  out.set(sparseBytes.subarray(0, k * 4), at + mapBytes);
  return mapBytes + k * 4;
}

/** Where {@link sparseWordsInto} gathers a page's non-zero words (as words, and as their bytes). */
const sparseScratch = new Int32Array(PAGE_SIZE / 4);
const sparseBytes = new Uint8Array(sparseScratch.buffer);

/**
 * Writes the bytes an {@link ENCODING_SPARSE} encoding stands for into all of
 * `out`; throws RewindError(code) when the encoding does not fit its size.
 */
function denseWordsInto(data: Uint8Array, out: Uint8Array, code: ErrorCode, what: string): void {
  const size = out.length;
  const words = size >>> 2;
  const mapBytes = words >>> 3;
  if (size % 32 !== 0 || size > PAGE_SIZE || data.length < mapBytes)
    throw new RewindError(code, `${what}: a sparse encoding of a bad size`);
  let nonzero = 0;
  for (let i = 0; i < mapBytes; i++) for (let b = data[i]!; b !== 0; b &= b - 1) nonzero++;
  if (data.length !== mapBytes + nonzero * 4)
    throw new RewindError(code, `${what}: sparse data is ${data.length} bytes instead of ${mapBytes + nonzero * 4}`);
  // Words of `out` when it is aligned (RAM's pages and fresh arrays are), else gathered and copied.
  const aligned = (out.byteOffset & 3) === 0;
  const w = aligned ? new Int32Array(out.buffer, out.byteOffset, words) : sparseScratch;
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  let p = mapBytes;
  for (let g = 0; g < words; g += 8) {
    const mask = data[g >>> 3]!;
    for (let j = 0; j < 8; j++) {
      if ((mask >>> j) & 1) {
        w[g + j] = dv.getInt32(p, true);
        p += 4;
      } else w[g + j] = 0;
    }
  }
  if (!aligned) out.set(sparseBytes.subarray(0, size));
}

/** Order-0 entropy (bits a byte) above which deflate cannot win more than a few percent: random words, compressed or encrypted data. */
const INCOMPRESSIBLE_BITS = 7.6;
/** Zero words past which the sparse encoding is smaller than the page (its bitmap is 128 bytes). */
const SPARSE_EVEN_WORDS = PAGE_SIZE / 32 / 4;
/** Below this, dynamic Huffman codes save a quarter or more where fixed ones (8–9 bits a byte) save nothing. */
const DYNAMIC_CODES_BITS = 6;

/**
 * Order-0 entropy in bits a byte of the `n` bytes counted in `counts` (a
 * byte of each non-zero word of a page): a page partly written with random
 * words is random where it is written, and its zero words are what the
 * sparse encoding leaves out.
 */
function sampledEntropy(n: number): number {
  if (n === 0) return 0;
  let sum = 0;
  for (let b = 0; b < 256; b++) sum += N_LOG_N[counts[b]!]!;
  return Math.log2(n) - sum / n;
}

/**
 * Inflates raw-deflate `data` that must produce exactly `size` bytes. A
 * large input is fed to the inflater in pieces and stopped as soon as the
 * output would exceed `size`, so a decompression bomb costs a bounded amount
 * of work (about 8 MiB of output for a page, 256 MiB for a boot image).
 * Throws RewindError(code, ...) naming `what` on any failure.
 */
export function inflateExact(data: Uint8Array, size: number, code: ErrorCode, what: string): Uint8Array {
  // Small inputs in one call: deflate expands at most ~1032:1, so even a hostile one costs a few
  // milliseconds (a page's stream is never longer than a page stored raw, plus block headers).
  if (data.length <= ONE_SHOT) return inflateWhole(data, size, code, what);
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
  // Deflate expands at most ~1032:1, so one step yields at most ~1032 steps' worth before the cap
  // is seen: 256 MiB at most; small steps make a big input slow (in browsers most of all).
  const STEP = Math.max(1024, Math.min(256 * 1024, Math.floor(size / 16)));
  try {
    for (let i = 0; i < data.length && !over; i += STEP) {
      inf.push(data.subarray(i, i + STEP), i + STEP >= data.length);
    }
  } catch (e) {
    throw new RewindError(code, `${what}: corrupt compressed data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (over) throw new RewindError(code, `${what}: inflates to more than the declared ${size} bytes`);
  if (!done || got !== size) throw new RewindError(code, `${what}: inflates to ${got} bytes instead of ${size}`);
  return out;
}

/** Inputs up to this size are inflated in one call (at most ~8 MiB of output work, however hostile). */
const ONE_SHOT = 8 * 1024;

function inflateWhole(data: Uint8Array, size: number, code: ErrorCode, what: string): Uint8Array {
  let out: Uint8Array;
  try {
    // One byte more than declared: a stream that fills it is too long.
    out = inflateSync(data, { out: new Uint8Array(size + 1) });
  } catch (e) {
    throw new RewindError(code, `${what}: corrupt compressed data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (out.length > size) throw new RewindError(code, `${what}: inflates to more than the declared ${size} bytes`);
  if (out.length !== size) throw new RewindError(code, `${what}: inflates to ${out.length} bytes instead of ${size}`);
  return out.buffer.byteLength === size ? out : out.slice();
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
  const out = new Uint8Array(size);
  decodeChunkInto(encoding, data, out, code, what);
  return out;
}

/**
 * {@link decompressChunk} written into all of `out` (a page of RAM, say):
 * no copy of its own for raw and sparse data.
 */
export function decodeChunkInto(
  encoding: number,
  data: Uint8Array,
  out: Uint8Array,
  code: ErrorCode,
  what: string,
): void {
  if (encoding === ENCODING_RAW) {
    if (data.length !== out.length)
      throw new RewindError(code, `${what}: raw data is ${data.length} bytes instead of ${out.length}`);
    out.set(data);
  } else if (encoding === ENCODING_SPARSE) denseWordsInto(data, out, code, what);
  else if (encoding === ENCODING_DEFLATE) out.set(inflateExact(data, out.length, code, what));
  else throw new RewindError(code, `${what}: unknown encoding ${encoding}`);
}

/**
 * Encodes a page as a store record: encoding byte + data. A page with a
 * quarter or more of zero words leaves them out (sparse); one whose bytes
 * look random is kept raw; others are deflated when that makes them smaller:
 * with fixed codes (storage/deflate.ts, a few µs a page), or, for bytes of
 * low entropy, by fflate (dynamic codes, ~80 µs a page).
 */
export function encodePageRecord(page: Uint8Array): Uint8Array {
  return encodePageRecordInto(page, new Uint8Array(RECORD_ROOM)).slice();
}

/**
 * How hard {@link encodePageRecordInto} tries: `cheap` encodes a page sparse or raw, whichever
 * is smaller (a few µs); `fixed` deflates with fixed codes as well where that may pay (up to
 * tens of µs); `full` also tries fflate's dynamic codes on bytes of low entropy (~80 µs).
 */
export const EFFORT = { cheap: 0, fixed: 1, full: 2 } as const;
export type Effort = (typeof EFFORT)[keyof typeof EFFORT];

/**
 * {@link encodePageRecord} written into `out` (at least {@link RECORD_ROOM}
 * bytes), as hard as `effort` says: returns the record, a view of `out`.
 * Costs no allocation for a raw or sparse page.
 */
export function encodePageRecordInto(page: Uint8Array, out: Uint8Array, effort: Effort = EFFORT.full): Uint8Array {
  return encodePageUnlessRaw(page, out, effort) ?? rawRecordInto(page, out);
}

/**
 * {@link encodePageRecordInto}, but for a page kept raw: null, and nothing copied (its record is
 * ENCODING_RAW and the page's bytes). Copying a raw page into `out` after its encoding byte, off
 * the word boundary, cost ~1.1 µs, three times the copy of its bytes to where they are written.
 */
export function encodePageUnlessRaw(
  page: Uint8Array,
  out: Uint8Array,
  effort: Effort = EFFORT.full,
): Uint8Array | null {
  const deflate = effort !== EFFORT.cheap;
  if (page.byteOffset & 3) page = page.slice(); // word views need alignment
  if (looksRandom(page)) return null;
  // The sparse form first: the same pass counts the zero words and samples the others' bytes.
  const sparse = sparseWordsInto(page, out, 1);
  const nonzero = (sparse - PAGE_SIZE / 32) >>> 2;
  const zeros = PAGE_SIZE / 4 - nonzero;
  const entropy = sampledEntropy(nonzero);
  // Sparse wins outright with a quarter of the words zero, and wherever the rest look random (then
  // deflate, a few µs a page, ends up no smaller).
  if (zeros >= PAGE_SIZE / 16 || ((!deflate || entropy > INCOMPRESSIBLE_BITS) && zeros > SPARSE_EVEN_WORDS)) {
    out[0] = ENCODING_SPARSE;
    return out.subarray(0, 1 + sparse);
  }
  if (deflate && entropy <= INCOMPRESSIBLE_BITS) {
    const end = deflateFixed(page, out, 1, true);
    if (end > 0) {
      out[0] = ENCODING_DEFLATE;
      return out.subarray(0, end);
    }
    // Fixed codes do not shrink it; dynamic ones (fflate, ten times the cost) are tried only where
    // they save a quarter or more: elsewhere they save a few hundred bytes at best.
    if (effort === EFFORT.full && entropy < DYNAMIC_CODES_BITS) {
      const [enc, data] = compressChunk(page);
      out[0] = enc;
      out.set(data, 1);
      return out.subarray(0, 1 + data.length);
    }
  }
  return null;
}

function rawRecordInto(page: Uint8Array, out: Uint8Array): Uint8Array {
  out[0] = ENCODING_RAW;
  out.set(page, 1);
  return out.subarray(0, 1 + PAGE_SIZE);
}

/**
 * Words {@link looksRandom} samples, and the step between them (word k·37 mod 1024): an odd
 * step puts one sample at each offset within every 128 words, so a zero field at a fixed place
 * in every record of a table is seen whatever the records' size.
 */
const RANDOM_SAMPLES = 128;
const RANDOM_STEP = 37;
/**
 * Distinct bytes among the samples past which they look drawn at random: 128 draws from 256
 * values give ~101 distinct ones; text, code and tables of numbers give far fewer.
 */
const RANDOM_DISTINCT = 88;
const seenBytes = new Int32Array(8);

/**
 * Whether a page's bytes look random from a sample of its words (none zero, and a byte of each,
 * round the four lanes, nearly all distinct): then it is kept raw without the sparse pass, which
 * costs a few µs a page (the encoder thread of a guest that writes random words over its memory
 * spent most of its time there, for pages that end up raw).
 */
function looksRandom(page: Uint8Array): boolean {
  const w = new Int32Array(page.buffer, page.byteOffset, PAGE_SIZE >>> 2);
  seenBytes.fill(0);
  let distinct = 0;
  for (let k = 0; k < RANDOM_SAMPLES; k++) {
    const v = w[(k * RANDOM_STEP) & (w.length - 1)]!;
    if (v === 0) return false;
    const b = (v >>> ((k & 3) << 3)) & 255;
    const bit = 1 << (b & 31);
    if ((seenBytes[b >>> 5]! & bit) === 0) {
      seenBytes[b >>> 5]! |= bit;
      distinct++;
    }
  }
  return distinct >= RANDOM_DISTINCT;
}

/** Decodes a store record into a fresh 4 KiB page. */
export function decodePageRecord(rec: Uint8Array, code: ErrorCode = 'io', what = 'page'): Uint8Array {
  if (rec.length < 1) throw new RewindError(code, `${what}: empty record`);
  return decompressChunk(rec[0]!, rec.subarray(1), PAGE_SIZE, code, what);
}

/** A set of digests, as far as a sweep needs one. */
export type HashSet = Pick<ReadonlySet<Hash128>, 'has'>;

/**
 * Where a page store puts the records it does not keep in memory: a
 * recording's store on disk (storage/pagefile.ts in Node).
 */
export interface PageSpill extends PageRecords {
  /** Bytes it takes. */
  readonly bytes: number;
  /** Records it holds. */
  readonly count: number;
  /**
   * Stores a page (4 KiB; a copy: `page` is a view of memory that goes on
   * changing) unless it holds one with that digest, encoded with
   * {@link encodePageRecord} where the spill store chooses (on another
   * thread, say); {@link PageRecords.get} finds it from then on. Its
   * digest is the 16 bytes at `at` in `digests`.
   */
  putPage(page: Uint8Array, digests: Uint8Array, at: number): void;
  /** {@link putPage} of `pages` of `memory` (indices of 4 KiB pages), their digests 16 bytes each in `digests`, in one call. */
  putPages?(memory: Uint8Array, pages: Uint32Array, digests: Uint8Array): void;
  /**
   * Hashes `pages` of `memory` where it also works, into `digests` (see PagesHasher), and keeps
   * copies of them that a {@link putPage} of one takes, until {@link forgetCopies}. False when it
   * hashes nothing.
   */
  hashPages?(memory: Uint8Array, pages: readonly number[], digests: Uint8Array): boolean;
  /**
   * {@link hashPages} begun, the caller going on while it hashes: returns what finishes it (and
   * returns the digests), or null (nothing begun). Until that is called, whatever needs the
   * store's index first calls `owed`, which must call it.
   */
  hashPagesLater?(memory: Uint8Array, pages: readonly number[], owed: () => void): (() => Uint8Array) | null;
  /** Forgets what {@link hashPages} copied: memory may change from now on. */
  forgetCopies?(): void;
  /** Marks where the pages stored so far end, for {@link boundBytes}. */
  mark?(): void;
  /**
   * About `pages` pages may be put soon, and perhaps `more`: a spill store that works on another
   * thread gets ready for them.
   */
  expect?(pages: number, more?: number): void;
  /**
   * Whether `pages` pages put now would go into memory made ready for them (see expect): a
   * recording puts off its periodic checkpoint a little while they would not.
   */
  readyFor?(pages: number): boolean;
  /**
   * At most {@link bytes}, found without waiting for pages still being
   * deflated elsewhere: the records of the pages stored before the last
   * {@link mark}, and a raw page's record for each one since. The same on
   * every host, unless a store that encodes on another thread had to hurry
   * those pages (see RING_CONTROL.HURRY).
   */
  readonly boundBytes?: number;
  /**
   * Keeps only the records in `live` and gives back the space of the others:
   * to the records that come next where its records span at most `room`
   * bytes, else (and without `room`) to the disk.
   */
  compact(live: HashSet, room?: number): void;
  /** Bytes its records span, the space given back to the records that come next included. */
  readonly extent?: number;
  /** At least {@link extent}, and known without waiting for records still being encoded on another thread. */
  readonly extentBound?: number;
  /** At most {@link extent}, and known without waiting: the records whose places are known. */
  readonly extentWritten?: number;
  /** Bytes of a record held, or undefined. */
  sizeOf(hash: Hash128): number | undefined;
}

/** Pages per slab that put copies pages into (a slab is freed once all its pages are encoded). */
const SLAB_PAGES = 256;

/** Options of a {@link PageStore}. */
export interface PageStoreOptions {
  /** Where pages not held otherwise are read from (an opened `.vmi`). */
  cold?: PageRecords;
  /**
   * Where pages go: each page put is handed over at once, so that no page
   * waits in memory (a recorder in Node has no idle time to defer encoding
   * to, and a long one must not hold pages).
   */
  spill?: PageSpill;
}

/**
 * Pages stored once by content digest: held in memory, or read when needed
 * from a colder store behind it (a `.vmi` file's chunks).
 */
export class PageStore {
  /** Encoded records. */
  private readonly records = new Map<Hash128, Uint8Array>();
  /** Pages put and not yet encoded (compress encodes them). */
  private readonly raw = new Map<Hash128, Uint8Array>();
  private readonly cold: PageRecords | null;
  private readonly spill: PageSpill | null;
  /** Bytes of pages and records held in memory. */
  storedBytes = 0;
  /** Where put copies pages (see SLAB_PAGES), and how many of its pages are used. */
  private slab = new Uint8Array(0);
  private slabUsed = SLAB_PAGES;

  constructor(options: PageStoreOptions = {}) {
    this.cold = options.cold ?? null;
    this.spill = options.spill ?? null;
  }

  /** True when the page is held (the zero page always is). */
  has(hash: Hash128): boolean {
    return this.heldHere(hash) || (this.spill?.has(hash) ?? false);
  }

  /** {@link has}, but for the spill store. */
  private heldHere(hash: Hash128): boolean {
    // Sizes first: a recording that spills keeps nothing here, and a look into an empty Map
    // still hashes the digest's string.
    return (
      hash === ZERO_PAGE_HASH ||
      (this.records.size > 0 && this.records.has(hash)) ||
      (this.raw.size > 0 && this.raw.has(hash)) ||
      (this.cold?.has(hash) ?? false)
    );
  }

  /** Bytes the pages take where they are kept: in memory and in the spill store. */
  get bytes(): number {
    return this.storedBytes + (this.spill?.bytes ?? 0);
  }

  /** Whether `pages` pages put now would be taken without waiting on memory (see PageSpill.readyFor). */
  readyFor(pages: number): boolean {
    return this.spill?.readyFor?.(pages) ?? true;
  }

  /** About `pages` pages may be put soon, and perhaps `more` (see PageSpill.expect). */
  expect(pages: number, more = 0): void {
    this.spill?.expect?.(pages, more);
  }

  /** Marks where the pages put so far end, for {@link boundBytes}. */
  mark(): void {
    this.spill?.mark?.();
  }

  /**
   * At most {@link bytes}, without waiting for a spill store that deflates on
   * another thread: what the pages put before the last {@link mark} take, and
   * a raw page's record for each one since (see PageSpill.boundBytes).
   */
  get boundBytes(): number {
    return this.storedBytes + (this.spill ? (this.spill.boundBytes ?? this.spill.bytes) : 0);
  }

  /**
   * Stores `page` (4 KiB) unless a page with the same digest is held; returns
   * its digest. Pass `hash` when already known to skip re-hashing.
   */
  put(page: Uint8Array, hash: Hash128 = hashPage(page)): Hash128 {
    if (page.length !== PAGE_SIZE)
      throw new RewindError('bad-argument', `a page is ${PAGE_SIZE} bytes, not ${page.length}`);
    if (!this.heldHere(hash)) this.keep(page, hash);
    return hash;
  }

  /**
   * Stores the pages `pages` of `memory` (4 KiB each, by index), none a zero page, whose digests
   * are, 16 bytes each in the order of `pages`, `digests`: {@link put} for each, in one loop. A
   * store that keeps nothing here hands them to its spill store by those bytes alone.
   */
  putPages(memory: Uint8Array, pages: Uint32Array, digests: Uint8Array): void {
    const here = !this.spillsAll;
    if (!here && this.spill!.putPages) return this.spill!.putPages(memory, pages, digests);
    for (let k = 0; k < pages.length; k++) {
      const i = pages[k]!;
      const page = memory.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
      if (!here) this.spill!.putPage(page, digests, k * 16);
      else {
        const hash = bytesToHash(digests.subarray(k * 16, k * 16 + 16));
        if (!this.heldHere(hash)) this.keep(page, hash, digests, k * 16);
      }
    }
  }

  /** Whether every page put goes to the spill store, none held here (a recording's in Node). */
  private get spillsAll(): boolean {
    return this.spill !== null && this.records.size === 0 && this.raw.size === 0 && this.cold === null;
  }

  /**
   * {@link PagesHasher}: hashes `pages` of `memory` on the spill store's thread as well, when every
   * page goes there, and has pages put until {@link forgetCopies} taken from its copies.
   */
  hashPages(memory: Uint8Array, pages: readonly number[], digests: Uint8Array): boolean {
    return this.spillsAll && this.spill!.hashPages?.(memory, pages, digests) === true;
  }

  /** {@link PageSpill.hashPagesLater}, when every page goes to the spill store; else null. */
  hashPagesLater(memory: Uint8Array, pages: readonly number[], owed: () => void): (() => Uint8Array) | null {
    return this.spillsAll ? (this.spill!.hashPagesLater?.(memory, pages, owed) ?? null) : null;
  }

  /** Says that memory may change from now on (see hashPages). */
  forgetCopies(): void {
    this.spill?.forgetCopies?.();
  }

  /** Stores a page not held here: handed to the spill store, or kept raw until {@link compress}. */
  private keep(page: Uint8Array, hash: Hash128, digests?: Uint8Array, at?: number): void {
    if (this.spill) {
      // It looks for the page itself as it numbers it: one lookup, not two.
      if (digests === undefined) this.spill.putPage(page, hashToBytes(hash), 0);
      else this.spill.putPage(page, digests, at ?? 0);
      return;
    }
    // Kept as it is now and encoded later (compress), so capturing a checkpoint stays off the hot path.
    // Copied into a slab of pages: one allocation per SLAB_PAGES pages, not one per page.
    if (this.slabUsed === SLAB_PAGES) {
      this.slab = new Uint8Array(SLAB_PAGES * PAGE_SIZE);
      this.slabUsed = 0;
    }
    const copy = this.slab.subarray(this.slabUsed * PAGE_SIZE, ++this.slabUsed * PAGE_SIZE);
    copy.set(page);
    this.raw.set(hash, copy);
    this.storedBytes += PAGE_SIZE;
  }

  /**
   * Encodes up to `maxPages` of the pages put (all when omitted); returns
   * how many remain. Call between run slices when idle, and before
   * exporting. (With a spill store, pages are encoded as they are put.)
   */
  compress(maxPages = Infinity): number {
    let n = 0;
    for (const [hash, page] of this.raw) {
      if (n++ >= maxPages) break;
      const rec = encodePageRecord(page);
      this.raw.delete(hash);
      this.records.set(hash, rec);
      this.storedBytes += rec.length - PAGE_SIZE;
    }
    return this.raw.size;
  }

  /** Bytes the pages in `live` take where they are kept. */
  bytesOf(live: Iterable<Hash128>): number {
    let n = 0;
    for (const h of live) n += this.sizeOf(h);
    return n;
  }

  /** Bytes the page with digest `hash` takes where it is kept (0 when it is only in the cold store, or missing). */
  sizeOf(hash: Hash128): number {
    return this.records.get(hash)?.length ?? (this.raw.has(hash) ? PAGE_SIZE : (this.spill?.sizeOf(hash) ?? 0));
  }

  /**
   * Forgets every page not in `live` (the pages that the checkpoints kept still name), in memory
   * and spilled; `room` as for PageSpill.compact.
   */
  sweep(live: HashSet, room?: number): void {
    this.sweepMemory(live);
    this.spill?.compact(live, room);
  }

  /** {@link bytes}, but with the space that a spill store keeps for the pages to come: what its file takes. */
  get extentBytes(): number {
    return this.storedBytes + (this.spill ? (this.spill.extent ?? this.spill.bytes) : 0);
  }

  /** At least {@link extentBytes}, without waiting for a spill store that encodes on another thread. */
  get extentBound(): number {
    return this.storedBytes + (this.spill ? (this.spill.extentBound ?? this.spill.extent ?? this.spill.bytes) : 0);
  }

  /** At most {@link extentBytes}, without waiting for a spill store that encodes on another thread. */
  get extentWritten(): number {
    return this.storedBytes + (this.spill ? (this.spill.extentWritten ?? this.spill.extent ?? this.spill.bytes) : 0);
  }

  /** {@link sweep}, but of the pages held in memory only: a spill store keeps its own until the next sweep. */
  sweepMemory(live: HashSet): void {
    for (const map of [this.records, this.raw])
      for (const [hash, rec] of map) {
        if (live.has(hash)) continue;
        map.delete(hash);
        this.storedBytes -= rec.length;
      }
  }

  /** A fresh copy of the page with digest `hash`; throws RewindError('not-found') when missing. */
  get(hash: Hash128): Uint8Array {
    if (hash === ZERO_PAGE_HASH) return new Uint8Array(PAGE_SIZE);
    const page = this.raw.get(hash);
    if (page) return page.slice();
    const rec = this.records.get(hash) ?? this.spill?.get(hash);
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

  /**
   * {@link get} of each of `hashes` written into the `outs` at the same index
   * (4 KiB each: pages of RAM), with no copy of its own where a record
   * allows, and the pages of a colder store read together; throws
   * RewindError('not-found') when one is missing.
   */
  getInto(hashes: readonly Hash128[], outs: readonly Uint8Array[]): void {
    const coldHashes: Hash128[] = [];
    const coldOuts: Uint8Array[] = [];
    hashes.forEach((hash, k) => {
      const out = outs[k]!;
      const page = this.raw.get(hash);
      const rec = page ? undefined : (this.records.get(hash) ?? this.spill?.get(hash));
      if (hash === ZERO_PAGE_HASH) out.fill(0);
      else if (page) out.set(page);
      else if (rec) decodeChunkInto(rec[0]!, rec.subarray(1), out, 'io', `page ${hash}`);
      else {
        coldHashes.push(hash);
        coldOuts.push(out);
      }
    });
    if (coldHashes.length === 0) return;
    const missing = this.cold?.pagesInto ? this.cold.pagesInto(coldHashes, coldOuts) : coldHashes.map((_, k) => k);
    for (const k of missing) coldOuts[k]!.set(this.get(coldHashes[k]!));
  }

  /** The encoded record of a page (undefined for the zero page or a missing one). */
  getRecord(hash: Hash128): Uint8Array | undefined {
    const page = this.raw.get(hash);
    if (page) {
      const rec = new Uint8Array(1 + PAGE_SIZE);
      rec[0] = ENCODING_RAW;
      rec.set(page, 1);
      return rec;
    }
    return this.records.get(hash) ?? this.spill?.get(hash) ?? this.cold?.get(hash);
  }

  /** Distinct non-zero pages held, in memory and spilled. */
  get count(): number {
    return this.records.size + this.raw.size + (this.spill?.count ?? 0);
  }

  /** Number of distinct non-zero pages held in memory. */
  get size(): number {
    return this.records.size + this.raw.size;
  }
}
