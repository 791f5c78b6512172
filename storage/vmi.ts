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
import { VMI_MAGIC, VMI_VERSION, bad, pagesNamed, type Recording, type VmiSummary } from './vmi-common.js';
import { readV1 } from './vmi-v1.js';
import { readIndexed, summarizeIndexed, writeIndexed, type IndexPlan, type PlacedChunks } from './vmi-indexed.js';

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
  type VmiSummary,
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
    const { source, version, flags } = opened(data);
    const rec = READERS[version]!(source, flags, version);
    if (options.whole) readChunks(rec);
    return rec;
  } catch (e) {
    throw asBadVmi(e);
  }
}

/**
 * What a `.vmi` holds, checked as {@link readVmi} checks it, but for what only a use of its
 * checkpoints' page maps checks (that the pages they name are in the file): from the header
 * and the index alone, a large file's index streamed rather than held (see summarizeIndexed).
 */
export function readVmiSummary(data: Uint8Array | ByteSource): VmiSummary {
  try {
    const { source, version, flags } = opened(data);
    const summary = version >= 2 ? summarizeIndexed(source, flags, version) : null;
    if (summary) return summary;
    const rec = READERS[version]!(source, flags, version);
    return {
      config: rec.config,
      timeline: rec.timeline,
      checkpoints: rec.checkpoints.length,
      pages: rec.stored ? rec.stored.pages : pagesNamed(rec.disk, rec.checkpoints).size,
      kernelBytes: rec.stored ? (rec.stored.kernelBytes ?? 0) : (rec.kernel?.length ?? 0),
    };
  } catch (e) {
    throw asBadVmi(e);
  }
}

/** The file's source, format version (one this reads) and header flags, from its first 12 bytes. */
function opened(data: Uint8Array | ByteSource): { source: ByteSource; version: number; flags: number } {
  const source = data instanceof Uint8Array ? memorySource(data) : data;
  if (!source || typeof source.read !== 'function') bad('not a byte array');
  if (source.size < 12) bad(`file is ${source.size} bytes, too short to be a VM image`);
  const head = source.read(0, 12);
  for (let i = 0; i < 8; i++) {
    if (head[i] !== VMI_MAGIC.charCodeAt(i)) bad('not a Rewind VM image (bad magic bytes)');
  }
  const version = head[8]! | (head[9]! << 8);
  const flags = head[10]! | (head[11]! << 8);
  if (!Object.hasOwn(READERS, version)) {
    if (version > VMI_VERSION)
      bad(`format version ${version} is newer than this Rewind reads (up to ${VMI_VERSION}); update Rewind`);
    bad(`unknown format version ${version}`);
  }
  return { source, version, flags };
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
