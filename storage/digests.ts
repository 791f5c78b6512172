/**
 * Digests numbered 0, 1, 2… in the order they were added, in typed arrays
 * off the JS heap: for the indexes that a long recording holds an entry of
 * per page it keeps (hundreds of thousands), each with its own arrays by
 * that number. A Map of as many entries lives on the heap, where the garbage
 * collector lets the heap grow to several times what is live before it
 * collects; typed arrays cost their size and no more (some 28 bytes a
 * digest here).
 */
import { HEX_VALUE, type Hash128 } from './hash.js';

/** The four 32-bit words of a digest's 32 hex digits (lower case, as digests are printed). */
const key = new Uint32Array(4);

function parse(h: Hash128): void {
  for (let w = 0; w < 4; w++) {
    let v = 0;
    for (let i = w * 8; i < w * 8 + 8; i++) v = (v << 4) | HEX_VALUE[h.charCodeAt(i)]!;
    key[w] = v;
  }
}

/** Digest → its number: open addressing with linear probing (digests are uniform already), at most half full. */
export class DigestTable {
  /** The digests' words, by number. */
  private words: Uint32Array;
  /** Slot → number + 1 (0: empty). */
  private slots: Int32Array;
  /** Digests held: they are numbered 0 to size - 1. */
  size = 0;

  /** A table with room for `capacity` digests before it grows. */
  constructor(capacity = 1024) {
    this.words = new Uint32Array(Math.max(16, capacity) * 4);
    this.slots = new Int32Array(slotsFor(this.words.length / 4));
  }

  /** The number of `h`, or -1. */
  indexOf(h: Hash128): number {
    parse(h);
    return this.slots[this.find()]! - 1;
  }

  /** The number of `h`, added (as `size`) when it is not held. */
  add(h: Hash128): number {
    parse(h);
    const s = this.find();
    if (this.slots[s] !== 0) return this.slots[s]! - 1;
    const n = this.size;
    if (n * 4 === this.words.length) {
      const words = new Uint32Array(this.words.length * 2);
      words.set(this.words);
      this.words = words;
    }
    this.words.set(key, n * 4);
    this.size++;
    if (this.slots.length < slotsFor(this.size)) this.rebuild(slotsFor(this.size));
    else this.slots[s] = n + 1;
    return n;
  }

  /**
   * Keeps the digests for whose number `keep` is true, renumbered in the
   * same order: `moved(from, to)` is called for each kept one so that its
   * owner moves what it holds by number alike (to ≤ from). Allocates nothing.
   */
  retain(keep: (n: number) => boolean, moved: (from: number, to: number) => void): void {
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

/** Slots for `n` digests: a power of two at least twice `n`. */
function slotsFor(n: number): number {
  let slots = 32;
  while (slots < 2 * n) slots *= 2;
  return slots;
}

/** Buckets larger than this are sorted by the built-in sort (see sortedDigests). */
const INSERTION_SORT = 32;

/**
 * `digests` (lower-case hex of one length, as digests are printed) in ascending order, each
 * once: the default string sort's order, by a counting sort on the first four hex digits (digests
 * are uniform: each of the 65,536 buckets holds a few), then a sort within each bucket. A
 * recording's end sorts hundreds of thousands, where a Set and the built-in sort took 160 ms.
 */
export function sortedDigests(digests: readonly Hash128[]): Hash128[] {
  const n = digests.length;
  const prefix = new Uint16Array(n);
  const starts = new Uint32Array(65537);
  for (let i = 0; i < n; i++) {
    const h = digests[i]!;
    let v = 0;
    for (let k = 0; k < 4; k++) v = (v << 4) | HEX_VALUE[h.charCodeAt(k)]!;
    prefix[i] = v;
    starts[v + 1]!++;
  }
  for (let b = 0; b < 65536; b++) starts[b + 1]! += starts[b]!;
  const next = starts.slice(0, 65536);
  const out = new Array<Hash128>(n);
  for (let i = 0; i < n; i++) out[next[prefix[i]!]!++] = digests[i]!;
  let kept = 0;
  for (let b = 0; b < 65536; b++) {
    const from = starts[b]!;
    const to = starts[b + 1]!;
    if (to - from > INSERTION_SORT) {
      const sorted = out.slice(from, to).sort();
      for (let i = from; i < to; i++) out[i] = sorted[i - from]!;
    } else
      for (let i = from + 1; i < to; i++) {
        const x = out[i]!;
        let j = i - 1;
        for (; j >= from && out[j]! > x; j--) out[j + 1] = out[j]!;
        out[j + 1] = x;
      }
    // Repeats are next to each other now; `kept` never passes `from`.
    for (let i = from; i < to; i++) if (kept === 0 || out[kept - 1] !== out[i]) out[kept++] = out[i]!;
  }
  out.length = kept;
  return out;
}
