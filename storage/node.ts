/**
 * The Node-only part of storage/: atomic file writes. Browser code imports
 * storage/index.ts, which never pulls in node:fs.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RewindError } from '../core/errors.js';

let counter = 0;

/**
 * Writes `bytes` to `path` so that a crash leaves either the old file or the
 * new one, never a mix: writes a temporary file in the same directory,
 * fsyncs it, renames it over `path`, then fsyncs the directory.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    const code = (e as { code?: string }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new RewindError('quota', `disk full writing ${path}; the file was not changed`);
    throw new RewindError('io', `cannot write ${path} (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Directories cannot be fsync'ed on some platforms; the rename is still atomic.
  }
}
