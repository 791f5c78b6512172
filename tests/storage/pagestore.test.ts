import { describe, expect, it } from 'vitest';
import { deflateSync } from 'fflate';
import { RewindError } from '../../core/errors.js';
import {
  PageStore,
  inflateExact,
  encodePageRecord,
  encodePageRecordInto,
  encodePageUnlessRaw,
  EFFORT,
  RECORD_ROOM,
  ENCODING_RAW,
  ENCODING_DEFLATE,
  ENCODING_SPARSE,
  decompressChunk,
  decodePageRecord,
  type PageSpill,
} from '../../storage/pagestore.js';
import { bytesToHash, type Hash128 } from '../../storage/hash.js';
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

  it('keeps random pages raw, and sparse those with a zero field in every record of whatever size', () => {
    const out = new Uint8Array(RECORD_ROOM);
    const random = randomPage(11);
    expect(encodePageRecordInto(random, out)[0]).toBe(ENCODING_RAW);
    for (const record of [32, 48, 64, 128, 256]) {
      const table = random.slice();
      for (let i = 0; i + record <= 4096; i += record) table.fill(0, i + record - 16, i + record);
      expect(encodePageRecordInto(table, out)[0], `records of ${record} bytes`).toBe(ENCODING_SPARSE);
    }
  });

  it('reads sparse pages back word for word, whichever words are zero, the sign bit alone included', () => {
    const out = new Uint8Array(RECORD_ROOM);
    const random = randomPage(5);
    const words = new Int32Array(random.buffer, random.byteOffset, 1024);
    for (const share of [0.1, 0.4, 0.7]) {
      const page = new Uint8Array(4096);
      const w = new Int32Array(page.buffer);
      // Non-zero words at random places, a run of them, and words of the sign bit only.
      for (let i = 0; i < 1024; i++) if ((words[i]! >>> 0) / 2 ** 32 < share) w[i] = words[(i * 7) & 1023]! | 1;
      w.fill(-1, 200, 230);
      for (let i = 3; i < 1024; i += 97) w[i] = -(2 ** 31);
      w[1023] = -(2 ** 31);
      const rec = encodePageRecordInto(page, out);
      expect(rec[0], `${share} of the words`).toBe(ENCODING_SPARSE);
      expect(decodePageRecord(rec)).toEqual(page);
    }
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

/** A spill store in memory that counts what goes through it. */
class MemorySpill implements PageSpill {
  readonly map = new Map<Hash128, Uint8Array>();
  get bytes() {
    let n = 0;
    for (const r of this.map.values()) n += r.length;
    return n;
  }
  get count() {
    return this.map.size;
  }
  has = (h: Hash128) => this.map.has(h);
  get = (h: Hash128) => this.map.get(h)?.slice();
  sizeOf = (h: Hash128) => this.map.get(h)?.length;
  putPage(page: Uint8Array, digests: Uint8Array, at: number) {
    const h = bytesToHash(digests.subarray(at, at + 16));
    if (!this.map.has(h)) this.map.set(h, encodePageRecord(page));
  }
  compact(live: ReadonlySet<Hash128>) {
    for (const h of [...this.map.keys()]) if (!live.has(h)) this.map.delete(h);
  }
}

describe('page encodings and the spill store', () => {
  it('leaves out the zero words of a partly written page, and gives it back exactly', () => {
    const page = new Uint8Array(4096);
    const words = new Uint32Array(page.buffer);
    for (let i = 0; i < 1024; i += 3) words[i] = (i * 2654435761) >>> 0 || 1;
    const s = new PageStore();
    const h = s.put(page);
    s.compress();
    const rec = s.getRecord(h)!;
    expect(rec[0]).toBe(ENCODING_SPARSE);
    expect(rec.length).toBe(1 + 128 + 4 * Math.ceil(1024 / 3));
    expect(s.get(h)).toEqual(page);
    // A sparse record whose length disagrees with its bitmap is refused, not misread.
    expect(() => decompressChunk(ENCODING_SPARSE, rec.subarray(1, rec.length - 4), 4096, 'bad-vmi', 'p')).toThrow(
      /sparse data is/,
    );
  });

  it('says a page is kept raw without copying it, and encodes others as their records', () => {
    const out = new Uint8Array(RECORD_ROOM);
    const random = randomPage(7);
    expect(encodePageUnlessRaw(random, out)).toBeNull();
    expect(encodePageRecordInto(random, out)).toEqual(Uint8Array.of(ENCODING_RAW, ...random));
    const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(92)).subarray(0, 4096);
    const rec = encodePageUnlessRaw(text, out)!;
    expect(rec[0]).toBe(ENCODING_DEFLATE);
    expect(decodePageRecord(rec)).toEqual(text);
    // Cheaply, the same text stays raw.
    expect(encodePageUnlessRaw(text, out, EFFORT.cheap)).toBeNull();
  });

  it('without deflate, encodes a page sparse or raw, whichever is smaller, and gives it back exactly', () => {
    const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(92)).subarray(0, 4096);
    const out = new Uint8Array(RECORD_ROOM);
    expect(encodePageRecordInto(text, out)[0]).toBe(ENCODING_DEFLATE);
    const raw = encodePageRecordInto(text, out, EFFORT.cheap);
    expect(raw[0]).toBe(ENCODING_RAW);
    expect(decompressChunk(raw[0]!, raw.subarray(1), 4096, 'bad-vmi', 'p')).toEqual(text);
    // A third of the words zero: sparse is smaller than raw.
    const holes = text.map((b, i) => ((i >> 2) % 3 === 0 ? 0 : b));
    const sparse = encodePageRecordInto(holes, out, EFFORT.cheap);
    expect(sparse[0]).toBe(ENCODING_SPARSE);
    expect(decompressChunk(sparse[0]!, sparse.subarray(1), 4096, 'bad-vmi', 'p')).toEqual(holes);
  });

  it('writes each page through to the spill store as it is put, holds none in memory, and sweeps what nothing names', () => {
    const spill = new MemorySpill();
    const s = new PageStore({ spill });
    const hashes = Array.from({ length: 100 }, (_, i) => s.put(randomPage(i + 1)));
    expect(s.storedBytes).toBe(0);
    expect(s.compress()).toBe(0);
    expect(spill.map.size).toBe(100);
    // The same record as a store without a spill store makes.
    const plain = new PageStore();
    plain.put(randomPage(1));
    plain.compress();
    expect(spill.map.get(hashes[0]!)).toEqual(plain.getRecord(hashes[0]!));
    for (const [i, h] of hashes.entries()) expect(s.get(h)).toEqual(randomPage(i + 1));
    const live = new Set(hashes.slice(0, 10));
    expect(s.bytesOf(live)).toBe(10 * 4097);
    s.sweep(live);
    expect(s.bytes).toBe(10 * 4097);
    expect(s.has(hashes[50]!)).toBe(false);
    expect(s.get(hashes[5]!)).toEqual(randomPage(6));
  });
});
