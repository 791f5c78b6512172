import { describe, expect, it } from 'vitest';
import { DigestTable, sortedDigests } from '../../storage/digests.js';
import { hash128 } from '../../storage/hash.js';

const digest = (i: number) => hash128(new Uint8Array(Uint32Array.of(i).buffer));

describe('DigestTable', () => {
  it('numbers digests in the order they come, through growing', () => {
    const t = new DigestTable(4);
    for (let i = 0; i < 12_000; i++) expect(t.add(digest(i % 5000))).toBe(i % 5000);
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(t.indexOf(digest(i))).toBe(i);
    expect(t.indexOf(digest(5000))).toBe(-1);
    // Digests alike but for their last digit are still told apart.
    const a = '0123456789abcdef0123456789abcdef';
    const b = '0123456789abcdef0123456789abcdee';
    expect(t.add(a)).toBe(5000);
    expect(t.indexOf(b)).toBe(-1);
    expect(t.add(b)).toBe(5001);
    expect([t.indexOf(a), t.indexOf(b)]).toEqual([5000, 5001]);
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
});

describe('sortedDigests', () => {
  it('gives the built-in sort of the digests without repeats, also where many share their first digits', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => digest(i % 7000));
    // 100 digests in one bucket (sorted there by the built-in sort), 20 in another, with repeats.
    const crowded = Array.from({ length: 300 }, (_, i) => `abcd${digest(i % 100).slice(4)}`);
    const few = Array.from({ length: 40 }, (_, i) => `0000${digest(i % 20).slice(4)}`);
    for (const list of [many, crowded, few, [...many, ...crowded, ...few].reverse(), [], [digest(1)]])
      expect(sortedDigests(list)).toEqual([...new Set(list)].sort());
  });
});
