/** Reading and writing .vmi files on disk, and opening them as sessions. */
import { RewindError } from '../../core/errors.js';
import { Session } from '../../session/session.js';
import { readVmi, writeVmi } from '../../storage/index.js';
import { writeFileAtomic } from '../../storage/node.js';
import { readUserFile } from './files.js';

export function isVmiPath(path: string): boolean {
  return /\.vmi$/i.test(path);
}

/** Opens a .vmi as a session; every problem with the file is one RewindError naming it. */
export function openVmi(path: string): Session {
  const bytes = readUserFile(path, 'recording');
  try {
    return Session.open(readVmi(bytes));
  } catch (e) {
    if (e instanceof RewindError) throw new RewindError(e.code, `${path}: ${e.message}`);
    throw e;
  }
}

/** Writes a session as a .vmi, atomically (a crash leaves the old file whole). */
export async function saveVmi(session: Session, path: string): Promise<number> {
  const bytes = writeVmi(session.toRecording());
  await writeFileAtomic(path, bytes);
  return bytes.length;
}
