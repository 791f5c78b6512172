import { describe, expect, it } from 'vitest';
import { deflateSync } from 'fflate';
import { RewindError } from '../../core/errors.js';
import { PageStore, inflateExact, ENCODING_RAW, ENCODING_DEFLATE } from '../../storage/pagestore.js';
import { ZERO_PAGE_HASH } from '../../storage/statehash.js';

function randomPage(seed: number): Uint8Array {
  let x = seed || 1;
  return Uint8Array.from({ length: 4096 }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 255;
  });
}

describe('PageStore', () => {
  it('stores each distinct page once', () => {
    const s = new PageStore();
    const a = new Uint8Array(4096).fill(7);
    const h1 = s.put(a);
    const h2 = s.put(a.slice());
    expect(h1).toBe(h2);
    expect(s.size).toBe(1);
    s.put(randomPage(3));
    expect(s.size).toBe(2);
    expect(s.get(h1)).toEqual(a);
    expect(s.takeFresh().length).toBe(2);
    expect(s.takeFresh().length).toBe(0);
  });

  it('compresses compressible pages and keeps random ones raw', () => {
    const s = new PageStore();
    const h = s.put(new Uint8Array(4096).fill(1));
    // Stored raw at first, deflated by compress().
    expect(s.getRecord(h)![0]).toBe(ENCODING_RAW);
    expect(s.get(h)).toEqual(new Uint8Array(4096).fill(1));
    const r = randomPage(9);
    const hr = s.put(r);
    expect(s.compress()).toBe(0);
    expect(s.getRecord(h)![0]).toBe(ENCODING_DEFLATE);
    expect(s.getRecord(h)!.length).toBeLessThan(100);
    expect(s.getRecord(hr)![0]).toBe(ENCODING_RAW);
    expect(s.get(hr)).toEqual(r);
  });

  it('never stores the zero page', () => {
    const s = new PageStore();
    expect(s.put(new Uint8Array(4096))).toBe(ZERO_PAGE_HASH);
    expect(s.size).toBe(0);
    expect(s.get(ZERO_PAGE_HASH)).toEqual(new Uint8Array(4096));
  });

  it('reports a missing page as not-found', () => {
    expect(() => new PageStore().get('0'.repeat(32))).toThrow(RewindError);
  });

  it('stops inflating a bomb early', () => {
    const bomb = deflateSync(new Uint8Array(16 << 20), { level: 9 });
    expect(() => inflateExact(bomb, 4096, 'bad-vmi', 'page x')).toThrow(/more than the declared 4096/);
    expect(() => inflateExact(deflateSync(new Uint8Array(100)), 4096, 'bad-vmi', 'page x')).toThrow(
      /100 bytes instead of 4096/,
    );
    expect(() => inflateExact(Uint8Array.of(0xff, 0xff, 0xff), 4096, 'bad-vmi', 'page x')).toThrow(RewindError);
  });
});
