import { describe, expect, it } from 'vitest';
import { deflateSync, inflateSync } from 'fflate';
import { RewindError } from '../../core/errors.js';
import { Checkpointer } from '../../storage/checkpoint.js';
import { packPlain, unpackPlain } from '../../storage/codec.js';
import { bytesToHash, hash128, hashToBytes, type Hash128 } from '../../storage/hash.js';
import { PageStore } from '../../storage/pagestore.js';
import { pagePairHasher } from '../../storage/pagehash.js';
import { Timeline } from '../../storage/timeline.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MemorySink, type ByteSource } from '../../storage/bytes.js';
import type { Checkpoint } from '../../storage/checkpoint.js';
import { ZERO_PAGE_HASH } from '../../storage/statehash.js';
import {
  VMI_HEADER_SIZE,
  planIndexed,
  readVmi,
  readVmiSummary,
  recordingFrom,
  writeVmi,
  writeVmiTo,
  type Recording,
} from '../../storage/vmi.js';
import { FakeMachine } from './fake.js';

/** A small but complete recording: two branches, events, checkpoints (full and delta), a disk, a kernel. */
function makeRecording(steps = 12, keepLog = true): Recording {
  const m = new FakeMachine(16, 4);
  const kernel = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 255);
  m.ram.write(0, kernel);
  m.disk!.write(4096, new Uint8Array(100).fill(0x5a));
  const cps = new Checkpointer(m, { fullEvery: 3 });
  const diskBase = new Map([[1, cps.hasher.disk!.hash(1)]]);
  cps.pages.put(m.disk!.page(1).slice());
  const t = Timeline.create('main');
  const root = t.root().id;
  let last = cps.capture(null, root);
  t.addCheckpoint(root, { id: last.id, position: last.position });
  const ids = [last];
  for (let i = 1; i <= steps; i++) {
    m.mutate(i * 7919);
    t.appendEvents(root, [{ position: m.position, time: m.position, device: 'uart0', payload: Uint8Array.of(i) }]);
    last = cps.capture(last.id, root);
    t.addCheckpoint(root, { id: last.id, position: last.position });
    t.extendTo(root, m.position);
    ids.push(last);
  }
  const mid = ids[Math.floor(steps / 2)]!;
  const kid = t.fork(root, mid.position, 'other');
  cps.restore(mid.id);
  m.mutate(424242);
  t.appendEvents(kid, [
    { position: m.position, time: 5, device: 'uart0', payload: [1, 2, 3] },
    { position: m.position, time: 6, device: 'syscon', payload: 'hi' },
  ]);
  const k = cps.capture(mid.id, kid);
  t.addCheckpoint(kid, { id: k.id, position: k.position });
  t.extendTo(kid, m.position);
  t.addBookmark(kid, 'here', m.position);
  return recordingFrom({
    config: { ramSize: m.ram.size, diskSize: m.disk!.size, machine: { isa: 'rv32imac', harts: 1 } },
    kernel,
    disk: diskBase,
    timeline: t.state,
    timelineLog: keepLog ? t.log : null,
    checkpoints: cps.all(),
    pages: cps.pages,
  });
}

function expectBad(bytes: Uint8Array, message?: RegExp, open: (b: Uint8Array) => unknown = readVmi): RewindError {
  let err: unknown;
  try {
    open(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, 'readVmi accepted a bad file').toBeInstanceOf(RewindError);
  const re = err as RewindError;
  expect(re.code).toBe('bad-vmi');
  expect(re.message).not.toMatch(/\n/);
  if (message) expect(re.message).toMatch(message);
  return re;
}

/** Opens a file and reads all of it: the kernel, the disk image, every checkpoint's page maps and every page they name. */
const readAll = (bytes: Uint8Array | ByteSource): Recording => readVmi(bytes, { whole: true });

interface Parts {
  index: Record<string, any>;
  /** The chunks' bytes, between header and index. */
  data: Uint8Array;
}

/** Splits a file (version 2 or 3) into its index (decoded) and chunk data. */
function split(file: Uint8Array): Parts {
  const dv = new DataView(file.buffer, file.byteOffset, file.length);
  const at = dv.getUint32(24, true);
  const body = file.subarray(at);
  const index = unpackPlain(dv.getUint16(10, true) & 1 ? inflateSync(body) : body) as Record<string, any>;
  return { index, data: file.subarray(VMI_HEADER_SIZE, at) };
}

/** Rebuilds a file around a changed index (valid header and hashes), keeping the chunk data. */
function reframe(
  file: Uint8Array,
  change: (index: Record<string, any>) => void,
  opts: { version?: number; rawLength?: number } = {},
): Uint8Array {
  const { index, data } = split(file);
  change(index);
  return frame(packPlain(index), data, opts);
}

function header(indexOffset: number, index: Uint8Array, opts: { version?: number; rawLength?: number }): Uint8Array {
  const h = new Uint8Array(VMI_HEADER_SIZE);
  const dv = new DataView(h.buffer);
  const u64 = (at: number, v: number) => {
    dv.setUint32(at, v % 2 ** 32, true);
    dv.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
  };
  h.set(new TextEncoder().encode('REWINDVM'));
  dv.setUint16(8, opts.version ?? 3, true);
  u64(16, indexOffset + index.length);
  u64(24, indexOffset);
  u64(32, index.length);
  u64(40, opts.rawLength ?? index.length);
  h.set(hashToBytes(hash128(index)), 48);
  h.set(hashToBytes(hash128(h.subarray(0, 64))), 64);
  return h;
}

function frame(index: Uint8Array, data: Uint8Array, opts: { version?: number; rawLength?: number } = {}): Uint8Array {
  const out = new Uint8Array(VMI_HEADER_SIZE + data.length + index.length);
  out.set(header(VMI_HEADER_SIZE + data.length, index, opts));
  out.set(data, VMI_HEADER_SIZE);
  out.set(index, VMI_HEADER_SIZE + data.length);
  return out;
}

/** A chunk table row: id, kind, encoding, stored and raw length. */
type ChunkRow = [Uint8Array, number, number, number, number];

/**
 * Chunk table columns as plain arrays, edited, and back; the offsets (version
 * 3) put the chunks back to back in table order, as `frame` lays them out,
 * unless `offsets` gives them.
 */
function editChunks(index: Record<string, any>, change: (rows: ChunkRow[]) => void, offsets?: number[]) {
  const c = index.chunks;
  const n = c.id.length / 16;
  const u32 = (b: Uint8Array, i: number) => new DataView(b.buffer, b.byteOffset).getUint32(i * 4, true);
  const rows = Array.from({ length: n }, (_, i) => [
    c.id.slice(i * 16, i * 16 + 16),
    c.kind[i],
    c.encoding[i],
    u32(c.stored, i),
    u32(c.raw, i),
  ]) as ChunkRow[];
  change(rows);
  index.chunks = chunkColumns(rows, offsets);
}

function chunkColumns(rows: ChunkRow[], offsets?: number[]) {
  const n = rows.length;
  const id = new Uint8Array(n * 16);
  const stored = new Uint8Array(n * 4);
  const raw = new Uint8Array(n * 4);
  const offset = new Uint8Array(n * 8);
  let at = VMI_HEADER_SIZE;
  rows.forEach((r, i) => {
    id.set(r[0], i * 16);
    new DataView(stored.buffer).setUint32(i * 4, r[3], true);
    new DataView(raw.buffer).setUint32(i * 4, r[4], true);
    const o = offsets?.[i] ?? at;
    new DataView(offset.buffer).setUint32(i * 8, o % 2 ** 32, true);
    new DataView(offset.buffer).setUint32(i * 8 + 4, Math.floor(o / 2 ** 32), true);
    at += r[3];
  });
  return {
    id,
    kind: Uint8Array.from(rows, (r) => r[1]),
    encoding: Uint8Array.from(rows, (r) => r[2]),
    stored,
    raw,
    offset,
  };
}

/** A raw-deflate stream of `n` zero bytes built by hand (fixed Huffman: one literal 0, then length-258 distance-1 copies). */
function zeroBomb(n: number): Uint8Array {
  const copies = Math.floor((n - 1) / 258);
  const tail = n - 1 - copies * 258;
  const out = new Uint8Array(Math.ceil((3 + 8 + copies * 13 + tail * 8 + 7) / 8) + 4);
  let len = 0;
  let acc = 0;
  let bits = 0;
  const put = (v: number, k: number) => {
    acc |= v << bits;
    bits += k;
    while (bits >= 8) {
      out[len++] = acc & 255;
      acc >>>= 8;
      bits -= 8;
    }
  };
  // Huffman codes go out most significant bit first: reverse them once.
  const rev = (v: number, k: number) => {
    let r = 0;
    for (let i = 0; i < k; i++) r |= ((v >>> i) & 1) << (k - 1 - i);
    return r;
  };
  const lit0 = rev(0b00110000, 8);
  put(1, 1); // BFINAL
  put(1, 2); // BTYPE 01: fixed Huffman
  put(lit0, 8); // literal 0
  const copy = rev(0b11000101, 8) | (rev(0, 5) << 8); // length code 285 (258 bytes), distance code 0 (1 back)
  for (let i = 0; i < copies; i++) put(copy, 13);
  for (let i = 0; i < tail; i++) put(lit0, 8);
  put(0, 7); // end of block
  if (bits > 0) out[len++] = acc;
  return out.slice(0, len);
}

describe('.vmi round trip', () => {
  it('reads back what it wrote, and writes it again bit for bit', () => {
    const rec = makeRecording();
    const bytes = writeVmi(rec);
    const back = readAll(bytes);
    expect(new DataView(bytes.buffer).getUint16(8, true)).toBe(3);
    expect(back.config).toEqual(rec.config);
    expect(back.kernel).toEqual(rec.kernel);
    expect(back.disk && new Map(back.disk)).toEqual(rec.disk && new Map(rec.disk));
    expect(back.timeline).toEqual(rec.timeline);
    const plain = (cps: Checkpoint[]) =>
      cps
        .map((c) => ({ ...c, ram: new Map(c.ram), disk: c.disk && new Map(c.disk) }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(plain(back.checkpoints)).toEqual(plain(rec.checkpoints));
    for (const h of pagesOf(rec)) expect(back.pages.get(h)).toEqual(rec.pages.get(h));
    expect(back.stored).toMatchObject({ pages: pagesOf(rec).size, kernelBytes: rec.kernel!.length });
    expect(writeVmi(back)).toEqual(bytes);
    expect(writeVmi(makeRecording())).toEqual(bytes); // deterministic
  });

  it('streams to a sink the same bytes it returns', () => {
    const rec = makeRecording();
    const sink = new MemorySink();
    sink.append(Uint8Array.of(1, 2, 3)); // what came before in the sink stays untouched
    writeVmiTo(rec, sink);
    expect(sink.bytes().subarray(3)).toEqual(writeVmi(rec));
  });

  it('writes the same bytes from an index planned before (as a recording ends, while its pages are written)', () => {
    const rec = makeRecording();
    const plan = planIndexed(rec);
    const sink = new MemorySink();
    writeVmiTo(rec, sink, null, plan);
    expect(sink.bytes()).toEqual(writeVmi(rec));
    expect(() => writeVmiTo(makeRecording(), new MemorySink(), null, plan)).toThrow(/plan of another recording/);
  });

  it('restores every checkpoint of an imported file to its recorded state hash', () => {
    const back = readVmi(writeVmi(makeRecording()));
    const m = new FakeMachine(16, 4);
    const cps = new Checkpointer(m, { pages: new PageStore({ cold: back.pages }) });
    for (const cp of back.checkpoints) cps.add(cp);
    for (const cp of [...back.checkpoints].reverse()) {
      cps.restore(cp.id);
      expect(m.position).toBe(cp.position);
    }
  });

  it('reads a file without the timeline log', () => {
    const back = readVmi(writeVmi(makeRecording(4, false)));
    expect(back.timelineLog).toBeNull();
  });

  it('opens a file past 4 GiB, reading only its header, its index and the chunks used', () => {
    const good = writeVmi(makeRecording());
    const { index, data } = split(good);
    index.config.ramSize = 256 * 1024 * 1024; // lets an image chunk be 256 MiB
    const FILL = 256 * 1024 * 1024;
    const fillers = 17; // 4.25 GiB of image chunks nothing names, sorted before the real ones
    editChunks(index, (rows) =>
      rows.unshift(
        ...Array.from({ length: fillers }, (_, k): ChunkRow => [
          Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? k : 0)),
          1,
          0,
          FILL,
          FILL,
        ]),
      ),
    );
    const packed = packPlain(index);
    const dataAt = VMI_HEADER_SIZE + fillers * FILL;
    const head = header(dataAt + data.length, packed, {});
    const size = dataAt + data.length + packed.length;
    const reads: Array<[number, number]> = [];
    const source: ByteSource = {
      size,
      read(offset, length) {
        reads.push([offset, length]);
        const out = new Uint8Array(length);
        for (const [at, part] of [
          [0, head],
          [dataAt, data],
          [dataAt + data.length, packed],
        ] as const) {
          const from = Math.max(offset, at);
          const to = Math.min(offset + length, at + part.length);
          if (from < to) out.set(part.subarray(from - at, to - at), from - offset);
        }
        return out;
      },
    };
    expect(size).toBeGreaterThan(2 ** 32);
    const back = readAll(source);
    expect(back.kernel).toEqual(makeRecording().kernel);
    expect(reads.every(([o, n]) => o + n <= VMI_HEADER_SIZE || o >= dataAt)).toBe(true);
    expect(reads.reduce((n, [, len]) => n + len, 0)).toBeLessThan(1 << 20);
  });
});

describe('.vmi chunk places (version 3), and version 2 files', () => {
  const good = writeVmi(makeRecording(6));
  const rows = (index: Record<string, any>) => {
    const n = index.chunks.kind.length;
    const dv = new DataView(index.chunks.stored.buffer, index.chunks.stored.byteOffset);
    return Array.from({ length: n }, (_, i) => dv.getUint32(i * 4, true));
  };

  it('reads chunks that lie in any order, with bytes no chunk names between them (a streamed recording)', () => {
    const { index, data } = split(good);
    const sizes = rows(index);
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    // Last chunk first, each after 7 bytes of junk: a page store written as it ran leaves such gaps.
    const parts: Uint8Array[] = [];
    const offsets: number[] = [];
    let at = VMI_HEADER_SIZE;
    for (let i = sizes.length - 1; i >= 0; i--) {
      parts.push(Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3));
      at += 7;
      offsets[i] = at;
      parts.push(data.subarray(starts[i]!, starts[i]! + sizes[i]!));
      at += sizes[i]!;
    }
    editChunks(index, () => {}, offsets);
    const moved = new Uint8Array(at - VMI_HEADER_SIZE);
    let p = 0;
    for (const part of parts) {
      moved.set(part, p);
      p += part.length;
    }
    const file = frame(packPlain(index), moved);
    const back = readAll(file);
    const want = readAll(good);
    expect(back.kernel).toEqual(want.kernel);
    for (const h of pagesOf(want)) expect(back.pages.page!(h)).toEqual(want.pages.page!(h));
    expect(writeVmi(back)).toEqual(good);
  });

  it('rejects a chunk placed over the header or past the index', () => {
    const { index } = split(good);
    const n = rows(index).length;
    expectBad(
      reframe(good, (m) => editChunks(m, () => {}, [40])),
      /chunk 0 \(\d+ bytes at 40\) lies outside/,
    );
    expectBad(
      reframe(good, (m) => editChunks(m, () => {}, [...Array<number>(n - 1).fill(VMI_HEADER_SIZE), 2 ** 40])),
      new RegExp(`chunk ${n - 1} \\(\\d+ bytes at ${2 ** 40}\\) lies outside`),
    );
  });

  it('still opens version 2 files, whose chunks lie back to back in table order', () => {
    const v2 = reframe(
      good,
      (m) => {
        delete m.chunks.offset;
      },
      { version: 2 },
    );
    expect(new DataView(v2.buffer).getUint16(8, true)).toBe(2);
    expect(writeVmi(readAll(v2))).toEqual(good);
    const { index, data } = split(v2);
    const gap = new Uint8Array(data.length + 5);
    gap.set(data);
    expectBad(frame(packPlain(index), gap, { version: 2 }), /chunks cover \d+ bytes but the file holds \d+/);
  });
});

describe('.vmi version 1 files still open', () => {
  const fixtures = fileURLToPath(new URL('../fixtures/vmi-v1/', import.meta.url));
  for (const name of ['echo-fork.vmi', 'virtio-disk.vmi', 'bench-25m.vmi']) {
    it(`${name}: reads it, and writes it as version 2 with the same contents`, () => {
      const v1 = readAll(readFileSync(fixtures + name));
      const again = readAll(writeVmi(v1));
      expect(again.timeline).toEqual(v1.timeline);
      expect(again.kernel).toEqual(v1.kernel);
      expect(again.disk && new Map(again.disk)).toEqual(v1.disk && new Map(v1.disk));
      expect(again.console).toEqual(v1.console);
      expect(again.checkpoints.map((c) => [c.id, c.stateHash, new Map(c.ram)])).toEqual(
        v1.checkpoints.map((c) => [c.id, c.stateHash, new Map(c.ram)]),
      );
    });
  }

  it('still rejects a damaged version 1 file as a whole', () => {
    const v1 = new Uint8Array(readFileSync(fixtures + 'echo-fork.vmi'));
    v1[v1.length - 100] ^= 4;
    expectBad(v1, /integrity hash mismatch/);
  });
});

describe('.vmi hostile files', () => {
  const good = writeVmi(makeRecording(6));

  it('rejects a flipped byte anywhere: in the header or index when it opens, in a chunk when it is read', () => {
    const indexAt = new DataView(good.buffer).getUint32(24, true);
    // Every byte of the header, a spread of the index's and the chunks' (each flip costs a whole open and read).
    for (let pos = 0; pos < good.length; pos += pos < VMI_HEADER_SIZE ? 1 : pos >= indexAt ? 3 : 11) {
      const bad = good.slice();
      bad[pos] ^= 1 << (pos % 8);
      expectBad(bad, undefined, readAll);
    }
  });

  it('names the chunk that is bad, and opens the file regardless when nothing reads it', () => {
    const { index } = split(good);
    const bad = good.slice();
    bad[VMI_HEADER_SIZE + 10] ^= 0x40; // inside the first chunk
    const rec = readVmi(bad);
    const first = bytesToHash(index.chunks.id.subarray(0, 16));
    const err = expectBad(bad, undefined, readAll);
    expect(err.message).toContain(first);
    expect(rec.timeline).toEqual(readVmi(good).timeline);
  });

  it('writes pages straight into memory (a restore), read together, with the same checks as reading each', () => {
    const { index } = split(good);
    const pages = [...pagesOf(readVmi(good))];
    const rec = readVmi(good);
    // In an order that is not the file's, with a page twice, a digest it lacks and one that is no digest.
    const hashes = [...pages].reverse();
    hashes.splice(1, 0, pages[0]!, 'f'.repeat(32) as Hash128, 'not a digest' as Hash128);
    for (const misalign of [0, 1]) {
      // Pages of one buffer, aligned as RAM's are, and not.
      const buf = new Uint8Array(hashes.length * 4096 + 4 + misalign).fill(0xee);
      const outs = hashes.map((_, k) => buf.subarray(4 + misalign + k * 4096, 4 + misalign + (k + 1) * 4096));
      expect(rec.pages.pagesInto!(hashes, outs)).toEqual([2, 3]);
      hashes.forEach((h, k) => {
        if (k === 2 || k === 3) expect(outs[k]!.every((b) => b === 0xee)).toBe(true);
        else expect(Buffer.from(outs[k]!).equals(rec.pages.page!(h)!)).toBe(true);
      });
    }
    const bad = good.slice();
    bad[VMI_HEADER_SIZE + 10] ^= 0x40; // inside the first chunk
    const first = bytesToHash(index.chunks.id.subarray(0, 16));
    const out = new Uint8Array(4096);
    expect(() => readVmi(bad).pages.pagesInto!([first], [out])).toThrow(new RegExp(`page ${first} is damaged`));
  });

  it('checks pages written into a memory it hashes pages in (RAM) there, two at a time, as strictly', () => {
    const { index } = split(good);
    const rec = readVmi(good);
    const hashes = [...pagesOf(rec)];
    const memory = new WebAssembly.Memory({ initial: Math.ceil(((hashes.length + 1) * 4096) / 65536) });
    expect(pagePairHasher(memory)).not.toBeNull();
    const outs = hashes.map((_, k) => new Uint8Array(memory.buffer, 4096 + k * 4096, 4096));
    expect(rec.pages.pagesInto!(hashes, outs)).toEqual([]);
    hashes.forEach((h, k) => expect(Buffer.from(outs[k]!).equals(rec.pages.page!(h)!)).toBe(true));
    // A damaged page is named whether it is the first or the second of a pair (file order).
    const offsets = new DataView(index.chunks.offset.buffer, index.chunks.offset.byteOffset);
    const rows = [0, 1, 2].filter((r) => index.chunks.kind[r] === index.chunks.kind[0]);
    for (const row of rows.slice(0, 2)) {
      const bad = good.slice();
      bad[offsets.getUint32(row * 8, true) + 5] ^= 0x10;
      const named = rows.slice(0, 2).map((r) => bytesToHash(index.chunks.id.subarray(r * 16, r * 16 + 16)));
      const damaged = bytesToHash(index.chunks.id.subarray(row * 16, row * 16 + 16));
      expect(() => readVmi(bad).pages.pagesInto!(named, outs.slice(0, 2))).toThrow(
        new RegExp(`page ${damaged} is damaged`),
      );
    }
  });

  it('reads raw pages that lie one after another straight into memory that does too, checked as strictly', () => {
    // Random words are kept raw; the file holds its pages one after another in digest order.
    const m = new FakeMachine(16, null);
    let x = 12345;
    m.ram.write(
      0,
      Uint8Array.from({ length: 16 * 4096 }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24),
    );
    const cps = new Checkpointer(m);
    const t = Timeline.create('main');
    const cp = cps.capture(null, t.root().id);
    t.addCheckpoint(t.root().id, { id: cp.id, position: cp.position });
    const bytes = writeVmi(
      recordingFrom({
        config: { ramSize: m.ram.size, diskSize: null, machine: { isa: 'rv32imac', harts: 1 } },
        kernel: null,
        disk: null,
        timeline: t.state,
        timelineLog: t.log,
        checkpoints: cps.all(),
        pages: cps.pages,
      }),
    );
    const inPlace: number[] = [];
    const sourceOf = (b: Uint8Array): ByteSource => ({
      size: b.length,
      read: (offset, length) => b.slice(offset, offset + length),
      readInto(offset, into) {
        inPlace.push(into.length);
        into.set(b.subarray(offset, offset + into.length));
      },
    });
    const { index } = split(bytes);
    const hashes = Array.from({ length: index.chunks.kind.length }, (_, r) =>
      bytesToHash(index.chunks.id.subarray(r * 16, r * 16 + 16)),
    );
    expect(hashes.length).toBe(16);
    const memory = new WebAssembly.Memory({ initial: 2 });
    const outs = hashes.map((_, k) => new Uint8Array(memory.buffer, 4096 + k * 4096, 4096));
    expect(readVmi(sourceOf(bytes)).pages.pagesInto!(hashes, outs)).toEqual([]);
    expect(inPlace).toEqual([16 * 4096]);
    hashes.forEach((h, k) => expect(hash128(outs[k]!)).toBe(h));
    // A flipped byte in any of them is found, and the page named.
    const offsets = new DataView(index.chunks.offset.buffer, index.chunks.offset.byteOffset);
    for (const row of [0, 7, 15]) {
      const bad = bytes.slice();
      bad[offsets.getUint32(row * 8, true) + 100] ^= 1;
      expect(() => readVmi(sourceOf(bad)).pages.pagesInto!(hashes, outs)).toThrow(
        new RegExp(`page ${hashes[row]} is damaged`),
      );
    }
  });

  it('rejects every truncation', () => {
    for (let n = 0; n < good.length; n++) expectBad(good.subarray(0, n));
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expectBad(longer, /after its end/);
  });

  it('rejects wrong magic, newer and unknown versions, unknown flags', () => {
    const m = good.slice();
    m[0] = 0x58;
    expectBad(m, /magic/);
    expectBad(
      reframe(good, () => {}, { version: 999 }),
      /version 999 is newer/,
    );
    expectBad(
      reframe(good, () => {}, { version: 0 }),
      /unknown format version 0/,
    );
    const f = reframe(good, () => {});
    f[10] = 0x80;
    expectBad(f, /flags/);
  });

  it('rejects absurd sizes and counts before allocating', () => {
    expectBad(
      reframe(good, (m) => (m.config.ramSize = 2 ** 40)),
      /RAM size .* limit/,
    );
    expectBad(
      reframe(good, (m) => (m.config.ramSize = 4097)),
      /multiple/,
    );
    expectBad(
      reframe(good, (m) => (m.config.diskSize = 2 ** 50)),
      /disk size/,
    );
    expectBad(
      reframe(good, () => {}, { rawLength: 2 ** 31 }),
      /index claims .* limit/,
    );
    expectBad(
      reframe(good, (m) => editChunks(m, (rows) => (rows.find((r) => r[1] === 0)![4] = 8192))),
      /claims 8192 bytes, not 4096/,
    );
    expectBad(
      reframe(good, (m) => editChunks(m, (rows) => (rows[1]![3] = 2 ** 32 - 1))),
      /chunk 1 \(4294967295 bytes at \d+\) lies outside/,
    );
    expectBad(
      reframe(good, (m) => (m.checkpoints[0].ram.i = new Uint8Array(5000 * 4))),
      /page indices is 20000 bytes, more than the limit 64/,
    );
    // A msgpack array header claiming a billion chunks, with nothing behind it.
    const lying = Uint8Array.of(0x81, 0xa6, ...new TextEncoder().encode('chunks'), 0xdd, 0x3b, 0x9a, 0xca, 0x00);
    expectBad(frame(lying, new Uint8Array(0)), /msgpack/);
    expectBad(
      frame(packPlain({ config: { ramSize: 4096, diskSize: null }, chunks: { length: 1e9 } }), new Uint8Array(0)),
      /chunk ids/,
    );
  });

  it('rejects a decompression bomb page (1 GiB of zeros) quickly, when it is read', () => {
    const bomb = zeroBomb(1 << 30);
    expect(inflateSync(zeroBomb(5000))).toEqual(new Uint8Array(5000)); // the stream is valid deflate
    const id = hashToBytes(hash128(new Uint8Array(4096)));
    const index = {
      config: { ramSize: 4096, diskSize: null, machine: {} },
      kernel: null,
      disk: null,
      timeline: { nextId: 0, branches: [] },
      checkpoints: [],
      log: null,
      chunks: chunkColumns([[id, 0, 1, bomb.length, 4096]]),
    };
    const file = frame(packPlain(index), bomb);
    const rec = readVmi(file);
    expect(() => rec.pages.page!(bytesToHash(id))).toThrow(/inflates to more than the declared 4096/);
    // The same bomb as a boot image.
    const file2 = frame(
      packPlain({ ...index, kernel: bytesToHash(id), chunks: chunkColumns([[id, 1, 1, bomb.length, 4096]]) }),
      bomb,
    );
    expectBad(file2, /inflates to more than/, readAll);
  });

  it('rejects dangling references and cycles', () => {
    expectBad(
      reframe(good, (m) => editChunks(m, (rows) => rows.pop())),
      /not in the file/,
      readAll,
    );
    expectBad(
      reframe(good, (m) => {
        const cp = m.checkpoints.find((c: any) => c.ram.i.length > 0);
        cp.ram.h[0] ^= 1;
      }),
      /names page .* not in the file/,
      readAll,
    );
    expectBad(
      reframe(good, (m) => (m.checkpoints[1].parent = 'f'.repeat(32))),
      /parent .* does not exist/,
    );
    expectBad(
      reframe(good, (m) => (m.timeline.branches[1].parent = 'b9')),
      /parent b9, which does not exist/,
    );
    expectBad(
      reframe(good, (m) => {
        m.timeline.branches[0].parent = 'b1';
        m.timeline.branches[0].forkPosition = m.timeline.branches[1].forkPosition;
        m.timeline.branches[0].events = [];
      }),
      /root|cycle/,
    );
    expectBad(
      reframe(good, (m) => (m.timeline.branches[0].checkpoints[0].id = 'nope')),
      /names checkpoint nope/,
    );
    expectBad(
      reframe(good, (m) => (m.checkpoints[0].branch = 'b7')),
      /b7/,
    );
    expectBad(
      reframe(good, (m) => (m.kernel = 'a'.repeat(32))),
      /kernel image/,
    );
    expectBad(
      reframe(good, (m) => (m.timeline.branches[0].id = '__proto__')),
      /not a valid id/,
    );
    expectBad(
      reframe(good, (m) => m.log.pop()),
      /timeline log/,
    );
    expectBad(
      reframe(good, (m) => (m.checkpoints[2].depth = 7)),
      /depth/,
    );
  });

  it('rejects chunks out of order, twice, or whose content does not match their id', () => {
    expectBad(
      reframe(good, (m) => editChunks(m, (rows) => rows.reverse())),
      /out of order or appears twice/,
    );
    expectBad(
      reframe(good, (m) => editChunks(m, (rows) => (rows[1] = rows[0]!))),
      /out of order or appears twice|cover/,
    );
    expectBad(
      reframe(good, (m) =>
        editChunks(m, (rows) => {
          const row = rows.find((r) => r[1] === 0)!;
          row[0][15] ^= 1;
        }),
      ),
      /does not match its hash|not in the file|out of order/,
      readAll,
    );
  });

  it('never throws anything but bad-vmi on random garbage', () => {
    let x = 12345;
    for (let i = 0; i < 300; i++) {
      const n = (x = (x * 1103515245 + 12345) >>> 0) % 200;
      const g = Uint8Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
      if (i % 2 === 0 && n >= 8) g.set(new TextEncoder().encode('REWINDVM'));
      if (i % 4 === 0 && n >= 10) g[8] = 2;
      expectBad(g);
    }
    expect(deflateSync).toBeTypeOf('function');
  });
});

describe('.vmi summaries (rewind info): the index streamed, not held', () => {
  /** editChunks, each row keeping its place in the file (version 3). */
  function editPlaced(index: Record<string, any>, change: (rows: { row: ChunkRow; at: number }[]) => void): void {
    const o = index.chunks.offset as Uint8Array;
    const dv = new DataView(o.buffer, o.byteOffset, o.length);
    const places: number[] = [];
    editChunks(
      index,
      (rows) => {
        const placed = rows.map((row, i) => ({
          row,
          at: dv.getUint32(i * 8, true) + dv.getUint32(i * 8 + 4, true) * 2 ** 32,
        }));
        change(placed);
        rows.length = 0;
        placed.forEach((p, i) => {
          rows.push(p.row);
          places[i] = p.at;
        });
      },
      places,
    );
  }

  /**
   * makeRecording's file with an index as a long recording's is: raw, with 20,000 page chunks
   * that nothing names (two runs of the chunk table's rows; they lie over the chunks' first
   * byte: places may overlap) and a checkpoint whose RAM map names 1,200 pages, so that the large
   * byte strings stay in the file as they are checked.
   */
  function bigIndex(): Uint8Array {
    let x = 99;
    const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    return reframe(writeVmi(makeRecording()), (index) => {
      index.config.ramSize = 2048 * 4096;
      editPlaced(index, (rows) => {
        for (let k = 0; k < 20000; k++)
          rows.push({ row: [Uint8Array.from({ length: 16 }, random), 0, 0, 1, 4096], at: VMI_HEADER_SIZE });
        rows.sort((a, b) => {
          for (let i = 0; i < 16; i++) if (a.row[0][i] !== b.row[0][i]) return a.row[0][i]! - b.row[0][i]!;
          return a.row[1] - b.row[1];
        });
      });
      const i = new Uint8Array(1200 * 4);
      for (let n = 0; n < 1200; n++) new DataView(i.buffer).setUint32(n * 4, n, true);
      index.checkpoints[0].ram = { i, h: new Uint8Array(1200 * 16).fill(7) };
    });
  }

  const summaryOf = (rec: Recording) => ({
    config: rec.config,
    timeline: rec.timeline,
    checkpoints: rec.checkpoints.length,
    pages: rec.stored!.pages,
    kernelBytes: rec.stored!.kernelBytes,
  });

  it('says what a full read says, for small and large indexes, version 2 and 3 files', () => {
    const small = writeVmi(makeRecording());
    expect(readVmiSummary(small)).toEqual(summaryOf(readVmi(small)));
    const big = bigIndex();
    expect(new DataView(big.buffer).getUint32(32, true)).toBeGreaterThan(256 << 10);
    const full = readVmi(big);
    expect(full.stored!.pages).toBe(pagesOf(makeRecording()).size + 20000);
    expect(readVmiSummary(big)).toEqual(summaryOf(full));
    const v2 = reframe(small, (m) => delete m.chunks.offset, { version: 2 });
    expect(readVmiSummary(v2)).toEqual(summaryOf(readVmi(v2)));
  });

  it('finds what a full read finds wrong, in the same words', () => {
    const big = bigIndex();
    const sameAsFull = (bad: Uint8Array, message: RegExp) =>
      expect(expectBad(bad, undefined, readVmiSummary).message).toBe(expectBad(bad, message).message);
    const flipped = big.slice();
    flipped[flipped.length - 5000] ^= 1;
    sameAsFull(flipped, /index hash mismatch/);
    sameAsFull(
      reframe(big, (m) => editPlaced(m, (rows) => ([rows[17000], rows[17001]] = [rows[17001]!, rows[17000]!]))),
      /chunk 17001 is out of order or appears twice/,
    );
    sameAsFull(
      reframe(big, (m) => editPlaced(m, (rows) => (rows[18000]!.at = 2 ** 40))),
      /chunk 18000 \(\d+ bytes at 1099511627776\) lies outside/,
    );
    sameAsFull(
      // The index's byte strings are views of the file's bytes: edited in a copy.
      reframe(big.slice(), (m) => (m.chunks.kind[m.chunks.kind.length - 1] = 7)),
      /chunk 20\d+ has unknown kind 7/,
    );
    sameAsFull(
      reframe(big.slice(), (m) => {
        const i = m.checkpoints[0].ram.i as Uint8Array;
        new DataView(i.buffer, i.byteOffset).setUint32(700 * 4, 699, true);
      }),
      /RAM: page index 699 is out of order/,
    );
  });

  it('notices bytes of the file that change between the index hash and their checks', () => {
    const bytes = bigIndex();
    const ids = split(bytes).index.chunks.id as Uint8Array;
    const lastId = findBytes(bytes, ids.subarray(ids.length - 16), new DataView(bytes.buffer).getUint32(24, true));
    let hashed = false;
    const source: ByteSource = {
      size: bytes.length,
      read: (offset, length) => bytes.slice(offset, offset + length),
      readInto(offset, into) {
        into.set(bytes.subarray(offset, offset + into.length));
        // Once the whole index has been read (and hashed), the last chunk id's last byte changes: its order stays.
        if (!hashed && offset + into.length === bytes.length) {
          hashed = true;
          bytes[lastId + 15] ^= 1;
        }
      },
    };
    expect(() => readVmiSummary(source)).toThrow(/the chunk ids changed while the file was being read/);
  });
});

/** Where `needle` first occurs in `hay` at or after `from`. */
function findBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function pagesOf(rec: Recording): Set<string> {
  const all = new Set<string>();
  for (const m of [rec.disk, ...rec.checkpoints.flatMap((c) => [c.ram, c.disk])])
    for (const h of m?.values() ?? []) if (h !== ZERO_PAGE_HASH) all.add(h);
  return all;
}
