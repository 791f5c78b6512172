import { describe, expect, it } from 'vitest';
import { DigestTable, sortedDigestBytes } from '../../storage/digests.js';
import { bytesToHash, hash128, hashToBytes, type Hash128 } from '../../storage/hash.js';

const digest = (i: number) => hash128(new Uint8Array(Uint32Array.of(i).buffer));

describe('DigestTable', () => {
  it('numbers digests in the order they come, through growing', () => {
    const t = new DigestTable(4);
    for (let i = 0; i < 12_000; i++) expect(t.add(digest(i % 5000))).toBe(i % 5000);
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(t.indexOf(digest(i))).toBe(i);
    expect(t.indexOf(digest(5000))).toBe(-1);
    const bytes = new Uint8Array(48);
    bytes.set(hashToBytes(digest(4321)), 5);
    bytes.set(hashToBytes(digest(5001)), 21);
    expect(t.indexOfBytes(bytes, 5)).toBe(4321);
    expect(t.indexOfBytes(bytes, 21)).toBe(-1);
    // Added by their bytes, digests take the numbers their strings would.
    expect(t.addBytes(bytes, 5)).toBe(4321);
    expect(t.addBytes(bytes, 21)).toBe(5000);
    expect(t.indexOf(digest(5001))).toBe(5000);
    // Digests alike but for their last digit are still told apart.
    const a = '0123456789abcdef0123456789abcdef';
    const b = '0123456789abcdef0123456789abcdee';
    expect(t.add(a)).toBe(5001);
    expect(t.indexOf(b)).toBe(-1);
    expect(t.add(b)).toBe(5002);
    expect([t.indexOf(a), t.indexOf(b)]).toEqual([5001, 5002]);
  });

  it('keeps some digests, renumbered in order', () => {
    const t = new DigestTable();
    for (let i = 0; i < 3000; i++) t.add(digest(i));
    const moves: Array<[number, number]> = [];
    t.retain(
      (n) => n % 3 === 0,
      (from, to) => moves.push([from, to]),
    );
    expect(t.size).toBe(1000);
    expect(moves).toEqual(Array.from({ length: 1000 }, (_, k) => [3 * k, k]));
    for (let i = 0; i < 3000; i++) expect(t.indexOf(digest(i))).toBe(i % 3 === 0 ? i / 3 : -1);
    expect(t.add(digest(1))).toBe(1000);
  });

  it('gives its numbers in the order of their digests, and in shared memory numbers alike as it grows there', () => {
    const t = new DigestTable(4);
    for (let i = 0; i < 3000; i++) t.add(digest(i));
    // Digests that share their first words are ordered by the rest.
    t.add('0123456789abcdef0123456789abcdef');
    t.add('0123456789abcdef0123456789abcdee');
    const shared = t.toShared();
    // The other thread's table, made before this one grows the memory under it.
    const before = new DigestTable(0, shared.shared);
    for (let i = 3000; i < 20_000; i++) expect(shared.add(digest(i))).toBe(i + 2);
    expect(before.indexOf(digest(19_999))).toBe(20_001);
    expect(before.add(digest(20_000))).toBe(20_002);
    expect(shared.indexOf(digest(20_000))).toBe(20_002);
    const again = new DigestTable(0, shared.shared);
    expect(again.size).toBe(20_003);
    expect(again.indexOf(digest(12_345))).toBe(12_347);
    const { numbers, words } = again.numbersInOrder();
    const order = Array.from(numbers, (n) => again.digestAt(n));
    expect(order).toEqual([...order].sort());
    expect(new Set(order).size).toBe(20_003);
    // Their words come along, in the same order (big-endian: as the digests print).
    const hex = (k: number) => Array.from(words.subarray(4 * k, 4 * k + 4), (x) => x.toString(16).padStart(8, '0'));
    expect(Array.from(numbers, (_, k) => hex(k).join(''))).toEqual(order);
  });
});

describe('sortedDigestBytes', () => {
  const bytesOf = (list: readonly string[]) => {
    const out = new Uint8Array(list.length * 16);
    list.forEach((h, i) => out.set(hashToBytes(h as Hash128), i * 16));
    return out;
  };
  const hexOf = (bytes: Uint8Array) =>
    Array.from({ length: bytes.length / 16 }, (_, i) => bytesToHash(bytes.subarray(i * 16, i * 16 + 16)));

  it('gives the digests in the order of their strings without repeats, also where many share their first digits', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => digest(i % 7000));
    const crowded = Array.from({ length: 300 }, (_, i) => `abcd${digest(i % 100).slice(4)}`);
    const few = Array.from({ length: 40 }, (_, i) => `0000${digest(i % 20).slice(4)}`);
    const high = Array.from({ length: 40 }, (_, i) => `ffff${digest(i % 30).slice(4)}`);
    for (const list of [many, crowded, few, high, [...many, ...crowded, ...few, ...high].reverse(), [], [digest(1)]]) {
      const half = Math.floor(list.length / 2);
      const sorted = sortedDigestBytes(
        [bytesOf(list.slice(0, half)), bytesOf(list.slice(half))],
        bytesOf([digest(7001)]),
      );
      expect(hexOf(sorted)).toEqual([...new Set(list)].sort());
    }
  });

  it('leaves out the digest it is told to', () => {
    const list = [digest(3), digest(1), digest(2), digest(1)];
    expect(hexOf(sortedDigestBytes([bytesOf(list)], bytesOf([digest(1)])))).toEqual([digest(2), digest(3)].sort());
  });
});
