import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PageFile, type PageFileOptions } from '../../storage/pagefile.js';
import { PageStore } from '../../storage/pagestore.js';
import { hashToBytes, type Hash128 } from '../../storage/hash.js';
import type { ChunkPlace } from '../../storage/vmi-indexed.js';
import { Checkpointer } from '../../storage/checkpoint.js';
import { PageRing, RING_CONTROL } from '../../storage/pagering.js';
import { hashPage } from '../../storage/statehash.js';
import { FakeMachine, sameBytes } from './fake.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rewind-pagefile-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A record of `length` bytes that says which it is. */
const record = (n: number, length: number) => {
  const r = new Uint8Array(length);
  for (let i = 0; i < length; i++) r[i] = (n * 131 + i * 7) & 255;
  return r;
};
const hash = (n: number) => n.toString(16).padStart(32, '0') as Hash128;
/** Byte-for-byte equality (toEqual on thousands of typed arrays is slow). */
/** Page i of ascending words a few hundred apart: deflated, ~35 µs a page (few long repeats), to save a fifth. */
const slowToDeflate = (i: number) => {
  let v = 0x5a000000;
  const p = new Uint32Array(1024).map((_, k) => (v += (k * 2654435761) >>> 24));
  new DataView(p.buffer).setUint32(0, i);
  return new Uint8Array(p.buffer);
};
const concatDigests = (hashes: Hash128[]) => {
  const out = new Uint8Array(hashes.length * 16);
  hashes.forEach((h, i) => out.set(hashToBytes(h), i * 16));
  return out;
};
const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(b);
const placeOf = (f: PageFile, h: Hash128): ChunkPlace | undefined => {
  let out: ChunkPlace | undefined;
  f.placeAll(hashToBytes(h), (_, p) => (out = { ...p }));
  return out;
};

/** The encoder thread's script as `npm run build:cli` builds it (Node runs no TypeScript in a worker). */
const WORKER = new URL('../../dist/storage/pagefile-worker.js', import.meta.url);

describe.each<[string, PageFileOptions]>([
  ['encoding on the caller’s thread', { encoder: null }],
  ['encoding on its thread', { encoder: WORKER, threadAfter: 0 }],
])('PageFile %s', (_name, options) => {
  it('gives back what was written, from its buffer and from the file, and keeps only the live records on compaction', () => {
    const f = new PageFile(join(dir, 'out.vmi'), options);
    const n = 1500; // more than its write buffer holds
    const length = (i: number) => 1 + ((i * 997) % 4097);
    let total = 0;
    for (let i = 0; i < n; i++) {
      // The caller may reuse what it passes.
      const scratch = record(i, length(i));
      f.write(hash(i), scratch);
      scratch.fill(0);
      total += length(i);
    }
    f.write(hash(3), record(99, 10)); // already held: ignored
    expect(f.bytes).toBe(total);
    for (let i = 0; i < n; i++) {
      expect(f.sizeOf(hash(i))).toBe(length(i));
      expect(same(f.get(hash(i)), record(i, length(i)))).toBe(true);
    }
    expect(f.get(hash(n))).toBeUndefined();

    const live = new Set(Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === 1));
    f.compact(new Set([...live].map(hash)));
    let kept = 0;
    for (const i of live) kept += length(i);
    expect(f.bytes).toBe(kept);
    const store = readdirSync(dir).filter((name) => name.endsWith('.tmp'));
    expect(store).toHaveLength(1);
    // Room for the header of the .vmi it becomes, then each record's data (its encoding byte is held in memory).
    expect(statSync(join(dir, store[0]!)).size).toBe(80 + kept - live.size);
    for (let i = 0; i < n; i++) {
      expect(f.has(hash(i))).toBe(live.has(i));
      if (live.has(i)) expect(same(f.get(hash(i)), record(i, length(i)))).toBe(true);
    }
    // Written on after a compaction, and compacted again.
    f.write(hash(n), record(n, 4097));
    expect(same(f.get(hash(n)), record(n, 4097))).toBe(true);
    f.compact(new Set([hash(1), hash(n)]));
    expect(f.bytes).toBe(length(1) + 4097);
    expect(same(f.get(hash(1)), record(1, length(1)))).toBe(true);
    expect(same(f.get(hash(n)), record(n, 4097))).toBe(true);
    f.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fills the holes that a compaction within its room leaves before it grows, and is rewritten when over it', () => {
    const target = join(dir, 'out.vmi');
    const f = new PageFile(target, options);
    const s = new PageStore({ spill: f });
    // Pages that do not compress: every record is a page long, so each hole takes one exactly.
    const page = (i: number) => {
      const p = new Uint8Array(4096);
      let x = i + 1;
      for (let k = 0; k < 4096; k++) {
        x = (Math.imul(x, 1103515245) + 12345) | 0;
        p[k] = x >>> 24;
      }
      return p;
    };
    const first = Array.from({ length: 600 }, (_, i) => s.put(page(i)));
    s.mark();
    const tmp = () =>
      join(
        dir,
        readdirSync(dir).find((name) => name.endsWith('.tmp'))!,
      );
    expect(s.extentBytes).toBe(600 * 4096);
    // Two pages of three go: the space stays, kept for the pages to come.
    const live = new Set(first.filter((_, i) => i % 3 === 0));
    s.sweep(live, 600 * 4096);
    const size = statSync(tmp()).size;
    expect(size).toBe(80 + 600 * 4096);
    expect(s.bytes).toBe(200 * 4097);
    expect(s.extentBytes).toBe(600 * 4096);
    expect(statSync(tmp()).size).toBe(size);
    const second = Array.from({ length: 400 }, (_, i) => s.put(page(1000 + i)));
    s.mark();
    expect(s.bytes).toBe(600 * 4097);
    expect(s.extentBytes).toBe(600 * 4096);
    expect(statSync(tmp()).size).toBe(size);
    for (const [i, h] of first.entries()) if (live.has(h)) expect(same(s.get(h), page(i))).toBe(true);
    for (const [i, h] of second.entries()) expect(same(s.get(h), page(1000 + i))).toBe(true);
    // Past the holes, the file grows.
    const third = Array.from({ length: 10 }, (_, i) => s.put(page(2000 + i)));
    expect(s.extentBytes).toBe(610 * 4096);
    // A room below what the records span: rewritten to what is live.
    const kept = new Set([...second.slice(0, 50), ...third]);
    s.sweep(kept, 100 * 4096);
    expect(s.extentBytes).toBe(60 * 4096);
    expect(statSync(tmp()).size).toBe(80 + 60 * 4096);
    for (const [i, h] of second.slice(0, 50).entries()) expect(same(s.get(h), page(1000 + i))).toBe(true);
    for (const [i, h] of third.entries()) expect(same(s.get(h), page(2000 + i))).toBe(true);
    // The file it becomes holds each record where its place says.
    s.sweep(new Set(third), 1 << 30);
    const places = third.map((h) => placeOf(f, h)!);
    f.finish((sink) => sink.patch(0, new Uint8Array(80)));
    const file = readFileSync(target);
    for (const [i, { offset, stored }] of places.entries())
      expect(same(file.subarray(offset, offset + stored), page(2000 + i))).toBe(true);
  });

  it('becomes the file it was begun for: the records stay where they are, and the rest is appended', () => {
    const target = join(dir, 'out.vmi');
    const f = new PageFile(target, options);
    for (let i = 0; i < 50; i++) f.write(hash(i), record(i, 100 + i));
    const places = Array.from({ length: 50 }, (_, i) => placeOf(f, hash(i))!);
    expect(places[7]).toEqual({ offset: places[6]!.offset + 105, stored: 106, encoding: record(7, 1)[0] });
    expect(placeOf(f, hash(50))).toBeUndefined();
    // All at once, for digests in order (some not held), the same places.
    const ids = [3, 7, 49, 50, 51].map(hash);
    const found: Array<[number, ChunkPlace]> = [];
    f.placeAll(concatDigests(ids), (i, p) => found.push([i, { ...p }]));
    expect(found).toEqual([0, 1, 2].map((i) => [i, places[[3, 7, 49][i]!]!]));
    let end = 0;
    f.finish((sink) => {
      end = sink.length;
      sink.append(Uint8Array.of(1, 2, 3));
      sink.patch(0, new Uint8Array(80).fill(9));
    });
    const file = readFileSync(target);
    expect(file.length).toBe(end + 3);
    expect([...file.subarray(0, 80)]).toEqual(new Array(80).fill(9));
    for (let i = 0; i < 50; i++) {
      const { offset, stored } = places[i]!;
      expect(same(file.subarray(offset, offset + stored), record(i, 100 + i).subarray(1))).toBe(true);
    }
    expect(readdirSync(dir)).toEqual(['out.vmi']);
  });

  it('holds a page store’s records: each page put is there at once', () => {
    const f = new PageFile(join(dir, 'out.vmi'), options);
    const s = new PageStore({ spill: f });
    const page = (i: number) => record(i, 4096);
    const hashes = Array.from({ length: 300 }, (_, i) => s.put(page(i)));
    expect(s.storedBytes).toBe(0);
    expect(s.bytes).toBe(f.bytes);
    for (const [i, h] of hashes.entries()) expect(same(s.get(h), page(i))).toBe(true);
    s.sweep(new Set(hashes.slice(0, 5)));
    expect(s.bytes).toBe(s.bytesOf(hashes.slice(0, 5)));
    for (let i = 0; i < 5; i++) expect(same(s.get(hashes[i]!), page(i))).toBe(true);
    f.close();
  });

  it('takes pages past a ring’s worth, compacts between them, and bounds its bytes the same way every time', () => {
    const f = new PageFile(join(dir, 'out.vmi'), options);
    const s = new PageStore({ spill: f });
    const page = (i: number) => {
      const p = record(i, 4096);
      // Some pages sparse, some raw, some that deflate: every encoding goes through.
      if (i % 3 === 0) p.fill(0, 0, 2048);
      if (i % 3 === 1) p.fill(i & 255, 1024);
      new DataView(p.buffer).setUint32(2048, i + 1); // each page its own
      return p;
    };
    const first = Array.from({ length: 9000 }, (_, i) => s.put(page(i)));
    s.mark();
    const second = Array.from({ length: 9000 }, (_, i) => s.put(page(9000 + i)));
    const bound = s.boundBytes;
    // From above, without waiting for the pages still on their way: the exact extent is no more.
    const extentBound = s.extentBound;
    const exact = s.bytesOf(new Set(first));
    expect(bound).toBe(exact + 9000 * 4097);
    expect(s.extentBytes).toBeLessThanOrEqual(extentBound);
    expect(s.bytes).toBe(exact + s.bytesOf(new Set(second)));
    expect(s.bytes).toBeLessThanOrEqual(bound);
    for (const i of [0, 1, 2, 8999, 9000, 17999])
      expect(same(s.get((i < 9000 ? first : second)[i % 9000]!), page(i))).toBe(true);
    const live = new Set([...first.filter((_, i) => i % 7 === 0), ...second.slice(-100)]);
    s.sweep(live);
    expect(s.bytes).toBe(s.bytesOf(live));
    const third = Array.from({ length: 20000 }, (_, i) => s.put(page(20000 + i)));
    const boundAfter = s.extentBound;
    expect(s.extentBytes).toBeLessThanOrEqual(boundAfter);
    expect(s.extentBound).toBe(s.extentBytes);
    for (const i of [0, 7, 19999]) expect(same(s.get(third[i]!), page(20000 + i))).toBe(true);
    expect(same(s.get(first[7]!), page(7))).toBe(true);
    expect(s.bytes).toBe(s.bytesOf([...live, ...third]));
    f.close();
  });

  if (options.encoder)
    it('keeps every page handed over while its thread, idle between bursts, readies the ring’s memory', () => {
      const f = new PageFile(join(dir, 'out.vmi'), options);
      const s = new PageStore({ spill: f });
      const page = (i: number) => {
        const p = record(i, 4096);
        new DataView(p.buffer).setUint32(0, i + 1); // each page its own, from its first word (the word touched)
        return p;
      };
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const hashes: Hash128[] = [];
      for (let burst = 0; burst < 40; burst++) {
        for (let i = 0; i < 500; i++) hashes.push(s.put(page(hashes.length)));
        s.mark();
        // The thread catches up and spends its idle time on the ring's next slots.
        Atomics.wait(pause, 0, 0, 5);
      }
      for (const [i, h] of hashes.entries()) if (!same(s.get(h), page(i))) expect.fail(`page ${i} came back changed`);
      f.close();
    });

  if (options.encoder)
    it('starts its thread only after so many pages, and writes the same file as without one', () => {
      const page = (i: number) => {
        const p = record(i, 4096);
        if (i % 2 === 0) p.fill(0, 0, 2048);
        return p;
      };
      const files = [null, 100].map((after) => {
        const target = join(dir, `out-${after}.vmi`);
        const f = new PageFile(target, after === null ? { encoder: null } : { encoder: WORKER, threadAfter: after });
        const s = new PageStore({ spill: f });
        const hashes = Array.from({ length: 300 }, (_, i) => s.put(page(i)));
        for (const i of [0, 99, 100, 299]) expect(same(s.get(hashes[i]!), page(i))).toBe(true);
        f.finish((sink) => sink.patch(0, new Uint8Array(80)));
        return readFileSync(target);
      });
      expect(files[1]!.equals(files[0]!)).toBe(true);
    });

  if (options.encoder)
    it('starts its thread when told that many pages are coming, before they are put, and writes the same file', () => {
      const page = (i: number) => record(i, 4096);
      const started = (f: PageFile) => (f as unknown as { started: object | null }).started !== null;
      const files: Buffer[] = [];
      for (const expected of [0, 100, 5000]) {
        const target = join(dir, `out-${expected}.vmi`);
        // Past the first 20 pages, it would start its thread only at the 20th page put.
        const f = new PageFile(target, { encoder: WORKER, threadAfter: 80 });
        f.expect(expected);
        // Fewer pages than it starts its thread for change nothing.
        expect(started(f)).toBe(expected >= 20);
        const s = new PageStore({ spill: f });
        const hashes = Array.from({ length: 300 }, (_, i) => s.put(page(i)));
        for (const i of [0, 150, 299]) expect(same(s.get(hashes[i]!), page(i))).toBe(true);
        f.finish((sink) => sink.patch(0, new Uint8Array(80)));
        files.push(readFileSync(target));
      }
      expect(files[1]!.equals(files[0]!)).toBe(true);
      expect(files[2]!.equals(files[0]!)).toBe(true);
    });

  if (options.encoder)
    it('encodes the cheap way (sparse or raw) once its ring is full, rather than make the guest wait, and reads each page back', () => {
      // Handed over at a copy's pace, 2,000 slowly deflated pages fill a ring of 512.
      const page = slowToDeflate;
      const f = new PageFile(join(dir, 'out.vmi'), { ...options, ringSlots: 512 });
      const s = new PageStore({ spill: f });
      const hashes = Array.from({ length: 2000 }, (_, i) => s.put(page(i)));
      const encoding = (h: Hash128) => f.get(h)![0]!;
      hashes.forEach((h, i) => {
        if (i % 97 === 0) expect(same(s.get(h), page(i))).toBe(true);
      });
      expect(hashes.filter((h) => encoding(h) === 0).length).toBeGreaterThan(0); // raw, in a hurry
      // Caught up (all encoded), it deflates again.
      const after = Array.from({ length: 10 }, (_, i) => s.put(page(30_000 + i)));
      expect(after.map(encoding)).toEqual(after.map(() => 1));
      expect(same(s.get(after[9]!), page(30_009))).toBe(true);
      f.close();
    });

  if (options.encoder)
    it('does not wait for deflate when a recording asks what its pages take: those it would wait for are encoded the cheap way', () => {
      const page = slowToDeflate;
      const f = new PageFile(join(dir, 'out.vmi'), options);
      const s = new PageStore({ spill: f });
      const hashes = Array.from({ length: 2000 }, (_, i) => s.put(page(i)));
      f.mark();
      const bound = f.boundBytes;
      const sizes = hashes.map((h) => f.sizeOf(h)!);
      expect(bound).toBe(sizes.reduce((a, b) => a + b, 0));
      expect(hashes.filter((h) => f.get(h)![0] === 0).length).toBeGreaterThan(0); // raw, in a hurry
      hashes.forEach((h, i) => {
        if (i % 97 === 0) expect(same(s.get(h), page(i))).toBe(true);
      });
      f.close();
    });

  if (options.encoder)
    it('does not wait long for deflate as it ends: what its thread would take long over is encoded the cheap way', async () => {
      // Handed over at a copy's pace, 8,000 pages of ~35 µs each: fewer than the thread encodes the cheap way of its
      // own accord (a quarter of its ring), which would take it ~280 ms.
      const page = slowToDeflate;
      const pages = Array.from({ length: 8000 }, (_, i) => page(i));
      const target = join(dir, 'out.vmi');
      const f = new PageFile(target, { ...options, ringSlots: 32768 });
      // At a copy's pace once the thread has readied its ring's slots (it sleeps then): into fresh ones, each copy
      // would wait for the memory's fault, and the thread would keep up.
      f.expect(8000);
      const ring = () => (f as unknown as { started: { ring: PageRing } | null }).started?.ring;
      for (let i = 0; i < 500 && !ring()?.control[RING_CONTROL.SLEEPING]; i++)
        await new Promise((r) => setTimeout(r, 10));
      const s = new PageStore({ spill: f });
      const hashes = pages.map((p) => s.put(p));
      f.finish((sink) => sink.patch(0, new Uint8Array(80)));
      const places = hashes.map((h) => placeOf(f, h)!);
      expect(places.filter((p) => p.encoding === 0).length).toBeGreaterThan(0); // raw, in a hurry
      const file = readFileSync(target);
      for (const i of [0, 4000, 7999]) {
        const { offset, stored, encoding } = places[i]!;
        if (encoding === 0) expect(file.subarray(offset, offset + stored).equals(page(i))).toBe(true);
      }
    });

  if (options.encoder)
    it.each([
      ['a few hundred pages', 1024, 700],
      ['thousands of pages, hashed as the guest runs on', 4096, 4500],
    ])(
      'hashes a checkpoint’s pages on its thread too (%s), stores them from its copies, and writes the same file as without one',
      async (_what, ramPages, writes) => {
        const files: Buffer[] = [];
        for (const encoder of [null, WORKER]) {
          const target = join(dir, `cp-${encoder === null ? 'here' : 'thread'}.vmi`);
          const f = new PageFile(target, { encoder, threadAfter: 0 });
          let hashedThere = 0;
          let hashedLater = 0;
          const hashPages = f.hashPages.bind(f);
          f.hashPages = (memory, pages, digests) => {
            const there = hashPages(memory, pages, digests);
            if (there) hashedThere += pages.length;
            return there;
          };
          const hashPagesLater = f.hashPagesLater.bind(f);
          f.hashPagesLater = (memory, pages, owed) => {
            const finish = hashPagesLater(memory, pages, owed);
            if (finish) hashedLater += pages.length;
            return finish;
          };
          if (encoder) {
            f.expect(1 << 20);
            const ring = () => (f as unknown as { started: { ring: PageRing } | null }).started?.ring;
            for (let i = 0; i < 500 && !ring()?.control[RING_CONTROL.STARTED]; i++)
              await new Promise((r) => setTimeout(r, 10));
          }
          const m = new FakeMachine(ramPages, 512);
          const cps = new Checkpointer(m, { pages: new PageStore({ spill: f }), fullEvery: 3 });
          const snapshots = new Map<string, ReturnType<FakeMachine['snapshot']>>();
          let parent: string | null = null;
          for (let round = 0; round < 6; round++) {
            // Hundreds of pages each time: new ones, zero ones, copies of another, and some written as they were.
            for (let k = 0; k < writes; k++) {
              const memory = k % 3 === 0 && m.disk ? m.disk : m.ram;
              const page = (k * 7919 + round * 104729) % memory.pageCount;
              const content = k % 11 === 0 ? new Uint8Array(4096) : record(k % 13 === 0 ? 5 : round * 1000 + k, 4096);
              memory.write(page * 4096, k % 17 === 0 ? memory.bytes.slice(page * 4096, page * 4096 + 4096) : content);
            }
            m.position += 1000;
            const cp = cps.capture(parent, 'b0');
            parent = cp.id;
            snapshots.set(cp.id, m.snapshot());
            // Every other round, the capture is finished by the next one (a busy guest's is: see Checkpointer.complete).
            if (round % 2 === 0) continue;
            for (const [memory, table] of [
              [m.ram, cps.hasher.ram],
              [m.disk!, cps.hasher.disk!],
            ] as const)
              for (let i = 0; i < memory.pageCount; i++)
                if (table.hash(i) !== hashPage(memory.bytes.subarray(i * 4096, (i + 1) * 4096)))
                  expect.fail(`round ${round}: page ${i} has the wrong digest`);
          }
          expect(ramPages > 1024 ? hashedLater > 0 : hashedThere > 0).toBe(encoder !== null);
          for (const [id, snap] of snapshots) {
            m.mutate(id.length);
            cps.restore(id);
            const now = m.snapshot();
            expect(sameBytes(now.ram, snap.ram) && sameBytes(now.disk, snap.disk)).toBe(true);
          }
          f.finish((sink) => sink.patch(0, new Uint8Array(80)));
          files.push(readFileSync(target));
        }
        expect(files[1]!.equals(files[0]!)).toBe(true);
      },
    );

  if (options.encoder)
    it('says it is ready for pages once its thread has readied the slots they would take, and not before', async () => {
      const f = new PageFile(join(dir, 'ready.vmi'), options);
      // No thread yet: nothing to wait for.
      expect(f.readyFor(3000)).toBe(true);
      f.expect(3000);
      expect(f.readyFor(3000)).toBe(false);
      for (let i = 0; i < 500 && !f.readyFor(3000); i++) await new Promise((r) => setTimeout(r, 10));
      expect(f.readyFor(3000)).toBe(true);
      // Past what was asked for (and the few it readies ahead), not yet.
      expect(f.readyFor(16_000)).toBe(false);
      f.close();
    });

  if (options.encoder)
    it('hashes runs of pages that wrap round the end of its ring as the pages they are', async () => {
      const f = new PageFile(join(dir, 'wrap.vmi'), { ...options, threadAfter: 0, ringSlots: 100 });
      f.expect(100);
      const ring = () => (f as unknown as { started: { ring: PageRing } | null }).started?.ring;
      for (let i = 0; i < 500 && !ring()?.control[RING_CONTROL.STARTED]; i++)
        await new Promise((r) => setTimeout(r, 10));
      // 95 pages that take the thread long to encode fill the ring but for 5 slots: a new lap cannot start at its
      // first, and the run of 45 pages hashed next goes on from its last slots there.
      const s = new PageStore({ spill: f });
      for (let i = 0; i < 95; i++) s.put(slowToDeflate(i));
      const memory = new Uint8Array(45 * 4096);
      for (let p = 0; p < 45; p++) memory.set(record(p, 4096), p * 4096);
      const pages = Array.from({ length: 45 }, (_, k) => k);
      const digests = new Uint8Array(pages.length * 16);
      expect(f.hashPages(memory, pages, digests)).toBe(true);
      pages.forEach((p, k) =>
        expect(digests.subarray(k * 16, k * 16 + 16)).toEqual(
          hashToBytes(hashPage(memory.subarray(p * 4096, (p + 1) * 4096))),
        ),
      );
      f.close();
    });

  if (options.encoder)
    it('says how far its file is written without waiting for the pages being hashed or encoded', async () => {
      const f = new PageFile(join(dir, 'written.vmi'), options);
      f.expect(1 << 20);
      const ring = () => (f as unknown as { started: { ring: PageRing } | null }).started?.ring;
      for (let i = 0; i < 500 && !ring()?.control[RING_CONTROL.STARTED]; i++)
        await new Promise((r) => setTimeout(r, 10));
      const memory = new Uint8Array(3000 * 4096);
      for (let p = 0; p < 3000; p++) memory.set(record(p, 4096), p * 4096);
      let owed = 0;
      const finish = f.hashPagesLater(
        memory,
        Array.from({ length: 3000 }, (_, p) => p),
        () => {
          owed++;
          finish!();
        },
      );
      expect(finish).not.toBeNull();
      // None of the batch's pages is taken on before it is finished.
      expect(f.extentWritten).toBe(0);
      expect(owed).toBe(0);
      // The extent has the batch finished and waits for every page's encoding.
      const extent = f.extent;
      expect(owed).toBe(1);
      expect(extent).toBeGreaterThan(3000);
      expect(f.extentWritten).toBe(extent);
      f.close();
    });

  if (options.encoder)
    it('says so, naming the problem, when its thread cannot start', async () => {
      const f = new PageFile(join(dir, 'out.vmi'), { encoder: new URL('./no-such-worker.js', WORKER), threadAfter: 0 });
      new PageStore({ spill: f }).put(record(1, 4096));
      // The thread's failure is an event: it arrives while the recording's thread yields, as the CLI does between
      // slices. Should it come later than this wait (a loaded host), the page file gives up on the thread's start.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(() => f.bytes).toThrow(
        /(cannot write the recording's page store|could not start its thread) .*no-such-worker/,
      );
      f.close();
    });
});
