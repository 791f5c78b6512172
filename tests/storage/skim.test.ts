import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RewindError } from '../../core/errors.js';
import { memorySource } from '../../storage/bytes.js';
import { packPlain, unpackPlain } from '../../storage/codec.js';
import { hash128 } from '../../storage/hash.js';
import { FileBytes, FileBytesReader, skim } from '../../storage/skim.js';

/** Values as the index holds them: maps, lists, strings, numbers of every width, byte strings small and large. */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    fc.double({ noNaN: true }),
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.nat(9000).map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 255)),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('list'), tie('map')),
  list: fc.array(tie('node'), { maxLength: 20 }),
  map: fc.dictionary(fc.string({ maxLength: 12 }), tie('node'), { maxKeys: 20 }),
})).node;

/** The value with every FileBytes read back from `bytes`. */
function readBack(v: unknown, bytes: Uint8Array): unknown {
  if (v instanceof FileBytes) return bytes.slice(v.offset, v.offset + v.length);
  if (Array.isArray(v)) return v.map((x) => readBack(x, bytes));
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, readBack(x, bytes)]));
  return v;
}

describe('skim (plain msgpack through a window)', () => {
  it('decodes what msgpackr decodes, leaves large byte strings in the file, and hashes every byte', () => {
    fc.assert(
      fc.property(value, fc.nat(50), (v, pad) => {
        const packed = packPlain(v);
        // At an offset in a larger file, as an index is.
        const file = new Uint8Array(pad + packed.length + 3);
        file.set(packed, pad);
        const all = skim(memorySource(file), pad, packed.length, () => false, 'the index');
        expect(all.digest).toBe(hash128(packed));
        expect(all.value).toEqual(unpackPlain(packed.slice()));
        const lazy = skim(memorySource(file), pad, packed.length, () => true, 'the index');
        expect(lazy.digest).toBe(all.digest);
        expect(readBack(lazy.value, file)).toEqual(all.value);
      }),
      { numRuns: 40 },
    );
  });

  it('streams values larger than its window, and reads a byte string left in the file back, checked', () => {
    const big = Uint8Array.from({ length: 3_000_000 }, (_, i) => Math.imul(i, 2654435761) >>> 24);
    const packed = packPlain({ a: 'x'.repeat(70000), big, list: Array.from({ length: 70000 }, (_, i) => i * 3) });
    const { value, digest } = skim(memorySource(packed), 0, packed.length, (p) => p[0] === 'big', 'the index');
    expect(digest).toBe(hash128(packed));
    const v = value as { a: string; big: FileBytes; list: number[] };
    expect(v.a.length).toBe(70000);
    expect(v.list[69999]).toBe(69999 * 3);
    expect(v.big).toBeInstanceOf(FileBytes);
    const reader = new FileBytesReader(memorySource(packed), v.big, 'the big one', 0, 1 << 16);
    const back = new Uint8Array(big.length);
    for (let at = 0; at < big.length; at += 1 << 16) back.set(reader.next(Math.min(1 << 16, big.length - at)), at);
    expect(Buffer.from(back).equals(Buffer.from(big))).toBe(true);
  });

  it('refuses what is not one plain msgpack value, in one line', () => {
    const bad = (bytes: number[], message: RegExp) => {
      const b = Uint8Array.from(bytes);
      let err: unknown;
      try {
        skim(memorySource(b), 0, b.length, () => true, 'the index');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RewindError);
      expect((err as RewindError).message).toMatch(message);
    };
    bad([0xcd, 0x01], /ends inside a value/);
    bad([0x92, 0x01], /claims 2 items in 1 bytes/);
    bad([0x01, 0x02], /1 bytes after its value/);
    bad([0xc1], /not plain msgpack \(byte 0xc1/);
    bad([0xd4, 0x01, 0x00], /not plain msgpack/);
    bad([0xdd, 0xff, 0xff, 0xff, 0xff], /claims 4294967295 items/);
    bad([0x81, 0x01, 0x02], /map key that is not a string/);
    bad(
      Array.from({ length: 70 }, () => 0x91),
      /nests deeper than 64/,
    );
    // {"__proto__": 1}, as a file may hold it.
    const packed = Uint8Array.from([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x01]);
    const proto = skim(memorySource(packed), 0, packed.length, () => true, 'the index').value;
    expect(Object.keys(proto as object)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });
});
