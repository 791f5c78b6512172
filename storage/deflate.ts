/**
 * A small, fast DEFLATE encoder (RFC 1951) for memory pages and a
 * recording's index: one block with the fixed Huffman codes, greedy LZ77
 * matches within the 32 KiB window found through a hash of three bytes (one
 * candidate each). Pages that compress at all are mostly runs and repeated
 * words, which this codes about as well as a full encoder; it costs a few
 * microseconds a page where a general-purpose one spends ~50 µs just setting
 * up (and a cold one, at the end of a short recording, milliseconds). The
 * output is a plain raw deflate stream: any inflater reads it.
 * Deterministic (no host dependence), so a recording gives the same bytes
 * everywhere.
 */

/** The farthest a match may reach back (RFC 1951's window). */
const WINDOW = 32768;
const HASH_BITS = 13;
const MIN_MATCH = 3;
const MAX_MATCH = 258;

/** Bits of `code` (`bits` long) in reverse order: Huffman codes go into the stream most significant bit first. */
function reverse(code: number, bits: number): number {
  let r = 0;
  for (let i = 0; i < bits; i++) r |= ((code >>> i) & 1) << (bits - 1 - i);
  return r;
}

/**
 * Calls `set(value, k, offset)` for every value from `bases[0]` to `last`:
 * k is the code whose range holds it (bases ascending, each a range's first
 * value) and offset its distance from that base (the extra bits).
 */
function byValue(
  bases: readonly number[],
  last: number,
  set: (value: number, k: number, offset: number) => void,
): void {
  for (let k = 0; k < bases.length; k++) {
    const top = k + 1 < bases.length ? bases[k + 1]! : last + 1;
    for (let v = bases[k]!; v < top; v++) set(v, k, v - bases[k]!);
  }
}

// The fixed literal/length code (RFC 1951 3.2.6), reversed for an LSB-first bit stream.
const LIT_CODE = new Uint16Array(288);
const LIT_BITS = new Uint8Array(288);
for (let s = 0; s < 288; s++) {
  const [code, bits] =
    s < 144 ? [0x30 + s, 8] : s < 256 ? [0x190 + s - 144, 9] : s < 280 ? [s - 256, 7] : [0xc0 + s - 280, 8];
  LIT_CODE[s] = reverse(code, bits);
  LIT_BITS[s] = bits;
}

// Length symbols 257–285: base lengths and extra bits (RFC 1951 3.2.5), tabulated by length.
const LEN_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const LEN_SYM = new Uint16Array(MAX_MATCH + 1);
const LEN_XBITS = new Uint8Array(MAX_MATCH + 1);
const LEN_XVAL = new Uint8Array(MAX_MATCH + 1);
byValue(LEN_BASE, MAX_MATCH, (len, k, offset) => {
  LEN_SYM[len] = 257 + k;
  LEN_XBITS[len] = LEN_EXTRA[k]!;
  LEN_XVAL[len] = offset;
});

// Distance codes 0–29 (5 bits each, fixed): tabulated by distance.
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577,
];
const DIST_CODE = new Uint8Array(WINDOW + 1);
const DIST_XBITS = new Uint8Array(WINDOW + 1);
const DIST_XVAL = new Uint16Array(WINDOW + 1);
byValue(DIST_BASE, WINDOW, (d, k, offset) => {
  DIST_CODE[d] = reverse(k, 5);
  DIST_XBITS[d] = k < 4 ? 0 : (k >>> 1) - 1;
  DIST_XVAL[d] = offset;
});

/** Last position of each 3-byte hash, for the call under way (reset at each). */
const head = new Int32Array(1 << HASH_BITS);

/** Where a deflate told to give up early looks at what it has won (see deflateFixed). */
const GIVE_UP_AT = 1024;

/**
 * Deflates `data` into `out` from `at`; returns the end of what it wrote, or
 * -1 when the stream would not be smaller than `data` (then `out` holds
 * nothing of use). `out` needs `data.length` bytes after `at`. With
 * `giveUp`, it also returns -1 where its first GIVE_UP_AT bytes came out
 * less than 1/32 smaller: bytes with few repeats cost ~15 ns each to code,
 * 60 µs a page, to save a percent or two (a sorted array of words, say).
 */
export function deflateFixed(data: Uint8Array, out: Uint8Array, at: number, giveUp = false): number {
  const n = data.length;
  // Past this, the stream is no smaller than the data (each step writes at most 4 bytes).
  const limit = at + n - 4;
  let look = giveUp ? GIVE_UP_AT : n;
  head.fill(-1);
  let o = at;
  let bits = 0;
  let count = 0;
  // BFINAL = 1, BTYPE = 01 (fixed Huffman codes).
  bits = 0b011;
  count = 3;
  let i = 0;
  while (i < n) {
    if (o > limit) return -1;
    if (i >= look) {
      if (32 * (o - at) > 31 * i) return -1;
      look = n;
    }
    let len = 0;
    let dist = 0;
    if (i + MIN_MATCH <= n) {
      const h = Math.imul(data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16), 0x9e3779b1) >>> (32 - HASH_BITS);
      const c = head[h]!;
      head[h] = i;
      if (
        c >= 0 &&
        i - c <= WINDOW &&
        data[c] === data[i] &&
        data[c + 1] === data[i + 1] &&
        data[c + 2] === data[i + 2]
      ) {
        const max = Math.min(MAX_MATCH, n - i);
        len = MIN_MATCH;
        while (len < max && data[c + len] === data[i + len]) len++;
        dist = i - c;
      }
    }
    if (len === 0) {
      const s = data[i]!;
      bits |= LIT_CODE[s]! << count;
      count += LIT_BITS[s]!;
      i++;
    } else {
      const s = LEN_SYM[len]!;
      bits |= LIT_CODE[s]! << count;
      count += LIT_BITS[s]!;
      bits |= LEN_XVAL[len]! << count;
      count += LEN_XBITS[len]!;
      while (count >= 8) {
        out[o++] = bits & 255;
        bits >>>= 8;
        count -= 8;
      }
      bits |= DIST_CODE[dist]! << count;
      count += 5;
      bits |= DIST_XVAL[dist]! << count;
      count += DIST_XBITS[dist]!;
      i += len;
    }
    while (count >= 8) {
      out[o++] = bits & 255;
      bits >>>= 8;
      count -= 8;
    }
  }
  // End of block (symbol 256: seven zero bits), then the last partial byte.
  count += LIT_BITS[256]!;
  while (count > 0) {
    out[o++] = bits & 255;
    bits >>>= 8;
    count -= 8;
  }
  return o - at < n ? o : -1;
}
