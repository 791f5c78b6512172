/**
 * A canonical byte encoding of plain data, for hashing: the same value gives
 * the same bytes whatever the key order of its objects, in Node and browsers,
 * and independent of the msgpack library's version.
 *
 * Encoding (all integers little-endian): one tag byte, then
 *   0 undefined | 1 null | 2 false | 3 true
 *   4 number: float64
 *   5 string: u32 byte length + UTF-8
 *   6 array: u32 count + items
 *   7 object: u32 count + (key as string without tag, value) sorted by key (UTF-16 code unit order)
 *   8 typed array: u8 kind + u32 byte length + bytes (kind: see TYPED_KINDS)
 *   9 bigint: string of its decimal digits (u32 length + ASCII)
 *   10 Map: u32 count + (key, value) pairs sorted by the canonical bytes of the key
 * Anything else (functions, symbols, class instances) throws a RewindError('bad-state').
 */
import { RewindError } from '../core/errors.js';
import { compareBytes } from './bytes.js';

const TYPED_KINDS: ReadonlyArray<[string, number]> = [
  ['Uint8Array', 1],
  ['Int8Array', 2],
  ['Uint8ClampedArray', 3],
  ['Uint16Array', 4],
  ['Int16Array', 5],
  ['Uint32Array', 6],
  ['Int32Array', 7],
  ['Float32Array', 8],
  ['Float64Array', 9],
  ['BigUint64Array', 10],
  ['BigInt64Array', 11],
];
const TYPED_KIND = new Map(TYPED_KINDS);
const encoder = new TextEncoder();

class Writer {
  buf = new Uint8Array(4096);
  len = 0;
  private view = new DataView(this.buf.buffer);
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(x: number): void {
    this.ensure(1);
    this.buf[this.len++] = x;
  }
  u32(x: number): void {
    this.ensure(4);
    this.view.setUint32(this.len, x >>> 0, true);
    this.len += 4;
  }
  f64(x: number): void {
    this.ensure(8);
    this.view.setFloat64(this.len, x, true);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string): void {
    // ASCII (every key of a machine's state, most values) is its own UTF-8: written as it is read.
    const n = s.length;
    this.ensure(4 + n);
    const at = this.len + 4;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        const b = encoder.encode(s);
        this.u32(b.length);
        this.bytes(b);
        return;
      }
      this.buf[at + i] = c;
    }
    this.view.setUint32(this.len, n, true);
    this.len = at + n;
  }
}

function write(w: Writer, v: unknown, depth: number): void {
  if (depth > 64) throw new RewindError('bad-state', 'state is nested more than 64 levels deep');
  if (v === undefined) return w.u8(0);
  if (v === null) return w.u8(1);
  if (v === false) return w.u8(2);
  if (v === true) return w.u8(3);
  if (typeof v === 'number') {
    w.u8(4);
    // One NaN, so that two NaNs with different payloads hash alike.
    return w.f64(Number.isNaN(v) ? NaN : v);
  }
  if (typeof v === 'string') {
    w.u8(5);
    return w.str(v);
  }
  if (typeof v === 'bigint') {
    w.u8(9);
    return w.str(v.toString());
  }
  if (Array.isArray(v)) {
    w.u8(6);
    w.u32(v.length);
    for (const item of v) write(w, item, depth + 1);
    return;
  }
  if (ArrayBuffer.isView(v)) {
    const kind = TYPED_KIND.get(v.constructor.name) ?? (v instanceof Uint8Array ? 1 : undefined);
    if (kind === undefined) throw new RewindError('bad-state', `cannot hash a ${v.constructor.name} in machine state`);
    w.u8(8);
    w.u8(kind);
    w.u32(v.byteLength);
    w.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  if (v instanceof Map) {
    const entries = [...v.entries()].map(([k, val]) => [canonicalBytes(k), val] as const);
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    w.u8(10);
    w.u32(entries.length);
    for (const [k, val] of entries) {
      w.bytes(k);
      write(w, val, depth + 1);
    }
    return;
  }
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new RewindError(
        'bad-state',
        `cannot hash a ${(v as object).constructor?.name ?? 'object'} in machine state`,
      );
    }
    const keys = Object.keys(v).sort();
    w.u8(7);
    w.u32(keys.length);
    for (const k of keys) {
      w.str(k);
      write(w, (v as Record<string, unknown>)[k], depth + 1);
    }
    return;
  }
  throw new RewindError('bad-state', `cannot hash a ${typeof v} in machine state`);
}

/** The canonical bytes of `value` (see the module comment for the encoding). */
export function canonicalBytes(value: unknown): Uint8Array {
  const w = new Writer();
  write(w, value, 0);
  return w.buf.slice(0, w.len);
}

/**
 * A deep copy of `value` with every plain object's keys inserted in sorted
 * order, so that msgpack encodes it to the same bytes whatever order the
 * machine built it in. Typed arrays are shared, not copied: the copy is for
 * an encoder to read at once.
 */
export function sortKeysDeep<T>(value: T): T {
  return sortRec(value, 0) as T;
}

function sortRec(v: unknown, depth: number): unknown {
  if (depth > 64) throw new RewindError('bad-state', 'state is nested more than 64 levels deep');
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => sortRec(x, depth + 1));
  if (ArrayBuffer.isView(v)) return v;
  if (v instanceof Map) return new Map([...v.entries()].map(([k, x]) => [k, sortRec(x, depth + 1)]));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortRec((v as Record<string, unknown>)[k], depth + 1);
  return out;
}
