/**
 * The spill store of a recording in Node: page records appended to a file
 * that lives beside the `.vmi` being written until it is finalised (named
 * like the atomic writer's temporaries, so a killed process's file is swept
 * the next time). The index of where each record sits is in memory: about
 * 100 bytes a page, for the pages the recording keeps.
 */
import { closeSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { RewindError } from '../core/errors.js';
import type { Hash128 } from './hash.js';
import type { PageSpill } from './pagestore.js';
import { releaseTemporary, temporaryName } from './node.js';

export class PageFile implements PageSpill {
  private fd: number;
  private readonly path: string;
  private readonly at = new Map<Hash128, { offset: number; length: number }>();
  bytes = 0;

  /** A new, empty store beside `target` (the file the recording becomes). */
  constructor(target: string) {
    this.path = temporaryName(target);
    this.fd = this.create(this.path);
  }

  has(hash: Hash128): boolean {
    return this.at.has(hash);
  }

  sizeOf(hash: Hash128): number | undefined {
    return this.at.get(hash)?.length;
  }

  get(hash: Hash128): Uint8Array | undefined {
    const where = this.at.get(hash);
    if (!where) return undefined;
    const out = new Uint8Array(where.length);
    for (let done = 0; done < out.length;) {
      const n = readSync(this.fd, out, done, out.length - done, where.offset + done);
      if (n === 0) throw new RewindError('io', `the recording's page store ${this.path} ended early`);
      done += n;
    }
    return out;
  }

  write(records: ReadonlyArray<readonly [Hash128, Uint8Array]>): void {
    const fresh = records.filter(([h]) => !this.at.has(h));
    const total = fresh.reduce((n, [, r]) => n + r.length, 0);
    const buf = new Uint8Array(total);
    let p = 0;
    for (const [hash, rec] of fresh) {
      buf.set(rec, p);
      this.at.set(hash, { offset: this.bytes + p, length: rec.length });
      p += rec.length;
    }
    this.append(this.fd, buf, this.bytes);
    this.bytes += total;
  }

  /** Copies the live records to a new file that replaces this one: disk use falls to what is live. */
  compact(live: ReadonlySet<Hash128>): void {
    const keep = [...this.at].filter(([h]) => live.has(h));
    if (keep.length === this.at.size) return;
    const next = temporaryName(this.path);
    const fd = this.create(next);
    const moved = new Map<Hash128, { offset: number; length: number }>();
    let size = 0;
    const BATCH = 8 << 20;
    for (let i = 0; i < keep.length;) {
      const batch: Array<[Hash128, Uint8Array]> = [];
      let bytes = 0;
      for (; i < keep.length && bytes < BATCH; i++) {
        const rec = this.get(keep[i]![0])!;
        batch.push([keep[i]![0], rec]);
        bytes += rec.length;
      }
      const buf = new Uint8Array(bytes);
      let p = 0;
      for (const [hash, rec] of batch) {
        buf.set(rec, p);
        moved.set(hash, { offset: size + p, length: rec.length });
        p += rec.length;
      }
      this.append(fd, buf, size);
      size += bytes;
    }
    closeSync(this.fd);
    renameSync(next, this.path);
    releaseTemporary(next);
    this.fd = fd;
    this.at.clear();
    for (const [h, w] of moved) this.at.set(h, w);
    this.bytes = size;
  }

  /** Removes the file. */
  close(): void {
    closeSync(this.fd);
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
    releaseTemporary(this.path);
  }

  private create(path: string): number {
    try {
      return openSync(path, 'wx+');
    } catch (e) {
      throw new RewindError('io', `cannot create the recording's page store ${path} (${(e as Error).message})`);
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
