import { describe, expect, it } from 'vitest';
import { FreeSpace } from '../../storage/freespace.js';

/** A table of the holes between records given as [offset, length], in file order, from 80 to `end`. */
function holes(records: [number, number][], end: number): FreeSpace {
  const offsets = Float64Array.from(records, ([at]) => at);
  const lengths = Uint32Array.from(records, ([, length]) => length);
  const free = new FreeSpace();
  free.fill(
    records.map((_, n) => n),
    offsets,
    lengths,
    80,
    end,
  );
  return free;
}

describe('FreeSpace', () => {
  it('finds the holes between records, leaving out those too small to use', () => {
    // Holes: 80–1000, 1100–1130 (too small), 1130–5000 after the second record, 6000–10000 at the end.
    const free = holes(
      [
        [1000, 100],
        [1130, 0],
        [5000, 1000],
      ],
      10000,
    );
    expect(free.take(920)).toBe(80);
    expect(free.take(3870)).toBe(1130);
    expect(free.take(4000)).toBe(6000);
    expect(free.take(1)).toBe(-1);
  });

  it('fills holes in file order, passing over for good those that cannot hold the record', () => {
    const free = holes(
      [
        [200, 4096],
        [4396, 4096],
        [16588, 4096],
      ],
      20684,
    );
    // Holes: 80–200 (120 bytes), 4296–4396 (100), 8492–16588 (8096).
    expect(free.take(4000)).toBe(8492);
    // The small holes before were passed over: a small record goes after the last one taken.
    expect(free.take(64)).toBe(12492);
    // What is left of it (32 bytes) is too small to keep looking at.
    expect(free.take(4000)).toBe(12556);
    expect(free.take(32)).toBe(-1);
    // A new table starts from the first hole again.
    free.fill([], new Float64Array(0), new Uint32Array(0), 80, 200);
    expect(free.take(100)).toBe(80);
  });

  it('keeps the largest holes when there are more than it holds, in file order', () => {
    // 70,000 records of 100 bytes with a 64-byte hole after each, and one large hole near the start.
    const count = 70000;
    const records: [number, number][] = [];
    let at = 80 + 10000;
    for (let n = 0; n < count; n++) {
      records.push([at, 100]);
      at += 164;
    }
    const free = holes(records, at);
    expect(free.take(9000)).toBe(80);
    let found = 0;
    while (free.take(64) >= 0) found++;
    // The large hole's rest (15 records of 64 bytes), then as many small ones as fit the table.
    expect(found).toBe(15 + 65535);
  });
});
