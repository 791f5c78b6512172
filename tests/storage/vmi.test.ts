import { describe, expect, it } from 'vitest';
import { deflateSync, inflateSync } from 'fflate';
import { RewindError } from '../../core/errors.js';
import { Checkpointer } from '../../storage/checkpoint.js';
import { packPlain, unpackPlain } from '../../storage/codec.js';
import { hash128, hashToBytes } from '../../storage/hash.js';
import { PageStore } from '../../storage/pagestore.js';
import { Timeline } from '../../storage/timeline.js';
import { VMI_HEADER_SIZE, readVmi, recordingFrom, writeVmi, type Recording } from '../../storage/vmi.js';
import { FakeMachine } from './fake.js';

/** A small but complete recording: two branches, events, checkpoints (full and delta), a disk, a kernel. */
function makeRecording(steps = 12, keepLog = true): Recording {
  const m = new FakeMachine(16, 4);
  const kernel = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 255);
  m.ram.write(0, kernel);
  m.disk!.write(4096, new Uint8Array(100).fill(0x5a));
  const cps = new Checkpointer(m, { fullEvery: 3 });
  const diskBase = new Map([[1, cps.hasher.disk!.hashes[1]!]]);
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

function expectBad(bytes: Uint8Array, message?: RegExp): RewindError {
  let err: unknown;
  try {
    readVmi(bytes);
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

/** Rebuilds a file around a changed manifest (valid header and hash), keeping the data section. */
function reframe(
  file: Uint8Array,
  change: (manifest: Record<string, any>) => void,
  opts: { version?: number; rawLength?: number } = {},
): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.length);
  const mStored = dv.getUint32(20, true);
  const deflated = dv.getUint16(10, true) & 1;
  const mBytes = file.subarray(VMI_HEADER_SIZE, VMI_HEADER_SIZE + mStored);
  const manifest = unpackPlain(deflated ? inflateSync(mBytes) : mBytes) as Record<string, any>;
  change(manifest);
  const data = file.subarray(VMI_HEADER_SIZE + mStored, file.length - 16);
  return frame(packPlain(manifest), data, opts);
}

function frame(
  manifest: Uint8Array,
  data: Uint8Array,
  opts: { version?: number; rawLength?: number } = {},
): Uint8Array {
  const total = VMI_HEADER_SIZE + manifest.length + data.length + 16;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode('REWINDVM'));
  dv.setUint16(8, opts.version ?? 1, true);
  dv.setUint16(10, 0, true);
  dv.setUint32(12, total, true);
  dv.setUint32(16, 0, true);
  dv.setUint32(20, manifest.length, true);
  dv.setUint32(24, opts.rawLength ?? manifest.length, true);
  out.set(manifest, VMI_HEADER_SIZE);
  out.set(data, VMI_HEADER_SIZE + manifest.length);
  out.set(hashToBytes(hash128(out.subarray(0, total - 16))), total - 16);
  return out;
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
    const back = readVmi(bytes);
    expect(back.config).toEqual(rec.config);
    expect(back.kernel).toEqual(rec.kernel);
    expect(back.disk).toEqual(rec.disk);
    expect(back.timeline).toEqual(rec.timeline);
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
    expect([...back.checkpoints].sort(byId)).toEqual([...rec.checkpoints].sort(byId));
    expect([...back.pages.keys()].sort()).toEqual([...rec.pages.keys()].sort());
    expect(writeVmi(back)).toEqual(bytes);
    expect(writeVmi(makeRecording())).toEqual(bytes); // deterministic
  });

  it('restores every checkpoint of an imported file to its recorded state hash', () => {
    const back = readVmi(writeVmi(makeRecording()));
    const m = new FakeMachine(16, 4);
    const pages = new PageStore();
    for (const [h, r] of back.pages) pages.putRecord(h, r, true);
    const cps = new Checkpointer(m, { pages });
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
});

describe('.vmi hostile files', () => {
  const good = writeVmi(makeRecording(6));

  it('rejects a flipped byte anywhere', () => {
    for (let pos = 0; pos < good.length; pos++) {
      const bad = good.slice();
      bad[pos] ^= 1 << (pos % 8);
      expectBad(bad);
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
    expectBad(f, /corrupt|flags/);
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
      /manifest claims .* limit/,
    );
    expectBad(
      reframe(good, (m) => (m.chunks[0][4] = 2 ** 40)),
      /size/,
    );
    expectBad(
      reframe(good, (m) => (m.chunks[1][3] = 2 ** 40)),
      /stored size/,
    );
    expectBad(
      reframe(good, (m) => (m.checkpoints[0].ram.i = Array.from({ length: 5000 }, (_, i) => i))),
      /more than the 16 of its memory/,
    );
    // A msgpack array header claiming a billion chunks, with nothing behind it.
    const lying = Uint8Array.of(0x81, 0xa6, ...new TextEncoder().encode('chunks'), 0xdd, 0x3b, 0x9a, 0xca, 0x00);
    expectBad(frame(lying, new Uint8Array(0)), /msgpack/);
    expectBad(
      frame(packPlain({ config: { ramSize: 4096, diskSize: null }, chunks: { length: 1e9 } }), new Uint8Array(0)),
      /chunk table/,
    );
  });

  it('rejects a decompression bomb page (1 GiB of zeros) quickly', () => {
    const bomb = zeroBomb(1 << 30);
    expect(inflateSync(zeroBomb(5000))).toEqual(new Uint8Array(5000)); // the stream is valid deflate
    const id = hashToBytes(hash128(new Uint8Array(4096)));
    const file = frame(
      packPlain({
        config: { ramSize: 4096, diskSize: null, machine: {} },
        kernel: null,
        disk: null,
        timeline: { nextId: 0, branches: [] },
        checkpoints: [],
        log: null,
        chunks: [[id, 0, 1, bomb.length, 4096]],
      }),
      bomb,
    );
    expectBad(file, /inflates to more than the declared 4096/);
    // The same bomb as a boot image.
    const file2 = reframe(file, (m) => {
      m.chunks[0][1] = 1;
      m.chunks[0][4] = 4096;
    });
    expectBad(file2, /inflates to more than/);
  });

  it('rejects dangling references and cycles', () => {
    expectBad(
      reframe(good, (m) => m.chunks.pop()),
      /cover|not in the file/,
    );
    expectBad(
      reframe(good, (m) => {
        const cp = m.checkpoints.find((c: any) => c.ram.i.length > 0);
        cp.ram.h[0] ^= 1;
      }),
      /names RAM page .* not in the file/,
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

  it('rejects pages whose content does not match their id', () => {
    expectBad(
      reframe(good, (m) => {
        const row = m.chunks.find((r: any) => r[1] === 0);
        row[0][0] ^= 1;
      }),
      /does not match its hash|not in the file/,
    );
  });

  it('never throws anything but bad-vmi on random garbage', () => {
    let x = 12345;
    for (let i = 0; i < 300; i++) {
      const n = (x = (x * 1103515245 + 12345) >>> 0) % 200;
      const g = Uint8Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
      if (i % 2 === 0 && n >= 8) g.set(new TextEncoder().encode('REWINDVM'));
      expectBad(g);
    }
    expect(deflateSync).toBeTypeOf('function');
  });
});
