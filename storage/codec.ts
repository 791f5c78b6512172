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

/**
 * {@link packPlain}, but a view of msgpackr's buffer rather than a copy: for
 * one large value (a long recording's index, tens of MB), which a copy would
 * hold twice when a recording's memory peaks, at its end. The bytes stay as
 * they are: msgpackr packs the next value after them, or into a new buffer.
 */
export function packPlainLarge(value: unknown): Uint8Array {
  const b = plainPackr.pack(sortKeysDeep(value));
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
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
