/**
 * Wire forms of checkpoints and page maps (in `.vmi` manifests), with strict validation of what comes back: every field checked,
 * so a hostile or corrupt record fails with one clear message.
 */
import { RewindError, type ErrorCode } from '../core/errors.js';
import { bytesToHash, isHash128, writeHashBytes, type Hash128 } from './hash.js';
import type { Checkpoint, PageMap } from './checkpoint.js';

/** A checkpoint on the wire. */
export interface CheckpointWire {
  id: string;
  branch: string;
  position: number;
  stateHash: string;
  state: Uint8Array;
  ram: PackedPageMap;
  disk: PackedPageMap | null;
  parent: string | null;
  full: boolean;
  depth: number;
}

/** Validation context: error code and limits. */
export interface WireCheck {
  code: ErrorCode;
  /** Largest state blob accepted. */
  maxStateBytes: number;
}

/** Throws RewindError(code, message). */
export function fail(code: ErrorCode, message: string): never {
  throw new RewindError(code, message);
}

/** True for a plain object (not an array, not bytes). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** A non-negative safe integer, or fail. */
export function natural(v: unknown, code: ErrorCode, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(code, `${what} is not a non-negative integer`);
  if (v > max) fail(code, `${what} is ${v}, more than the limit ${max}`);
  return v;
}

/** A string of at most `max` characters, or fail. */
export function str(v: unknown, code: ErrorCode, what: string, max = 1024): string {
  if (typeof v !== 'string') fail(code, `${what} is not a string`);
  if (v.length > max) fail(code, `${what} is longer than ${max} characters`);
  return v;
}

/** Bytes (as a plain Uint8Array copy-free view), or fail. */
export function bytes(v: unknown, code: ErrorCode, what: string, max: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(code, `${what} is not a byte string`);
  if (v.length > max) fail(code, `${what} is ${v.length} bytes, more than the limit ${max}`);
  return new Uint8Array(v.buffer, v.byteOffset, v.length);
}

/** Decodes a page map in the version 1 form ({i: [index...], h: digests}); indices must ascend and lie below `pageCount`. */
export function pageMapFromWire(v: unknown, pageCount: number, code: ErrorCode, what: string): PageMap {
  if (!isObject(v)) fail(code, `${what} is not a page map`);
  const idx = v['i'];
  if (!Array.isArray(idx)) fail(code, `${what}: page indices are not a list`);
  if (idx.length > pageCount) fail(code, `${what} lists ${idx.length} pages, more than the ${pageCount} of its memory`);
  const h = bytes(v['h'], code, `${what}: page hashes`, pageCount * 16);
  if (h.length !== idx.length * 16) fail(code, `${what}: ${idx.length} page indices but ${h.length / 16} hashes`);
  const map = new Map<number, Hash128>();
  let prev = -1;
  for (let n = 0; n < idx.length; n++) {
    const i = idx[n];
    if (typeof i !== 'number' || !Number.isInteger(i) || i <= prev || i >= pageCount) {
      fail(code, `${what}: page index ${String(i)} is out of order or beyond the ${pageCount} pages of its memory`);
    }
    prev = i;
    map.set(i, bytesToHash(h.subarray(n * 16, n * 16 + 16)));
  }
  return map;
}

/** Encodes a checkpoint (page maps in the version 2 form). */
export function checkpointToWire(cp: Checkpoint): CheckpointWire {
  return {
    id: cp.id,
    branch: cp.branch,
    position: cp.position,
    stateHash: cp.stateHash,
    state: cp.state,
    ram: packPageMap(cp.ram),
    disk: cp.disk ? packPageMap(cp.disk) : null,
    parent: cp.parent,
    full: cp.full,
    depth: cp.depth,
  };
}

/** A checkpoint's fields as read, its page maps still in their wire form. */
export type CheckpointFields = Omit<Checkpoint, 'ram' | 'disk'> & { ram: unknown; disk: unknown };

/**
 * Decodes and checks one checkpoint's fields other than its page maps (and
 * not its references to other checkpoints, branches or pages: the caller
 * checks those). The disk map must be present exactly when the machine has a disk.
 */
export function checkpointFieldsFromWire(
  v: unknown,
  diskPages: number | null,
  check: WireCheck,
  what: string,
): CheckpointFields {
  const { code } = check;
  if (!isObject(v)) fail(code, `${what} is not a record`);
  const id = str(v['id'], code, `${what} id`, 128);
  const w = `checkpoint ${id}`;
  const stateHash = v['stateHash'];
  if (!isHash128(stateHash)) fail(code, `${w}: state hash is not 32 hex digits`);
  const parent = v['parent'] === null ? null : str(v['parent'], code, `${w} parent`, 128);
  const full = v['full'];
  if (typeof full !== 'boolean') fail(code, `${w}: "full" is not a boolean`);
  const depth = natural(v['depth'], code, `${w} depth`, 1 << 20);
  if (full && depth !== 0) fail(code, `${w} is full but has depth ${depth}`);
  if (!full && parent === null) fail(code, `${w} is a delta without a parent`);
  if (diskPages === null) {
    if (v['disk'] !== null) fail(code, `${w} has disk pages but the machine has no disk`);
  } else if (v['disk'] === null || v['disk'] === undefined) {
    fail(code, `${w} has no disk page map but the machine has a disk`);
  }
  return {
    id,
    branch: str(v['branch'], code, `${w} branch`, 128),
    position: natural(v['position'], code, `${w} position`),
    stateHash: stateHash as Hash128,
    state: bytes(v['state'], code, `${w} state`, check.maxStateBytes),
    ram: v['ram'],
    disk: diskPages === null ? null : v['disk'],
    parent,
    full,
    depth,
  };
}

/** Decodes and checks one checkpoint with its page maps in the version 1 form. */
export function checkpointFromWire(
  v: unknown,
  ramPages: number,
  diskPages: number | null,
  check: WireCheck,
  what: string,
): Checkpoint {
  const f = checkpointFieldsFromWire(v, diskPages, check, what);
  const w = `checkpoint ${f.id}`;
  return {
    ...f,
    ram: pageMapFromWire(f.ram, ramPages, check.code, `${w} RAM`),
    disk: diskPages === null ? null : pageMapFromWire(f.disk, diskPages, check.code, `${w} disk`),
  };
}

/** A page map in the version 2 form: indices as u32 little-endian, digests as 16 bytes each, both in index order. */
export interface PackedPageMap {
  i: Uint8Array;
  h: Uint8Array;
}

/** Page maps packed as they were made (see rememberPacked). */
const packedMaps = new WeakMap<PageMap, PackedPageMap>();

/**
 * Says that `packed` is `map` packed, made where the digests' bytes were at hand (a capture):
 * {@link packPageMap} then takes it rather than reading each digest's string. A page map is
 * never changed once made (a thinning makes new ones).
 */
export function rememberPacked(map: PageMap, packed: PackedPageMap): void {
  packedMaps.set(map, packed);
}

/** Packs a page map (indices ascending), once: a recording's end packs each map for its index and for the digests it names. */
export function packPageMap(map: PageMap): PackedPageMap {
  let packed = packedMaps.get(map);
  if (packed === undefined) rememberPacked(map, (packed = encodePageMap(map)));
  return packed;
}

/** {@link packPageMap}, from the map's digests alone. */
export function encodePageMap(map: PageMap): PackedPageMap {
  const i = new Uint8Array(map.size * 4);
  const dv = new DataView(i.buffer);
  const h = new Uint8Array(map.size * 16);
  // Maps are mostly made in index order already (a thinning's overlays are not): sorted only when not.
  let n = 0;
  let last = -1;
  for (const page of map.keys()) {
    if (page < last) break;
    last = page;
    n++;
  }
  const pages = n === map.size ? map.keys() : Uint32Array.from(map.keys()).sort();
  n = 0;
  for (const page of pages) {
    dv.setUint32(n * 4, page, true);
    writeHashBytes(map.get(page)!, h, n * 16);
    n++;
  }
  return { i, h };
}

/** Checks a packed page map's shape: indices ascending and below `pageCount`, one digest each. */
export function checkPackedPageMap(v: unknown, pageCount: number, code: ErrorCode, what: string): PackedPageMap {
  const map = pageMapShape(v, pageCount, code, what, (b, part, max) => bytes(b, code, part, max));
  ascendingPages(map.i, -1, pageCount, code, what);
  return map;
}

/** A packed page map's two byte strings, as `column` takes them (in memory, or left in a file), their sizes checked. */
export function pageMapShape<B extends { readonly length: number }>(
  v: unknown,
  pageCount: number,
  code: ErrorCode,
  what: string,
  column: (v: unknown, what: string, max: number) => B,
): { i: B; h: B } {
  if (!isObject(v)) fail(code, `${what} is not a page map`);
  const i = column(v['i'], `${what}: page indices`, pageCount * 4);
  const h = column(v['h'], `${what}: page hashes`, pageCount * 16);
  if (i.length % 4 !== 0) fail(code, `${what}: page indices are not whole 32-bit numbers`);
  if (h.length !== i.length * 4) fail(code, `${what}: ${i.length / 4} page indices but ${h.length / 16} hashes`);
  return { i, h };
}

/**
 * Checks page indices (u32 little-endian) that follow `prev`: each above the one before and
 * below `pageCount`. Returns the last (`prev` when there are none): a map's indices can be
 * checked a part at a time.
 */
export function ascendingPages(i: Uint8Array, prev: number, pageCount: number, code: ErrorCode, what: string): number {
  const dv = new DataView(i.buffer, i.byteOffset, i.length);
  for (let n = 0; n < i.length; n += 4) {
    const page = dv.getUint32(n, true);
    if (page <= prev || page >= pageCount)
      fail(code, `${what}: page index ${page} is out of order or beyond the ${pageCount} pages of its memory`);
    prev = page;
  }
  return prev;
}

/** The page map a checked packed map holds (its pages ascend). */
export function unpackPageMap(p: PackedPageMap): PageMap {
  const dv = new DataView(p.i.buffer, p.i.byteOffset, p.i.length);
  const pages = new Uint32Array(p.i.length >>> 2);
  for (let n = 0; n < pages.length; n++) pages[n] = dv.getUint32(n * 4, true);
  const map = new PackedMap(pages, p.h);
  rememberPacked(map, p);
  return map;
}

/**
 * A page map over its pages in ascending order and their digests' bytes, side by side, as its
 * packed form holds them: what a capture makes, and a file's index. A busy guest's checkpoint
 * names thousands of pages, and a `Map` of them cost a capture ~0.3 µs a page; what a recording
 * asks of most maps is their size and their packed form. A digest is made a string when asked for.
 */
export class PackedMap implements PageMap {
  private readonly strings: (Hash128 | undefined)[] = [];

  /** `digests` holds the 16 bytes of the digest of page `pages[k]` at 16k; `pages` ascends. */
  constructor(
    private readonly pages: Uint32Array,
    private readonly digests: Uint8Array,
  ) {}

  get size(): number {
    return this.pages.length;
  }

  get(page: number): Hash128 | undefined {
    const k = this.find(page);
    return k < 0 ? undefined : this.digestAt(k);
  }

  has(page: number): boolean {
    return this.find(page) >= 0;
  }

  keys(): Iterable<number> {
    return this.pages;
  }

  values(): Iterable<Hash128> {
    return Array.from({ length: this.pages.length }, (_, k) => this.digestAt(k));
  }

  *entries(): IterableIterator<[number, Hash128]> {
    for (let k = 0; k < this.pages.length; k++) yield [this.pages[k]!, this.digestAt(k)];
  }

  [Symbol.iterator](): IterableIterator<[number, Hash128]> {
    return this.entries();
  }

  private digestAt(k: number): Hash128 {
    return (this.strings[k] ??= bytesToHash(this.digests.subarray(16 * k, 16 * k + 16)));
  }

  /** Where `page` is in `pages`, or -1. */
  private find(page: number): number {
    let lo = 0;
    let hi = this.pages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.pages[mid]!;
      if (p === page) return mid;
      if (p < page) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
