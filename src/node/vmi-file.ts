/** Writing .vmi files on disk, and opening them as sessions. */
import { RewindError } from '../../core/errors.js';
import { Session, type SessionOptions } from '../../session/session.js';
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { VMI_MAGIC, planIndexed, writeVmiTo } from '../../storage/index.js';
import { writeFileAtomic } from '../../storage/node.js';
import type { PageFile } from '../../storage/pagefile.js';
import { checkOutputPath } from './files.js';
import { inFile, readVmiFile } from './vmi-read.js';

export function isVmiPath(path: string): boolean {
  return /\.vmi$/i.test(path);
}

/** Opens a .vmi as a session; every problem with the file is one RewindError naming it. */
export function openVmi(path: string, options: SessionOptions = {}): Session {
  const rec = readVmiFile(path);
  try {
    return Session.open(rec, options);
  } catch (e) {
    throw inFile(path, e);
  }
}

/** Writes a session as a .vmi, streamed and atomic (a crash leaves the old file whole); returns its size. */
export async function saveVmi(session: Session, path: string): Promise<number> {
  const rec = session.toRecording();
  let size = 0;
  await writeFileAtomic(path, (sink) => {
    writeVmiTo(rec, sink);
    size = sink.length;
  });
  return size;
}

/**
 * Makes a recording's page store (`spill`, the session's) the `.vmi` it was
 * begun for: its pages are already where the file holds them, so only the
 * boot image, the index and the header are written. Returns the file's size.
 */
export function finishRecording(session: Session, spill: PageFile): number {
  const rec = session.toRecording();
  // Planned before the page store waits for its thread to write the last pages: meanwhile.
  const plan = planIndexed(rec);
  let size = 0;
  spill.finish((sink) => {
    writeVmiTo(rec, sink, spill, plan);
    size = sink.length;
  });
  return size;
}

/**
 * Checks a path that someone other than the user at the shell chose (a gdb
 * client's `monitor save`): it must be named .vmi, and may replace only a
 * regular file that already is a Rewind VM image, so that no other file can
 * be overwritten through it.
 */
export function checkVmiTarget(path: string): void {
  if (!isVmiPath(path)) throw new RewindError('bad-argument', `will not save to ${path}: the name must end in .vmi`);
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st) {
    if (!st.isFile()) throw new RewindError('bad-argument', `will not overwrite ${path}: it is not a regular file`);
    if (!hasVmiMagic(path))
      throw new RewindError('bad-argument', `will not overwrite ${path}: it is not a Rewind VM image`);
  }
  checkOutputPath(path);
}

function hasVmiMagic(path: string): boolean {
  const head = Buffer.alloc(VMI_MAGIC.length);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    return readSync(fd, head, 0, head.length, 0) === head.length && head.toString('latin1') === VMI_MAGIC;
  } finally {
    closeSync(fd);
  }
}
