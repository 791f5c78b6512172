/**
 * storage/: checkpoints, page store, timeline, backends and the `.vmi`
 * format: the one export surface for the rest of the project.
 *
 * Browser-safe: nothing exported here imports Node modules. Atomic file
 * writes are exported from storage/node.ts.
 */

/** 128-bit MurmurHash3 x86_128 digest of bytes, as 32 hex characters. */
export { hash128 } from './hash.js';
/** Incremental form of {@link hash128}. */
export { Hasher128 } from './hash.js';
/** A digest's 16 bytes, and back. */
export { hashToBytes, bytesToHash } from './hash.js';
/** True for a well-formed digest string. */
export { isHash128 } from './hash.js';
/** A 128-bit digest: 32 lower-case hex characters. */
export type { Hash128 } from './hash.js';

/** Canonical (key-order independent) bytes of plain data, for hashing. */
export { canonicalBytes } from './canonical.js';

/** Per-page digests, the machine state hash, and the well-known zero page digest. */
export { StateHasher, PageHashTable, computeStateHash, hashPage, isZeroPage, ZERO_PAGE_HASH } from './statehash.js';

/** Content-addressed, compressed page storage and its chunk codecs. */
export type { PageSpill, PageStoreOptions } from './pagestore.js';
export {
  PageStore,
  compressChunk,
  decompressChunk,
  inflateExact,
  ENCODING_RAW,
  ENCODING_DEFLATE,
  ENCODING_SPARSE,
} from './pagestore.js';

/** Checkpoint capture and restore over a machine's {@link Snapshotable} interface. */
export { Checkpointer, checkpointId, decodeState, diffTables } from './checkpoint.js';
/** A checkpoint, its page maps, full page tables, and checkpointer options. */
export type { Checkpoint, PageMap, PageTables, PageDiff, CheckpointerOptions } from './checkpoint.js';

/** The event-sourced branch tree, its log fold and queries. */
export { Timeline, foldTimelineLog, timelineFromTree, EMPTY_TIMELINE } from './timeline.js';
/** Timeline data types. */
export type {
  Branch,
  Bookmark,
  CheckpointRef,
  EventPayload,
  InputEvent,
  LineageSegment,
  TimelineLogEntry,
  TimelineTree,
} from './timeline.js';

/** The storage backend interface and its batch entries. */
export type { StorageBackend, BatchEntry } from './backend.js';
/** In-memory backend (tests, browser fallback). */
export { MemoryBackend } from './backends/memory.js';
/** IndexedDB backend (browser). */
export { IdbBackend } from './backends/idb.js';

/** The `.vmi` file format: write, read (validating), limits and constants. */
export {
  writeVmi,
  writeVmiTo,
  planIndexed,
  readVmi,
  readVmiSummary,
  pagesNamed,
  VMI_MAGIC,
  VMI_VERSION,
  VMI_HEADER_SIZE,
  VMI_FLAG_MANIFEST_DEFLATED,
  VMI_LIMITS,
} from './vmi.js';
/** What a `.vmi` holds. */
export type { ConsoleLog, IndexPlan, PageRecords, Recording, StoredChunks, VmiConfig, VmiSummary } from './vmi.js';
/** Random-access reads and sequential writes of a file's bytes. */
export { MemorySink, concatBytes, memorySource } from './bytes.js';
export type { ByteSink, ByteSource } from './bytes.js';

/** Wire forms of checkpoints and page maps. */
export { checkpointToWire, packPageMap, unpackPageMap } from './wire.js';
/** Wire types. */
export type { CheckpointWire, PackedPageMap } from './wire.js';
