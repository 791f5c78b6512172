/**
 * The memory a {@link PageFile} shares with its worker thread
 * (storage/pagefile-worker.ts): counts and where to write, a ring of page
 * slots, the digests of the pages copied in to be hashed, a ring of the
 * pages to encode (each a slot's page) and of what each became and where it
 * went, and the file's holes (see FreeSpace). Both sides make their views
 * from the same shared memory.
 *
 * Every page copied into the ring is a fill, the f-th in slot f mod `slots`.
 * A checkpoint's dirty pages are copied in as fills to be hashed: both
 * threads claim them two at a time (HASH_NEXT, up to HASH_END) and hash
 * them where they lie, in WebAssembly over the ring's memory; then those of
 * them that the store lacks are encoded from their slots, not copied again.
 */
import { PAGE_SIZE } from '../core/memmap.js';
import { FreeSpace } from './freespace.js';
import { pagePairHasher, type PagePairHasher } from './pagehash.js';
import { ZERO_PAGE_BYTES, zeroWords } from './statehash.js';
import type { SharedDigestsData } from './digests.js';

/** Fields of {@link PageRing.control} (Int32). */
export const RING_CONTROL = {
  /** Pages handed over so far (the page file counts them). */
  SUBMITTED: 0,
  /** Pages encoded so far: their results are in the ring (the worker counts them). */
  ENCODED: 1,
  /** Pages whose data is in the file. */
  FLUSHED: 2,
  /** The file descriptor to write to. */
  FD: 3,
  /** Bumped when FD, `end` or the holes change (only while the worker is idle). */
  GENERATION: 4,
  /** 0, or why the worker stopped writing: 1 disk full, 2 another failure. */
  ERROR: 5,
  /** Set by the page file: the worker ends. */
  STOP: 6,
  /** Set by the worker as it ends. */
  STOPPED: 7,
  /** Set by the worker once it runs. */
  STARTED: 8,
  /** Set by the worker while it sleeps for pages: only then does handing one over wake it. */
  SLEEPING: 9,
  /** Slots from the ring's first that the page file wants in place before it copies pages there (see PageFile.expect). */
  READY: 10,
  /**
   * Pages below this count (of those handed over) the worker encodes the cheap way (sparse or raw,
   * no deflate): the page file raises it when its thread would wait for their encoding (a size
   * it needs, the recording's end; past a quarter of the ring waiting, as at a full ring, the
   * worker encodes the cheap way of its own accord), so that compression never holds up the guest's
   * thread for long (see pagefile-worker.ts).
   */
  HURRY: 11,
  /** What the worker's last pages cost it, on average, in nanoseconds a page (set by the worker). */
  PACE: 12,
  /**
   * The count of ENCODED that the page file waits for (NOBODY_WAITS while it waits for none): the
   * worker wakes it only then. Woken at every page, the waiting thread took a switch of threads a
   * page, and the worker's pages took twice as long (a recording's end waited ~19 µs a page).
   */
  WANTED: 13,
  /** The next fill of the batch being hashed that no thread has claimed (either thread claims with a compare-exchange). */
  HASH_NEXT: 14,
  /** Where the batch being hashed ends, so far: the page file raises it as it copies pages in. */
  HASH_END: 15,
  /** Set by the page file while it waits for NUMBERED: only then does the worker wake it. */
  HASH_WAITING: 16,
  /** Bumped by the page file whenever it has work for the worker (pages to hash or encode, READY, STOP). */
  DOORBELL: 17,
  /** Slots from the ring's first that the page file has copied pages into (in place: see READY). */
  FILLED: 18,
  /** The fill up to which the worker has numbered the batch being hashed (see PageRing.numbers). */
  NUMBERED: 19,
  /** Slots from the ring's first in place: copied into, or readied by the worker (set by the worker). */
  TOUCHED: 20,
} as const;

/** {@link RING_CONTROL}.WANTED while the page file waits for no count of ENCODED. */
export const NOBODY_WAITS = 2 ** 31 - 1;

/** What crosses to the worker: the shared memory. */
export interface PageRingData {
  slots: number;
  control: SharedArrayBuffer;
  end: SharedArrayBuffer;
  /** The page slots: a WebAssembly memory, which both threads hash pages in. */
  pages: WebAssembly.Memory;
  digests: SharedArrayBuffer;
  hashed: SharedArrayBuffer;
  numbers: SharedArrayBuffer;
  jobs: SharedArrayBuffer;
  /** The page file's digest table, which the worker adds the pages it hashes to. */
  table: SharedDigestsData;
  lengths: SharedArrayBuffer;
  encodings: SharedArrayBuffer;
  offsets: SharedArrayBuffer;
  free: SharedArrayBuffer;
  failure: SharedArrayBuffer;
}

export class PageRing {
  readonly control: Int32Array;
  /** Where the data of the next page goes (set with FD). */
  readonly end: Float64Array;
  /** Fill f lies in slot f mod `slots`. */
  readonly pages: Uint8Array;
  /** The digest of the page in each slot, once hashed (16 bytes a slot, as PageHashTable holds them). */
  readonly digests: Uint8Array;
  /** The fill whose digest is in each slot, once it is (-1 before). */
  readonly hashed: Int32Array;
  /**
   * The number the worker gave the page in each slot, a page it hashed that the page file's table
   * lacked (it added it), or -1: the table had it, or it is a zero page.
   */
  readonly numbers: Int32Array;
  /** The fill whose page is the s-th to encode, in slot s mod `slots`. */
  readonly jobs: Float64Array;
  /** Hashes pages in the ring two at a time; null where WebAssembly does not compile (then nothing is hashed here). */
  readonly pair: PagePairHasher | null;
  /** Length of page s's data (without its encoding byte), in slot s mod `slots`. */
  readonly lengths: Int32Array;
  /** Encoding of page s, in slot s mod `slots`. */
  readonly encodings: Uint8Array;
  /** Where the worker wrote page s's data, in slot s mod `slots`. */
  readonly offsets: Float64Array;
  /** The file's holes, which the worker fills before it appends (see FreeSpace). */
  readonly free: Float64Array;
  /** The worker's failure, as UTF-8 ended by a zero byte (with ERROR). */
  private readonly failureBytes: Uint8Array;

  private constructor(readonly data: PageRingData) {
    this.control = new Int32Array(data.control);
    this.end = new Float64Array(data.end);
    this.pages = new Uint8Array(data.pages.buffer, 0, data.slots * PAGE_SIZE);
    this.digests = new Uint8Array(data.digests);
    this.hashed = new Int32Array(data.hashed);
    this.numbers = new Int32Array(data.numbers);
    this.jobs = new Float64Array(data.jobs);
    this.pair = pagePairHasher(data.pages);
    this.lengths = new Int32Array(data.lengths);
    this.encodings = new Uint8Array(data.encodings);
    this.offsets = new Float64Array(data.offsets);
    this.free = new Float64Array(data.free);
    this.failureBytes = new Uint8Array(data.failure);
  }

  /** Says why the worker failed (what fits of it). */
  set failure(text: string) {
    const { written } = new TextEncoder().encodeInto(text, this.failureBytes.subarray(0, -1));
    this.failureBytes[written] = 0;
  }

  get failure(): string {
    const end = this.failureBytes.indexOf(0);
    return new TextDecoder().decode(this.failureBytes.slice(0, end < 0 ? undefined : end));
  }

  get slots(): number {
    return this.data.slots;
  }

  /** The page file's digest table's shared memory. */
  get table(): SharedDigestsData {
    return this.data.table;
  }

  /** Pages waiting past which the worker encodes the cheap way of its own accord: a quarter of the ring. */
  get cheapPast(): number {
    return this.data.slots >> 2;
  }

  /** Pages waiting past which the worker leaves out fflate's dynamic codes: an eighth of the ring. */
  get fixedPast(): number {
    return this.data.slots >> 3;
  }

  /** New shared memory for `slots` pages in flight, beside the page file's digest `table`. */
  static create(slots: number, table: SharedDigestsData): PageRing {
    const pages = Math.ceil((slots * PAGE_SIZE) / 65536);
    const ring = new PageRing({
      slots,
      control: new SharedArrayBuffer(21 * 4),
      end: new SharedArrayBuffer(8),
      pages: new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }),
      digests: new SharedArrayBuffer(slots * 16),
      hashed: new SharedArrayBuffer(slots * 4),
      numbers: new SharedArrayBuffer(slots * 4),
      jobs: new SharedArrayBuffer(slots * 8),
      table,
      lengths: new SharedArrayBuffer(slots * 4),
      encodings: new SharedArrayBuffer(slots),
      offsets: new SharedArrayBuffer(slots * 8),
      free: new SharedArrayBuffer(FreeSpace.arrayLength * 8),
      failure: new SharedArrayBuffer(512),
    });
    ring.control[RING_CONTROL.WANTED] = NOBODY_WAITS;
    ring.hashed.fill(-1);
    return ring;
  }

  /** The worker's views of the memory the page file made. */
  static from(data: PageRingData): PageRing {
    return new PageRing(data);
  }

  /** Wakes the worker if it sleeps: there is work for it (see DOORBELL). */
  ring(): void {
    Atomics.add(this.control, RING_CONTROL.DOORBELL, 1);
    if (Atomics.load(this.control, RING_CONTROL.SLEEPING)) Atomics.notify(this.control, RING_CONTROL.DOORBELL);
  }

  /** Whether fills of the batch being hashed wait for the worker to hash or number them. */
  get hashWaits(): boolean {
    return Atomics.load(this.control, RING_CONTROL.NUMBERED) < Atomics.load(this.control, RING_CONTROL.HASH_END);
  }

  /**
   * Hashes fills of the batch being hashed, claimed two at a time, until none is left to claim or
   * `most` are hashed; writes their digests (a zero page's found without hashing) and marks them
   * in {@link hashed}. Returns how many it hashed. Needs {@link pair}.
   */
  hashClaimed(most = Infinity): number {
    const ctl = this.control;
    const pair = this.pair!;
    const dv = new DataView(this.digests.buffer);
    const words = new Int32Array(this.pages.buffer, 0, this.pages.length >>> 2);
    let done = 0;
    while (done < most) {
      // The end first: the page file moves the next fill to a new batch before its end.
      const end = Atomics.load(ctl, RING_CONTROL.HASH_END);
      const next = Atomics.load(ctl, RING_CONTROL.HASH_NEXT);
      if (next >= end) return done;
      const take = Math.min(2, end - next);
      if (Atomics.compareExchange(ctl, RING_CONTROL.HASH_NEXT, next, next + take) !== next) continue;
      const a = next % this.slots;
      const b = (next + take - 1) % this.slots;
      const zeroA = zeroWords(words, a * (PAGE_SIZE >>> 2));
      const zeroB = zeroWords(words, b * (PAGE_SIZE >>> 2));
      if (zeroA) this.digests.set(ZERO_PAGE_BYTES, a * 16);
      if (zeroB) this.digests.set(ZERO_PAGE_BYTES, b * 16);
      if (!zeroA || !zeroB) {
        const first = zeroA ? b : a;
        const h = pair(first * PAGE_SIZE, (zeroB ? a : b) * PAGE_SIZE);
        for (let k = 0; k < 4; k++) dv.setInt32(first * 16 + 4 * k, h[k]!);
        if (!zeroA && !zeroB && b !== a) for (let k = 0; k < 4; k++) dv.setInt32(b * 16 + 4 * k, h[4 + k]!);
      }
      Atomics.store(this.hashed, a, next);
      if (b !== a) Atomics.store(this.hashed, b, next + 1);
      done += take;
    }
    return done;
  }
}
