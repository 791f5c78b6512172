/**
 * The one msgpack configuration storage/ uses, so that every module encodes
 * alike: no msgpackr "records" (a msgpackr-only extension), typed arrays kept
 * as typed arrays (msgpackr's `moreTypes` extension 0x74), plain objects with
 * keys sorted first so that equal values encode to equal bytes.
 */
import { Packr } from 'msgpackr';
import { sortKeysDeep } from './canonical.js';

const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true, int64AsType: 'number' });

/** msgpack bytes of `value` with object keys sorted (deterministic). */
export function packSorted(value: unknown): Uint8Array {
  return toPlainBytes(packr.pack(sortKeysDeep(value)));
}

/** msgpack bytes of `value` as is (key order as built). */
export function pack(value: unknown): Uint8Array {
  return toPlainBytes(packr.pack(value));
}

/**
 * Decodes msgpack bytes; throws whatever msgpackr throws on bad input
 * (callers wrap it). Decodes a copy: msgpackr caches a `dataView` property
 * on the buffer it reads, which would change the caller's array.
 */
export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes.slice());
}

/** A plain Uint8Array copy (msgpackr returns a Node Buffer over a shared pool). */
export function toPlainBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

const plainPackr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' });

/**
 * Plain msgpack (no msgpackr extensions: byte arrays as `bin`), object keys
 * sorted: the encoding of `.vmi` manifests and stored records.
 */
export function packPlain(value: unknown): Uint8Array {
  return toPlainBytes(plainPackr.pack(sortKeysDeep(value)));
}

/** Byte arrays of this size or more go out of {@link packPlainPieces} as they are: msgpack's `bin 32` from 64 KiB on. */
const LARGE_BYTES = 1 << 16;

/**
 * {@link packPlain} as pieces whose concatenation is the same bytes: the byte arrays of
 * LARGE_BYTES or more in `value` are pieces of their own (their `bin` header before them), not
 * copied. A long recording's index is mostly such arrays (tens of MB): packed whole, msgpackr's
 * buffer grew through copies into fresh memory, which cost its end a quarter of a second.
 */
export function packPlainPieces(value: unknown): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  piecesOf(sortKeysDeep(value), pieces, 0);
  return pieces;
}

function piecesOf(v: unknown, out: Uint8Array[], depth: number): void {
  if (!holdsLarge(v, depth)) {
    out.push(toPlainBytes(plainPackr.pack(v)));
    return;
  }
  if (v instanceof Uint8Array) {
    const head = new Uint8Array(5);
    head[0] = 0xc6;
    new DataView(head.buffer).setUint32(1, v.length);
    out.push(head, v);
    return;
  }
  if (Array.isArray(v)) {
    out.push(collectionHead(v.length, true));
    for (const item of v) piecesOf(item, out, depth + 1);
    return;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  out.push(collectionHead(entries.length, false));
  for (const [key, value] of entries) {
    out.push(toPlainBytes(plainPackr.pack(key)));
    piecesOf(value, out, depth + 1);
  }
}

/** Whether a plain array or object `v` holds a large byte array (or is one). */
function holdsLarge(v: unknown, depth: number): boolean {
  if (v instanceof Uint8Array) return v.length >= LARGE_BYTES;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || depth > 64) return false;
  if (Array.isArray(v)) return v.some((x) => holdsLarge(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const k in v) if (holdsLarge((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/**
 * msgpack's header of an array of `count` items in its shortest form, or of a map of `count`
 * entries as msgpackr writes an object's: `map 16` whatever the count.
 */
function collectionHead(count: number, array: boolean): Uint8Array {
  if (array && count < 16) return Uint8Array.of(0x90 | count);
  const long = count >= 1 << 16;
  const head = new Uint8Array(long ? 5 : 3);
  head[0] = array ? (long ? 0xdd : 0xdc) : long ? 0xdf : 0xde;
  const dv = new DataView(head.buffer);
  if (long) dv.setUint32(1, count);
  else dv.setUint16(1, count);
  return head;
}

/**
 * Decodes plain msgpack where it lies; throws on bad input (callers wrap it). For bytes the
 * caller hands over and leaves unchanged (a file's index, read or inflated): the byte arrays
 * of the result are views of them, and msgpackr caches a `dataView` property on the array.
 * A copy first cost opening a recording's 28 MB index some 80 ms, most of it the first
 * writes to that much fresh memory.
 */
export function unpackPlain(bytes: Uint8Array): unknown {
  return plainPackr.unpack(bytes);
}
