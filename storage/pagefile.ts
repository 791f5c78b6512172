/**
 * The spill store of a recording in Node: page records appended to a file
 * that lives beside the `.vmi` being written until it is finalised (named
 * like the atomic writer's temporaries, so a killed process's file is swept
 * the next time). The file is the start of that `.vmi`: room for its header,
 * then each record's data as a chunk of the file (its encoding byte is kept
 * in memory), so that finishing the recording appends the index and writes
 * the header ({@link finish}), and no page is copied again.
 *
 * Records are written through a buffer of WRITE_BUFFER bytes. The index of
 * where each record sits is in memory, in typed arrays off the JS heap (some
 * 40 bytes a page, for the pages the recording keeps, and a reference to the
 * digest's string, which the checkpoints hold anyway), and a compaction
 * copies the live records through two fixed buffers: what the store takes in
 * memory depends on the pages the recording keeps, never on the bytes that
 * went through it.
 */
import { closeSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { RewindError } from '../core/errors.js';
import type { ByteSink } from './bytes.js';
import type { Hash128 } from './hash.js';
import type { HashSet, PageSpill } from './pagestore.js';
import type { ChunkPlace, PlacedChunks } from './vmi-indexed.js';
import { DigestTable } from './digests.js';
import { VMI_HEADER_SIZE } from './vmi-indexed.js';
import { finishTemporary, releaseTemporary, temporaryName } from './node.js';

/** Bytes gathered before a write to the file. */
const WRITE_BUFFER = 1 << 20;
/** Bytes of the file read at once when a compaction copies its live records. */
const COPY_BUFFER = 4 << 20;

/** Where the first record goes: the file's header is written there when the recording is finished. */
const START = VMI_HEADER_SIZE;

export class PageFile implements PageSpill, PlacedChunks {
  private fd: number;
  private readonly path: string;
  /**
   * Digest → its number n; its record is the encoding `encodings[n]` and
   * `lengths[n]` bytes of data at `offsets[n]`. Numbers are in file order.
   */
  private readonly at = new DigestTable();
  /** The digests by number. */
  private readonly keys: Hash128[] = [];
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private encodings = new Uint8Array(1024);
  /** Data not yet written: it goes at `end - buffered`. */
  private readonly buffer = new Uint8Array(WRITE_BUFFER);
  private buffered = 0;
  /** Where the file's data ends (the buffer's included). */
  private end = START;
  /** Bytes of records held (in the file and in the buffer). */
  bytes = 0;

  /** A new, empty store beside `target` (the file the recording becomes). */
  constructor(private readonly target: string) {
    this.path = temporaryName(target);
    this.fd = this.create(this.path);
  }

  has(hash: Hash128): boolean {
    return this.at.indexOf(hash) >= 0;
  }

  sizeOf(hash: Hash128): number | undefined {
    const n = this.at.indexOf(hash);
    return n < 0 ? undefined : this.lengths[n]! + 1;
  }

  get(hash: Hash128): Uint8Array | undefined {
    const n = this.at.indexOf(hash);
    if (n < 0) return undefined;
    const offset = this.offsets[n]!;
    const out = new Uint8Array(1 + this.lengths[n]!);
    out[0] = this.encodings[n]!;
    const data = out.subarray(1);
    const flushed = this.end - this.buffered;
    if (offset >= flushed) data.set(this.buffer.subarray(offset - flushed, offset - flushed + data.length));
    else this.read(this.fd, data, offset);
    return out;
  }

  /** Where a page's data lies in the file (for {@link finish}). */
  place(hash: Hash128): ChunkPlace | undefined {
    const n = this.at.indexOf(hash);
    return n < 0 ? undefined : { offset: this.offsets[n]!, stored: this.lengths[n]!, encoding: this.encodings[n]! };
  }

  write(hash: Hash128, record: Uint8Array): void {
    const n = this.at.size;
    if (this.at.add(hash) !== n) return; // held already
    const data = record.subarray(1);
    if (this.buffered + data.length > WRITE_BUFFER) this.flush();
    if (n === this.offsets.length) {
      const offsets = new Float64Array(n * 2);
      const lengths = new Uint32Array(n * 2);
      const encodings = new Uint8Array(n * 2);
      offsets.set(this.offsets);
      lengths.set(this.lengths);
      encodings.set(this.encodings);
      this.offsets = offsets;
      this.lengths = lengths;
      this.encodings = encodings;
    }
    this.keys.push(hash);
    this.offsets[n] = this.end;
    this.lengths[n] = data.length;
    this.encodings[n] = record[0]!;
    if (data.length > WRITE_BUFFER) this.append(this.fd, data, this.end);
    else {
      this.buffer.set(data, this.buffered);
      this.buffered += data.length;
    }
    this.end += data.length;
    this.bytes += record.length;
  }

  /**
   * Makes the file the recording's `.vmi`: `write` gets a sink holding the
   * file so far (the header's room, then the pages, which {@link place}
   * finds) to append the rest and write the header; then the file is
   * synced and renamed over the target. The store is closed after, whatever
   * happened.
   */
  finish(write: (sink: ByteSink) => void): void {
    this.flush();
    try {
      finishTemporary(this.fd, this.path, this.target, this.end, write);
    } finally {
      this.close();
    }
  }

  /**
   * Copies the live records to a new file that replaces this one: disk use
   * falls to what is live. The index changes only once the new file has
   * replaced the old one (a failure leaves the store as it was), in place.
   */
  compact(live: HashSet): void {
    const count = this.at.size;
    let kept = 0;
    for (let n = 0; n < count; n++) if (live.has(this.keys[n]!)) kept++;
    if (kept === count) return;
    this.flush();
    const next = temporaryName(this.path);
    const fd = this.create(next);
    // Records are in file order: the old file is read front to back in big pieces, and the live
    // records gathered in a buffer that is written front to back.
    let input = new Uint8Array(COPY_BUFFER);
    let inFrom = 0;
    let inTo = 0;
    const out = this.buffer;
    let used = 0;
    let size = START;
    try {
      for (let n = 0; n < count; n++) {
        if (!live.has(this.keys[n]!)) continue;
        const offset = this.offsets[n]!;
        const length = this.lengths[n]!;
        if (offset < inFrom || offset + length > inTo) {
          const want = Math.max(length, Math.min(COPY_BUFFER, this.end - offset));
          if (want > input.length) input = new Uint8Array(want);
          this.read(this.fd, input.subarray(0, want), offset);
          inFrom = offset;
          inTo = offset + want;
        }
        const rec = input.subarray(offset - inFrom, offset - inFrom + length);
        if (used + length > out.length) {
          this.append(fd, out.subarray(0, used), size - used);
          used = 0;
        }
        if (length > out.length) this.append(fd, rec, size);
        else {
          out.set(rec, used);
          used += length;
        }
        size += length;
      }
      this.append(fd, out.subarray(0, used), size - used);
    } catch (e) {
      closeSync(fd);
      unlinkSync(next);
      releaseTemporary(next);
      throw e;
    }
    closeSync(this.fd);
    renameSync(next, this.path);
    releaseTemporary(next);
    this.fd = fd;
    // The same records in the same order: each one's new place is where the kept ones before it end.
    let at = START;
    this.at.retain(
      (n) => live.has(this.keys[n]!),
      (from, to) => {
        this.keys[to] = this.keys[from]!;
        this.lengths[to] = this.lengths[from]!;
        this.encodings[to] = this.encodings[from]!;
        this.offsets[to] = at;
        at += this.lengths[to]!;
      },
    );
    this.keys.length = kept;
    this.end = size;
    this.bytes = size - START + kept;
  }

  /** Removes the file (unless {@link finish} made it the recording's). */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
    releaseTemporary(this.path);
  }

  /** Writes the buffered records to the file. */
  private flush(): void {
    if (this.buffered === 0) return;
    this.append(this.fd, this.buffer.subarray(0, this.buffered), this.end - this.buffered);
    this.buffered = 0;
  }

  private create(path: string): number {
    try {
      return openSync(path, 'wx+');
    } catch (e) {
      throw new RewindError('io', `cannot create the recording's page store ${path} (${(e as Error).message})`);
    }
  }

  private read(fd: number, into: Uint8Array, position: number): void {
    for (let done = 0; done < into.length;) {
      const n = readSync(fd, into, done, into.length - done, position + done);
      if (n === 0) throw new RewindError('io', `the recording's page store ${this.path} ended early`);
      done += n;
    }
  }

  private append(fd: number, bytes: Uint8Array, position: number): void {
    try {
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT')
        throw new RewindError('quota', `disk full while recording (page store ${this.path})`);
      throw new RewindError('io', `cannot write the recording's page store ${this.path} (${(e as Error).message})`);
    }
  }
}
