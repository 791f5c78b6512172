/**
 * Random-access reads and sequential writes of a file's bytes, so that the
 * `.vmi` reader and writer work the same over a file on disk (Node: see
 * storage/node.ts) and over bytes in memory (the browser, tests).
 */
import { RewindError } from '../core/errors.js';

/** Bytes that can be read at any offset (a file on disk, or bytes in memory). */
export interface ByteSource {
  readonly size: number;
  /** What to call it in messages (a file's path). */
  readonly name?: string;
  /** Exactly `length` bytes from `offset`; throws RewindError('io') when they are not there. */
  read(offset: number, length: number): Uint8Array;
  /** As {@link read}, but a view that may change at the next read or peek: for bytes used at once. */
  peek?(offset: number, length: number): Uint8Array;
  /** As {@link read}, into `into` (all of it): for bytes streamed through one buffer. */
  readInto?(offset: number, into: Uint8Array): void;
}

/** Where a writer puts bytes: appended in order, with fixed-size patches of what was written. */
export interface ByteSink {
  /** Bytes appended so far. */
  readonly length: number;
  append(bytes: Uint8Array): void;
  /** Overwrites bytes already appended (a header whose fields are known last). */
  patch(offset: number, bytes: Uint8Array): void;
}

/** Orders byte strings as a byte-wise comparison does (a shorter one first where it is the other's start). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The `length` bytes of `parts`, one after another, in one array. */
export function concatBytes(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A {@link ByteSource} over bytes in memory (views, no copies). */
export function memorySource(bytes: Uint8Array): ByteSource {
  const read = (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > bytes.length)
      throw new RewindError('io', `read of ${length} bytes at ${offset} is beyond the ${bytes.length} held`);
    return bytes.subarray(offset, offset + length);
  };
  return { size: bytes.length, read, peek: read };
}

/** A {@link ByteSink} that grows a buffer in memory. */
export class MemorySink implements ByteSink {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + bytes.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  patch(offset: number, bytes: Uint8Array): void {
    if (offset + bytes.length > this.length) throw new RewindError('io', 'patch beyond the bytes written');
    this.buf.set(bytes, offset);
  }

  /** The bytes written (a view of the buffer). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
