/**
 * The spill store of a recording in Node: page records written to a file
 * that lives beside the `.vmi` being written until it is finalised (named
 * like the atomic writer's temporaries, so a killed process's file is swept
 * the next time). The file is the start of that `.vmi`: room for its header,
 * then each record's data as a chunk of the file (its encoding byte is kept
 * in memory), so that finishing the recording appends the index and writes
 * the header ({@link finish}), and no page is copied again.
 *
 * With an encoder thread (storage/pagefile-worker.ts), pages are handed
 * over as they are (a copy into shared memory) and the thread encodes and
 * writes them, so that neither costs the recording's thread; what needs a
 * page's record or its size waits for the thread to get that far. A
 * checkpoint's dirty pages are copied in before they are hashed, and the
 * thread hashes them, numbers the new ones and hands them over itself
 * ({@link hashPages}, {@link hashPagesLater}: the recording's thread may
 * run on meanwhile).
 *
 * Records are written through a buffer of WRITE_BUFFER bytes. The index of
 * where each record sits is in memory, in typed arrays off the JS heap (some
 * 40 bytes a page, for the pages the recording keeps, and a reference to the
 * digest's string, which the checkpoints hold anyway), and a compaction
 * copies the live records through two fixed buffers: what the store takes in
 * memory depends on the pages the recording keeps, never on the bytes that
 * went through it. A compaction within the room it is given copies nothing:
 * the records of the pages it forgets leave holes, which the records that
 * come next fill before the file grows (see FreeSpace), in the same places
 * whichever thread writes them.
 */
import { closeSync, openSync, readSync, renameSync, unlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { PAGE_SIZE } from '../core/memmap.js';
import { RewindError } from '../core/errors.js';
import type { ByteSink } from './bytes.js';
import { hashToBytes, type Hash128 } from './hash.js';
import { ENCODING_RAW, encodePageUnlessRaw, RECORD_ROOM, type HashSet, type PageSpill } from './pagestore.js';
import { NOBODY_WAITS, PageRing, RING_CONTROL as C } from './pagering.js';
import type { ChunkPlace, PlacedChunks } from './vmi-indexed.js';
import { DigestTable } from './digests.js';
import { FreeSpace } from './freespace.js';
import { VMI_HEADER_SIZE } from './vmi-indexed.js';
import { finishTemporary, releaseTemporary, temporaryName, writeAll } from './node.js';

/** Where a page file without a thread encodes a page. */
const scratch = new Uint8Array(RECORD_ROOM);

/** Bytes gathered before a write to the file. */
const WRITE_BUFFER = 1 << 20;
/** Bytes of the file read at once when a compaction copies its live records. */
const COPY_BUFFER = 4 << 20;

/** Where the first record goes: the file's header is written there when the recording is finished. */
const START = VMI_HEADER_SIZE;
/** Pages an encoder thread may have in hand (64 MiB of shared memory, a checkpoint of all 64 MiB of RAM): more, and the caller waits for it. */
const RING_SLOTS = 16384;
/** Pages still to encode past which a new lap of the ring is not looked for (see newLap). */
const LAP_PENDING = 4096;
/**
 * Pages waiting for the encoder thread, and milliseconds they would take it at its pace, past
 * which a page file that must wait for them all (the recording ends, or compacts) has it encode
 * them the cheap way: a recording's end waits no longer for deflate than a checkpoint does.
 */
const END_HURRY = 1024;
const END_WAIT = 40;
/** Pages copied into the ring between two hand-outs of pages to hash to the thread. */
const HASH_HANDOUT = 64;
/** Milliseconds an encoder thread may take to start before the page file gives up on it. */
const START_TIMEOUT = 20_000;
/** The encoder thread's script, beside this module's. */
const ENCODER = new URL('./pagefile-worker.js', import.meta.url);

/**
 * Pages a page file encodes on the caller's thread between two marks (a
 * checkpoint's) before it starts its encoder thread (THREAD_START), and at
 * most before it hands pages to it (THREAD_AFTER, counted from the start;
 * it does so as soon as the thread runs): a guest that stores fewer at a
 * time (most do) never pays for the thread's start, nor shares the host's
 * cores with it, for what costs a few milliseconds here (on two cores, the
 * thread made a guest storing ~1,300 pages a checkpoint 3–5 % slower than
 * encoding them here); one that stores more does not wait for the thread.
 */
const THREAD_START = 2048;
const THREAD_AFTER = 8192;

/** Options of a {@link PageFile}. */
export interface PageFileOptions {
  /**
   * Encode and write pages on a worker thread running this script (the
   * default, `pagefile-worker.js` beside this module), or on the caller's
   * thread (null).
   */
  encoder?: URL | null;
  /**
   * Pages put, at most, before the encoder thread takes them (default THREAD_AFTER; it starts
   * at a quarter of that, and takes them once it runs): until then they are encoded on the
   * caller's thread.
   */
  threadAfter?: number;
  /** Pages its thread may have in hand (default RING_SLOTS). */
  ringSlots?: number;
}

export class PageFile implements PageSpill, PlacedChunks {
  private fd: number;
  private readonly path: string;
  /**
   * Digest → its number n; its record is the encoding `encodings[n]` and
   * `lengths[n]` bytes of data at `offsets[n]`. Numbers are in file order.
   */
  private at = new DigestTable();
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private encodings = new Uint8Array(1024);
  /** Data not yet written: it goes at `end - buffered`. */
  private readonly buffer = new Uint8Array(WRITE_BUFFER);
  private buffered = 0;
  /** Where the file's data ends (the buffer's included; with a thread, what it was given up to `collected`). */
  private end = START;
  /** The file's holes, which records fill before it grows (shared with the thread once it takes pages). */
  private free = new FreeSpace();
  /** Bytes of records held (in the file and in the buffer). */
  private held = 0;
  /** The encoder thread's script, if any. */
  private readonly encoder: URL | null;
  /** Pages encoded here between marks before the thread starts, and after its start before it takes them at the latest (see THREAD_START). */
  private readonly threadStart: number;
  private readonly threadAfter: number;
  private readonly ringSlots: number;
  /** Pages encoded on the caller's thread, since the last mark, and when the thread started. */
  private encodedHere = 0;
  private encodedSinceMark = 0;
  private encodedAtStart = 0;
  /** The encoder thread once started, and the shared memory it works from. */
  private started: { worker: Worker; ring: PageRing } | null = null;
  /** Whether it takes the pages (see takingThread). */
  private taking = false;
  /**
   * Pages handed to the thread, and those whose results are taken. The pages
   * not yet taken are always the last numbered (a page stored here takes all
   * first), so numbers map to the count handed over: see {@link handedThrough}.
   */
  private handed = 0;
  private collected = 0;
  /**
   * Pages numbered here, or by the thread and handed over: the thread numbers the pages it hashes
   * (see hashPages) before this thread takes them, and those are handed over in number order.
   */
  private numbered = 0;
  /**
   * Fills of the ring's slots so far (slot: fill mod slots; a new lap skips what is left of the one
   * before, see newLap), and the last page handed over that each slot's copy is (-1: none).
   */
  private fills = 0;
  private slotJobs = new Float64Array(0);
  /** Slots from the ring's first that pages were copied into: in place, their memory faulted in (see newLap). */
  private written = 0;
  /**
   * The batch of pages being hashed (see hashPagesLater): how many fills it has, and how many of
   * the ranges begun in it are not finished; null when none is.
   */
  private batch: { fills: number; open: number } | null = null;
  /** What finishes the batch being hashed, for whoever needs the store's index before its owner does (see payOwed). */
  private owed: (() => void) | null = null;
  /** The fills holding copies of memory's pages, by page, since the last {@link forgetCopies} (-1: none). */
  private readonly copies: { memory: Uint8Array; fills: Float64Array }[] = [];
  /** The digests held in order (see DigestTable.numbersInOrder), while {@link finish} writes the index. */
  private ordered: { numbers: Uint32Array; words: Uint32Array } | null = null;
  /** Pages numbered before the last mark, and the bytes of their records (known once collected that far). */
  private marked = 0;
  private heldAtMark = 0;

  /** A new, empty store beside `target` (the file the recording becomes). */
  constructor(
    private readonly target: string,
    options: PageFileOptions = {},
  ) {
    this.path = temporaryName(target);
    this.fd = this.create(this.path);
    this.encoder = options.encoder === undefined ? ENCODER : options.encoder;
    this.threadAfter = options.threadAfter ?? THREAD_AFTER;
    this.threadStart = Math.min(THREAD_START, this.threadAfter >> 2);
    this.ringSlots = options.ringSlots ?? RING_SLOTS;
  }

  /** The encoder thread, started now unless it was (it takes pages once {@link useThread} says where to write). */
  private startThread(encoder: URL): { worker: Worker; ring: PageRing } {
    if (this.started !== null) return this.started;
    // The thread adds the pages it hashes to the digest table: from now on it is in shared memory.
    this.at = this.at.toShared();
    const ring = PageRing.create(this.ringSlots, this.at.shared!);
    this.slotJobs = new Float64Array(ring.slots).fill(-1);
    // Without the process's Node flags: some apply to its entry alone (`--input-type`, with `-e`).
    const worker = new Worker(encoder, { workerData: ring.data, execArgv: [] });
    // A thread that fails outside its loop (its script does not load) says so where waits look.
    worker.on('error', (e) => {
      ring.failure = e.message;
      Atomics.store(ring.control, C.ERROR, 2);
      Atomics.store(ring.control, C.STOPPED, 1);
    });
    // A recording that ends early (an error, Ctrl-C) must not be held open by its thread.
    worker.unref();
    this.started = { ring, worker };
    this.encodedAtStart = this.encodedHere;
    return this.started;
  }

  /** The encoder thread once it takes the pages. */
  private get thread(): { worker: Worker; ring: PageRing } | null {
    return this.taking ? this.started : null;
  }

  /** From now on the thread takes the pages: it writes from where the file ends. */
  private useThread(): void {
    this.flush();
    this.taking = true;
    const { ring } = this.started!;
    ring.free.set(this.free.array);
    this.free = new FreeSpace(ring.free);
    this.retarget();
  }

  /** Bytes of records held: exact, so it waits for the thread to encode what it has. */
  get bytes(): number {
    this.payOwed();
    this.collect(this.handed);
    return this.held;
  }

  /** Bytes from the first record to the end of the last, holes included: what the file takes besides its header and index. */
  get extent(): number {
    this.payOwed();
    this.collect(this.handed);
    return this.end - START;
  }

  /**
   * At most {@link extent}, without waiting for the thread or for a batch being hashed: the
   * records whose places are known here, those the thread has encoded taken on first. What a
   * progress line shows as the recording runs (finding the extent made each show wait for them).
   */
  get extentWritten(): number {
    if (this.thread) this.collect(Atomics.load(this.thread.ring.control, C.ENCODED));
    return this.end - START;
  }

  /** At least {@link extent}: each record the thread has not reported yet counted as ending the file, at its largest. */
  get extentBound(): number {
    return this.end - START + (this.handed + (this.batch?.fills ?? 0) - this.collected) * (RECORD_ROOM - 1);
  }

  get count(): number {
    return this.numbered;
  }

  mark(): void {
    this.encodedSinceMark = 0;
    this.marked = this.numbered;
    if (this.collected === this.handed) this.heldAtMark = this.held;
  }

  /** What records the pages before the mark have, a raw one for each since: the same with an encoder thread or without, unless it hurried. */
  get boundBytes(): number {
    // Asked at every periodic checkpoint of a recording: the guest's thread must not wait for deflate.
    this.collect(this.handedThrough(this.marked - 1), true);
    // A page of the batch being hashed may be new to the store.
    return this.heldAtMark + (this.numbered + (this.batch?.fills ?? 0) - this.marked) * (1 + PAGE_SIZE);
  }

  has(hash: Hash128): boolean {
    this.payOwed();
    return this.at.indexOf(hash) >= 0;
  }

  sizeOf(hash: Hash128): number | undefined {
    this.payOwed();
    const n = this.at.indexOf(hash);
    if (n < 0) return undefined;
    this.collect(this.handedThrough(n));
    return this.lengths[n]! + 1;
  }

  get(hash: Hash128): Uint8Array | undefined {
    this.payOwed();
    const n = this.at.indexOf(hash);
    if (n < 0) return undefined;
    if (this.thread) {
      this.collect(this.handedThrough(n));
      this.waitFor(C.FLUSHED, this.handedThrough(n));
    }
    const offset = this.offsets[n]!;
    const out = new Uint8Array(1 + this.lengths[n]!);
    out[0] = this.encodings[n]!;
    const data = out.subarray(1);
    const flushed = this.end - this.buffered;
    if (offset >= flushed) data.set(this.buffer.subarray(offset - flushed, offset - flushed + data.length));
    else this.read(this.fd, data, offset);
    return out;
  }

  /** Where pages' data lie in the file (for {@link finish}): the digests held, in their order, merged with `ids`. */
  placeAll(ids: Uint8Array, each: (i: number, place: ChunkPlace) => void): void {
    this.payOwed();
    this.collect(this.handed);
    const { numbers, words } = this.ordered ?? this.at.numbersInOrder();
    const place: ChunkPlace = { offset: 0, stored: 0, encoding: 0 };
    const want = new DataView(ids.buffer, ids.byteOffset, ids.length);
    // Both in order: a walk along each, the digests compared word by word (big-endian, as they print).
    let k = 0;
    for (let i = 0; i < ids.length >>> 4 && k < numbers.length; i++) {
      let c = -1;
      while (k < numbers.length) {
        c = 0;
        for (let x = 0; x < 4 && c === 0; x++) {
          const a = words[4 * k + x]!;
          const b = want.getUint32(16 * i + 4 * x);
          c = a === b ? 0 : a < b ? -1 : 1;
        }
        if (c >= 0) break;
        k++;
      }
      if (c !== 0) continue;
      const n = numbers[k++]!;
      place.offset = this.offsets[n]!;
      place.stored = this.lengths[n]!;
      place.encoding = this.encodings[n]!;
      each(i, place);
    }
  }

  /**
   * Stores a page (4 KiB) unless it is held: encoded on the thread when it takes pages, else here;
   * numbered by its digest's bytes at `at` in `digests` when given.
   */
  putPage(page: Uint8Array, digests: Uint8Array, at: number): void {
    this.payOwed();
    const thread = this.takingThread();
    // A page hashed on the thread was numbered there, and handed over if new.
    if (thread !== null && this.copied(page, thread.ring) >= 0) return;
    this.putUncopied(thread, page, digests, at);
  }

  /**
   * {@link putPage} of each of `pages` of `memory` (indices of 4 KiB pages), whose digests are 16
   * bytes each in `digests`: those it hashed from copies are skipped without a view of each.
   */
  putPages(memory: Uint8Array, pages: Uint32Array, digests: Uint8Array): void {
    this.payOwed();
    const c = this.copiesOf(memory);
    for (let k = 0; k < pages.length; k++) {
      const i = pages[k]!;
      const thread = this.takingThread();
      if (thread !== null && c !== undefined && this.copyOf(c, i, thread.ring) >= 0) continue;
      this.putUncopied(thread, memory.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), digests, k * 16);
    }
  }

  /** Stores a page the thread holds no copy of: encoded here without a thread, else handed to it. */
  private putUncopied(
    thread: { worker: Worker; ring: PageRing } | null,
    page: Uint8Array,
    digests: Uint8Array,
    at: number,
  ): void {
    if (thread === null) {
      const n = this.number(digests, at);
      if (n < 0) return;
      this.encodedHere++;
      this.encodedSinceMark++;
      const rec = encodePageUnlessRaw(page, scratch);
      if (rec === null) this.store(n, ENCODING_RAW, page);
      else this.store(n, rec[0]!, rec.subarray(1));
      return;
    }
    const { ring } = thread;
    // The slot is free once the page handed over a ring ago has its result taken (taken before this
    // page is numbered: see handedThrough).
    // A full ring: the thread is encoding the cheap way already (more than a quarter of it waits).
    // Every result it has is taken at once: taking one a page cost a wait's checks for each.
    // Room first: taking the thread's results maps them to numbers, and this page is not handed yet.
    this.makeRoom(ring);
    if (this.number(digests, at) < 0) return;
    const fill = this.fill(ring, page);
    ring.jobs[this.handed % ring.slots] = fill;
    this.slotJobs[fill % ring.slots] = this.handed++;
    Atomics.store(ring.control, C.FILLED, this.written);
    Atomics.store(ring.control, C.SUBMITTED, this.handed);
    if (Atomics.load(ring.control, C.SLEEPING)) ring.ring();
  }

  /** The copies {@link hashPages} made of `memory`'s pages, if any. */
  private copiesOf(memory: Uint8Array): { memory: Uint8Array; fills: Float64Array } | undefined {
    return this.copies.find((c) => c.memory.buffer === memory.buffer && c.memory.byteOffset === memory.byteOffset);
  }

  /**
   * Takes the thread's results as far as the next page handed over, and the next fill, need: the
   * slot of the page handed over a ring ago, and the slot the next fill copies into, free.
   */
  private makeRoom(ring: PageRing): void {
    const job = Math.max(this.handed - ring.slots, this.slotJobs[this.fills % ring.slots]!);
    // Every result the thread has is taken at once: taking one a page cost a wait's checks for each.
    // This thread would wait for that page's encoding: the pages before it are encoded the cheap way.
    if (job >= this.collected) this.collect(Math.max(job + 1, Atomics.load(ring.control, C.ENCODED)), true);
  }

  /** Copies `page` into the ring's next slot (made free by {@link makeRoom}); returns its fill. */
  private fill(ring: PageRing, page: Uint8Array): number {
    const f = this.nextFill(ring);
    ring.pages.set(page, (f % ring.slots) * PAGE_SIZE);
    return f;
  }

  /** Takes the ring's next fill (its slot made free by {@link makeRoom}) for a page about to be copied there. */
  private nextFill(ring: PageRing): number {
    const slot = this.fills % ring.slots;
    if (slot >= this.written) this.written = slot + 1;
    return this.fills++;
  }

  /** The fill that holds a copy of `page` (a view of memory that {@link hashPages} copied in, as it still is), or -1. */
  private copied(page: Uint8Array, ring: PageRing): number {
    for (const c of this.copies) {
      const at = page.byteOffset - c.memory.byteOffset;
      if (c.memory.buffer !== page.buffer || at < 0 || at >= c.memory.length || at % PAGE_SIZE !== 0) continue;
      return this.copyOf(c, at / PAGE_SIZE, ring);
    }
    return -1;
  }

  /** The fill that holds a copy of page `i` of the memory `c` has copies of, or -1. */
  private copyOf(c: { fills: Float64Array }, i: number, ring: PageRing): number {
    const f = c.fills[i]!;
    // Its slot holds a later page once a ring's worth of fills came after it.
    return f >= 0 && f + ring.slots > this.fills ? f : -1;
  }

  /**
   * Hashes `pages` of `memory` (indices of 4 KiB pages) on both threads: copies them into the
   * ring, where the thread starts on them at once and this thread joins in once all are in; their
   * digests go to `digests` (16 bytes each, as PageHashTable holds them). The thread numbers
   * those the store lacks as it goes and hands them over to be encoded from their copies: a page
   * put before {@link forgetCopies} that was hashed here is stored already. False, hashing
   * nothing, while no thread takes the pages, or where the ring cannot be hashed in.
   */
  hashPages(memory: Uint8Array, pages: readonly number[], digests: Uint8Array): boolean {
    this.payOwed();
    const thread = this.takingThread();
    if (thread === null || thread.ring.pair === null) return false;
    // In batches of half a ring: a batch's digests are read before its slots take the next's pages.
    const most = thread.ring.slots >> 1;
    for (let from = 0; from < pages.length; from += most) {
      const part = pages.slice(from, Math.min(pages.length, from + most));
      this.finishHashing(thread.ring, this.startHashing(thread.ring, memory, part), digests.subarray(from * 16));
    }
    return true;
  }

  /**
   * {@link hashPages}, begun: the pages are copied in and the thread hashes them while the caller
   * goes on (memory may change once this returns). Returns what finishes it, which waits for the
   * digests and returns them; null (nothing begun) where hashPages would hash nothing, or for more
   * pages than a ring holds. Until it has been called, anything that needs the store's
   * index first calls `owed`, which must call it.
   */
  hashPagesLater(memory: Uint8Array, pages: readonly number[], owed: () => void): (() => Uint8Array) | null {
    const thread = this.takingThread();
    if (thread === null || thread.ring.pair === null) return null;
    if ((this.batch?.fills ?? 0) + pages.length > thread.ring.slots) return null;
    const range = this.startHashing(thread.ring, memory, pages);
    this.owed = owed;
    return () => {
      const digests = new Uint8Array(pages.length * 16);
      this.finishHashing(thread.ring, range, digests);
      return digests;
    };
  }

  /** Asks for the batch being hashed to be finished (see hashPagesLater), before the store's index is used. */
  private payOwed(): void {
    const owed = this.owed;
    if (owed === null) return;
    this.owed = null;
    owed();
    if (this.batch !== null) throw new RewindError('bad-state', 'pages being hashed were never finished');
  }

  /** Copies `pages` of `memory` into the ring, in the batch being hashed (a new one if none is); returns their fills. */
  private startHashing(ring: PageRing, memory: Uint8Array, pages: readonly number[]): { from: number; to: number } {
    const ctl = ring.control;
    let copies = this.copiesOf(memory);
    if (copies === undefined) {
      copies = { memory, fills: new Float64Array(memory.length / PAGE_SIZE).fill(-1) };
      this.copies.push(copies);
    }
    if (this.batch === null) {
      this.newLap(ring, pages.length);
      this.batch = { fills: 0, open: 0 };
      // The batch starts empty (its end last): a thread that looks finds nothing to do until it grows.
      Atomics.store(ctl, C.NUMBERED, this.fills);
      Atomics.store(ctl, C.HASH_NEXT, this.fills);
      Atomics.store(ctl, C.HASH_END, this.fills);
    }
    const batch = this.batch;
    // The thread hands over the new pages of the batch itself: room for their results, however many.
    const over = this.handed + batch.fills + pages.length - this.collected - ring.slots;
    if (over > 0) this.collect(Math.max(this.collected + over, Atomics.load(ctl, C.ENCODED)));
    const from = this.fills;
    // Pages that follow one another in memory and in the ring are copied as one run.
    let run = 0;
    for (let k = 0; k < pages.length; k++) {
      const i = pages[k]!;
      this.makeRoom(ring);
      const f = this.nextFill(ring);
      const slot = f % ring.slots;
      copies.fills[i] = f;
      run++;
      const last = k === pages.length - 1;
      // Handed to the thread as they come, so that it hashes while this thread copies.
      const handout = k % HASH_HANDOUT === HASH_HANDOUT - 1 || last;
      if (handout || pages[k + 1] !== i + 1 || slot + 1 === ring.slots) {
        const first = i + 1 - run;
        ring.pages.set(memory.subarray(first * PAGE_SIZE, (i + 1) * PAGE_SIZE), (slot + 1 - run) * PAGE_SIZE);
        run = 0;
      }
      if (handout) {
        Atomics.store(ctl, C.FILLED, this.written);
        Atomics.store(ctl, C.HASH_END, this.fills);
        ring.ring();
      }
    }
    batch.fills += pages.length;
    batch.open++;
    return { from, to: this.fills };
  }

  /**
   * Starts the ring's next lap now, at its first slot, when `pages` copied from where it is would
   * reach slots no page was copied into yet: they go into slots in place rather than fresh memory,
   * which costs ~12 µs a page to fault in on a virtual machine (a guest that rewrites 32 MiB
   * between checkpoints had all of the ring's 64 MiB faulted in, where half is enough). Only
   * where the thread has encoded the pages those slots hold: waiting for it would hurry it (pages
   * encoded in a hurry take more room in the file), or take as long as deflate does.
   */
  private newLap(ring: PageRing, pages: number): void {
    const at = this.fills % ring.slots;
    if (at === 0 || at + pages <= this.written) return;
    // The pages still to encode must all lie past the slots the lap takes (taken on by makeRoom).
    const encoded = Atomics.load(ring.control, C.ENCODED);
    if (this.handed - encoded > LAP_PENDING) return;
    const top = Math.min(pages, this.written);
    for (let j = encoded; j < this.handed; j++) if (ring.jobs[j % ring.slots]! % ring.slots < top) return;
    this.fills += ring.slots - at;
  }

  /**
   * Waits for the fills `from` to `to` of the batch being hashed to be hashed and numbered (this
   * thread hashing what is left to claim), copies their digests to `digests`, and takes on the
   * pages the thread handed over. Ranges of a batch are finished in order.
   */
  private finishHashing(ring: PageRing, range: { from: number; to: number }, digests: Uint8Array): void {
    ring.hashClaimed();
    this.waitFor(C.NUMBERED, range.to);
    this.fitNumbers(this.at.size);
    const from = new Int32Array(ring.digests.buffer);
    const to = new Int32Array(digests.buffer, digests.byteOffset, digests.length >>> 2);
    for (let f = range.from; f < range.to; f++) {
      const slot = f % ring.slots;
      for (let w = 0, at = 4 * (f - range.from); w < 4; w++) to[at + w] = from[4 * slot + w]!;
      if (ring.numbers[slot]! < 0) continue;
      this.slotJobs[slot] = this.handed++;
      this.numbered++;
    }
    if (--this.batch!.open === 0) this.batch = null;
  }

  /** Forgets the copies {@link hashPages} made: memory may change from now on. */
  forgetCopies(): void {
    for (const c of this.copies) c.fills.fill(-1);
  }

  /**
   * About `pages` pages may be put soon (a guest has dirtied that many since the last
   * checkpoint), and `more` besides (the ones it may dirty by then): from `threadStart` pages
   * on, the encoder thread starts now rather than in the middle of that checkpoint, and readies
   * that many slots of its ring (and `more`, in its first lap). Memory is faulted in at ~12 µs a page on a virtual
   * machine, against 0.4 µs for a copy: the thread does that while the guest runs, rather than
   * the guest's thread as it copies pages in.
   */
  expect(pages: number, more = 0): void {
    if (this.encoder === null || pages < this.threadStart) return;
    const { ring } = this.startThread(this.encoder);
    const ctl = ring.control;
    // Slots from the ring's first, as far as the pages may go from the next fill: in its first lap
    // those that may come; after, those that come (a new lap, if one starts, takes slots in place
    // already: see newLap).
    const at = this.fills % ring.slots;
    const want = Math.min(ring.slots, at + pages + (this.fills < ring.slots ? more : 0));
    if (want <= Atomics.load(ctl, C.READY)) return;
    Atomics.store(ctl, C.READY, want);
    ring.ring();
  }

  /**
   * Whether `pages` pages put now would be copied into slots of the ring in place (see expect):
   * false while its thread, started, has not readied them yet, or has not started; true without
   * a thread.
   */
  readyFor(pages: number): boolean {
    const ring = this.started?.ring;
    if (ring === undefined) return true;
    const want = Math.min(ring.slots, (this.fills % ring.slots) + pages);
    return want <= this.written || want <= Atomics.load(ring.control, C.TOUCHED);
  }

  /** The encoder thread once it takes pages: started after `threadStart` pages between marks, taking them once it runs (or `threadAfter` pages after it started). */
  private takingThread(): { worker: Worker; ring: PageRing } | null {
    if (this.thread || this.encoder === null) return this.thread;
    if (this.started === null && this.encodedSinceMark < this.threadStart) return null;
    const { ring } = this.startThread(this.encoder);
    if (
      this.encodedHere - this.encodedAtStart >= this.threadAfter - this.threadStart ||
      Atomics.load(ring.control, C.STARTED)
    )
      this.useThread();
    return this.thread;
  }

  write(hash: Hash128, record: Uint8Array): void {
    this.payOwed();
    // Written here, so the thread must have written all it has (and then start after this).
    this.settle();
    const n = this.number(hashToBytes(hash), 0);
    if (n >= 0) this.store(n, record[0]!, record.subarray(1));
  }

  /** Writes the record of page number n here, in a hole or at the end (the thread has written all it was given). */
  private store(n: number, encoding: number, data: Uint8Array): void {
    const hole = this.free.take(data.length);
    if (hole >= 0) {
      // Holes lie before what the buffer holds: they are found once all is written (compact).
      this.append(this.fd, data, hole);
      this.offsets[n] = hole;
    } else {
      if (this.buffered + data.length > WRITE_BUFFER) this.flush();
      this.offsets[n] = this.end;
      if (data.length > WRITE_BUFFER) this.append(this.fd, data, this.end);
      else {
        this.buffer.set(data, this.buffered);
        this.buffered += data.length;
      }
      this.end += data.length;
    }
    this.lengths[n] = data.length;
    this.encodings[n] = encoding;
    this.held += 1 + data.length;
    if (this.thread) {
      this.flush();
      this.retarget();
    }
  }

  /** Numbers a new digest, the 16 bytes at `at` in `digests` (growing the tables); -1 when it is held already. */
  private number(digests: Uint8Array, at: number): number {
    const n = this.at.size;
    if (this.at.addBytes(digests, at) !== n) return -1;
    this.fitNumbers(n + 1);
    this.numbered = n + 1;
    return n;
  }

  /** Grows the tables by number to hold `count` pages. */
  private fitNumbers(count: number): void {
    if (count <= this.offsets.length) return;
    let size = this.offsets.length * 2;
    while (size < count) size *= 2;
    const offsets = new Float64Array(size);
    const lengths = new Uint32Array(size);
    const encodings = new Uint8Array(size);
    offsets.set(this.offsets);
    lengths.set(this.lengths);
    encodings.set(this.encodings);
    this.offsets = offsets;
    this.lengths = lengths;
    this.encodings = encodings;
  }

  /** How many pages had been handed over once page number n was (0 for pages the thread never had). */
  private handedThrough(n: number): number {
    return Math.max(0, n + 1 + this.handed - this.numbered);
  }

  /** Takes the thread's results for the pages handed over before the `upTo`-th: their places follow in order. */
  private collect(wanted: number, hurry = false): void {
    // Not past the pages handed over here: those the thread handed over itself are taken on once their batch is finished.
    const upTo = Math.min(wanted, this.handed);
    if (!this.thread || this.collected >= upTo) return;
    const { ring } = this.thread;
    // This thread would wait for those pages' encoding: the encoder thread encodes them the cheap way.
    if (hurry && Atomics.load(ring.control, C.ENCODED) < upTo) this.hurry(upTo);
    this.waitFor(C.ENCODED, upTo);
    for (let s = this.collected; s < upTo; s++) {
      const slot = s % ring.slots;
      const n = s - this.handed + this.numbered;
      const length = ring.lengths[slot]!;
      const offset = ring.offsets[slot]!;
      this.offsets[n] = offset;
      this.lengths[n] = length;
      this.encodings[n] = ring.encodings[slot]!;
      this.end = Math.max(this.end, offset + length);
      this.held += length + 1;
      if (n + 1 === this.marked) this.heldAtMark = this.held;
    }
    this.collected = upTo;
  }

  /** Waits until the thread's count `field` reaches `count`; throws what stopped it, if it stopped. */
  private waitFor(field: number, count: number): void {
    const ctl = this.thread!.ring.control;
    if (Atomics.load(ctl, field) >= count) return;
    const since = performance.now();
    // Said before the look below: the worker then wakes this thread once, at `count` (see WANTED).
    if (field === C.ENCODED) Atomics.store(ctl, C.WANTED, count);
    if (field === C.NUMBERED) Atomics.store(ctl, C.HASH_WAITING, 1);
    try {
      for (;;) {
        const now = Atomics.load(ctl, field);
        if (now >= count) return;
        const error = Atomics.load(ctl, C.ERROR);
        if (error !== 0) throw this.writeFailed(error === 1, this.thread!.ring.failure);
        if (Atomics.load(ctl, C.STOPPED))
          throw new RewindError('io', `the recording's page store ${this.path} stopped`);
        // Its script failing to load is an event this thread, waiting here, would never see.
        if (!Atomics.load(ctl, C.STARTED) && performance.now() - since > START_TIMEOUT)
          throw new RewindError('io', `the recording's page store could not start its thread (${this.encoder})`);
        Atomics.wait(ctl, field, now, 100);
      }
    } finally {
      if (field === C.ENCODED) Atomics.store(ctl, C.WANTED, NOBODY_WAITS);
      if (field === C.NUMBERED) Atomics.store(ctl, C.HASH_WAITING, 0);
    }
  }

  /** Waits until the thread has encoded and written every page handed over. */
  private settle(): void {
    this.payOwed();
    if (!this.thread) return;
    // In a hurry only with many pages waiting, for long at the thread's pace: a few are encoded as
    // a page file without a thread would. (A matrix transpose ended with ~2,000–3,000 pages
    // waiting, at ~85 µs a page: 170–240 ms of its 1.2 s recording.)
    const ctl = this.thread.ring.control;
    const waiting = this.handed - Atomics.load(ctl, C.ENCODED);
    const long = waiting > END_HURRY && waiting * Atomics.load(ctl, C.PACE) > END_WAIT * 1e6;
    this.collect(this.handed, long || waiting > this.thread.ring.cheapPast);
    this.waitFor(C.FLUSHED, this.handed);
  }

  /** Has the encoder thread encode the cheap way every page handed over before the `until`-th (see RING_CONTROL.HURRY). */
  private hurry(until: number): void {
    const ctl = this.thread!.ring.control;
    if (Atomics.load(ctl, C.HURRY) < until) Atomics.store(ctl, C.HURRY, until);
  }

  /** Tells the idle thread where to write from now on. */
  private retarget(): void {
    const { ring } = this.thread!;
    Atomics.store(ring.control, C.FD, this.fd);
    ring.end[0] = this.end;
    Atomics.add(ring.control, C.GENERATION, 1);
  }

  /**
   * Makes the file the recording's `.vmi`: `write` gets a sink holding the
   * file so far (the header's room, then the pages, which {@link place}
   * finds) to append the rest and write the header; then the file is
   * synced and renamed over the target. The store is closed after, whatever
   * happened.
   */
  finish(write: (sink: ByteSink) => void): void {
    try {
      this.payOwed();
      // Sorted while the thread writes the last pages: placeAll walks the digests in this order.
      this.ordered = this.at.numbersInOrder();
      this.settle();
      this.flush();
      finishTemporary(this.fd, this.path, this.target, this.end, write);
    } finally {
      this.close();
    }
  }

  /**
   * Forgets the records that are not live. Where the file's records span at
   * most `room` bytes, the others stay where they are and the holes they
   * leave take the records that come next (see FreeSpace). Else (and without
   * `room`) the live records are copied to a new file that replaces this
   * one: disk use falls to what is live. The index changes only once the new
   * file has replaced the old one (a failure leaves the store as it was).
   */
  compact(live: HashSet, room = -1): void {
    this.payOwed();
    const count = this.at.size;
    const order: number[] = [];
    for (let n = 0; n < count; n++) if (live.has(this.at.digestAt(n))) order.push(n);
    const stays = room >= 0 && this.extent <= room;
    if (order.length === count && (stays || room < 0)) return;
    this.settle();
    this.flush();
    // File order: number order but for the records that went into holes (runs a merge sort takes in stride).
    order.sort((a, b) => this.offsets[a]! - this.offsets[b]!);
    let offsets: Float64Array;
    if (stays) {
      this.free.fill(order, this.offsets, this.lengths, START, this.end);
      offsets = this.offsets;
    } else {
      offsets = new Float64Array(count);
      this.end = this.rewrite(order, offsets);
      this.free.fill([], offsets, this.lengths, START, START);
    }
    const kept = new Uint8Array(count);
    for (const n of order) kept[n] = 1;
    let held = 0;
    this.at.retain(
      (n) => kept[n] === 1,
      (from, to) => {
        this.lengths[to] = this.lengths[from]!;
        this.encodings[to] = this.encodings[from]!;
        this.offsets[to] = offsets[from]!;
        held += this.lengths[to]! + 1;
      },
    );
    this.held = held;
    this.numbered = this.at.size;
    if (this.thread) this.retarget();
    this.mark();
  }

  /**
   * Copies the records `order` names (in file order) to a new file that
   * replaces this one, one after another; sets where each went in `offsets`
   * (by number) and returns where the new file's data ends.
   */
  private rewrite(order: readonly number[], offsets: Float64Array): number {
    const next = temporaryName(this.path);
    const fd = this.create(next);
    // The old file is read front to back in big pieces, and the live records gathered in a buffer
    // that is written front to back.
    let input = new Uint8Array(COPY_BUFFER);
    let inFrom = 0;
    let inTo = 0;
    const out = this.buffer;
    let used = 0;
    let size = START;
    try {
      for (const n of order) {
        const offset = this.offsets[n]!;
        const length = this.lengths[n]!;
        if (offset < inFrom || offset + length > inTo) {
          const want = Math.max(length, Math.min(COPY_BUFFER, this.end - offset));
          if (want > input.length) input = new Uint8Array(want);
          this.read(this.fd, input.subarray(0, want), offset);
          inFrom = offset;
          inTo = offset + want;
        }
        const rec = input.subarray(offset - inFrom, offset - inFrom + length);
        if (used + length > out.length) {
          this.append(fd, out.subarray(0, used), size - used);
          used = 0;
        }
        if (length > out.length) this.append(fd, rec, size);
        else {
          out.set(rec, used);
          used += length;
        }
        offsets[n] = size;
        size += length;
      }
      this.append(fd, out.subarray(0, used), size - used);
    } catch (e) {
      closeSync(fd);
      unlinkSync(next);
      releaseTemporary(next);
      throw e;
    }
    closeSync(this.fd);
    renameSync(next, this.path);
    releaseTemporary(next);
    this.fd = fd;
    return size;
  }

  /** Removes the file (unless {@link finish} made it the recording's). */
  close(): void {
    this.ordered = null;
    const thread = this.started;
    if (thread) {
      Atomics.store(thread.ring.control, C.STOP, 1);
      thread.ring.ring();
      void thread.worker.terminate();
    }
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
    releaseTemporary(this.path);
  }

  /** Writes the buffered records to the file. */
  private flush(): void {
    if (this.buffered === 0) return;
    this.append(this.fd, this.buffer.subarray(0, this.buffered), this.end - this.buffered);
    this.buffered = 0;
  }

  private create(path: string): number {
    try {
      return openSync(path, 'wx+');
    } catch (e) {
      throw new RewindError('io', `cannot create the recording's page store ${path} (${(e as Error).message})`);
    }
  }

  private read(fd: number, into: Uint8Array, position: number): void {
    for (let done = 0; done < into.length;) {
      const n = readSync(fd, into, done, into.length - done, position + done);
      if (n === 0) throw new RewindError('io', `the recording's page store ${this.path} ended early`);
      done += n;
    }
  }

  private append(fd: number, bytes: Uint8Array, position: number): void {
    try {
      writeAll(fd, bytes, position);
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw this.writeFailed(code === 'ENOSPC' || code === 'EDQUOT', (e as Error).message);
    }
  }

  /** A failed write to the file, here or on the thread. */
  private writeFailed(diskFull: boolean, why: string): RewindError {
    if (diskFull) return new RewindError('quota', `disk full while recording (page store ${this.path})`);
    return new RewindError('io', `cannot write the recording's page store ${this.path} (${why})`);
  }
}
