/**
 * A {@link StorageBackend} in a directory (Node only).
 *
 * Scheme: the store is a sequence of immutable batch files
 * `<seq>.batch` (seq = 12 decimal digits). A batch is written to
 * `<seq>.<pid>.<n>.partial`, fsync'ed, closed, renamed to `<seq>.batch`, and
 * the directory is fsync'ed; `putBatch` resolves only after that. The rename
 * is the commit point: a crash before it leaves a `.partial` file that opening
 * deletes; a crash after it leaves a complete batch. Each batch also ends in a
 * 128-bit hash of its bytes; if the newest batch fails it (a file system that
 * reordered the rename before the data despite fsync) it is set aside as
 * `.corrupt` and ignored, as an uncommitted write would be; an older batch
 * that fails it is reported as RewindError('io'), never silently skipped.
 *
 * Opening replays the batches in order into an index key -> (file, offset,
 * length); values are read from the files on demand. `compact()` writes every
 * live entry into one "snapshot" batch (which tells readers to ignore all
 * earlier batches), commits it the same way, then deletes the earlier files.
 *
 * Batch file: "RWBATCH1" | u8 kind (0 = delta, 1 = snapshot) | u32 count |
 * count x (u32 key length | UTF-8 key | u8 op (0 put, 1 delete) | u32 value
 * length | value) | 16-byte hash128 of everything before it. Integers are
 * little-endian.
 */
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RewindError } from '../../core/errors.js';
import type { BatchEntry, StorageBackend } from '../backend.js';
import { hash128, hashToBytes } from '../hash.js';

const MAGIC = 'RWBATCH1';
const KIND_DELTA = 0;
const KIND_SNAPSHOT = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

interface Loc {
  file: string;
  offset: number;
  length: number;
}

/** Encodes a batch file. */
export function encodeBatchFile(kind: number, entries: readonly BatchEntry[]): Uint8Array {
  const keys = entries.map((e) => encoder.encode(e.key));
  let size = 8 + 1 + 4 + 16;
  entries.forEach((e, i) => (size += 4 + keys[i]!.length + 1 + 4 + (e.value ? e.value.length : 0)));
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(encoder.encode(MAGIC), 0);
  out[8] = kind;
  dv.setUint32(9, entries.length, true);
  let p = 13;
  entries.forEach((e, i) => {
    const k = keys[i]!;
    dv.setUint32(p, k.length, true);
    out.set(k, p + 4);
    p += 4 + k.length;
    out[p++] = e.value === null ? 1 : 0;
    const v = e.value ?? new Uint8Array(0);
    dv.setUint32(p, v.length, true);
    out.set(v, p + 4);
    p += 4 + v.length;
  });
  out.set(hashToBytes(hash128(out.subarray(0, p))), p);
  return out;
}

/** Parses a batch file; returns null when it is torn or corrupt. */
export function parseBatchFile(bytes: Uint8Array): { kind: number; entries: Array<{ key: string; op: number; offset: number; length: number }> } | null {
  if (bytes.length < 29) return null;
  if (decoder.decode(bytes.subarray(0, 8)) !== MAGIC) return null;
  const body = bytes.subarray(0, bytes.length - 16);
  const want = hashToBytes(hash128(body));
  for (let i = 0; i < 16; i++) if (bytes[body.length + i] !== want[i]) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const kind = bytes[8]!;
  const count = dv.getUint32(9, true);
  const entries: Array<{ key: string; op: number; offset: number; length: number }> = [];
  let p = 13;
  try {
    for (let i = 0; i < count; i++) {
      if (p + 4 > body.length) return null;
      const kl = dv.getUint32(p, true);
      if (p + 4 + kl + 5 > body.length) return null;
      const key = decoder.decode(bytes.subarray(p + 4, p + 4 + kl));
      p += 4 + kl;
      const op = bytes[p++]!;
      const vl = dv.getUint32(p, true);
      if (p + 4 + vl > body.length) return null;
      entries.push({ key, op, offset: p + 4, length: vl });
      p += 4 + vl;
    }
  } catch {
    return null;
  }
  if (p !== body.length) return null;
  return { kind, entries };
}

const BATCH_RE = /^(\d{12})\.batch$/;

/** The directory backend. */
export class DirBackend implements StorageBackend {
  private index = new Map<string, Loc>();
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private tmpCounter = 0;
  private closed = false;

  private constructor(readonly dir: string) {}

  /** Opens (creating if needed) the store in `dir`, discarding uncommitted batches. */
  static async open(dir: string): Promise<DirBackend> {
    const b = new DirBackend(dir);
    try {
      await mkdir(dir, { recursive: true });
      await b.load();
    } catch (e) {
      if (e instanceof RewindError) throw e;
      throw new RewindError('io', `cannot open store ${dir} (${e instanceof Error ? e.message : String(e)})`);
    }
    return b;
  }

  private async load(): Promise<void> {
    const names = await readdir(this.dir);
    for (const n of names) if (n.endsWith('.partial')) await unlink(join(this.dir, n));
    const batches = names
      .map((n) => BATCH_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[0], seq: Number(m[1]) }))
      .sort((a, b) => a.seq - b.seq);
    const parsed: Array<{ name: string; seq: number; kind: number; entries: ReturnType<typeof parseBatchFile> }> = [];
    for (let i = 0; i < batches.length; i++) {
      const { name, seq } = batches[i]!;
      const bytes = await readWhole(join(this.dir, name));
      const p = parseBatchFile(bytes);
      if (!p) {
        if (i === batches.length - 1) {
          await rename(join(this.dir, name), join(this.dir, `${name}.corrupt`));
          continue;
        }
        throw new RewindError('io', `store ${this.dir}: committed batch ${name} is corrupt`);
      }
      parsed.push({ name, seq, kind: p.kind, entries: p });
    }
    let start = 0;
    for (let i = 0; i < parsed.length; i++) if (parsed[i]!.kind === KIND_SNAPSHOT) start = i;
    for (let i = 0; i < start; i++) await unlink(join(this.dir, parsed[i]!.name)); // superseded by a snapshot
    for (const b of parsed.slice(start)) {
      for (const e of b.entries!.entries) {
        if (e.op === 1) this.index.delete(e.key);
        else this.index.set(e.key, { file: b.name, offset: e.offset, length: e.length });
      }
    }
    this.seq = batches.length > 0 ? batches[batches.length - 1]!.seq : 0;
  }

  /** Runs `f` after every earlier operation (one operation at a time). */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private check(): void {
    if (this.closed) throw new RewindError('io', `store ${this.dir} is closed`);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.serial(async () => {
      this.check();
      const loc = this.index.get(key);
      if (!loc) return undefined;
      const fh = await open(join(this.dir, loc.file), 'r');
      try {
        const out = new Uint8Array(loc.length);
        let got = 0;
        while (got < loc.length) {
          const { bytesRead } = await fh.read(out, got, loc.length - got, loc.offset + got);
          if (bytesRead === 0) throw new RewindError('io', `store ${this.dir}: ${loc.file} is shorter than its index says`);
          got += bytesRead;
        }
        return out;
      } finally {
        await fh.close();
      }
    });
  }

  /** Commits a batch file; returns its name. */
  private async commit(kind: number, entries: readonly BatchEntry[]): Promise<string> {
    const seq = this.seq + 1;
    const name = `${String(seq).padStart(12, '0')}.batch`;
    const tmp = join(this.dir, `${String(seq).padStart(12, '0')}.${process.pid}.${this.tmpCounter++}.partial`);
    const bytes = encodeBatchFile(kind, entries);
    try {
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(this.dir, name));
      await syncDir(this.dir);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      const code = (e as { code?: string }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new RewindError('quota', `disk full writing to ${this.dir}: the last change was not saved`);
      throw new RewindError('io', `cannot write to store ${this.dir} (${e instanceof Error ? e.message : String(e)})`);
    }
    this.seq = seq;
    return name;
  }

  putBatch(entries: readonly BatchEntry[]): Promise<void> {
    return this.serial(async () => {
      this.check();
      if (entries.length === 0) return;
      for (const e of entries) {
        if (e.value !== null && !(e.value instanceof Uint8Array)) throw new TypeError(`value for ${e.key} must be a Uint8Array or null`);
      }
      const name = await this.commit(KIND_DELTA, entries);
      // Offsets as laid out by encodeBatchFile.
      let p = 13;
      for (const e of entries) {
        const kl = encoder.encode(e.key).length;
        p += 4 + kl + 1;
        const vl = e.value ? e.value.length : 0;
        if (e.value === null) this.index.delete(e.key);
        else this.index.set(e.key, { file: name, offset: p + 4, length: vl });
        p += 4 + vl;
      }
    });
  }

  list(prefix: string): Promise<string[]> {
    return this.serial(async () => {
      this.check();
      return [...this.index.keys()].filter((k) => k.startsWith(prefix)).sort();
    });
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.putBatch(keys.map((key) => ({ key, value: null })));
  }

  /** Rewrites every live entry into one snapshot batch and deletes the older batch files. */
  compact(): Promise<void> {
    return this.serial(async () => {
      this.check();
      const keys = [...this.index.keys()].sort();
      const entries: BatchEntry[] = [];
      for (const key of keys) {
        const loc = this.index.get(key)!;
        const bytes = await readWhole(join(this.dir, loc.file));
        entries.push({ key, value: bytes.slice(loc.offset, loc.offset + loc.length) });
      }
      const name = await this.commit(KIND_SNAPSHOT, entries);
      const fresh = new Map<string, Loc>();
      let p = 13;
      for (const e of entries) {
        p += 4 + encoder.encode(e.key).length + 1;
        fresh.set(e.key, { file: name, offset: p + 4, length: e.value!.length });
        p += 4 + e.value!.length;
      }
      this.index = fresh;
      const names = await readdir(this.dir);
      for (const n of names) {
        const m = BATCH_RE.exec(n);
        if (m && Number(m[1]) < this.seq) await unlink(join(this.dir, n));
      }
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      this.closed = true;
    });
  }
}

async function readWhole(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    return new Uint8Array(await fh.readFile());
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  }
}
