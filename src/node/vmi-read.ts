/** Reading a .vmi file on disk (without loading the machine: `rewind info` uses it alone). */
import { RewindError } from '../../core/errors.js';
import { readVmi, readVmiSummary, type Recording, type VmiSummary } from '../../storage/index.js';
import { userFileSource } from './files.js';

/**
 * Reads a .vmi's header and index (all of a version 1 file); pages and
 * images are read from the file when first used, so the file stays open for
 * the life of the process. Every problem with the file is one RewindError
 * naming it.
 */
export function readVmiFile(path: string): Recording {
  const source = userFileSource(path, 'recording');
  try {
    return readVmi(source);
  } catch (e) {
    source.close();
    throw inFile(path, e);
  }
}

/** {@link readVmiSummary} of the file at `path` (which it closes after). */
export function readVmiFileSummary(path: string): VmiSummary {
  const source = userFileSource(path, 'recording');
  try {
    return readVmiSummary(source);
  } catch (e) {
    throw inFile(path, e);
  } finally {
    source.close();
  }
}

/**
 * An error while reading or opening the file at `path`, naming it once: the
 * reader already names it in what it finds when reading a chunk.
 */
export function inFile(path: string, e: unknown): unknown {
  if (!(e instanceof RewindError) || e.message.startsWith(`${path}: `)) return e;
  return new RewindError(e.code, `${path}: ${e.message}`);
}
