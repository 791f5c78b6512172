/**
 * A fast, deterministic 128-bit non-cryptographic hash: MurmurHash3 x86_128
 * (Austin Appleby, public domain; see SMHasher `MurmurHash3.cpp`),
 * written from its description with `Math.imul`, so it gives the same result
 * in Node and in every browser. Used for page content ids, chunk ids, state
 * hashes and the `.vmi` integrity trailer. It is NOT a cryptographic hash:
 * it detects accidents, not attackers.
 *
 * A digest is printed as 32 lower-case hex characters: h1, h2, h3, h4 (the
 * four 32-bit words of the reference implementation's output), each as 8 hex
 * digits, most significant digit first.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789 | 0;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93 | 0;

/** A 128-bit digest as 32 lower-case hex characters. */
export type Hash128 = string;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** Character codes of the hex digits 0-f. */
const NIBBLE = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** The character code of the hex digit of bits `shift` to `shift + 3` of `x`. */
const nibble = (x: number, shift: number): number => NIBBLE[(x >>> shift) & 15]!;

/**
 * The reference's block loop: mixes the 16-byte blocks of little-endian words
 * `w[from]` to `w[to - 1]` into the state `h` (h1 to h4).
 */
function mixWords(w: Int32Array, from: number, to: number, h: Int32Array): void {
  let h1 = h[0]!,
    h2 = h[1]!,
    h3 = h[2]!,
    h4 = h[3]!;
  for (let b = from; b < to; b += 4) {
    let k1 = w[b]!,
      k2 = w[b + 1]!,
      k3 = w[b + 2]!,
      k4 = w[b + 3]!;
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (Math.imul((h1 + h2) | 0, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, C3);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (Math.imul((h2 + h3) | 0, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(k3, C3);
    k3 = (k3 << 17) | (k3 >>> 15);
    h3 ^= Math.imul(k3, C4);
    h3 = (h3 << 15) | (h3 >>> 17);
    h3 = (Math.imul((h3 + h4) | 0, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(k4, C4);
    k4 = (k4 << 18) | (k4 >>> 14);
    h4 ^= Math.imul(k4, C1);
    h4 = (h4 << 13) | (h4 >>> 19);
    h4 = (Math.imul((h4 + h1) | 0, 5) + 0x32ac3b17) | 0;
  }
  h[0] = h1;
  h[1] = h2;
  h[2] = h3;
  h[3] = h4;
}

/** Where unaligned input is copied to be mixed as words. */
const aligned = new Int32Array(1024);
const alignedBytes = new Uint8Array(aligned.buffer);

/**
 * Incremental MurmurHash3 x86_128. Feeding bytes in any split gives the same
 * digest as one call to {@link hash128} over their concatenation.
 */
export class Hasher128 {
  /** h1 to h4, then the tail's bytes as words (one allocation: hashers are made per digest). */
  private readonly state = new Int32Array(8);
  private readonly h = this.state.subarray(0, 4);
  private readonly tail = new Uint8Array(this.state.buffer, 16, 16);
  private tailLen = 0;
  private total = 0;

  constructor(seed = 0) {
    this.h.fill(seed | 0);
  }

  /** Feeds bytes; returns `this` for chaining. */
  update(data: Uint8Array): this {
    let i = 0;
    const n = data.length;
    this.total += n;
    if (this.tailLen > 0) {
      const take = Math.min(16 - this.tailLen, n);
      this.tail.set(data.subarray(0, take), this.tailLen);
      this.tailLen += take;
      i = take;
      if (this.tailLen < 16) return this;
      mixWords(this.state, 4, 8, this.h);
      this.tailLen = 0;
    }
    const blocks = (n - i) >>> 4;
    if (blocks > 0) {
      const off = data.byteOffset + i;
      // Words of the input where it is aligned (the hosts we run on are little-endian, see
      // core/paged.ts), else of copies in an aligned scratch.
      if ((off & 3) === 0) mixWords(new Int32Array(data.buffer, off, blocks * 4), 0, blocks * 4, this.h);
      else
        for (let b = 0; b < blocks * 16; b += alignedBytes.length) {
          const part = Math.min(alignedBytes.length, blocks * 16 - b);
          alignedBytes.set(data.subarray(i + b, i + b + part));
          mixWords(aligned, 0, part >>> 2, this.h);
        }
      i += blocks * 16;
    }
    if (i < n) {
      this.tail.set(data.subarray(i), 0);
      this.tailLen = n - i;
    }
    return this;
  }

  /** Bytes fed since the last whole block: {@link mixBlocks} takes whole blocks after none. */
  get pending(): number {
    return this.tailLen;
  }

  /**
   * Feeds `length` bytes (a multiple of 16, with no partial block pending) whose blocks `mix`
   * mixes elsewhere (in WebAssembly: see pagehash.ts): it gets h1 to h4 and returns them after.
   */
  mixBlocks(length: number, mix: (h: Int32Array) => ArrayLike<number>): this {
    if (this.tailLen !== 0 || length % 16 !== 0) throw new RangeError('mixBlocks: whole blocks only');
    this.h.set(mix(this.h));
    this.total += length;
    return this;
  }

  /** Feeds the UTF-8 bytes of a string, preceded by its byte length (u32 LE), so that concatenations stay unambiguous. */
  updateString(s: string): this {
    const bytes = TEXT_ENCODER.encode(s);
    this.updateU32(bytes.length);
    return this.update(bytes);
  }

  /** Feeds a u32, little-endian. */
  updateU32(x: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, x >>> 0, true);
    return this.update(b);
  }

  /** Finishes and returns the digest. The hasher must not be used afterwards. */
  digest(): Hash128 {
    let h1 = this.h[0]!,
      h2 = this.h[1]!,
      h3 = this.h[2]!,
      h4 = this.h[3]!;
    const t = this.tail;
    const r = this.tailLen;
    let k1 = 0,
      k2 = 0,
      k3 = 0,
      k4 = 0;
    // Tail bytes, as in the reference's fall-through switch.
    if (r > 12) {
      for (let j = r - 1; j >= 12; j--) k4 |= t[j]! << ((j - 12) * 8);
      k4 = Math.imul(k4, C4);
      k4 = rotl(k4, 18);
      k4 = Math.imul(k4, C1);
      h4 ^= k4;
    }
    if (r > 8) {
      for (let j = Math.min(r, 12) - 1; j >= 8; j--) k3 |= t[j]! << ((j - 8) * 8);
      k3 = Math.imul(k3, C3);
      k3 = rotl(k3, 17);
      k3 = Math.imul(k3, C4);
      h3 ^= k3;
    }
    if (r > 4) {
      for (let j = Math.min(r, 8) - 1; j >= 4; j--) k2 |= t[j]! << ((j - 4) * 8);
      k2 = Math.imul(k2, C2);
      k2 = rotl(k2, 16);
      k2 = Math.imul(k2, C3);
      h2 ^= k2;
    }
    if (r > 0) {
      for (let j = Math.min(r, 4) - 1; j >= 0; j--) k1 |= t[j]! << (j * 8);
      k1 = Math.imul(k1, C1);
      k1 = rotl(k1, 15);
      k1 = Math.imul(k1, C2);
      h1 ^= k1;
    }
    return finish(h1, h2, h3, h4, this.total);
  }
}

const TEXT_ENCODER = new TextEncoder();

/** The reference's finalization of the state after `total` bytes, as a digest. */
function finish(h1: number, h2: number, h3: number, h4: number, total: number): Hash128 {
  // The reference takes the length as a 32-bit int.
  const len = total | 0;
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2) | 0;
  h1 = (h1 + h3) | 0;
  h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2) | 0;
  h1 = (h1 + h3) | 0;
  h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  return digestOf(h1, h2, h3, h4);
}

/** The digest whose four 32-bit words are h1 to h4. */
export function digestOf(h1: number, h2: number, h3: number, h4: number): Hash128 {
  // One flat string in one call: joining eight-digit pieces made a tree of strings that every
  // later read flattened again (a checkpoint makes a digest for each page that changed).
  // prettier-ignore
  return String.fromCharCode(
    nibble(h1, 28), nibble(h1, 24), nibble(h1, 20), nibble(h1, 16), nibble(h1, 12), nibble(h1, 8), nibble(h1, 4), nibble(h1, 0),
    nibble(h2, 28), nibble(h2, 24), nibble(h2, 20), nibble(h2, 16), nibble(h2, 12), nibble(h2, 8), nibble(h2, 4), nibble(h2, 0),
    nibble(h3, 28), nibble(h3, 24), nibble(h3, 20), nibble(h3, 16), nibble(h3, 12), nibble(h3, 8), nibble(h3, 4), nibble(h3, 0),
    nibble(h4, 28), nibble(h4, 24), nibble(h4, 20), nibble(h4, 16), nibble(h4, 12), nibble(h4, 8), nibble(h4, 4), nibble(h4, 0),
  );
}

/** Bytes of a page that {@link hashPageWords} and {@link hashPagePair} take. */
const PAGE_BYTES = 4096;

/**
 * hash128 (seed 0) of the 4 KiB page of little-endian words `w[at]` to
 * `w[at + 1023]`: the same digest, without the streaming hasher's state and tail.
 */
export function hashPageWords(w: Int32Array, at: number): Hash128 {
  const h = pageState.fill(0);
  mixWords(w, at, at + PAGE_BYTES / 4, h);
  return finish(h[0]!, h[1]!, h[2]!, h[3]!, PAGE_BYTES);
}

const pageState = new Int32Array(4);

/**
 * {@link hashPageWords} of the pages at words `a` and `b` of `w` at once, into
 * out[0] and out[1]. One page's blocks form a chain of dependent multiplies;
 * two chains side by side keep the CPU's multipliers busy: about twice the
 * throughput.
 */
export function hashPagePair(w: Int32Array, a: number, b: number, out: Hash128[]): void {
  let a1 = 0,
    a2 = 0,
    a3 = 0,
    a4 = 0,
    b1 = 0,
    b2 = 0,
    b3 = 0,
    b4 = 0;
  for (let i = 0; i < PAGE_BYTES / 4; i += 4) {
    const p = a + i;
    const q = b + i;
    let k1 = w[p]!,
      k2 = w[p + 1]!,
      k3 = w[p + 2]!,
      k4 = w[p + 3]!,
      j1 = w[q]!,
      j2 = w[q + 1]!,
      j3 = w[q + 2]!,
      j4 = w[q + 3]!;
    k1 = Math.imul(k1, C1);
    j1 = Math.imul(j1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    j1 = (j1 << 15) | (j1 >>> 17);
    a1 ^= Math.imul(k1, C2);
    b1 ^= Math.imul(j1, C2);
    a1 = (a1 << 19) | (a1 >>> 13);
    b1 = (b1 << 19) | (b1 >>> 13);
    a1 = (Math.imul((a1 + a2) | 0, 5) + 0x561ccd1b) | 0;
    b1 = (Math.imul((b1 + b2) | 0, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(k2, C2);
    j2 = Math.imul(j2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    j2 = (j2 << 16) | (j2 >>> 16);
    a2 ^= Math.imul(k2, C3);
    b2 ^= Math.imul(j2, C3);
    a2 = (a2 << 17) | (a2 >>> 15);
    b2 = (b2 << 17) | (b2 >>> 15);
    a2 = (Math.imul((a2 + a3) | 0, 5) + 0x0bcaa747) | 0;
    b2 = (Math.imul((b2 + b3) | 0, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(k3, C3);
    j3 = Math.imul(j3, C3);
    k3 = (k3 << 17) | (k3 >>> 15);
    j3 = (j3 << 17) | (j3 >>> 15);
    a3 ^= Math.imul(k3, C4);
    b3 ^= Math.imul(j3, C4);
    a3 = (a3 << 15) | (a3 >>> 17);
    b3 = (b3 << 15) | (b3 >>> 17);
    a3 = (Math.imul((a3 + a4) | 0, 5) + 0x96cd1c35) | 0;
    b3 = (Math.imul((b3 + b4) | 0, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(k4, C4);
    j4 = Math.imul(j4, C4);
    k4 = (k4 << 18) | (k4 >>> 14);
    j4 = (j4 << 18) | (j4 >>> 14);
    a4 ^= Math.imul(k4, C1);
    b4 ^= Math.imul(j4, C1);
    a4 = (a4 << 13) | (a4 >>> 19);
    b4 = (b4 << 13) | (b4 >>> 19);
    a4 = (Math.imul((a4 + a1) | 0, 5) + 0x32ac3b17) | 0;
    b4 = (Math.imul((b4 + b1) | 0, 5) + 0x32ac3b17) | 0;
  }
  out[0] = finish(a1, a2, a3, a4, PAGE_BYTES);
  out[1] = finish(b1, b2, b3, b4, PAGE_BYTES);
}

/** MurmurHash3 x86_128 of `data` with `seed`, as 32 hex characters. */
export function hash128(data: Uint8Array, seed = 0): Hash128 {
  return new Hasher128(seed).update(data).digest();
}

/** True when `s` looks like a digest: exactly 32 lower-case hex characters. */
export function isHash128(s: unknown): s is Hash128 {
  return typeof s === 'string' && s.length === 32 && /^[0-9a-f]{32}$/.test(s);
}

/** The 16 bytes of a digest, in the order they are printed. */
export function hashToBytes(h: Hash128): Uint8Array {
  const out = new Uint8Array(16);
  writeHashBytes(h, out, 0);
  return out;
}

/** Value of each lower-case hex digit by its character code (digests are lower-case); 255 for any other code below 128. */
export const HEX_VALUE = new Uint8Array(128).fill(255);
for (let d = 0; d < 16; d++) HEX_VALUE[NIBBLE[d]!] = d;

/** Writes the 16 bytes of digest `h` into `out` at `offset` (no allocation). */
export function writeHashBytes(h: Hash128, out: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++)
    out[offset + i] = (HEX_VALUE[h.charCodeAt(2 * i)]! << 4) | HEX_VALUE[h.charCodeAt(2 * i + 1)]!;
}

/** The inverse of {@link hashToBytes}. */
export function bytesToHash(b: Uint8Array): Hash128 {
  const word = (i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  return digestOf(word(0), word(4), word(8), word(12));
}
