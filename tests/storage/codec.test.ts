import { describe, expect, it } from 'vitest';
import { packPlain, packPlainPieces, unpackPlain } from '../../storage/codec.js';
import { concatBytes } from '../../storage/bytes.js';

const joined = (pieces: Uint8Array[]) =>
  concatBytes(
    pieces,
    pieces.reduce((n, p) => n + p.length, 0),
  );
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('packPlainPieces', () => {
  it('gives the bytes packPlain gives, large byte arrays left as pieces of their own', () => {
    const big = bytes(1 << 16, 1);
    const values: unknown[] = [
      { z: 1, a: big, m: { k: bytes(70_000, 2), s: 'x', n: null } },
      [big, 1, 'two', [bytes(65_535, 3), bytes(200_000, 4)]],
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i === 7 ? big : i])),
      Array.from({ length: 70_000 }, (_, i) => (i === 5 ? big : i & 7)),
      { small: bytes(100, 5), list: [1, 2, 3], text: 'é', t: true, f: false, x: 1.5, neg: -3, wide: 2 ** 40 },
    ];
    for (const v of values) {
      const pieces = packPlainPieces(v);
      expect(joined(pieces)).toEqual(packPlain(v));
      expect(unpackPlain(joined(pieces))).toEqual(unpackPlain(packPlain(v)));
    }
    // The large arrays are not copied.
    expect(packPlainPieces({ a: big })).toContain(big);
  });
});
