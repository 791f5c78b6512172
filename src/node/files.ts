/** Reading the user's files with errors that name the file and the problem. */
import { readFileSync, statSync } from 'node:fs';
import { RewindError } from '../../core/errors.js';

/** Files larger than this are refused before reading (RAM and disks are far smaller). */
const MAX_FILE = 4 * 1024 * 1024 * 1024;

export function readUserFile(path: string, what: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new RewindError('bad-argument', `${what} ${path} is a directory`);
    size = st.size;
  } catch (e) {
    if (e instanceof RewindError) throw e;
    throw new RewindError('not-found', `cannot open ${what} ${path}: ${describe(e)}`);
  }
  if (size > MAX_FILE) throw new RewindError('bad-argument', `${what} ${path} is too large (${size} bytes)`);
  try {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new RewindError('io', `cannot read ${what} ${path}: ${describe(e)}`);
  }
}

export function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e) {
    const code = String((e as { code: unknown }).code);
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory';
    return code;
  }
  return e instanceof Error ? e.message : String(e);
}
