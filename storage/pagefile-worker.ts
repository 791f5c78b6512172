/**
 * The worker thread of a {@link PageFile}: hashes the pages of a checkpoint
 * with the recording's thread, encodes the pages the recording hands over
 * and writes their data to the page store's file, so that neither costs the
 * guest's thread. It shares with the page file, through shared memory
 * (layout in {@link PageRing}):
 *
 * - a ring of page slots: the page file copies pages in (fills), and
 *   has both threads hash a checkpoint's (see PageRing.hashClaimed) before
 *   anything else;
 * - a ring of the pages to encode: page `s` (the s-th handed over) is the
 *   fill named in slot `s mod RING`, counted in SUBMITTED;
 * - a ring of results: the encoding, the data's length and its place in the
 *   file of page `s`, counted in ENCODED once written;
 * - FLUSHED, the pages whose data is in the file (the worker writes through
 *   a buffer, and empties it whenever it runs out of pages);
 * - where to write (FD, END, and the file's holes), which the page file
 *   changes only while the worker is idle, counting each change in
 *   GENERATION;
 * - ERROR, set when a write fails (1: disk full, 2: other), after which the
 *   worker stops; the failure's text is in the ring too;
 * - HURRY, raised by the page file when the guest's thread would wait for
 *   pages' encoding (it needs their sizes, the recording ends with more
 *   waiting than PACE says take END_WAIT): the pages below it are encoded without
 *   deflate (sparse or raw: a few µs a page, where deflating one costs up to
 *   tens, and fflate's dynamic codes ~80). The thread also tries less hard
 *   on its own as pages wait (an eighth of the ring: no dynamic codes; a
 *   quarter: no deflate). A guest that rewrites compressible memory fast
 *   would otherwise wait for its pages' compression; a file written in a
 *   hurry is larger, and reads back the same. Unhurried, the file's bytes
 *   are the same as a page file without a thread writes.
 *
 * The data of page s goes into the first of the file's holes that holds it
 * (see FreeSpace), else where the file ends; its place goes into the ring
 * with its length. Records that follow one another in the file are written
 * in one go, their whole 4 KiB blocks past the page cache where the system
 * allows (see writeBlocks).
 */
import { closeSync, fdatasyncSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { PAGE_SIZE } from '../core/memmap.js';
import { DigestTable } from './digests.js';
import { FreeSpace } from './freespace.js';
import { ZERO_PAGE_BYTES, sameBytes16 } from './statehash.js';
import { EFFORT, ENCODING_RAW, RECORD_ROOM, encodePageUnlessRaw } from './pagestore.js';
import { NOBODY_WAITS, PageRing, RING_CONTROL as C, type PageRingData } from './pagering.js';
import { BLOCK, blockAligned, openDirect, writeBlocks } from './node.js';

/** Bytes gathered before a write to the file. */
const WRITE_BUFFER = 1 << 20;
/**
 * Bytes written before this thread, out of pages, syncs the file: it goes to
 * disk as it grows, in the thread's idle time, so that the sync that
 * finishes a recording (on the guest's thread) has little left to wait for.
 */
const SYNC_EVERY = 16 << 20;
/**
 * Bytes written past which this thread syncs even with pages waiting: a thread that never caught
 * up (a guest rewriting compressible memory fast) left hundreds of MB to the sync that finishes
 * the recording (430 ms at the end of a 3·10⁹ recording of a matrix transpose).
 */
const SYNC_BEHIND = 64 << 20;
/**
 * Slots this thread touches at a time while it has nothing to encode, so that the ring's memory
 * is in place before the page file copies pages into it: the first write to a fresh
 * page of memory costs ~12 µs on a virtual machine (the fault, and the zeroing), against 0.4 µs
 * for the copy, and the guest's thread paid it for the first 16 k pages it handed over, a tenth of
 * a memory-busy guest's recording time.
 */
const TOUCH_SLOTS = 256;
/**
 * Slots past the last page handed over that this thread readies, at most, unless the page file
 * asks for more (READY: a guest that dirties pages by the thousand): the ring's memory grows
 * with what a recording uses of it (a checkpoint's new pages), not to all of its 64 MiB for a
 * guest that stores a few thousand pages.
 */
const TOUCH_AHEAD = 4096;

function serve(ring: PageRing): void {
  const ctl = ring.control;
  const out = new Uint8Array(RECORD_ROOM);
  // Laid out as in the file's blocks (from `lead` on), so that the whole ones are written past the page cache.
  const buffer = blockAligned(WRITE_BUFFER + BLOCK);
  let lead = 0;
  let buffered = 0;
  let direct = -1;
  let generation = -1;
  let fd = -1;
  /** Where the buffer's first byte goes, and where the file ends. */
  let at = 0;
  let end = 0;
  const free = new FreeSpace(ring.free);
  let next = Atomics.load(ctl, C.ENCODED);
  let unsynced = 0;
  /** Nanoseconds a page, on average over the last few (see RING_CONTROL.PACE). */
  let pace = 0;
  // An atomic add of 0 writes each 4 KiB of the ring without changing a byte the page file wrote.
  const words = new Int32Array(ring.pages.buffer);
  /** Slots in place from the ring's first: those below the pages copied in the page file wrote, the rest this thread readied. */
  let touched = 0;
  /**
   * Readies up to `most` slots past those in place, as far as the page file wants them (READY), or
   * `ahead` past the last page filled; false when none was.
   */
  const readyAhead = (most: number, ahead = TOUCH_AHEAD): boolean => {
    const filled = Atomics.load(ctl, C.FILLED);
    touched = Math.max(touched, filled);
    const wanted = Math.max(filled + ahead, Atomics.load(ctl, C.READY));
    const ready = Math.min(ring.slots, wanted, touched + most);
    if (touched >= ready) return false;
    for (let w = (touched * PAGE_SIZE) / 4; w < (ready * PAGE_SIZE) / 4; w += PAGE_SIZE / 4) Atomics.add(words, w, 0);
    touched = ready;
    Atomics.store(ctl, C.TOUCHED, touched);
    return true;
  };
  const flush = () => {
    if (!writeBlocks(fd, direct, buffer.subarray(lead, lead + buffered), at)) {
      closeSync(direct);
      direct = -1;
    }
    unsynced += buffered;
    buffered = 0;
    if (unsynced >= SYNC_BEHIND) {
      fdatasyncSync(fd);
      unsynced = 0;
    }
  };
  const table = new DigestTable(0, ring.table);
  /** Numbers the hashed pages of the batch in order, as far as they are hashed (see PageRing.numbers). */
  const numberHashed = (): void => {
    const end = Atomics.load(ctl, C.HASH_END);
    const from = Atomics.load(ctl, C.NUMBERED);
    let submitted = Atomics.load(ctl, C.SUBMITTED);
    let f = from;
    for (; f < end; f++) {
      const slot = f % ring.slots;
      if (Atomics.load(ring.hashed, slot) !== f) break;
      const size = table.size;
      const zero = sameBytes16(ring.digests, slot * 16, ZERO_PAGE_BYTES, 0);
      const fresh = !zero && table.addBytes(ring.digests, slot * 16) === size;
      ring.numbers[slot] = fresh ? size : -1;
      // Handed over here, to be encoded from its copy while the guest runs on.
      if (fresh) ring.jobs[submitted++ % ring.slots] = f;
    }
    if (f === from) return;
    // Before NUMBERED: the page file reads what was handed over once the pages are numbered.
    Atomics.store(ctl, C.SUBMITTED, submitted);
    Atomics.store(ctl, C.NUMBERED, f);
    if (Atomics.load(ctl, C.HASH_WAITING)) Atomics.notify(ctl, C.NUMBERED);
  };
  try {
    for (;;) {
      if (Atomics.load(ctl, C.STOP)) return;
      // Pages to hash come first: the guest's thread waits for them. A pair at a time, numbering
      // between: the page file's thread hashes too, and the pages are numbered in order.
      if (ring.pair !== null && ring.hashWaits) {
        ring.hashClaimed(2);
        numberHashed();
        continue;
      }
      const submitted = Atomics.load(ctl, C.SUBMITTED);
      if (next === submitted) {
        if (buffered > 0) flush();
        // Before FLUSHED: the page file changes the file only once all is flushed.
        if (unsynced >= SYNC_EVERY) {
          fdatasyncSync(fd);
          unsynced = 0;
          continue;
        }
        Atomics.store(ctl, C.FLUSHED, next);
        Atomics.notify(ctl, C.FLUSHED);
        if (readyAhead(TOUCH_SLOTS)) continue;
        // Read before a last look: work given after the look rings the bell, and the wait sees it.
        const bell = Atomics.load(ctl, C.DOORBELL);
        Atomics.store(ctl, C.SLEEPING, 1);
        if (
          Atomics.load(ctl, C.SUBMITTED) === submitted &&
          !ring.hashWaits &&
          !Atomics.load(ctl, C.STOP) &&
          Math.min(ring.slots, Atomics.load(ctl, C.READY)) <= touched
        )
          Atomics.wait(ctl, C.DOORBELL, bell);
        Atomics.store(ctl, C.SLEEPING, 0);
        continue;
      }
      if (Atomics.load(ctl, C.GENERATION) !== generation) {
        generation = Atomics.load(ctl, C.GENERATION);
        fd = Atomics.load(ctl, C.FD);
        if (direct >= 0) closeSync(direct);
        direct = openDirect(fd);
        end = ring.end[0]!;
        unsynced = 0;
      }
      // The slots the page file asked for come before encoding (a checkpoint of that many pages is
      // coming, and the guest's thread would take each one's fault as it copies a page in), unless
      // it waits for pages' encoding.
      if (
        touched < Atomics.load(ctl, C.READY) &&
        Atomics.load(ctl, C.WANTED) === NOBODY_WAITS &&
        readyAhead(TOUCH_SLOTS, 0)
      )
        continue;
      const slot = next % ring.slots;
      const from = ring.jobs[slot]! % ring.slots;
      // As hard as it can afford: less as pages wait, so that it keeps up with a guest that
      // rewrites memory fast (fflate's dynamic codes cost ~80 µs a page, fixed ones up to tens).
      const waiting = submitted - next;
      const effort =
        next < Atomics.load(ctl, C.HURRY) || waiting > ring.cheapPast
          ? EFFORT.cheap
          : waiting > ring.fixedPast
            ? EFFORT.fixed
            : EFFORT.full;
      const page = ring.pages.subarray(from * PAGE_SIZE, (from + 1) * PAGE_SIZE);
      const began = performance.now();
      const rec = encodePageUnlessRaw(page, out, effort);
      pace += ((performance.now() - began) * 1e6 - pace) / 16;
      Atomics.store(ctl, C.PACE, Math.min(2 ** 31 - 1, Math.round(pace)));
      // A raw page's bytes go from its slot to the buffer as they are.
      const data = rec === null ? page : rec.subarray(1);
      const length = data.length;
      let place = free.take(length);
      if (place < 0) {
        place = end;
        end += length;
      }
      if (buffered > 0 && (place !== at + buffered || buffered + length > WRITE_BUFFER)) {
        flush();
        Atomics.store(ctl, C.FLUSHED, next);
      }
      if (buffered === 0) {
        at = place;
        lead = at % BLOCK;
      }
      buffer.set(data, lead + buffered);
      buffered += length;
      ring.offsets[slot] = place;
      ring.lengths[slot] = length;
      ring.encodings[slot] = rec === null ? ENCODING_RAW : rec[0]!;
      Atomics.store(ctl, C.ENCODED, ++next);
      if (next >= Atomics.load(ctl, C.WANTED)) Atomics.notify(ctl, C.ENCODED);
    }
  } finally {
    if (direct >= 0) closeSync(direct);
  }
}

const ring = PageRing.from(workerData as PageRingData);
Atomics.store(ring.control, C.STARTED, 1);
try {
  serve(ring);
} catch (e) {
  const code = (e as { code?: string }).code;
  ring.failure = e instanceof Error ? e.message : String(e);
  Atomics.store(ring.control, C.ERROR, code === 'ENOSPC' || code === 'EDQUOT' ? 1 : 2);
} finally {
  // Whoever waits on any count wakes and finds the worker gone.
  Atomics.store(ring.control, C.STOPPED, 1);
  for (const i of [C.ENCODED, C.FLUSHED, C.STOPPED]) Atomics.notify(ring.control, i);
}
