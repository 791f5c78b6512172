/**
 * The Node-only part of storage/: atomic file writes, and writes past the page cache. Browser code imports
 * storage/index.ts, which never pulls in node:fs.
 */
import {
  closeSync,
  constants as fsConstants,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RewindError } from '../core/errors.js';
import type { ByteSink } from './bytes.js';

let counter = 0;

/** Our temporaries: `.<name>.rewind-<pid>-<n>.tmp` next to the file they become. */
const TEMP_RE = /^\..+\.rewind-(\d+)-\d+\.tmp$/;
const tempName = (path: string) => join(dirname(path), `.${basename(path)}.rewind-${process.pid}-${counter++}.tmp`);

/** Temporaries being written now: removed if the process is interrupted. */
const pending = new Set<string>();

/**
 * On Ctrl-C or kill, removes our temporaries and exits as a shell expects
 * (128 + the signal number). Listens only while a write is under way, so
 * that the default handling stays as it is otherwise.
 */
function onSignal(signal: NodeJS.Signals): void {
  for (const tmp of pending) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or removed: nothing left behind.
    }
  }
  process.exit(128 + osConstants.signals[signal]);
}

function track(tmp: string): void {
  if (pending.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  pending.add(tmp);
}

function untrack(tmp: string): void {
  pending.delete(tmp);
  if (pending.size === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * A name for a temporary file beside `path`, removed if the process is
 * interrupted, and swept by a later write when the process was killed;
 * call {@link releaseTemporary} once it is removed or renamed.
 */
export function temporaryName(path: string): string {
  const tmp = tempName(path);
  track(tmp);
  return tmp;
}

/** Stops watching a temporary named by {@link temporaryName}. */
export function releaseTemporary(tmp: string): void {
  untrack(tmp);
}

/** Removes temporaries that a process killed mid-write (SIGKILL, a crash) left in `dir`. */
function sweepStale(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // The write reports the directory's problem.
  }
  for (const name of names) {
    const pid = TEMP_RE.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, someone else's.
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Writes `bytes` to `path` so that a crash leaves either the old file or the
 * new one, never a mix: writes a temporary file in the same directory,
 * fsyncs it, renames it over `path`, then fsyncs the directory. Temporaries
 * are removed on SIGINT/SIGTERM, and stale ones of dead processes swept here.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | ((sink: ByteSink) => void)): Promise<void> {
  const dir = dirname(path);
  sweepStale(dir);
  const tmp = tempName(path);
  track(tmp);
  try {
    const fh = await open(tmp, 'wx');
    try {
      if (bytes instanceof Uint8Array) await fh.writeFile(bytes);
      else {
        const sink = new FileSink(fh.fd);
        bytes(sink);
        sink.flush();
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    untrack(tmp);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    untrack(tmp);
    throw writeError(path, e);
  }
  syncDirectory(dir);
}

/**
 * Finishes a temporary begun elsewhere (a recording's page store, named by
 * {@link temporaryName}): `write` appends the rest through a sink that holds
 * its first `length` bytes; then it is synced and renamed over `path`. A
 * failure leaves `path` as it was (the caller removes the temporary).
 */
export function finishTemporary(
  fd: number,
  tmp: string,
  path: string,
  length: number,
  write: (sink: ByteSink) => void,
): void {
  sweepStale(dirname(path));
  try {
    const sink = new FileSink(fd, length);
    write(sink);
    sink.flush();
    fsyncSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    throw writeError(path, e);
  }
  untrack(tmp);
  syncDirectory(dirname(path));
}

function writeError(path: string, e: unknown): RewindError {
  const code = (e as { code?: string }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new RewindError('quota', `disk full writing ${path}; the file was not changed`);
  return new RewindError('io', `cannot write ${path} (${e instanceof Error ? e.message : String(e)})`);
}

/** Makes a rename in `dir` durable. */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Directories cannot be fsync'ed on some platforms; the rename is still atomic.
  }
}

/** A {@link ByteSink} writing to an open file descriptor from `length` on, through a buffer. */
class FileSink implements ByteSink {
  private readonly buf = new Uint8Array(1 << 20);
  private used = 0;

  constructor(
    private readonly fd: number,
    public length = 0,
  ) {}

  append(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buf.length) this.flush();
    if (bytes.length >= this.buf.length) writeAll(this.fd, bytes, this.length);
    else {
      this.buf.set(bytes, this.used);
      this.used += bytes.length;
    }
    this.length += bytes.length;
  }

  patch(offset: number, bytes: Uint8Array): void {
    this.flush();
    writeAll(this.fd, bytes, offset);
  }

  flush(): void {
    if (this.used === 0) return;
    writeAll(this.fd, this.buf.subarray(0, this.used), this.length - this.used);
    this.used = 0;
  }
}

/** Writes all of `bytes` at `position` of the open file `fd`. */
export function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** The unit of a write past the page cache: offsets, lengths and memory addresses are multiples of it. */
export const BLOCK = 4096;
/** Bytes below which a run of whole blocks goes through the page cache anyway: each direct write waits for the device. */
const DIRECT_LEAST = 64 << 10;

/**
 * A second descriptor of the open file `fd` whose writes go straight to the device (O_DIRECT),
 * or -1 where the system has none. Through the page cache, a GiB written cost the writing thread
 * ~2.7 s of faulting in and copying on a virtual machine; past it, ~0.2 s.
 */
export function openDirect(fd: number): number {
  if (process.platform !== 'linux' || !fsConstants.O_DIRECT) return -1;
  try {
    return openSync(`/proc/self/fd/${fd}`, fsConstants.O_WRONLY | fsConstants.O_DIRECT);
  } catch {
    return -1;
  }
}

/** `size` bytes of memory that start on a block's boundary, as writes past the page cache need. */
export function blockAligned(size: number): Uint8Array {
  return new Uint8Array(new WebAssembly.Memory({ initial: Math.ceil(size / 65536) }).buffer, 0, size);
}

/** What a file system that takes O_DIRECT at open but not for a write says. */
const DIRECT_REFUSED = new Set(['EINVAL', 'EOPNOTSUPP', 'ENOTSUP']);

/**
 * {@link writeAll}, the whole blocks among the bytes through `direct` (see openDirect; -1: none)
 * when they lie in memory as they lie in the file (`bytes` from {@link blockAligned}, at an offset
 * that is `position` modulo the block); the ragged ends go through the page cache. False when the
 * file system refused the direct write (then all went through the page cache): write through
 * `fd` alone from then on.
 */
export function writeBlocks(fd: number, direct: number, bytes: Uint8Array, position: number): boolean {
  const first = Math.ceil(position / BLOCK) * BLOCK;
  const last = Math.floor((position + bytes.length) / BLOCK) * BLOCK;
  if (direct < 0 || last - first < DIRECT_LEAST || (bytes.byteOffset - position) % BLOCK !== 0) {
    writeAll(fd, bytes, position);
    return true;
  }
  writeAll(fd, bytes.subarray(0, first - position), position);
  const middle = bytes.subarray(first - position, last - position);
  let taken = true;
  try {
    writeAll(direct, middle, first);
  } catch (e) {
    if (!DIRECT_REFUSED.has((e as { code?: string }).code ?? '')) throw e;
    writeAll(fd, middle, first);
    taken = false;
  }
  writeAll(fd, bytes.subarray(last - position), last);
  return taken;
}
