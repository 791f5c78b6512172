/**
 * The `.vmi` file: one machine (config, base images, branches, events,
 * checkpoints, pages) in one self-checking file. Byte-level specification:
 * docs/vmi.md. Rewind writes version 3 (storage/vmi-indexed.ts: chunks, then
 * an index that says where each lies) and reads versions 1, 2 and 3.
 *
 * {@link readVmi} checks the header and index before returning and turns
 * every problem into RewindError('bad-vmi', one line); chunks are checked
 * when they are read. {@link writeVmi} is deterministic (same recording,
 * same bytes).
 */
import { RewindError } from '../core/errors.js';
import { MemorySink, memorySource, type ByteSink, type ByteSource } from './bytes.js';
import { VMI_MAGIC, VMI_VERSION, bad, pagesNamed, type Recording } from './vmi-common.js';
import { readV1 } from './vmi-v1.js';
import { readIndexed, writeIndexed, type IndexPlan, type PlacedChunks } from './vmi-indexed.js';

export {
  VMI_MAGIC,
  VMI_VERSION,
  VMI_FLAG_MANIFEST_DEFLATED,
  VMI_LIMITS,
  recordingFrom,
  pagesNamed,
  type ConsoleLog,
  type PageRecords,
  type Recording,
  type RecordingSources,
  type StoredChunks,
  type VmiConfig,
} from './vmi-common.js';
export { VMI_HEADER_SIZE, planIndexed, type ChunkPlace, type IndexPlan, type PlacedChunks } from './vmi-indexed.js';

/** Serialises a recording into `.vmi` bytes (deterministic). Throws RewindError('bad-argument') when a named page is missing. */
export function writeVmi(rec: Recording): Uint8Array {
  const sink = new MemorySink();
  writeIndexed(rec, sink);
  return sink.bytes();
}

/**
 * Streams a recording as `.vmi` bytes into `sink` (a file on disk), as
 * {@link writeVmi} would give them; or, with `placed`, finishes a file whose
 * start the sink holds already (see {@link PlacedChunks}). `plan`: its index
 * planned already (see planIndexed).
 */
export function writeVmiTo(rec: Recording, sink: ByteSink, placed: PlacedChunks | null = null, plan?: IndexPlan): void {
  writeIndexed(rec, sink, placed, plan);
}

type VersionReader = (source: ByteSource, flags: number, version: number) => Recording;

/** Readers by format version: a new version adds a row, old rows stay. */
const READERS: Record<number, VersionReader> = { 1: readV1, 2: readIndexed, 3: readIndexed };

/**
 * Opens `.vmi` bytes or a file: checks the header and the index (all of a
 * version 1 file) and returns the recording, whose pages and images are read
 * and checked when first used. Every problem (wrong magic, newer version,
 * corrupt or truncated file, absurd sizes, decompression bombs, dangling
 * references) throws RewindError('bad-vmi', one line). With `whole`, every
 * chunk is read and checked now.
 */
export function readVmi(data: Uint8Array | ByteSource, options: { whole?: boolean } = {}): Recording {
  try {
    if (data instanceof Uint8Array) data = memorySource(data);
    else if (!data || typeof data.read !== 'function') bad('not a byte array');
    if (data.size < 12) bad(`file is ${data.size} bytes, too short to be a VM image`);
    const head = data.read(0, 12);
    for (let i = 0; i < 8; i++) {
      if (head[i] !== VMI_MAGIC.charCodeAt(i)) bad('not a Rewind VM image (bad magic bytes)');
    }
    const version = head[8]! | (head[9]! << 8);
    const flags = head[10]! | (head[11]! << 8);
    const reader = Object.hasOwn(READERS, version) ? READERS[version] : undefined;
    if (!reader) {
      if (version > VMI_VERSION)
        bad(`format version ${version} is newer than this Rewind reads (up to ${VMI_VERSION}); update Rewind`);
      bad(`unknown format version ${version}`);
    }
    const rec = reader(data, flags, version);
    if (options.whole) readChunks(rec);
    return rec;
  } catch (e) {
    throw asBadVmi(e);
  }
}

/** Reads (and so checks) every chunk a recording names: for bytes already in memory, where this costs no I/O. */
function readChunks(rec: Recording): void {
  void rec.kernel;
  for (const h of pagesNamed(rec.disk, rec.checkpoints)) {
    if (!(rec.pages.page ? rec.pages.page(h) : rec.pages.get(h))) bad(`page ${h} is not in the file`);
  }
}

/** Any failure while reading a file, as RewindError('bad-vmi', one line). */
function asBadVmi(e: unknown): RewindError {
  if (e instanceof RewindError && e.code === 'bad-vmi') return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new RewindError('bad-vmi', `unreadable VM image (${msg.split('\n')[0]})`);
}
