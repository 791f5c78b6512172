/**
 * Plain msgpack read from a file a window at a time, hashed as it goes: what
 * `rewind info` reads a long recording's index with. The index of a 3 GB
 * recording is some 35 MB, nearly all of it byte strings (the chunk table's
 * columns, the checkpoints' page maps) that a summary of the file only checks;
 * read whole, into that much fresh memory, it took some 200 ms of the 300
 * that `rewind info` may take.
 * Here the bytes pass through one window (the hash window of pagehash.ts),
 * every byte is hashed once in order, values are decoded as msgpackr decodes
 * plain msgpack (maps as objects, 64-bit integers as numbers), and byte
 * strings that `inFile` names stay in the file as {@link FileBytes}, each
 * with its own digest, so that whoever reads them later knows the bytes are
 * those that were hashed.
 */
import { RewindError } from '../core/errors.js';
import type { ByteSource } from './bytes.js';
import { Hasher128, type Hash128 } from './hash.js';
import { hashWindow } from './pagehash.js';

/** A byte string of a value read by {@link skim}, left where it lies in the file. */
export class FileBytes {
  constructor(
    /** Where it starts in the file. */
    readonly offset: number,
    readonly length: number,
    /** The digest of its bytes as they were when skimmed. */
    readonly digest: Hash128,
  ) {}
}

/** Where in the decoded value a byte string lies: map keys and array indices from the top. */
export type ValuePath = readonly (string | number)[];

/** Byte strings shorter than this are always read: only large ones are worth leaving in the file. */
const LARGE = 4096;
/** Maps and arrays nested deeper than this are refused (a crafted file would otherwise exhaust the stack). */
const MAX_DEPTH = 64;

const utf8 = new TextDecoder();

/**
 * Decodes the one plain msgpack value in `length` bytes at `offset` of `source`, with the
 * digest of those bytes (hash128's). Byte strings of LARGE bytes or more for whose path
 * `inFile` is true are {@link FileBytes}. Throws RewindError('bad-vmi') naming `what` when the
 * bytes are not one plain msgpack value, or `expected.corrupt` when, besides, their digest is not
 * `expected.digest` (bytes that do not decode are most likely damaged ones).
 */
export function skim(
  source: ByteSource,
  offset: number,
  length: number,
  inFile: (path: ValuePath) => boolean,
  what: string,
  expected?: { digest: Hash128; corrupt: string },
): { value: unknown; digest: Hash128 } {
  const r = new Skimmer(source, offset, length, inFile, what);
  try {
    const value = r.value(0);
    if (r.pos !== length) r.bad(`${what} has ${length - r.pos} bytes after its value`);
    return { value, digest: r.digest() };
  } catch (e) {
    if (e instanceof RewindError && expected && r.restDigest() !== expected.digest)
      throw new RewindError('bad-vmi', expected.corrupt);
    throw e;
  }
}

/**
 * Reads `bytes` (a range skimmed into the file) in order, a part at a time, into `room` bytes
 * of the hash window from `at` (where WebAssembly can read them too), and checks at its end that
 * they are what was hashed.
 */
export class FileBytesReader {
  private readonly hasher = new Hasher128();
  private readonly window = hashWindow();
  private done = 0;

  constructor(
    private readonly source: ByteSource,
    readonly bytes: FileBytes,
    private readonly what: string,
    readonly at: number,
    readonly room: number,
  ) {}

  /** The next `n` bytes (at most `room`), a view of the window. */
  next(n: number): Uint8Array {
    const { source, bytes, at } = this;
    if (n > this.room || this.done + n > bytes.length) throw new RangeError('a read past a skimmed byte string');
    const into = this.window.bytes.subarray(at, at + n);
    readInto(source, bytes.offset + this.done, into);
    this.window.feed(this.hasher, at, at + n);
    this.done += n;
    if (this.done === bytes.length && this.hasher.digest() !== bytes.digest)
      throw new RewindError('bad-vmi', `${this.what} changed while the file was being read`);
    return into;
  }
}

function readInto(source: ByteSource, offset: number, into: Uint8Array): void {
  if (source.readInto) source.readInto(offset, into);
  else into.set(source.peek ? source.peek(offset, into.length) : source.read(offset, into.length));
}

class Skimmer {
  private readonly window = hashWindow();
  private readonly buf = this.window.bytes;
  private readonly all = new Hasher128();
  /** Position (from the value's first byte) of buf[0], and how many bytes of buf hold bytes read. */
  private start = 0;
  private loaded = 0;
  /** The next byte to decode. */
  pos = 0;
  private readonly path: (string | number)[] = [];

  constructor(
    private readonly source: ByteSource,
    private readonly base: number,
    private readonly length: number,
    private readonly inFile: (path: ValuePath) => boolean,
    private readonly what: string,
  ) {}

  bad(message: string): never {
    throw new RewindError('bad-vmi', message);
  }

  digest(): Hash128 {
    return this.all.digest();
  }

  /** The digest of all the bytes, those not read yet read now. */
  restDigest(): Hash128 {
    while (this.start + this.loaded < this.length) {
      this.pos = this.start + this.loaded;
      this.refill();
    }
    return this.digest();
  }

  /** Index in buf of the `n` bytes at pos (n at most the window), reading on where they are not all there yet. */
  private need(n: number): number {
    if (this.pos + n > this.length) this.bad(`${this.what} ends inside a value`);
    if (this.pos + n > this.start + this.loaded) this.refill();
    return this.pos - this.start;
  }

  /** Moves what is not decoded yet to the window's start and reads as much more as fits. */
  private refill(): void {
    const keep = this.start + this.loaded - this.pos;
    this.buf.copyWithin(0, this.pos - this.start, this.loaded);
    this.start = this.pos;
    const more = Math.min(this.buf.length - keep, this.length - (this.start + keep));
    readInto(this.source, this.base + this.start + keep, this.buf.subarray(keep, keep + more));
    this.window.feed(this.all, keep, keep + more);
    this.loaded = keep + more;
  }

  private u8(): number {
    const at = this.need(1);
    this.pos += 1;
    return this.buf[at]!;
  }

  private word(bytes: 2 | 4 | 8): DataView {
    const at = this.need(bytes);
    this.pos += bytes;
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, bytes);
  }

  private u16(): number {
    return this.word(2).getUint16(0);
  }

  private u32(): number {
    return this.word(4).getUint32(0);
  }

  /** A length in 2^k bytes (k = 0, 1, 2). */
  private size(k: number): number {
    return k === 0 ? this.u8() : k === 1 ? this.u16() : this.u32();
  }

  /** A count of maps' entries or arrays' items: each takes a byte at least, so no more than what is left. */
  private count(n: number, per: number): number {
    if (n * per > this.length - this.pos) this.bad(`${this.what} claims ${n} items in ${this.length - this.pos} bytes`);
    return n;
  }

  value(depth: number): unknown {
    const t = this.u8();
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 256;
    if ((t & 0xf0) === 0x80) return this.map(t & 15, depth);
    if ((t & 0xf0) === 0x90) return this.array(t & 15, depth);
    if ((t & 0xe0) === 0xa0) return this.str(t & 31);
    // Byte strings, strings, arrays and maps whose length follows in 1, 2 or 4 bytes.
    if (t >= 0xc4 && t <= 0xc6) return this.bin(this.size(t - 0xc4));
    if (t >= 0xd9 && t <= 0xdb) return this.str(this.size(t - 0xd9));
    if (t === 0xdc || t === 0xdd) return this.array(this.size(t - 0xdb), depth);
    if (t === 0xde || t === 0xdf) return this.map(this.size(t - 0xdd), depth);
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        return this.word(4).getFloat32(0);
      case 0xcb:
        return this.word(8).getFloat64(0);
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf: {
        const w = this.word(8);
        return w.getUint32(0) * 2 ** 32 + w.getUint32(4);
      }
      case 0xd0: {
        const v = this.u8();
        return v >= 128 ? v - 256 : v;
      }
      case 0xd1:
        return this.word(2).getInt16(0);
      case 0xd2:
        return this.word(4).getInt32(0);
      case 0xd3: {
        const w = this.word(8);
        return w.getInt32(0) * 2 ** 32 + w.getUint32(4);
      }
    }
    return this.bad(`${this.what} is not plain msgpack (byte 0x${t.toString(16)} at ${this.pos - 1})`);
  }

  private str(n: number): string {
    if (n > this.buf.length) this.bad(`${this.what} holds a string of ${n} bytes`);
    const at = this.need(n);
    this.pos += n;
    return utf8.decode(this.buf.subarray(at, at + n));
  }

  private bin(n: number): Uint8Array | FileBytes {
    if (n > this.length - this.pos) this.bad(`${this.what} ends inside a value`);
    const lazy = n >= LARGE && this.inFile(this.path);
    const out = lazy ? null : new Uint8Array(n);
    const hasher = lazy ? new Hasher128() : null;
    const offset = this.base + this.pos;
    for (let done = 0; done < n;) {
      const at = this.need(1);
      const take = Math.min(n - done, this.start + this.loaded - this.pos);
      if (out) out.set(this.buf.subarray(at, at + take), done);
      else this.window.feed(hasher!, at, at + take);
      this.pos += take;
      done += take;
    }
    return out ?? new FileBytes(offset, n, hasher!.digest());
  }

  private array(n: number, depth: number): unknown[] {
    if (depth >= MAX_DEPTH) this.bad(`${this.what} nests deeper than ${MAX_DEPTH}`);
    const out = new Array<unknown>(this.count(n, 1));
    for (let i = 0; i < n; i++) {
      this.path.push(i);
      out[i] = this.value(depth + 1);
      this.path.pop();
    }
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    if (depth >= MAX_DEPTH) this.bad(`${this.what} nests deeper than ${MAX_DEPTH}`);
    const out: Record<string, unknown> = {};
    for (let i = 0, entries = this.count(n, 2); i < entries; i++) {
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.bad(`${this.what} has a map key that is not a string`);
      this.path.push(key);
      // Defined rather than assigned: a key "__proto__" is a key like any other.
      Object.defineProperty(out, key, {
        value: this.value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.path.pop();
    }
    return out;
  }
}
