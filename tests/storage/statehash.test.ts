import { describe, expect, it } from 'vitest';
import { PagedMemory } from '../../core/paged.js';
import {
  PageHashTable,
  StateHasher,
  ZERO_GROUP_DIGEST,
  ZERO_PAGE_HASH,
  computeStateHash,
  hashPage,
} from '../../storage/statehash.js';
import { hash128, hashToBytes, writeHashBytes } from '../../storage/hash.js';
import { canonicalBytes } from '../../storage/canonical.js';
import { FakeMachine } from './fake.js';

describe('StateHasher', () => {
  it('gives the same hash for the same state', () => {
    const a = new FakeMachine();
    const b = new FakeMachine();
    for (const m of [a, b]) for (let i = 1; i < 20; i++) m.mutate(i);
    expect(new StateHasher(a).stateHash()).toBe(new StateHasher(b).stateHash());
  });

  it('changes when one RAM byte changes, and changes back', () => {
    const m = new FakeMachine();
    const h = new StateHasher(m);
    const before = h.stateHash();
    m.ram.write(12345, Uint8Array.of(m.ram.bytes[12345]! ^ 1));
    const after = h.stateHash();
    expect(after).not.toBe(before);
    m.ram.write(12345, Uint8Array.of(m.ram.bytes[12345]! ^ 1));
    expect(h.stateHash()).toBe(before);
  });

  it('changes when a register, a device field or a disk byte changes', () => {
    const m = new FakeMachine();
    const h = new StateHasher(m);
    const base = h.stateHash();
    m.regs[5] = 1;
    const r = h.stateHash();
    expect(r).not.toBe(base);
    m.uart.lsr ^= 1;
    const d = h.stateHash();
    expect(d).not.toBe(r);
    m.disk!.write(4096 * 3 + 7, Uint8Array.of(9));
    expect(h.stateHash()).not.toBe(d);
  });

  it('re-hashes only dirty pages, and agrees with hashing from scratch', () => {
    const m = new FakeMachine();
    const h = new StateHasher(m);
    for (let i = 1; i < 50; i++) m.mutate(i);
    // Write behind the dirty flags: the incremental table must not see it...
    const stale = h.stateHash();
    m.ram.bytes[100] ^= 0xff;
    expect(h.stateHash()).toBe(stale);
    // ...while a fresh hasher does: proof that only dirty pages are re-hashed.
    expect(new StateHasher(m).stateHash()).not.toBe(stale);
  });

  it('ignores object key order', () => {
    const s1 = { version: 1, position: 3, cpu: { a: 1, b: 2 }, devices: {}, machine: {} };
    const s2 = { machine: {}, devices: {}, cpu: { b: 2, a: 1 }, position: 3, version: 1 };
    expect(canonicalBytes(s1)).toEqual(canonicalBytes(s2));
    expect(computeStateHash(s1, [ZERO_PAGE_HASH], null)).toBe(computeStateHash(s2, [ZERO_PAGE_HASH], null));
    expect(computeStateHash(s1, [ZERO_PAGE_HASH], null)).not.toBe(computeStateHash(s1, [ZERO_PAGE_HASH], []));
  });

  it('tells typed arrays from plain arrays', () => {
    expect(canonicalBytes([1, 2])).not.toEqual(canonicalBytes(Int32Array.of(1, 2)));
    expect(canonicalBytes(Int32Array.of(1))).not.toEqual(canonicalBytes(Uint32Array.of(1)));
  });

  it('encodes strings as a length and UTF-8, whatever their characters and size', () => {
    const utf8 = (t: string) => [...new TextEncoder().encode(t)];
    const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
    for (const t of ['', 'pc', 'aé€😀', 'x'.repeat(5000) + 'ü'])
      expect([...canonicalBytes(t)]).toEqual([5, ...u32(utf8(t).length), ...utf8(t)]);
    expect([...canonicalBytes({ é: true })]).toEqual([7, ...u32(1), ...u32(2), ...utf8('é'), 3]);
  });

  it('hashes zero pages without hashing', () => {
    expect(hashPage(new Uint8Array(4096))).toBe(ZERO_PAGE_HASH);
  });

  it('holds as constants the digests of a zero page and of a group of 256 zero pages’ digests', () => {
    expect(ZERO_PAGE_HASH).toBe(hash128(new Uint8Array(4096)));
    const group = new Uint8Array(256 * 16);
    for (let j = 0; j < 256; j++) writeHashBytes(ZERO_PAGE_HASH, group, j * 16);
    expect(ZERO_GROUP_DIGEST).toBe(hash128(group));
    // A machine of zeros has the state hash of a table of zero-page digests hashed from scratch.
    const mem = new PagedMemory(512 * 4096);
    const zeros = new Array<string>(512).fill(ZERO_PAGE_HASH);
    const state = { version: 1, position: 0, cpu: {}, devices: {}, machine: {} };
    expect(computeStateHash(state, new PageHashTable(mem), null)).toBe(computeStateHash(state, zeros, null));
  });
});

describe('the state hash, as docs/vmi.md defines it', () => {
  // Pinned: every .vmi holds its checkpoints' state hashes, and a reader recomputes them.
  it('of a machine with pages in three groups, a disk, and a state, is the one files hold', () => {
    const state = {
      version: 1,
      position: 1234,
      cpu: { pc: 0x80000000 },
      devices: { uart: { version: 1, regs: [1, 2] } },
      machine: {},
    };
    const ram = new PagedMemory(600 * 4096, { bytes: 65536, DIRTY: 0 });
    const disk = new PagedMemory(16 * 4096);
    for (const p of [0, 7, 300, 599]) ram.write(p * 4096 + 12, Uint8Array.of(p & 255, 1, 2, 3));
    disk.write(5 * 4096, new TextEncoder().encode('disk'));
    const hash = computeStateHash(state, new PageHashTable(ram), new PageHashTable(disk));
    expect(hash).toBe('29213785f7bf482a2a274df3ee2ca02f');
    // The same from digests listed by page, hashed in JS.
    const list = (m: PagedMemory) => Array.from({ length: m.pageCount }, (_, i) => hashPage(m.page(i)));
    expect(computeStateHash(state, list(ram), list(disk))).toBe(hash);
  });
});

// RAM lives in a WebAssembly memory (hashed there, see pagehash.ts); a disk in a buffer (hashed in JS).
describe.each([
  ['in JS', (size: number) => new PagedMemory(size)],
  ['in WebAssembly', (size: number) => new PagedMemory(size, { bytes: 4096, DIRTY: 0 })],
] as const)('PageHashTable bookkeeping, hashing %s', (_, memory) => {
  it('lists the pages whose digest changed, in order, and counts the pages that are not zero', () => {
    const mem = memory(64 * 4096);
    mem.write(9 * 4096, Uint8Array.of(1));
    const table = new PageHashTable(mem);
    // A new table: every page counts as changed.
    expect(Array.from(table.takeChanged())).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(table.nonZero).toBe(1);
    expect(Array.from(table.takeChanged())).toEqual([]);
    mem.write(40 * 4096, Uint8Array.of(2));
    mem.write(3 * 4096, Uint8Array.of(3));
    // Written back as it was: dirty, but its digest did not change.
    mem.write(9 * 4096, Uint8Array.of(1));
    table.sync();
    expect(table.nonZero).toBe(3);
    mem.write(40 * 4096, Uint8Array.of(0));
    mem.write(50 * 4096, Uint8Array.of(5));
    table.sync();
    expect(Array.from(table.takeChanged())).toEqual([3, 40, 50]);
    expect(table.nonZero).toBe(3);
    expect(Array.from(table.takeChanged())).toEqual([]);
    for (let p = 0; p < 64; p++) expect(table.hash(p)).toBe(hashPage(mem.page(p)));
    expect(table.allHashes().filter((h) => h !== ZERO_PAGE_HASH).length).toBe(table.nonZero);
  });

  it('hashes every page the JS hasher does, an odd one out included', () => {
    const mem = memory(37 * 4096);
    let x = 2463534242;
    for (let i = 0; i < mem.words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      // Some pages of zeros among them, which are never hashed.
      if (((i >>> 10) & 7) !== 5) mem.words[i] = x;
    }
    mem.markDirty(0, mem.size);
    const table = new PageHashTable(mem);
    for (let p = 0; p < 37; p++) expect(table.hash(p)).toBe(hashPage(mem.page(p)));
    for (let p = 0; p < 37; p += 3) mem.write(p * 4096 + 100, Uint8Array.of(p));
    table.sync();
    for (let p = 0; p < 37; p++) expect(table.hash(p)).toBe(hashPage(mem.page(p)));
  });
});

describe('PageHashTable cleaning the dirty flags of a busy guest', () => {
  it('keeps dirty the pages changed at two syncs in a row, cleans the others, and never holds a stale digest', () => {
    const mem = new PagedMemory(4096 * 4096);
    // A writer that holds no translation: only the busy rule decides.
    const forgotten: number[] = [];
    mem.writer = { mark: () => {}, forget: (pages) => forgotten.push(...pages) };
    const table = new PageHashTable(mem);
    const write = (pages: number[], value: number) => {
      for (const p of pages) mem.write(p * 4096 + 8, Uint8Array.of(value, p & 255));
    };
    const all = Array.from({ length: 3000 }, (_, i) => i);
    const once = Array.from({ length: 500 }, (_, i) => 3000 + i);
    write(all, 1);
    table.sync();
    // First busy sync: nothing changed before, so every page is cleaned.
    expect(mem.dirtyPages()).toEqual([]);
    write(all, 2);
    write(once, 2);
    table.sync();
    // Changed again: `all` stays dirty (no slow path at its next stores), `once` is cleaned.
    expect(mem.dirtyPages()).toEqual(all);
    write(all, 3);
    table.sync();
    expect(mem.dirtyPages()).toEqual(all);
    // A quiet sync is not busy: pages no writer holds are cleaned.
    table.sync();
    expect(mem.dirtyPages()).toEqual([]);
    for (const p of [0, 2999, 3000, 3499]) expect(table.hash(p)).toBe(hashPage(mem.page(p)));
    expect(forgotten.length).toBeGreaterThan(0);
  });
});

describe('PageHashTable.rewriteTo (a restore)', () => {
  it('writes the pages whose digest differs and every dirty one unhashed, and leaves them clean with their new digests', () => {
    const mem = new PagedMemory(8 * 4096);
    mem.write(1 * 4096, Uint8Array.of(1));
    mem.write(2 * 4096, Uint8Array.of(2));
    const table = new PageHashTable(mem);
    const target = table.bytes.slice();
    const zero = new Uint8Array(4096);
    const page3 = new Uint8Array(4096).fill(3);
    target.set(hashToBytes(hashPage(page3)), 3 * 16);
    // Page 2 is written back as it was (dirty, same digest); page 1 is left alone.
    mem.write(2 * 4096, Uint8Array.of(2));
    const written = table.rewriteTo(target, (pages) => {
      for (const p of pages) mem.bytes.set(p === 3 ? page3 : p === 2 ? mem.page(2).slice() : zero, p * 4096);
    });
    expect(written).toEqual([2, 3]);
    expect(mem.dirtyPages()).toEqual([]);
    expect(table.bytes).toEqual(target);
    for (let p = 0; p < 8; p++) expect(table.hash(p)).toBe(hashPage(mem.page(p)));
    // A write that fails leaves its pages dirty, to be hashed again.
    mem.write(5 * 4096, Uint8Array.of(5));
    expect(() =>
      table.rewriteTo(table.bytes.slice(), () => {
        throw new Error('damaged');
      }),
    ).toThrow('damaged');
    expect(mem.dirtyPages()).toEqual([5]);
  });
});
