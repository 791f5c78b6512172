import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Checkpointer } from '../../storage/checkpoint.js';
import { encodePageMap, packPageMap, unpackPageMap } from '../../storage/wire.js';
import { FakeMachine, diffSnapshots, sameBytes } from './fake.js';

describe('Checkpointer', () => {
  it('restores any checkpoint exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
            capture: fc.boolean(),
            restoreTo: fc.option(fc.nat(), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        (steps, fullEvery, withDisk) => {
          const m = new FakeMachine(16, withDisk ? 4 : null);
          const cps = new Checkpointer(m, { fullEvery });
          const taken: Array<{ id: string; snap: ReturnType<FakeMachine['snapshot']> }> = [];
          let last: string | null = null;
          for (const s of steps) {
            m.mutate(s.seed);
            if (s.capture || taken.length === 0) {
              const cp = cps.capture(last, 'b0');
              taken.push({ id: cp.id, snap: m.snapshot() });
              last = cp.id;
              expect(cp.depth).toBeLessThan(fullEvery);
              // Packed as it was made, from the table's bytes: what its digests give.
              expect(packPageMap(cp.ram)).toEqual(encodePageMap(cp.ram));
              if (cp.disk) expect(packPageMap(cp.disk)).toEqual(encodePageMap(cp.disk));
            }
            if (s.restoreTo !== undefined && taken.length > 0) {
              const t = taken[s.restoreTo % taken.length]!;
              cps.restore(t.id);
              last = t.id;
              const now = m.snapshot();
              expect(diffSnapshots(now, t.snap)).toBeNull();
              expect(now.state).toEqual(t.snap.state);
            }
          }
          for (const t of [...taken].reverse()) {
            cps.restore(t.id);
            expect(sameBytes(m.ram.bytes, t.snap.ram)).toBe(true);
            expect(sameBytes(m.disk?.bytes ?? null, t.snap.disk)).toBe(true);
            expect(m.saveState()).toEqual(t.snap.state);
            expect(cps.stateHash()).toBe(cps.get(t.id).stateHash);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('dropping any checkpoints leaves every other one restoring exactly, with consistent depths and page counts (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { minLength: 2, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 5 }),
        (seeds, drops, fullEvery) => {
          const m = new FakeMachine(16, 4);
          const cps = new Checkpointer(m, { fullEvery });
          const taken = new Map<string, ReturnType<FakeMachine['snapshot']>>();
          let last: string | null = null;
          for (const seed of seeds) {
            m.mutate(seed);
            last = cps.capture(last, 'b0').id;
            taken.set(last, m.snapshot());
          }
          // The pages named, counted once and kept up to date by the drops and the captures between them.
          const size = (h: string) => h.charCodeAt(0) + 1;
          const refs = cps.pageRefs(size);
          for (const d of drops) {
            const ids = [...taken.keys()];
            if (ids.length <= 1) break;
            const id = ids[d % ids.length]!;
            cps.drop(id);
            taken.delete(id);
            if (last === id) last = null;
            if (d % 3 === 0) {
              m.mutate(d + 7);
              last = cps.capture(last, 'b0').id;
              taken.set(last, m.snapshot());
            }
            const named = cps.pagesNamed();
            expect(cps.pageRefs(size)).toBe(refs);
            expect(refs.count).toBe(named.size);
            for (const h of named) expect(refs.has(h)).toBe(true);
            expect(refs.bytes).toBe([...named].reduce((n, h) => n + size(h), 0));
          }
          for (const cp of cps.all()) {
            if (cp.full) expect(cp.depth).toBe(0);
            else expect(cp.depth).toBe(cps.get(cp.parent!).depth + 1);
          }
          expect(cps.verifyStored()).toBeNull();
          for (const [id, snap] of taken) {
            cps.restore(id);
            expect(sameBytes(m.ram.bytes, snap.ram)).toBe(true);
            expect(sameBytes(m.disk?.bytes ?? null, snap.disk)).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  /** Gives every page of `m` a non-zero byte, so that a few pages written later are a small part of memory. */
  const fill = (m: FakeMachine) => {
    for (const mem of [m.ram, m.disk])
      for (let p = 0; mem && p < mem.pageCount; p++) mem.write(p * 4096 + 4000, Uint8Array.of(p + 1));
  };

  it('writes a full map every K checkpoints, bounding the chain', () => {
    const m = new FakeMachine();
    fill(m);
    const cps = new Checkpointer(m, { fullEvery: 4 });
    let last: string | null = null;
    const kinds: boolean[] = [];
    for (let i = 1; i <= 12; i++) {
      m.mutate(i);
      const cp = cps.capture(last, 'b0');
      kinds.push(cp.full);
      last = cp.id;
    }
    expect(kinds).toEqual([true, false, false, false, true, false, false, false, true, false, false, false]);
    for (const cp of cps.all()) expect(cp.depth).toBeLessThan(4);
  });

  it('writes a full map where a delta would name half the pages or more', () => {
    const m = new FakeMachine(32, null);
    fill(m);
    const cps = new Checkpointer(m, { fullEvery: 100 });
    let last = cps.capture(null, 'b0').id;
    const kinds = [15, 16, 3, 20].map((pages, i) => {
      for (let p = 0; p < pages; p++) m.ram.write(p * 4096, Uint8Array.of(i + 1));
      m.position = i + 1;
      const cp = cps.capture(last, 'b0');
      last = cp.id;
      return [cp.full, cp.ram.size];
    });
    // Of 32 non-zero pages: 15 changed make a delta, 16 a full map (all 32 named).
    expect(kinds).toEqual([
      [false, 15],
      [true, 32],
      [false, 3],
      [true, 32],
    ]);
  });

  it('stores only changed pages in a delta, and no zero pages', () => {
    const m = new FakeMachine(64, null);
    const cps = new Checkpointer(m);
    const first = cps.capture(null, 'b0');
    expect(first.ram.size).toBe(0); // all zero
    m.ram.write(4096 * 10 + 5, Uint8Array.of(1, 2, 3));
    m.ram.write(4096 * 20, Uint8Array.of(0)); // dirty but unchanged
    m.position = 10;
    const second = cps.capture(first.id, 'b0');
    expect([...second.ram.keys()]).toEqual([10]);
    expect(cps.pages.size).toBe(1);
  });

  it('hands the store only the pages that changed since the last checkpoint, even for a full map', () => {
    const m = new FakeMachine(32, null);
    fill(m);
    const cps = new Checkpointer(m, { fullEvery: 1 });
    const first = cps.capture(null, 'b0');
    const handed: number[][] = [];
    const putPages = cps.pages.putPages.bind(cps.pages);
    cps.pages.putPages = (memory, pages, digests) => {
      handed.push([...pages]);
      putPages(memory, pages, digests);
    };
    for (const p of [3, 9, 20]) m.ram.write(p * 4096, Uint8Array.of(0xee));
    m.position = 1;
    const second = cps.capture(first.id, 'b0');
    expect(second.full).toBe(true);
    expect(second.ram.size).toBe(32);
    expect(handed).toEqual([[3, 9, 20]]);
    const want = m.saveState();
    m.mutate(7);
    cps.restore(first.id);
    cps.restore(second.id);
    expect(m.saveState()).toEqual(want);
  });

  it('makes page maps that read like a Map of the same pages', () => {
    const m = new FakeMachine(16, null);
    for (const p of [1, 4, 5, 11]) m.ram.write(p * 4096, Uint8Array.of(p));
    const cp = new Checkpointer(m).capture(null, 'b0');
    const map = new Map(cp.ram);
    expect([...map.keys()]).toEqual([1, 4, 5, 11]);
    expect(cp.ram.size).toBe(4);
    expect([...cp.ram.keys()]).toEqual([...map.keys()]);
    expect([...cp.ram.values()]).toEqual([...map.values()]);
    expect([...cp.ram.entries()]).toEqual([...map.entries()]);
    for (let p = 0; p < 16; p++) {
      expect(cp.ram.get(p)).toBe(map.get(p));
      expect(cp.ram.has(p)).toBe(map.has(p));
    }
    expect(new Set(map.values()).size).toBe(4);
    // What a file's index holds reads back as the same map, and packs to the very bytes it came from.
    const packed = encodePageMap(cp.ram);
    const back = unpackPageMap(packed);
    expect(new Map(back)).toEqual(map);
    expect(packPageMap(back)).toBe(packed);
  });

  it('rewrites only pages that differ on restore and drops caches', () => {
    const m = new FakeMachine(64, null);
    const cps = new Checkpointer(m);
    m.ram.write(0, Uint8Array.of(1));
    const a = cps.capture(null, 'b0');
    m.ram.write(4096 * 5, Uint8Array.of(2));
    m.position = 5;
    cps.capture(a.id, 'b0');
    // Write behind the dirty flags into a page both checkpoints share: a
    // restore that rewrote every page would undo it; ours leaves it alone.
    m.ram.bytes[4096 * 30] = 0xee;
    const before = m.invalidations;
    cps.restore(a.id);
    expect(m.ram.bytes[4096 * 30]).toBe(0xee);
    expect(m.ram.bytes[4096 * 5]).toBe(0);
    expect(m.ram.bytes[0]).toBe(1);
    expect(m.invalidations).toBe(before + 1);
    expect(m.position).toBe(0);
  });

  it('captures a delta over a checkpoint other than the last one', () => {
    const m = new FakeMachine(16, 4);
    const cps = new Checkpointer(m, { fullEvery: 100 });
    m.mutate(1);
    const a = cps.capture(null, 'b0');
    m.mutate(2);
    const b = cps.capture(a.id, 'b0');
    cps.restore(a.id);
    m.mutate(3);
    const snap = m.snapshot();
    const c = cps.capture(b.id, 'b1'); // parent b, though memory came from a
    m.mutate(4);
    cps.restore(c.id);
    expect(diffSnapshots(m.snapshot(), snap)).toBeNull();
    expect(m.saveState()).toEqual(snap.state);
  });

  it('lists the pages that differ between two checkpoints', () => {
    const m = new FakeMachine(16, 4);
    const cps = new Checkpointer(m);
    const a = cps.capture(null, 'b0');
    m.ram.write(4096 * 3 + 1, Uint8Array.of(1));
    m.disk!.write(4096 * 2, Uint8Array.of(1));
    m.position = 9;
    const b = cps.capture(a.id, 'b0');
    expect(cps.diff(a.id, b.id)).toEqual({ ram: [3], disk: [2] });
    expect(cps.diff(b.id, b.id)).toEqual({ ram: [], disk: [] });
  });
});
