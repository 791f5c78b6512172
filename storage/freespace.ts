/**
 * The holes of a recording's page file (storage/pagefile.ts): where the
 * records of pages no checkpoint names any more lay. New records fill them
 * before the file grows, so that a recording kept within its budget writes
 * each page once: rewriting the live records to a new file at every thinning
 * wrote the budget's worth again and again (16 of the 48 s of a 10¹⁰-step
 * recording of a guest that dirties 48 MiB every 10⁸ steps, under 2 GB).
 *
 * The holes live in a Float64Array that a page file shares with its encoder
 * thread (one of them uses it at a time): [count, next, offset₀, length₀,
 * offset₁, length₁, …] in file order. A record goes into the first hole
 * from `next` on that holds it (a hole that does not is passed over until
 * the next {@link FreeSpace.fill}), so that placing each record costs the
 * same whoever places it, and the file's layout depends on the records alone.
 */

/** Holes the table holds at most: beyond them (each holding less than the rest), the space waits for a compaction. */
const FREE_HOLES = 65536;
/** Holes too small for a record that says anything: left out. */
const SMALLEST = 64;

export class FreeSpace {
  constructor(readonly array: Float64Array = new Float64Array(FreeSpace.arrayLength)) {}

  /** Length of the array of a table of FREE_HOLES holes. */
  static readonly arrayLength = 2 + 2 * FREE_HOLES;

  /**
   * Makes the holes those between the records `order` names, in file order,
   * from `start` to `end`: record n at `offsets[n]`, `lengths[n]` bytes long.
   */
  fill(order: ArrayLike<number>, offsets: Float64Array, lengths: Uint32Array, start: number, end: number): void {
    const holes: { at: number; length: number }[] = [];
    let at = start;
    for (let k = 0; k <= order.length; k++) {
      const next = k < order.length ? offsets[order[k]!]! : end;
      if (next - at >= SMALLEST) holes.push({ at, length: next - at });
      if (k < order.length) at = Math.max(at, next + lengths[order[k]!]!);
    }
    // The largest, when they are too many for the table, back in file order.
    const kept =
      holes.length <= FREE_HOLES
        ? holes
        : holes
            .sort((a, b) => b.length - a.length)
            .slice(0, FREE_HOLES)
            .sort((a, b) => a.at - b.at);
    const a = this.array;
    a[0] = kept.length;
    a[1] = 0;
    kept.forEach((h, k) => {
      a[2 + 2 * k] = h.at;
      a[3 + 2 * k] = h.length;
    });
  }

  /** Where a record of `length` bytes goes: in a hole (taken from it), or -1 when none from `next` on holds it. */
  take(length: number): number {
    const a = this.array;
    const count = a[0]!;
    for (let k = a[1]!; k < count; k++) {
      const room = a[3 + 2 * k]!;
      if (room < length) continue;
      const at = a[2 + 2 * k]!;
      a[2 + 2 * k] = at + length;
      a[3 + 2 * k] = room - length;
      // The holes before this one held less than a record: passed over from now on.
      a[1] = room - length < SMALLEST ? k + 1 : k;
      return at;
    }
    a[1] = count;
    return -1;
  }
}
