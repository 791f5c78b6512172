import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Hasher128,
  bytesToHash,
  hash128,
  hashPagePair,
  hashPageWords,
  hashToBytes,
  isHash128,
} from '../../storage/hash.js';
import { ZERO_PAGE_HASH } from '../../storage/statehash.js';
import { digestInWindow, hashWindow } from '../../storage/pagehash.js';

// Vectors computed once with the C reference MurmurHash3_x86_128 (SMHasher),
// printed as h1 h2 h3 h4 in hex, and pinned here.
const NAMED: Array<[string, number, string]> = [
  ['', 0, '00000000000000000000000000000000'],
  ['a', 0, 'a794933c5556b01b5556b01b5556b01b'],
  ['abc', 0, '75cdc6d1a2b006a5a2b006a5a2b006a5'],
  ['Hello, world!', 0, '26acdba7f0638dfc402b42630afdd4c3'],
  ['The quick brown fox jumps over the lazy dog', 0, '2f1583c3ecee2c675d7bf66ce5e91d2c'],
  ['0123456789abcdef0', 0, '1f8a385560920c06b5182f1c718c0b9c'],
  ['abc', 42, '5bcf0fbe8741bbe98741bbe98741bbe9'],
];
// Bytes i*7+3 for i < len, seed 1, lengths 0..39 (every tail length, aligned and not).
const BY_LENGTH: string[] = [
  '88c4adec54d201b954d201b954d201b9',
  '937aac20b8595728b8595728b8595728',
  'c61ccf86b1be5223b1be5223b1be5223',
  'b0e6c208b74b002bb74b002bb74b002b',
  'beb1521f066066930660669306606693',
  'e9302877193e15b52f9102d72f9102d7',
  'e4c0d00057018747b1c692fab1c692fa',
  '15064ae97bae8672b638f00eb638f00e',
  '9ed9c950c6ebcadb0fdf5cac0fdf5cac',
  '407b33f1569e9e275d3227b490568e45',
  'baec051ed1c057db5485ca1737e252ec',
  'fb9c287b1ffeac5a2a1451e2d518e07a',
  'a53ddda8059b0d1c2bfe887b8d77945a',
  '116c9e4b0babb17bc359037fa43286df',
  'c7af231aa489e7331f4416b3b170e436',
  'f84f0b90550d8607dc4725128c79b8a0',
  'bf14f6f230f8ec0ad183203fa06fe641',
  '9a33e7852f6d53cda9e1e2242fe3de31',
  'adddb44d126c7028fc59f7a80d3fa654',
  'c725433c3d0ce1e6d0dc7bc2613e751e',
  '866f73128d4daea8584c6465cdeda37f',
  '0f80f2ab950ec14c2610e4f55b4d3ae8',
  '4ce3a31bda94301dc89a8f9f691d089f',
  '984fd0c639875636b272d63e26f63c85',
  'b006b5233a1e40f37fe72161480a6858',
  '77a4ec9ddc169debefb7eb42207df368',
  '6d234e1eaf3bea7abbab1a7a3ca14a60',
  '1cabb8b85956aa9b18fe06768fd99a69',
  '3472078abf863612215342d249e143f2',
  '1b3d91561d19b4d7efeac95d156f93e8',
  '8820058f8942a3d7f151463a38c01c5f',
  '2a10fcb3d93f2723b8020197c4c85fe2',
  '2d9a20a11ee11ad55fd17fd1a2f053df',
  '2acc4e65b44e5618fe6f2f7a6cd96f1e',
  '6667985a6d1c183c89d971e7f7d4c3f1',
  'e665c0fc5a73e2f390e79923d0e97d4e',
  '3a29ca2813fd15fafc1b737d59c17983',
  '4c2d7b6539a0f449600ed7c05e0dfb73',
  '2d51dcea4c271d5b8d35d6b4cd6f67c4',
  'ad03ca1c2d9f4e6667899001e45451d1',
];
const PATTERN_4096 = 'b422c5f1c86a425a2ae4724d4acb9926';
const ZERO_4096 = '9b8bbd84faccc440acd9b67b5e0ac426';

const enc = new TextEncoder();
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255);

describe('hash128 (MurmurHash3 x86_128)', () => {
  it('matches the reference on fixed strings', () => {
    for (const [s, seed, want] of NAMED) expect(hash128(enc.encode(s), seed), JSON.stringify(s)).toBe(want);
  });

  it('matches the reference for every tail length', () => {
    for (let n = 0; n < BY_LENGTH.length; n++) expect(hash128(pattern(n), 1), `length ${n}`).toBe(BY_LENGTH[n]);
    expect(hash128(pattern(4096))).toBe(PATTERN_4096);
    expect(hash128(new Uint8Array(4096))).toBe(ZERO_4096);
    expect(ZERO_PAGE_HASH).toBe(ZERO_4096);
  });

  it('gives the same digest on unaligned views', () => {
    const buf = new Uint8Array(4096 + 3);
    buf.set(pattern(4096), 3);
    expect(hash128(buf.subarray(3))).toBe(PATTERN_4096);
  });

  it('streams: any split of the input gives the one-shot digest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 6 }), (data, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const h = new Hasher128(7);
        let prev = 0;
        for (const p of points) {
          h.update(data.subarray(prev, p));
          prev = p;
        }
        h.update(data.subarray(prev));
        expect(h.digest()).toBe(hash128(data, 7));
      }),
    );
  });

  it('streams through the hash window (whole blocks in WebAssembly) as it does in JS, from any place in it', () => {
    const w = hashWindow();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(600), { maxLength: 6 }),
        fc.nat(4096),
        (data, cuts, at) => {
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const h = new Hasher128();
          let prev = 0;
          for (const p of [...points, data.length]) {
            // Each part lies in the window where the last ended, at any alignment.
            w.bytes.set(data.subarray(prev, p), at + prev);
            w.feed(h, at + prev, at + p);
            prev = p;
          }
          expect(h.digest()).toBe(hash128(data));
        },
      ),
    );
    const big = Uint8Array.from({ length: 1 << 20 }, (_, i) => Math.imul(i, 2654435761) >>> 24);
    const h = new Hasher128();
    w.bytes.set(big);
    w.feed(h, 0, big.length);
    expect(h.digest()).toBe(hash128(big));
  });

  it('hashes bytes longer than the window through it, in parts, as hash128 does, at any length and alignment', () => {
    const data = Uint8Array.from({ length: (5 << 19) + 64 }, (_, i) => Math.imul(i + 7, 2654435761) >>> 24);
    for (const [from, length] of [
      [0, 0],
      [3, 15],
      [1, (1 << 19) - 1],
      [0, 1 << 19],
      [5, (1 << 19) + 1],
      [2, (5 << 19) + 7],
    ] as const) {
      const part = data.subarray(from, from + length);
      expect(digestInWindow(part)).toBe(hash128(part));
    }
  });

  it('hashes whole pages, one or two at a time, as hash128 does', () => {
    const words = new Int32Array(5 * 1024);
    let x = 0x12345678;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = i < 1024 ? 0 : x;
    }
    const bytes = new Uint8Array(words.buffer);
    const want = (at: number) => hash128(bytes.subarray(at * 4, at * 4 + 4096));
    const out = ['', ''];
    for (const [a, b] of [
      [0, 1024],
      [2048, 1024],
      [1028, 3076],
      [4096, 4096],
    ] as const) {
      expect(hashPageWords(words, a)).toBe(want(a));
      hashPagePair(words, a, b, out);
      expect(out).toEqual([want(a), want(b)]);
    }
    expect(hashPageWords(words, 0)).toBe(ZERO_4096);
  });

  it('converts digests to bytes and back', () => {
    const h = hash128(enc.encode('x'));
    expect(isHash128(h)).toBe(true);
    expect(bytesToHash(hashToBytes(h))).toBe(h);
    expect(isHash128('XYZ')).toBe(false);
  });
});
