/** Reading the user's files with errors that name the file and the problem. */
import { accessSync, closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RewindError } from '../../core/errors.js';
import type { ByteSource } from '../../storage/index.js';

/** Files larger than this are refused before reading (the largest RAM and disk are 2 GiB). */
export const MAX_FILE = 2 * 1024 * 1024 * 1024;

/**
 * Reads a regular file of at most `max` bytes. Devices, FIFOs and sockets
 * (`/dev/zero`, `/dev/stdin`, `mkfifo`) are refused: they have no size to
 * bound the read by, and may never end. The type is checked on the opened
 * descriptor, so the path cannot be swapped between the check and the read.
 */
export function readUserFile(path: string, what: string, max = MAX_FILE): Uint8Array {
  const { fd, size } = openRegular(path, what);
  try {
    if (size > max)
      throw new RewindError('bad-argument', `${what} ${path} is too large (${size} bytes, at most ${max})`);
    const buf = Buffer.allocUnsafeSlow(size);
    let n = 0;
    // Reads what fstat promised and no more: a file that grows meanwhile cannot exceed the bound.
    while (n < buf.length) {
      const got = readSync(fd, buf, n, Math.min(buf.length - n, 1 << 30), null);
      if (got === 0) break;
      n += got;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  } catch (e) {
    if (e instanceof RewindError) throw e;
    throw new RewindError('io', `cannot read ${what} ${path}: ${describe(e)}`);
  } finally {
    closeSync(fd);
  }
}

/** A user's file opened for reads at any offset (of any size: nothing is read until asked for); close it when done. */
export interface UserFileSource extends ByteSource {
  close(): void;
}

export function userFileSource(path: string, what: string): UserFileSource {
  const { fd, size } = openRegular(path, what);
  const readAt = (into: Uint8Array, offset: number) => {
    try {
      for (let done = 0; done < into.length;) {
        const n = readSync(fd, into, done, into.length - done, offset + done);
        if (n === 0) throw new RewindError('io', `${what} ${path} ended at ${offset + done} while being read`);
        done += n;
      }
    } catch (e) {
      if (e instanceof RewindError) throw e;
      throw new RewindError('io', `cannot read ${what} ${path}: ${describe(e)}`);
    }
  };
  const check = (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > size)
      throw new RewindError('io', `read of ${length} bytes at ${offset} is beyond the ${size} of ${what} ${path}`);
  };
  // What peek reads into: a restore reads thousands of pages, and a new array for each was a
  // third of its time.
  let scratch = new Uint8Array(PEEK_ROOM);
  return {
    size,
    name: path,
    read(offset, length) {
      check(offset, length);
      const out = new Uint8Array(length);
      readAt(out, offset);
      return out;
    },
    peek(offset, length) {
      check(offset, length);
      if (length > scratch.length) scratch = new Uint8Array(length);
      const out = scratch.subarray(0, length);
      readAt(out, offset);
      return out;
    },
    readInto(offset, into) {
      check(offset, into.length);
      readAt(into, offset);
    },
    close: () => closeSync(fd),
  };
}

/** Bytes a file source's peek first reads into without a new array (a page's chunk, and then some); it grows to the largest peek. */
const PEEK_ROOM = 8 << 10;

/** Opens a regular file for reading; every problem is a RewindError naming it. */
function openRegular(path: string, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO with no writer does not hang before fstat can refuse it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new RewindError('not-found', `cannot open ${what} ${path}: ${describe(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RewindError('bad-argument', `${what} ${path} is ${kindOf(st)}, not a regular file`);
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    if (e instanceof RewindError) throw e;
    throw new RewindError('io', `cannot read ${what} ${path}: ${describe(e)}`);
  }
}

/**
 * Checks, before any work, that a file can be created or replaced at `path`:
 * its directory exists and is writable, and `path` is not a directory or
 * another non-regular file.
 */
export function checkOutputPath(path: string): void {
  const dir = dirname(resolve(path));
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new RewindError('not-found', `cannot write ${path}: directory ${dir}: ${describe(e)}`);
  }
  if (!st.isDirectory()) throw new RewindError('bad-argument', `cannot write ${path}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new RewindError('io', `cannot write ${path}: directory ${dir}: ${describe(e)}`);
  }
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing && !existing.isFile())
    throw new RewindError('bad-argument', `cannot write ${path}: it is ${kindOf(existing)}`);
}

/** Checks, before any work, that the existing regular file `path` can be written in place. */
export function checkWritableFile(path: string, what: string): void {
  let fd: number;
  try {
    // Opening for writing (without truncating) is the one test that also sees read-only mounts and ACLs.
    fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new RewindError('not-found', `cannot open ${what} ${path}: ${describe(e)}`);
    throw new RewindError('bad-argument', `cannot write ${what} ${path}: ${describe(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RewindError('bad-argument', `${what} ${path} is ${kindOf(st)}, not a regular file`);
  } finally {
    closeSync(fd);
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a pipe';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

export function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) {
    const code = String((e as { code: unknown }).code);
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory';
    if (code === 'EROFS') return 'read-only file system';
    if (code === 'ENOTDIR') return 'not a directory';
    // Opening a socket through /proc (/dev/stdin when stdin is one).
    if (code === 'ENXIO') return 'not a regular file';
    return code;
  }
  return e instanceof Error ? e.message : String(e);
}
