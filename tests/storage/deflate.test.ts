// The page deflater (storage/deflate.ts): any inflater reads its streams back
// exactly, it refuses what it cannot shrink, and it is deterministic.
import { inflateSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { deflateFixed } from '../../storage/deflate.js';

function page(fill: (i: number) => number, size = 4096): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => fill(i) & 255);
}

let seed = 7;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;

const cases: [string, Uint8Array][] = [
  ['zeros', page(() => 0)],
  ['one byte set', page((i) => (i === 2049 ? 7 : 0))],
  ['a run of each byte value', page((i) => i >> 4)],
  ['repeated words', page((i) => [0xde, 0xad, 0xbe, 0xef][i & 3]!)],
  ['text', new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(92)).subarray(0, 4096)],
  ['a pattern 4000 bytes back', page((i) => (i < 96 ? random() : 0)).map((b, i, a) => (i >= 4000 ? a[i - 4000]! : b))],
  ['sparse random bytes', page((i) => (i % 9 === 0 ? random() : 0))],
  ['small values', page(() => random() & 3)],
  ['short', page((i) => i % 5, 10)],
  ['empty', new Uint8Array(0)],
];

describe('deflateFixed', () => {
  test.each(cases)('%s: inflates back exactly', (_, data) => {
    const out = new Uint8Array(1 + data.length);
    const end = deflateFixed(data, out, 1);
    if (end < 0) return expect(data.length).toBeLessThan(16);
    expect(end - 1).toBeLessThan(data.length);
    expect(inflateSync(out.subarray(1, end))).toEqual(data);
    // The same bytes each time.
    const again = new Uint8Array(1 + data.length);
    expect(deflateFixed(data, again, 1)).toBe(end);
    expect(again.subarray(0, end)).toEqual(out.subarray(0, end));
  });

  test('shrinks runs to a few bytes and refuses random bytes', () => {
    const out = new Uint8Array(4097);
    expect(
      deflateFixed(
        page(() => 0),
        out,
        1,
      ),
    ).toBeLessThan(1 + 64);
    expect(
      deflateFixed(
        page(() => random()),
        out,
        1,
      ),
    ).toBe(-1);
  });

  test('told to give up, stops where its first KiB saved less than 1/32, and runs on where it saved more', () => {
    // Ascending words 1,024 apart on average (a sorted array): fixed codes save ~2 %, at ~15 ns a byte.
    let v = 0x5a000000;
    const sorted = new Uint8Array(new Uint32Array(1024).map(() => (v += ((random() << 8) | random()) >>> 5)).buffer);
    const out = new Uint8Array(4097);
    expect(deflateFixed(sorted, out, 1)).toBeGreaterThan(0);
    expect(deflateFixed(sorted, out, 1, true)).toBe(-1);
    // A page whose first KiB compresses comes out as it does without giving up.
    const text = cases.find(([name]) => name === 'text')![1];
    const full = deflateFixed(text, out, 1);
    const again = new Uint8Array(4097);
    expect(deflateFixed(text, again, 1, true)).toBe(full);
    expect(again.subarray(0, full)).toEqual(out.subarray(0, full));
    // Without giving up, data whose first KiB does not compress still does where the rest does.
    const late = page((i) => (i < 1024 ? random() : 0));
    expect(deflateFixed(late, out, 1)).toBeGreaterThan(0);
    expect(deflateFixed(late, out, 1, true)).toBe(-1);
  });

  test('past 32 KiB, matches reach back within the window only, and the stream inflates back exactly', () => {
    // A 40,000-byte pattern repeated: the repeat is out of reach, but runs within it are not.
    const unit = page((i) => (i % 1000 < 10 ? random() : i & 7), 40_000);
    const data = new Uint8Array(100_000).map((_, i) => unit[i % unit.length]!);
    const out = new Uint8Array(data.length);
    const end = deflateFixed(data, out, 0);
    expect(end).toBeGreaterThan(0);
    expect(inflateSync(out.subarray(0, end))).toEqual(data);
  });
});
