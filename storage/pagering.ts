/**
 * The memory a {@link PageFile} shares with its worker thread
 * (storage/pagefile-worker.ts): counts and where to write, a ring of page
 * slots, a ring of what each page became and where it went, and the file's
 * holes (see FreeSpace). Both sides make their views from the same
 * SharedArrayBuffers.
 */
import { PAGE_SIZE } from '../core/memmap.js';
import { FreeSpace } from './freespace.js';

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
} as const;

/** {@link RING_CONTROL}.WANTED while the page file waits for no count of ENCODED. */
export const NOBODY_WAITS = 2 ** 31 - 1;

/** What crosses to the worker: the buffers. */
export interface PageRingData {
  slots: number;
  control: SharedArrayBuffer;
  end: SharedArrayBuffer;
  pages: SharedArrayBuffer;
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
  /** Page s waits in slot s mod `slots`. */
  readonly pages: Uint8Array;
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
    this.pages = new Uint8Array(data.pages);
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

  /** Pages waiting past which the worker encodes the cheap way of its own accord: a quarter of the ring. */
  get cheapPast(): number {
    return this.data.slots >> 2;
  }

  /** Pages waiting past which the worker leaves out fflate's dynamic codes: an eighth of the ring. */
  get fixedPast(): number {
    return this.data.slots >> 3;
  }

  /** New shared memory for `slots` pages in flight. */
  static create(slots: number): PageRing {
    const ring = new PageRing({
      slots,
      control: new SharedArrayBuffer(14 * 4),
      end: new SharedArrayBuffer(8),
      pages: new SharedArrayBuffer(slots * PAGE_SIZE),
      lengths: new SharedArrayBuffer(slots * 4),
      encodings: new SharedArrayBuffer(slots),
      offsets: new SharedArrayBuffer(slots * 8),
      free: new SharedArrayBuffer(FreeSpace.arrayLength * 8),
      failure: new SharedArrayBuffer(512),
    });
    ring.control[RING_CONTROL.WANTED] = NOBODY_WAITS;
    return ring;
  }

  /** The worker's views of the memory the page file made. */
  static from(data: PageRingData): PageRing {
    return new PageRing(data);
  }
}
