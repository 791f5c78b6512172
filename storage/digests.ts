/**
 * Digests numbered 0, 1, 2… in the order they were added, in typed arrays
 * off the JS heap: for the indexes that a long recording holds an entry of
 * per page it keeps (hundreds of thousands), each with its own arrays by
 * that number. A Map of as many entries lives on the heap, where the garbage
 * collector lets the heap grow to several times what is live before it
 * collects; typed arrays cost their size and no more (some 28 bytes a
 * digest here).
 */
import { RewindError } from '../core/errors.js';
import { HEX_VALUE, digestOf, type Hash128 } from './hash.js';

/** The four 32-bit words of a digest's 32 hex digits (lower case, as digests are printed). */
const key = new Uint32Array(4);

function parse(h: Hash128): void {
  for (let w = 0; w < 4; w++) {
    let v = 0;
    for (let i = w * 8; i < w * 8 + 8; i++) v = (v << 4) | HEX_VALUE[h.charCodeAt(i)]!;
    key[w] = v;
  }
}

/** The shared memory of a {@link DigestTable} that two threads use in turn (see DigestTable.toShared). */
export interface SharedDigestsData {
  words: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  size: SharedArrayBuffer;
}

/** Digests a shared table holds at most (32 M pages, 128 GiB of distinct pages): what its memory reserves room for. */
const SHARED_MOST = 1 << 25;

/** A SharedArrayBuffer that can grow (ES2024; typed here as the project targets ES2022). */
type GrowableShared = SharedArrayBuffer & { grow(bytes: number): void; readonly maxByteLength: number };

/** A SharedArrayBuffer of `bytes` that can grow to `most` (looked up when made: a page without cross-origin isolation has none). */
function growableShared(bytes: number, most: number): GrowableShared {
  const made = SharedArrayBuffer as unknown as new (
    bytes: number,
    options: { maxByteLength: number },
  ) => GrowableShared;
  return new made(bytes, { maxByteLength: most });
}

/** Digest → its number: open addressing with linear probing (digests are uniform already), at most half full. */
export class DigestTable {
  /** The digests' words, by number. */
  private words: Uint32Array;
  /** Slot → number + 1 (0: empty). */
  private slots: Int32Array;
  /** How many it holds (in shared memory when shared). */
  private readonly held: Int32Array;
  /** The shared memory, when two threads use the table in turn. */
  readonly shared: SharedDigestsData | null = null;

  /** A table with room for `capacity` digests before it grows; over `shared` memory when given (see {@link toShared}). */
  constructor(capacity = 1024, shared: SharedDigestsData | null = null) {
    if (shared) {
      this.shared = shared;
      this.words = new Uint32Array(0);
      this.slots = new Int32Array(0);
      this.held = new Int32Array(shared.size);
      this.fit();
      return;
    }
    this.words = new Uint32Array(Math.max(16, capacity) * 4);
    this.slots = new Int32Array(slotsFor(this.words.length / 4));
    this.held = new Int32Array(1);
  }

  /**
   * Views of a shared table's memory as it is now, the other thread having perhaps grown it. Of
   * a fixed length: a view that follows growable memory costs a look at its length at every
   * access (adding 400 k digests took 250 ms that way, against 95–140 ms unshared).
   */
  private fit(): void {
    const shared = this.shared;
    if (shared === null) return;
    if (this.words.byteLength !== shared.words.byteLength)
      this.words = new Uint32Array(shared.words, 0, shared.words.byteLength >>> 2);
    if (this.slots.byteLength !== shared.slots.byteLength)
      this.slots = new Int32Array(shared.slots, 0, shared.slots.byteLength >>> 2);
  }

  /** Digests held: they are numbered 0 to size - 1. */
  get size(): number {
    return this.held[0]!;
  }

  private set size(n: number) {
    this.held[0] = n;
  }

  /**
   * The same digests, numbered alike, in memory that another thread can use in turn (never both
   * at once): it adds digests there, and this thread sees them. The memory reserves room for
   * SHARED_MOST digests and is taken as the table grows.
   */
  toShared(): DigestTable {
    const words = growableShared(this.words.byteLength, SHARED_MOST * 16);
    const slots = growableShared(this.slots.byteLength, SHARED_MOST * 8);
    const size = new SharedArrayBuffer(4);
    new Uint32Array(words).set(this.words);
    new Int32Array(slots).set(this.slots);
    new Int32Array(size)[0] = this.size;
    return new DigestTable(0, { words, slots, size });
  }

  /** The number of `h`, or -1. */
  indexOf(h: Hash128): number {
    this.fit();
    parse(h);
    return this.slots[this.find()]! - 1;
  }

  /** The number of the digest whose 16 bytes are `bytes` from `at`, or -1. */
  indexOfBytes(bytes: Uint8Array, at: number): number {
    this.fit();
    keyOf(bytes, at);
    return this.slots[this.find()]! - 1;
  }

  /** The digest numbered `n` (below {@link size}). */
  digestAt(n: number): Hash128 {
    this.fit();
    const w = this.words;
    return digestOf(w[n * 4]!, w[n * 4 + 1]!, w[n * 4 + 2]!, w[n * 4 + 3]!);
  }

  /** The number of `h`, added (as `size`) when it is not held. */
  add(h: Hash128): number {
    this.fit();
    parse(h);
    return this.addKey();
  }

  /** {@link add} of the digest whose 16 bytes are `bytes` from `at`. */
  addBytes(bytes: Uint8Array, at: number): number {
    this.fit();
    keyOf(bytes, at);
    return this.addKey();
  }

  /** The number of the digest in `key`, added when it is not held. */
  private addKey(): number {
    const s = this.find();
    if (this.slots[s] !== 0) return this.slots[s]! - 1;
    const n = this.size;
    if (n * 4 === this.words.length) {
      if (this.shared) {
        grow(this.shared.words, this.words.byteLength * 2);
        this.fit();
      } else {
        const words = new Uint32Array(this.words.length * 2);
        words.set(this.words);
        this.words = words;
      }
    }
    this.words.set(key, n * 4);
    this.size = n + 1;
    if (this.slots.length < slotsFor(this.size)) this.rebuild(slotsFor(this.size));
    else this.slots[s] = n + 1;
    return n;
  }

  /**
   * The numbers of the digests held in the order of their digests (as sortedDigestBytes orders
   * them), and those digests' words in that order.
   */
  numbersInOrder(): { numbers: Uint32Array; words: Uint32Array } {
    this.fit();
    const n = this.size;
    const w = this.words;
    const starts = bucketStarts(n, (k) => w[4 * k]!);
    const next = starts.slice(0, -1);
    const shift = 32 - Math.log2(next.length);
    const numbers = new Uint32Array(n);
    const words = new Uint32Array(n * 4);
    for (let k = 0; k < n; k++) {
      const to = next[w[4 * k]! >>> shift]!++;
      numbers[to] = k;
      for (let i = 0; i < 4; i++) words[4 * to + i] = w[4 * k + i]!;
    }
    sortBuckets(words, starts, numbers);
    return { numbers, words };
  }

  /**
   * Keeps the digests for whose number `keep` is true, renumbered in the
   * same order: `moved(from, to)` is called for each kept one so that its
   * owner moves what it holds by number alike (to ≤ from). Allocates nothing.
   */
  retain(keep: (n: number) => boolean, moved: (from: number, to: number) => void): void {
    this.fit();
    const w = this.words;
    let to = 0;
    for (let n = 0; n < this.size; n++) {
      if (!keep(n)) continue;
      if (to !== n) w.copyWithin(to * 4, n * 4, n * 4 + 4);
      moved(n, to);
      to++;
    }
    this.size = to;
    this.rebuild(this.slots.length);
  }

  /** Puts every digest in a table of `count` slots. */
  private rebuild(count: number): void {
    if (this.shared && this.slots.length < count) {
      grow(this.shared.slots, count * 4);
      this.fit();
    }
    if (this.slots.length !== count) this.slots = new Int32Array(count);
    else this.slots.fill(0);
    const w = this.words;
    for (let n = 0; n < this.size; n++) {
      for (let i = 0; i < 4; i++) key[i] = w[n * 4 + i]!;
      this.slots[this.find()] = n + 1;
    }
  }

  /** The slot of `key`: where it is, or the empty slot where it would go. */
  private find(): number {
    const w = this.words;
    const slots = this.slots;
    const mask = slots.length - 1;
    const k0 = key[0]!;
    const k1 = key[1]!;
    const k2 = key[2]!;
    const k3 = key[3]!;
    for (let s = k0 & mask; ; s = (s + 1) & mask) {
      const n = slots[s]!;
      if (n === 0) return s;
      const at = (n - 1) * 4;
      if (w[at] === k0 && w[at + 1] === k1 && w[at + 2] === k2 && w[at + 3] === k3) return s;
    }
  }
}

/** Grows a table's shared memory to `bytes`; throws when that is past what it reserved. */
function grow(memory: SharedArrayBuffer, bytes: number): void {
  const growable = memory as GrowableShared;
  if (bytes > growable.maxByteLength)
    throw new RewindError('quota', `a recording's page store holds at most ${SHARED_MOST} distinct pages`);
  growable.grow(bytes);
}

/** The big-endian word at `at`: a digest's bytes are in the order its hex prints them. */
function wordAt(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Sets `key` to the words of the digest whose 16 bytes are `bytes` from `at`. */
function keyOf(bytes: Uint8Array, at: number): void {
  for (let w = 0; w < 4; w++) key[w] = wordAt(bytes, at + 4 * w);
}

/** Slots for `n` digests: a power of two at least twice `n`. */
function slotsFor(n: number): number {
  let slots = 32;
  while (slots < 2 * n) slots *= 2;
  return slots;
}

/**
 * The digests in `parts` (16 bytes each, as {@link hashToBytes} gives them) in ascending order,
 * each once and without `leaveOut`, as bytes: the order of their hex strings, found without a
 * string for each (a recording's end sorts every digest its checkpoints' page maps name, packed
 * already, where sorting their strings took ~75 ms for 370 k).
 */
export function sortedDigestBytes(parts: readonly Uint8Array[], leaveOut: Uint8Array): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length >>> 4;
  // Each digest's words moved to its bucket's place (see bucketStarts), then sorted there.
  const first = new Uint32Array(n);
  let k = 0;
  for (const p of parts) for (let at = 0; at < (p.length & ~15); at += 16) first[k++] = wordAt(p, at);
  const starts = bucketStarts(n, (k) => first[k]!);
  const next = starts.slice(0, -1);
  const shift = 32 - Math.log2(next.length);
  const w = new Uint32Array(n * 4);
  for (const p of parts)
    for (let at = 0; at < (p.length & ~15); at += 16) {
      const to = next[wordAt(p, at) >>> shift]!++ * 4;
      for (let k = 0; k < 4; k++) w[to + k] = wordAt(p, at + 4 * k);
    }
  sortBuckets(w, starts, null);
  const skip = Uint32Array.from([0, 4, 8, 12], (at) => wordAt(leaveOut, at));
  const out = new Uint8Array(n * 16);
  const dv = new DataView(out.buffer);
  let kept = 0;
  for (let i = 0; i < n * 4; i += 4) {
    const x0 = w[i]!;
    const x1 = w[i + 1]!;
    const x2 = w[i + 2]!;
    const x3 = w[i + 3]!;
    const repeat = i > 0 && x0 === w[i - 4] && x1 === w[i - 3] && x2 === w[i - 2] && x3 === w[i - 1];
    if (repeat || (x0 === skip[0] && x1 === skip[1] && x2 === skip[2] && x3 === skip[3])) continue;
    dv.setUint32(kept * 16, x0);
    dv.setUint32(kept * 16 + 4, x1);
    dv.setUint32(kept * 16 + 8, x2);
    dv.setUint32(kept * 16 + 12, x3);
    kept++;
  }
  return out.subarray(0, kept * 16);
}

/**
 * Where each bucket of `n` digests starts, bucketed on the first bits of their first word
 * (`first(k)`), as many bits as there are digests up to 16 (digests are uniform: a few in each
 * bucket): a counting sort's starts, one more than the buckets.
 */
function bucketStarts(n: number, first: (k: number) => number): Uint32Array {
  let bits = 4;
  while (bits < 16 && 1 << bits < n) bits++;
  const shift = 32 - bits;
  const starts = new Uint32Array((1 << bits) + 1);
  for (let k = 0; k < n; k++) starts[(first(k) >>> shift) + 1]!++;
  for (let b = 0; b < 1 << bits; b++) starts[b + 1]! += starts[b]!;
  return starts;
}

/** Sorts the digests' words `w` (four a digest) within each bucket of `starts`, moving `carry`'s entries alike. */
function sortBuckets(w: Uint32Array, starts: Uint32Array, carry: Uint32Array | null): void {
  for (let b = 0; b + 1 < starts.length; b++) {
    const from = starts[b]!;
    for (let i = from + 1; i < starts[b + 1]!; i++) {
      const x0 = w[4 * i]!;
      const x1 = w[4 * i + 1]!;
      const x2 = w[4 * i + 2]!;
      const x3 = w[4 * i + 3]!;
      const c = carry?.[i] ?? 0;
      let j = i - 1;
      for (; j >= from; j--) {
        const y0 = w[4 * j]!;
        const y1 = w[4 * j + 1]!;
        const y2 = w[4 * j + 2]!;
        if (y0 < x0 || (y0 === x0 && (y1 < x1 || (y1 === x1 && (y2 < x2 || (y2 === x2 && w[4 * j + 3]! <= x3))))))
          break;
        w[4 * j + 4] = y0;
        w[4 * j + 5] = y1;
        w[4 * j + 6] = y2;
        w[4 * j + 7] = w[4 * j + 3]!;
        if (carry) carry[j + 1] = carry[j]!;
      }
      w[4 * j + 4] = x0;
      w[4 * j + 5] = x1;
      w[4 * j + 6] = x2;
      w[4 * j + 7] = x3;
      if (carry) carry[j + 1] = c;
    }
  }
}
