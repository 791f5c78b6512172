/**
 * Format versions 2 and 3: chunks first, then an index, so that a writer can
 * stream and a reader opens a file of any size by reading its header and
 * index only. Byte-level specification: docs/vmi.md. Layout:
 *
 *   header (80 bytes) | chunks | index (msgpack, maybe deflated)
 *
 * In version 2 the chunks lie back to back in the chunk table's order; in
 * version 3 the table gives each chunk's offset, so that a recording's page
 * store, written as it ran, becomes the file where it lies (see
 * {@link PlacedChunks}). The header holds the index's place, length and
 * digest, and its own digest. The index is checked as a whole when the file
 * opens; each chunk is checked against its digest when it is read, which is
 * when it is first needed.
 */
import { PAGE_SIZE } from '../core/memmap.js';
import { deflateFixed } from './deflate.js';
import { RewindError } from '../core/errors.js';
import { compareBytes, concatBytes, type ByteSink, type ByteSource } from './bytes.js';
import type { Checkpoint, PageMap } from './checkpoint.js';
import { packPlainPieces } from './codec.js';
import { sortedDigestBytes } from './digests.js';
import { HEX_VALUE, Hasher128, bytesToHash, hash128, hashToBytes, type Hash128 } from './hash.js';
import {
  ENCODING_DEFLATE,
  ENCODING_RAW,
  ENCODING_SPARSE,
  compressChunk,
  decodeChunkInto,
  decompressChunk,
} from './pagestore.js';
import { ZERO_PAGE_HASH, hashPage } from './statehash.js';
import { digestInWindow, feedInWindow, hashWindow, pagePairHasherOf } from './pagehash.js';
import { chunkScan } from './chunkscan.js';
import {
  CHUNK_BLOB,
  CHUNK_PAGE,
  VMI_FLAG_MANIFEST_DEFLATED,
  VMI_LIMITS,
  VMI_MAGIC,
  VMI_VERSION,
  bad,
  checkCheckpoints,
  consoleBytes,
  consoleToWire,
  eachPageMap,
  readConfig,
  readHistory,
  readManifest,
  sameBytes,
  type PageRecords,
  type Recording,
  type VmiSummary,
} from './vmi-common.js';
import { FileBytes, FileBytesReader, skim, type ValuePath } from './skim.js';
import {
  ascendingPages,
  bytes,
  checkPackedPageMap,
  checkpointFieldsFromWire,
  checkpointToWire,
  isObject,
  packPageMap,
  pageMapShape,
  str,
  unpackPageMap,
  type PackedPageMap,
} from './wire.js';

/** Header size of format versions 2 and 3. */
export const VMI_HEADER_SIZE = 80;

/** Where a chunk's stored bytes lie in a file being finished. */
export interface ChunkPlace {
  offset: number;
  stored: number;
  encoding: number;
}

/**
 * Pages already in the file that a writer finishes (a recording's page
 * store on disk, begun past the header's room): the writer names them where
 * they are and appends only the rest.
 */
export interface PlacedChunks {
  /**
   * Calls `each(i, place)` for every chunk it holds of those whose digests are `ids` (16 bytes
   * each, ascending), with where it lies: found in one pass over both.
   */
  placeAll(ids: Uint8Array, each: (i: number, place: ChunkPlace) => void): void;
}
/**
 * Indexes up to this size are deflated; larger ones are mostly digests, which
 * do not compress (a third off at best), and write and open faster raw.
 */
const SMALL_INDEX = 256 << 10;

/** `data` deflated by our fixed-code encoder, when that makes it smaller; else null. */
function deflatedSmall(data: Uint8Array): Uint8Array | null {
  const z = new Uint8Array(data.length);
  const end = deflateFixed(data, z, 0);
  return end > 0 ? z.subarray(0, end) : null;
}

/**
 * Boot images up to this size are deflated by our fixed-code encoder, larger ones (a Linux
 * kernel) by fflate: for a program of some tens of KiB, fflate's first call in a process costs
 * ~10 ms (a whole `record` of 10⁹ instructions takes ~0.9 s), and saves a few KiB.
 */
const SMALL_BLOB = 1 << 20;

/** A boot image's encoding and stored bytes (see SMALL_BLOB). */
function blobChunk(image: Uint8Array): [number, Uint8Array] {
  if (image.length > SMALL_BLOB) return compressChunk(image);
  const z = deflatedSmall(image);
  return z === null ? [ENCODING_RAW, image] : [ENCODING_DEFLATE, z];
}

const setU64 = (dv: DataView, at: number, v: number) => {
  dv.setUint32(at, v % 2 ** 32, true);
  dv.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
};
const getU64 = (dv: DataView, at: number) => dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;

/**
 * What a version 3 file of `rec` holds besides where its chunks lie: the
 * chunks named (digests ascending), their digests as bytes, and the index
 * without the chunk table's places. The work that waits for no page: a
 * recording's end makes it while its page store's thread finishes writing.
 */
export interface IndexPlan {
  readonly rec: Recording;
  /** The chunks' kinds, by row: side by side with their digests rather than an object each (a long recording names half a million). */
  readonly kind: Uint8Array;
  /** The chunks' digests, 16 bytes a row, ascending. */
  readonly ids: Uint8Array;
  /** The index's fields before the chunk table. */
  readonly index: Record<string, unknown>;
}

/** The plan of `rec`'s file (see IndexPlan). */
export function planIndexed(rec: Recording): IndexPlan {
  // Every page the disk image and the checkpoints name, from their packed maps' digests, sorted once each.
  const named: Uint8Array[] = [];
  eachPageMap(rec.disk, rec.checkpoints, (m) => {
    if (m.size > 0) named.push(packPageMap(m).h);
  });
  let ids = sortedDigestBytes(named, hashToBytes(ZERO_PAGE_HASH));
  let rows = ids.length >>> 4;
  const kernelId = rec.kernel ? hash128(rec.kernel) : null;
  // After a page of the same digest: CHUNK_PAGE < CHUNK_BLOB.
  let blob = -1;
  if (kernelId) {
    const kernel = hashToBytes(kernelId);
    let lo = 0;
    let hi = rows;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(ids.subarray(mid * 16, mid * 16 + 16), kernel) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const withKernel = new Uint8Array(ids.length + 16);
    withKernel.set(ids.subarray(0, lo * 16));
    withKernel.set(kernel, lo * 16);
    withKernel.set(ids.subarray(lo * 16), lo * 16 + 16);
    ids = withKernel;
    blob = lo;
    rows++;
  }
  const kind = new Uint8Array(rows).fill(CHUNK_PAGE);
  if (blob >= 0) kind[blob] = CHUNK_BLOB;
  const branches = Object.values(rec.timeline.branches).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const index = {
    config: { ramSize: rec.config.ramSize, diskSize: rec.config.diskSize, machine: rec.config.machine },
    kernel: kernelId,
    disk: rec.disk ? packPageMap(rec.disk) : null,
    timeline: { nextId: rec.timeline.nextId, branches },
    // Position order (then id), so that the same recording always gives the same bytes.
    checkpoints: [...rec.checkpoints]
      .sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(checkpointToWire),
    log: rec.timelineLog,
  };
  return { rec, kind, ids, index };
}

/**
 * Writes `rec` as a version 3 file to `sink` (deterministic: same recording,
 * same bytes), from its plan when made already. With `placed`, the sink
 * holds the start of the file already (the header's room, then chunks) and
 * the pages it places are not written again; without, the file starts at
 * the sink's present length.
 */
export function writeIndexed(
  rec: Recording,
  sink: ByteSink,
  placed: PlacedChunks | null = null,
  plan: IndexPlan = planIndexed(rec),
): void {
  if (plan.rec !== rec) throw new RangeError('an index plan of another recording');
  const { kind: kinds, ids } = plan;
  const n = kinds.length;
  const encodings = new Uint8Array(n);
  const stored = new Uint8Array(n * 4);
  const raw = new Uint8Array(n * 4);
  const offset = new Uint8Array(n * 8);
  const sdv = new DataView(stored.buffer);
  const rdv = new DataView(raw.buffer);
  const odv = new DataView(offset.buffer);
  const start = placed ? 0 : sink.length;
  if (placed && sink.length < VMI_HEADER_SIZE) throw new RangeError('a placed file starts with room for its header');
  if (!placed) sink.append(new Uint8Array(VMI_HEADER_SIZE));
  // The pages in the file already, in one pass (a lookup for each cost a recording of 370 k pages ~0.3 s).
  const inPlace = new Uint8Array(n);
  placed?.placeAll(ids, (i, p) => {
    if (kinds[i] !== CHUNK_PAGE) return;
    inPlace[i] = 1;
    encodings[i] = p.encoding;
    sdv.setUint32(i * 4, p.stored, true);
    rdv.setUint32(i * 4, PAGE_SIZE, true);
    setU64(odv, i * 8, p.offset);
  });
  for (let i = 0; i < n; i++) {
    const kind = kinds[i]!;
    if (inPlace[i] === 1) continue;
    let enc: number;
    let data: Uint8Array;
    let size = PAGE_SIZE;
    if (kind === CHUNK_BLOB) {
      [enc, data] = blobChunk(rec.kernel!);
      size = rec.kernel!.length;
    } else {
      const id = bytesToHash(ids.subarray(i * 16, i * 16 + 16));
      const r = rec.pages.get(id);
      if (!r || r.length < 1)
        throw new RewindError('bad-argument', `cannot export: page ${id} is not in the page store`);
      enc = r[0]!;
      data = r.subarray(1);
    }
    encodings[i] = enc;
    sdv.setUint32(i * 4, data.length, true);
    rdv.setUint32(i * 4, size, true);
    setU64(odv, i * 8, sink.length - start);
    sink.append(data);
  }
  const index = {
    ...plan.index,
    chunks: { id: ids, kind: kinds, encoding: encodings, stored, raw, offset },
    // Derived data, kept when it fits the limit a reader enforces.
    ...(rec.console && consoleBytes(rec.console) <= VMI_LIMITS.maxConsoleBytes
      ? { console: consoleToWire(rec.console) }
      : {}),
  };
  const pieces = packPlainPieces(index);
  let plainLength = 0;
  for (const p of pieces) plainLength += p.length;
  if (plainLength > VMI_LIMITS.maxManifestBytes)
    throw new RewindError('bad-argument', `cannot export: an index of ${plainLength} bytes is over the limit`);
  const z = plainLength <= SMALL_INDEX ? deflatedSmall(concatBytes(pieces, plainLength)) : null;
  const deflated = z !== null;
  const body = z === null ? pieces : [z];
  const indexOffset = sink.length - start;
  const bodyHash = new Hasher128();
  let bodyLength = 0;
  for (const p of body) {
    sink.append(p);
    feedInWindow(bodyHash, p);
    bodyLength += p.length;
  }
  const header = new Uint8Array(VMI_HEADER_SIZE);
  const dv = new DataView(header.buffer);
  header.set(new TextEncoder().encode(VMI_MAGIC), 0);
  dv.setUint16(8, VMI_VERSION, true);
  dv.setUint16(10, deflated ? VMI_FLAG_MANIFEST_DEFLATED : 0, true);
  setU64(dv, 16, indexOffset + bodyLength);
  setU64(dv, 24, indexOffset);
  setU64(dv, 32, bodyLength);
  setU64(dv, 40, plainLength);
  header.set(hashToBytes(bodyHash.digest()), 48);
  header.set(hashToBytes(hash128(header.subarray(0, 64))), 64);
  sink.patch(start, header);
}

/**
 * A summary of a version 2 or 3 file whose index is stored raw, read as a summary needs it: the
 * index streamed through one window (see skim.ts) and checked as readIndexed checks it, but for
 * what only a use of the checkpoints' page maps checks (that the pages they name are in the
 * file), without holding the chunk table or the page maps in memory. Null for an index stored
 * deflated (a small one: read it whole).
 */
export function summarizeIndexed(source: ByteSource, flags: number, version: number): VmiSummary | null {
  const { indexOffset, indexStored, indexHash } = indexHeader(source, flags);
  if (flags & VMI_FLAG_MANIFEST_DEFLATED) return null;
  const inFile = (p: ValuePath): boolean =>
    p[0] === 'chunks' || (p[0] === 'checkpoints' && (p[2] === 'ram' || p[2] === 'disk'));
  const corrupt = 'index hash mismatch: the file is corrupt';
  const skimmed = skim(source, indexOffset, indexStored, inFile, 'the index', { digest: indexHash, corrupt });
  if (skimmed.digest !== indexHash) bad(corrupt);
  if (!isObject(skimmed.value)) bad('index is not a map');
  const index = skimmed.value;
  const { config, ramPages, diskPages } = readConfig(index);
  let kernel: Uint8Array | null = null;
  if (index['kernel'] !== null && index['kernel'] !== undefined)
    kernel = hashToBytes(str(index['kernel'], 'bad-vmi', 'kernel id', 32) as Hash128);
  const chunks = checkChunksInFile(source, index['chunks'], config.ramSize, version, indexOffset, kernel);
  const unread = (): never => {
    throw new RewindError('bad-state', 'a summary of a recording holds no page maps');
  };
  const checkpoints = checkpointRows(index, diskPages, (v, memory, owner) => {
    checkPageMapInFile(source, v, memory === 'RAM' ? ramPages : diskPages!, `${owner} ${memory}`);
    return unread;
  });
  const byId = checkCheckpoints(checkpoints);
  diskImage(index, diskPages);
  return {
    config,
    timeline: readHistory(index, checkpoints, byId).timeline,
    checkpoints: checkpoints.length,
    pages: chunks.count - (kernel ? 1 : 0),
    kernelBytes: chunks.kernelBytes ?? 0,
  };
}

/** Rows of the chunk table checked at a time when it is read from the file: some 0.5 MB of its columns. */
const ROWS = 16384;

/** A byte string of the index, in memory or left in the file by skim, checked to be one and no longer than `max`. */
function inFileBytes(v: unknown, what: string, max: number): Uint8Array | FileBytes {
  if (!(v instanceof FileBytes)) return bytes(v, 'bad-vmi', what, max);
  if (v.length > max) bad(`${what} is ${v.length} bytes, more than the limit ${max}`);
  return v;
}

/** Reads `column` (in memory or in the file) a part at a time, in order, into `room` bytes of the hash window from `at`. */
function columnReader(
  source: ByteSource,
  column: Uint8Array | FileBytes,
  at: number,
  room: number,
  what: string,
): (n: number) => Uint8Array {
  if (column instanceof FileBytes) {
    const reader = new FileBytesReader(source, column, what, at, room);
    return (n) => reader.next(n);
  }
  const window = hashWindow().bytes;
  let from = 0;
  return (n) => {
    const into = window.subarray(at, at + n);
    into.set(column.subarray(from, (from += n)));
    return into;
  };
}

/** Where in the hash window each column of ROWS rows is read (see checkChunksInFile), by bytes a row. */
const REGIONS = { id: 0, kind: 16 * ROWS, encoding: 17 * ROWS, stored: 18 * ROWS, raw: 22 * ROWS, offset: 26 * ROWS };

/** Calls `visit` with each run of ROWS rows of the chunk table, read into the hash window, until it returns false; returns whether all were visited. */
function eachChunkRun(
  source: ByteSource,
  c: ReturnType<typeof chunkColumns<Uint8Array | FileBytes>>,
  visit: (rows: ChunkRows) => boolean,
): boolean {
  const column = (bytes: Uint8Array | FileBytes, width: number, at: number, what: string) =>
    columnReader(source, bytes, at, ROWS * width, what);
  const ids = column(c.id, 16, REGIONS.id, 'the chunk ids');
  const kinds = column(c.kind, 1, REGIONS.kind, 'the chunk kinds');
  const encodings = column(c.encoding, 1, REGIONS.encoding, 'the chunk encodings');
  const stored = column(c.stored, 4, REGIONS.stored, 'the chunk lengths');
  const raw = column(c.raw, 4, REGIONS.raw, 'the chunk sizes');
  const offsets = c.offset ? column(c.offset, 8, REGIONS.offset, 'the chunk offsets') : null;
  const n = c.kind.length;
  for (let from = 0; from < n; from += ROWS) {
    const m = Math.min(ROWS, n - from);
    const rows: ChunkRows = {
      ids: ids(m * 16),
      kinds: kinds(m),
      encodings: encodings(m),
      stored: u32s(stored(m * 4)),
      raw: u32s(raw(m * 4)),
      places: offsets ? view(offsets(m * 8)) : null,
    };
    if (!visit(rows)) return false;
  }
  return true;
}

/**
 * The chunk table's checks (RowCheck) on its columns, in memory or where they lie in the file,
 * ROWS rows at a time: in WebAssembly where it can (chunkscan.ts), the JS checks then running
 * only to say what is wrong. `visit` sees each run of rows checked (a run may come twice when
 * the JS checks run after all). Returns the stored bytes of all the chunks.
 */
function checkChunks(
  source: ByteSource,
  c: ReturnType<typeof chunkColumns<Uint8Array | FileBytes>>,
  ramSize: number,
  end: number,
  visit: (rows: ChunkRows) => void,
): number {
  const scan = chunkScan(Math.min(VMI_LIMITS.maxKernelBytes, ramSize), VMI_HEADER_SIZE, end);
  const R = REGIONS;
  const passed =
    scan !== null &&
    eachChunkRun(source, c, (rows) => {
      const places = c.offset ? R.offset : -1;
      if (!scan.scan(R.id, R.kind, R.encoding, R.stored, R.raw, places, rows.kinds.length)) return false;
      visit(rows);
      return true;
    }) &&
    (c.offset !== null || VMI_HEADER_SIZE + scan.total === end);
  if (passed) return scan.total;
  const check = new RowCheck(ramSize, end, c.offset !== null);
  eachChunkRun(source, c, (rows) => {
    check.rows(rows);
    visit(rows);
    return true;
  });
  check.finish();
  return check.total;
}

/** The chunk table's checks on its columns where they lie in the file, finding the boot image's chunk (digest `kernel`) on the way: the rows, and its size (null without one). */
function checkChunksInFile(
  source: ByteSource,
  v: unknown,
  ramSize: number,
  version: number,
  end: number,
  kernel: Uint8Array | null,
): { count: number; kernelBytes: number | null } {
  const c = chunkColumns(v, version, inFileBytes);
  let kernelBytes: number | null = null;
  checkChunks(source, c, ramSize, end, (rows) => {
    if (kernel)
      for (let k = 0; k < rows.kinds.length; k++)
        if (rows.kinds[k] === CHUNK_BLOB && sameBytes(rows.ids.subarray(k * 16, k * 16 + 16), kernel))
          kernelBytes = rows.raw[k]!;
  });
  if (kernel && kernelBytes === null) bad(`kernel image ${bytesToHash(kernel)} is not among the chunks`);
  return { count: c.kind.length, kernelBytes };
}

/** The checks checkPackedPageMap makes, on a page map whose byte strings may lie in the file. */
function checkPageMapInFile(source: ByteSource, v: unknown, pageCount: number, what: string): void {
  const { i } = pageMapShape(v, pageCount, 'bad-vmi', what, inFileBytes);
  const part = ROWS * 4;
  const indices = columnReader(source, i, 0, part, `${what}: page indices`);
  let prev = -1;
  for (let at = 0; at < i.length; at += part)
    prev = ascendingPages(indices(Math.min(part, i.length - at)), prev, pageCount, 'bad-vmi', what);
}

/**
 * The chunk table: digests ascending (then kind). A chunk is found by its
 * digest's first 16 bits (a bucket of the sorted rows), then by binary
 * search within the bucket, comparing digests as four 32-bit words: a
 * restore looks up every page of a checkpoint, a million-row table included.
 */
class ChunkTable {
  readonly count: number;
  private readonly offsets: Float64Array;
  private readonly words: DataView;
  /** Row where each 16-bit digest prefix starts (65,537 entries: the last is `count`). */
  private readonly buckets = new Uint32Array(65537);

  constructor(
    readonly ids: Uint8Array,
    readonly kinds: Uint8Array,
    readonly encodings: Uint8Array,
    readonly stored: Uint32Array,
    readonly raw: Uint32Array,
    offsets: Float64Array,
    /** Bytes of all chunks as stored. */
    readonly bytes: number,
  ) {
    this.count = kinds.length;
    this.offsets = offsets;
    this.words = new DataView(ids.buffer, ids.byteOffset, ids.length);
    let row = 0;
    for (let prefix = 0; prefix < 65536; prefix++) {
      this.buckets[prefix] = row;
      while (row < this.count && ((ids[row * 16]! << 8) | ids[row * 16 + 1]!) === prefix) row++;
    }
    this.buckets[65536] = this.count;
  }

  /** The chunk number of (digest, kind), or -1. */
  find(hash: Hash128, kind: number): number {
    if (hash.length !== 32) return -1;
    const k0 = hexWord(hash, 0);
    const k1 = hexWord(hash, 8);
    const k2 = hexWord(hash, 16);
    const k3 = hexWord(hash, 24);
    // A digest that is not lower-case hex names no chunk.
    if (k0 < 0 || k1 < 0 || k2 < 0 || k3 < 0) return -1;
    return this.findWords(k0, k1, k2, k3, kind);
  }

  /** The chunk number of (the digest of 16 bytes at `at` in `digests`, kind), or -1. */
  findAt(digests: DataView, at: number, kind: number): number {
    const k = (i: number) => digests.getUint32(at + i * 4);
    return this.findWords(k(0), k(1), k(2), k(3), kind);
  }

  private findWords(k0: number, k1: number, k2: number, k3: number, kind: number): number {
    const prefix = k0 >>> 16;
    let lo = this.buckets[prefix]!;
    let hi = this.buckets[prefix + 1]! - 1;
    const w = this.words;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = mid * 16;
      let c = w.getUint32(at) - k0;
      if (c === 0) c = w.getUint32(at + 4) - k1;
      if (c === 0) c = w.getUint32(at + 8) - k2;
      if (c === 0) c = w.getUint32(at + 12) - k3;
      if (c === 0) c = this.kinds[mid]! - kind;
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The chunk's decoded bytes, checked against its digest; RewindError('bad-vmi') naming it otherwise. */
  read(source: ByteSource, n: number): { encoded: Uint8Array; content: Uint8Array } {
    const encoded = this.bytesOf(source, n);
    const content = this.decode(source, n, (what) =>
      decompressChunk(this.encodings[n]!, encoded, this.raw[n]!, 'bad-vmi', what),
    );
    this.check(source, n, content);
    return { encoded, content };
  }

  /**
   * {@link read}'s content of chunks `ns` written into the `outs` at the same
   * index (their raw length: pages of RAM), with no copies of their own.
   * Chunks are read in file order, those that lie close together in one
   * read: a restore reads thousands of pages, and a read each was most of
   * its time.
   */
  readInto(source: ByteSource, ns: readonly number[], outs: readonly Uint8Array[]): void {
    const order = fileOrder(ns, this.offsets);
    for (let s = 0; s < order.length;) {
      const first = ns[order[s]!]!;
      const start = this.offsets[first]!;
      let end = start + this.stored[first]!;
      let e = s + 1;
      for (; e < order.length; e++) {
        const n = ns[order[e]!]!;
        const at = this.offsets[n]!;
        if (at - end > RUN_GAP || at + this.stored[n]! - start > RUN_BYTES) break;
        end = Math.max(end, at + this.stored[n]!);
      }
      const direct = this.rawInPlace(source, ns, outs, order, s, e);
      const run = direct ? null : this.bytesAt(source, first, start, end - start, true);
      // Pages in RAM are checked where they lie, two at a time (see pagePairHasherOf); `held` waits for its pair.
      let held = -1;
      for (; s < e; s++) {
        const n = ns[order[s]!]!;
        const out = outs[order[s]!]!;
        if (run !== null) {
          const at = this.offsets[n]! - start;
          const encoded = run.subarray(at, at + this.stored[n]!);
          this.decode(source, n, (what) => decodeChunkInto(this.encodings[n]!, encoded, out, 'bad-vmi', what));
        }
        const pair = this.kinds[n] === CHUNK_PAGE && (out.byteOffset & 3) === 0 ? pagePairHasherOf(out) : null;
        if (pair === null) this.check(source, n, out);
        else if (held >= 0 && outs[order[held]!]!.buffer !== out.buffer) {
          this.check(source, ns[order[held]!]!, outs[order[held]!]!);
          held = s;
        } else if (held < 0) held = s;
        else {
          const h = pair(outs[order[held]!]!.byteOffset, out.byteOffset);
          this.checkWords(source, ns[order[held]!]!, h, 0);
          this.checkWords(source, n, h, 4);
          held = -1;
        }
      }
      if (held >= 0) this.check(source, ns[order[held]!]!, outs[order[held]!]!);
    }
  }

  /**
   * Reads the chunks `order[s..e)` of `ns` straight into their `outs` when they are all pages
   * stored raw, one after another in the file and in memory (a busy guest's checkpoint: its
   * pages in RAM's order, random words kept raw): one read, no copy. False when they are not.
   */
  private rawInPlace(
    source: ByteSource,
    ns: readonly number[],
    outs: readonly Uint8Array[],
    order: ArrayLike<number>,
    s: number,
    e: number,
  ): boolean {
    if (!source.readInto) return false;
    const first = outs[order[s]!]!;
    for (let k = s; k < e; k++) {
      const n = ns[order[k]!]!;
      const out = outs[order[k]!]!;
      if (this.encodings[n] !== ENCODING_RAW || this.stored[n] !== PAGE_SIZE || out.length !== PAGE_SIZE) return false;
      if (out.buffer !== first.buffer || out.byteOffset !== first.byteOffset + (k - s) * PAGE_SIZE) return false;
      if (this.offsets[n] !== this.offsets[ns[order[s]!]!]! + (k - s) * PAGE_SIZE) return false;
    }
    const into = new Uint8Array(first.buffer, first.byteOffset, (e - s) * PAGE_SIZE);
    const n = ns[order[s]!]!;
    this.reading(source, n, () => source.readInto!(this.offsets[n]!, into));
    return true;
  }

  /** {@link check} of a page whose digest's words are h[at] to h[at + 3]. */
  private checkWords(source: ByteSource, n: number, h: number[], at: number): void {
    const w = this.words;
    const o = n * 16;
    for (let k = 0; k < 4; k++)
      if (w.getInt32(o + 4 * k) !== h[at + k])
        bad(`${this.what(source, n)} is damaged: its content does not match its hash`);
  }

  private id(n: number): Hash128 {
    return bytesToHash(this.ids.subarray(n * 16, n * 16 + 16));
  }

  /** How messages name chunk n (made only for a message: a restore reads many thousand). */
  private what(source: ByteSource, n: number): string {
    return `${source.name ? `${source.name}: ` : ''}${this.kinds[n] === CHUNK_PAGE ? 'page' : 'image'} ${this.id(n)}`;
  }

  /** Chunk n's stored bytes. */
  private bytesOf(source: ByteSource, n: number): Uint8Array {
    return this.bytesAt(source, n, this.offsets[n]!, this.stored[n]!, false);
  }

  /** `length` bytes at `at`, which hold chunk n (with `peek`, a view for use at once); a failure names chunk n. */
  private bytesAt(source: ByteSource, n: number, at: number, length: number, peek: boolean): Uint8Array {
    return this.reading(source, n, () => (peek && source.peek ? source.peek(at, length) : source.read(at, length)));
  }

  /** Runs a read of chunk n's bytes; a failure names the chunk. */
  private reading<T>(source: ByteSource, n: number, read: () => T): T {
    try {
      return read();
    } catch (e) {
      bad(`${this.what(source, n)}: cannot be read (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  /** Runs chunk n's decoding; a failure says the chunk is damaged. */
  private decode<T>(source: ByteSource, n: number, run: (what: string) => T): T {
    try {
      return run(CHUNK);
    } catch (e) {
      const what = this.what(source, n);
      bad(`${e instanceof Error ? e.message.replace(`${CHUNK}: `, `${what} is damaged: `) : String(e)}`);
    }
  }

  private check(source: ByteSource, n: number, content: Uint8Array): void {
    if ((this.kinds[n] === CHUNK_PAGE ? hashPage(content) : hash128(content)) !== this.id(n))
      bad(`${this.what(source, n)} is damaged: its content does not match its hash`);
  }
}

/** Chunks at most this far apart are read together (the bytes between are read and left). */
const RUN_GAP = 16 << 10;
/** The most bytes read at once when reading chunks together. */
const RUN_BYTES = 1 << 20;

/** What the decoders call a chunk, replaced by its name when they fail. */
const CHUNK = 'the chunk';

/** The 32-bit word of 8 lower-case hex digits at `at`, or -1 when they are not that. */
function hexWord(hex: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = hex.charCodeAt(i);
    const d = c < 128 ? HEX_VALUE[c]! : 255;
    if (d === 255) return -1;
    v = (v << 4) | d;
  }
  return v >>> 0;
}

/** Where a version 2 or 3 file's index lies, its sizes and digest: the header, checked. */
function indexHeader(
  source: ByteSource,
  flags: number,
): { indexOffset: number; indexStored: number; indexRaw: number; indexHash: Hash128 } {
  const L = VMI_LIMITS;
  if (flags & ~VMI_FLAG_MANIFEST_DEFLATED) bad(`unknown header flags 0x${flags.toString(16)}`);
  if (source.size < VMI_HEADER_SIZE) bad(`file is truncated: ${source.size} bytes, shorter than its header`);
  const header = source.read(0, VMI_HEADER_SIZE).slice();
  if (bytesToHash(header.subarray(64, 80)) !== hash128(header.subarray(0, 64)))
    bad('header hash mismatch: the file is corrupt');
  const dv = new DataView(header.buffer);
  if (dv.getUint32(12, true) !== 0) bad('reserved header bytes are not zero');
  const declared = getU64(dv, 16);
  const indexOffset = getU64(dv, 24);
  const indexStored = getU64(dv, 32);
  const indexRaw = getU64(dv, 40);
  if (source.size < declared) bad(`file is truncated: ${source.size} of ${declared} bytes`);
  if (source.size > declared) bad(`file has ${source.size - declared} unexpected bytes after its end`);
  if (indexOffset < VMI_HEADER_SIZE || indexOffset + indexStored !== declared)
    bad(`the index (${indexStored} bytes at ${indexOffset}) does not end the file`);
  if (indexRaw > L.maxManifestBytes || indexStored > L.maxManifestBytes)
    bad(`index claims ${Math.max(indexRaw, indexStored)} bytes, over the ${L.maxManifestBytes} limit`);
  return { indexOffset, indexStored, indexRaw, indexHash: bytesToHash(header.subarray(48, 64)) };
}

/**
 * The index's checkpoints, checked but for their page maps, which `maps` checks as far as it
 * will (given the map, its memory and the checkpoint's name) and returns a reader of: a
 * checkpoint's maps are read when first used.
 */
function checkpointRows(
  index: Record<string, unknown>,
  diskPages: number | null,
  maps: (v: unknown, memory: 'RAM' | 'disk', owner: string) => () => PageMap,
): Checkpoint[] {
  const L = VMI_LIMITS;
  const rows = index['checkpoints'];
  if (!Array.isArray(rows)) bad('index has no checkpoint list');
  if (rows.length > L.maxCheckpoints) bad(`${rows.length} checkpoints, over the ${L.maxCheckpoints} limit`);
  return rows.map((row, n) => {
    const check = { code: 'bad-vmi' as const, maxStateBytes: L.maxStateBytes };
    const f = checkpointFieldsFromWire(row, diskPages, check, `checkpoint #${n}`);
    const w = `checkpoint ${f.id}`;
    const ram = maps(f.ram, 'RAM', w);
    const disk = diskPages === null ? null : maps(f.disk, 'disk', w);
    return lazyMaps({ ...f, state: f.state.slice() }, ram, () => (disk ? disk() : null));
  });
}

/** The index's disk image, checked: undefined for a machine without a disk, null for none (a zero disk). */
function diskImage(index: Record<string, unknown>, diskPages: number | null): PackedPageMap | null | undefined {
  const given = index['disk'] !== null && index['disk'] !== undefined;
  if (diskPages === null) {
    if (given) bad('disk image given but the machine has no disk');
    return undefined;
  }
  return given ? checkPackedPageMap(index['disk'], diskPages, 'bad-vmi', 'disk image') : null;
}

/** Reads a version 2 or 3 file: the header and the index now, the chunks when they are asked for. */
export function readIndexed(source: ByteSource, flags: number, version: number): Recording {
  const code = 'bad-vmi';
  const { indexOffset, indexStored, indexRaw, indexHash } = indexHeader(source, flags);
  const stored = source.read(indexOffset, indexStored);
  if (indexHash !== digestInWindow(stored)) bad('index hash mismatch: the file is corrupt');
  const index = readManifest(stored, flags, indexRaw, 'index');
  const { config, ramPages, diskPages } = readConfig(index);
  const table = readChunkTable(source, index['chunks'], config.ramSize, version, indexOffset);

  const zero = new DataView(hashToBytes(ZERO_PAGE_HASH).buffer);
  const pageMap = (p: PackedPageMap, what: string): PageMap => {
    const digests = new DataView(p.h.buffer, p.h.byteOffset, p.h.length);
    for (let at = 0; at < p.h.length; at += 16) {
      let isZero = true;
      for (let w = 0; w < 16 && isZero; w += 4) isZero = digests.getUint32(at + w) === zero.getUint32(w);
      if (!isZero && table.findAt(digests, at, CHUNK_PAGE) < 0)
        bad(`${what} names page ${bytesToHash(p.h.subarray(at, at + 16))}, which is not in the file`);
    }
    return unpackPageMap(p);
  };
  const checkpoints = checkpointRows(index, diskPages, (v, memory, owner) => {
    const map = checkPackedPageMap(v, memory === 'RAM' ? ramPages : diskPages!, code, `${owner} ${memory}`);
    return () => pageMap(map, owner);
  });
  const byId = checkCheckpoints(checkpoints);

  const disk = diskImage(index, diskPages);

  let kernelChunk = -1;
  if (index['kernel'] !== null && index['kernel'] !== undefined) {
    const k = str(index['kernel'], code, 'kernel id', 32) as Hash128;
    kernelChunk = table.find(k, CHUNK_BLOB);
    if (kernelChunk < 0) bad(`kernel image ${k} is not among the chunks`);
  }

  const pages: PageRecords = {
    has: (h) => table.find(h, CHUNK_PAGE) >= 0,
    get(h) {
      const n = table.find(h, CHUNK_PAGE);
      if (n < 0) return undefined;
      const { encoded } = table.read(source, n);
      const rec = new Uint8Array(1 + encoded.length);
      rec[0] = table.encodings[n]!;
      rec.set(encoded, 1);
      return rec;
    },
    page(h) {
      const n = table.find(h, CHUNK_PAGE);
      return n < 0 ? undefined : table.read(source, n).content;
    },
    pagesInto(hashes, outs) {
      const missing: number[] = [];
      const ns: number[] = [];
      const into: Uint8Array[] = [];
      hashes.forEach((h, k) => {
        const n = table.find(h, CHUNK_PAGE);
        if (n < 0) missing.push(k);
        else {
          ns.push(n);
          into.push(outs[k]!);
        }
      });
      table.readInto(source, ns, into);
      return missing;
    },
  };

  const rec = {
    config,
    checkpoints,
    pages,
    stored: {
      pages: table.count - (kernelChunk < 0 ? 0 : 1),
      bytes: table.bytes,
      kernelBytes: kernelChunk < 0 ? null : table.raw[kernelChunk]!,
    },
    ...readHistory(index, checkpoints, byId),
  };
  return Object.defineProperties(rec, {
    kernel: once(() => (kernelChunk < 0 ? null : table.read(source, kernelChunk).content)),
    // A machine with a disk but no disk image starts from a zero disk.
    disk: once(() => (disk === undefined ? null : disk ? pageMap(disk, 'the disk image') : new Map())),
  }) as typeof rec & Pick<Recording, 'kernel' | 'disk'>;
}

/**
 * The index's chunk table, checked (see checkChunks), with where each chunk
 * lies: back to back in table order in version 2, where its offset says in
 * version 3. Its byte columns are views into the index's bytes (read for the
 * reader, or the file it holds in memory).
 */
function readChunkTable(source: ByteSource, v: unknown, ramSize: number, version: number, end: number): ChunkTable {
  const c = chunkColumns(v, version, (b, what, max) => bytes(b, 'bad-vmi', what, max));
  const total = checkChunks(source, c, ramSize, end, () => {});
  const stored = u32s(c.stored);
  const places = view(c.offset);
  const offsets = new Float64Array(c.kind.length);
  let at = VMI_HEADER_SIZE;
  for (let i = 0; i < offsets.length; i++) {
    offsets[i] = places ? getU64(places, i * 8) : at;
    at += stored[i]!;
  }
  return new ChunkTable(c.id, c.kind, c.encoding, stored, u32s(c.raw), offsets, total);
}

/** The chunk table's columns (version 3 places chunks by `offset`; before, back to back), their sizes checked against one another. */
function chunkColumns<B extends { length: number }>(
  v: unknown,
  version: number,
  column: (v: unknown, what: string, max: number) => B,
): { id: B; kind: B; encoding: B; stored: B; raw: B; offset: B | null } {
  if (!isObject(v)) bad('index has no chunk table');
  const id = column(v['id'], 'chunk ids', VMI_LIMITS.maxChunks * 16);
  if (id.length % 16 !== 0) bad('chunk ids are not whole 16-byte digests');
  const n = id.length / 16;
  const c = {
    id,
    kind: column(v['kind'], 'chunk kinds', n),
    encoding: column(v['encoding'], 'chunk encodings', n),
    stored: column(v['stored'], 'chunk lengths', n * 4),
    raw: column(v['raw'], 'chunk sizes', n * 4),
    offset: version >= 3 ? column(v['offset'], 'chunk offsets', n * 8) : null,
  };
  if (
    c.kind.length !== n ||
    c.encoding.length !== n ||
    c.stored.length !== n * 4 ||
    c.raw.length !== n * 4 ||
    (c.offset && c.offset.length !== n * 8)
  )
    bad(`the chunk table's columns do not all describe ${n} chunks`);
  return c;
}

const view = (b: Uint8Array | null): DataView | null => (b ? new DataView(b.buffer, b.byteOffset, b.length) : null);

/** Rows of the chunk table, as columns from one row on (row 0 here is the first of them). */
interface ChunkRows {
  ids: Uint8Array;
  kinds: Uint8Array;
  encodings: Uint8Array;
  stored: Uint32Array;
  raw: Uint32Array;
  places: DataView | null;
}

/**
 * Checks the chunk table's rows in order, a run at a time, each row with its message: kinds and
 * encodings known, sizes within limits, digests ascending (then kinds), every chunk between the
 * header and the index (`end`), back to back in table order in version 2, where its offset says
 * in version 3. The same checks as chunkscan.ts's, which run first where WebAssembly does.
 */
class RowCheck {
  /** Stored bytes of the rows checked. */
  total = 0;
  /** The rows checked. */
  count = 0;
  private readonly maxBlob: number;
  private w0 = -1;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  private kind = 0;
  private at = VMI_HEADER_SIZE;

  constructor(
    ramSize: number,
    private readonly end: number,
    private readonly placed: boolean,
  ) {
    this.maxBlob = Math.min(VMI_LIMITS.maxKernelBytes, ramSize);
  }

  /** Checks the rows that `r` holds, the next ones. */
  rows(r: ChunkRows): void {
    const { ids, kinds, encodings, stored, raw, places } = r;
    const words = new DataView(ids.buffer, ids.byteOffset, ids.length);
    let { w0, w1, w2, w3, at, total } = this;
    let last = this.kind;
    for (let k = 0; k < kinds.length; k++) {
      const i = this.count + k;
      const kind = kinds[k]!;
      const encoding = encodings[k]!;
      if (kind !== CHUNK_PAGE && kind !== CHUNK_BLOB) bad(`chunk ${i} has unknown kind ${kind}`);
      if (encoding > ENCODING_SPARSE || (encoding === ENCODING_SPARSE && kind !== CHUNK_PAGE))
        bad(`chunk ${i} has unknown encoding ${encoding}`);
      if (kind === CHUNK_PAGE ? raw[k] !== PAGE_SIZE : raw[k]! > this.maxBlob)
        bad(`chunk ${i} claims ${raw[k]} bytes, ${kind === CHUNK_PAGE ? `not ${PAGE_SIZE}` : 'over the limit'}`);
      const x0 = words.getUint32(k * 16);
      const x1 = words.getUint32(k * 16 + 4);
      const x2 = words.getUint32(k * 16 + 8);
      const x3 = words.getUint32(k * 16 + 12);
      const order = x0 !== w0 ? x0 - w0 : x1 !== w1 ? x1 - w1 : x2 !== w2 ? x2 - w2 : x3 !== w3 ? x3 - w3 : kind - last;
      if (order <= 0) bad(`chunk ${i} is out of order or appears twice`);
      w0 = x0;
      w1 = x1;
      w2 = x2;
      w3 = x3;
      last = kind;
      if (places) at = getU64(places, k * 8);
      if (at < VMI_HEADER_SIZE || at + stored[k]! > this.end)
        bad(`chunk ${i} (${stored[k]} bytes at ${at}) lies outside the chunks' part of the file`);
      at += stored[k]!;
      total += stored[k]!;
    }
    Object.assign(this, { w0, w1, w2, w3, kind: last, at, total, count: this.count + kinds.length });
  }

  /** Checks what only the whole table shows: in version 2, that the chunks fill the file up to the index. */
  finish(): void {
    if (!this.placed && this.at !== this.end)
      bad(`chunks cover ${this.at - VMI_HEADER_SIZE} bytes but the file holds ${this.end - VMI_HEADER_SIZE}`);
  }
}

/**
 * The indices of `ns` (chunk numbers) in the order their chunks lie in the file: by a numeric
 * sort of offset and index packed in one double where they fit (a restore's 12 k pages: ~1 ms,
 * against ~5 for a sort through a comparator).
 */
function fileOrder(ns: readonly number[], offsets: Float64Array): ArrayLike<number> {
  let span = 1;
  while (span <= ns.length) span *= 2;
  let last = 0;
  for (const n of ns) last = Math.max(last, offsets[n]!);
  if (last * span >= 2 ** 53) return ns.map((_, k) => k).sort((a, b) => offsets[ns[a]!]! - offsets[ns[b]!]!);
  const keys = new Float64Array(ns.length);
  for (let k = 0; k < ns.length; k++) keys[k] = offsets[ns[k]!]! * span + k;
  keys.sort();
  return Int32Array.from(keys, (key) => key % span);
}

/** True where typed arrays are little-endian, as the file's numbers are (everywhere Rewind runs, but checked). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The index's little-endian u32s as numbers: a view where they are aligned (the index's bytes are the reader's to keep). */
function u32s(b: Uint8Array): Uint32Array {
  if (LITTLE_ENDIAN && b.byteOffset % 4 === 0) return new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
  if (LITTLE_ENDIAN) return new Uint32Array(b.slice().buffer);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const out = new Uint32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(i * 4, true);
  return out;
}

/** A property computed on first read (and settable, as a plain field is). */
function once<T>(compute: () => T): PropertyDescriptor {
  let value: T | undefined;
  let done = false;
  return {
    enumerable: true,
    configurable: true,
    get: () => {
      if (!done) {
        value = compute();
        done = true;
      }
      return value;
    },
    set: (v: T) => {
      value = v;
      done = true;
    },
  };
}

/** A checkpoint whose page maps are unpacked (and their digests looked up) when first used. */
function lazyMaps(
  fields: Omit<Checkpoint, 'ram' | 'disk'>,
  ram: () => PageMap,
  disk: () => PageMap | null,
): Checkpoint {
  return Object.defineProperties({ ...fields }, { ram: once(ram), disk: once(disk) }) as Checkpoint;
}
