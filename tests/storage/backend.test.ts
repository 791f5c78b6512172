import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackend, type StorageBackend } from '../../storage/index.js';
import { closeSync, openSync } from 'node:fs';
import { blockAligned, openDirect, writeBlocks, writeFileAtomic } from '../../storage/node.js';

const b = (...xs: number[]) => Uint8Array.from(xs);
let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rewind-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function contract(s: StorageBackend): Promise<void> {
  expect(await s.get('a')).toBeUndefined();
  await s.putBatch([
    { key: 'page/1', value: b(1) },
    { key: 'page/2', value: b(2, 2) },
    { key: 'cp/1', value: b(3) },
  ]);
  expect(await s.get('page/2')).toEqual(b(2, 2));
  expect(await s.list('page/')).toEqual(['page/1', 'page/2']);
  await s.putBatch([
    { key: 'page/1', value: null },
    { key: 'page/3', value: b() },
    { key: 'page/3', value: b(9) },
  ]);
  expect(await s.list('page/')).toEqual(['page/2', 'page/3']);
  expect(await s.get('page/3')).toEqual(b(9));
  await s.delete(['cp/1']);
  expect(await s.list('')).toEqual(['page/2', 'page/3']);
  // A batch with a bad value applies nothing.
  await expect(
    s.putBatch([
      { key: 'x', value: b(1) },
      { key: 'y', value: 'no' as unknown as Uint8Array },
    ]),
  ).rejects.toThrow();
  expect(await s.get('x')).toBeUndefined();
}

describe('MemoryBackend', () => {
  it('keeps the backend contract', async () => {
    await contract(new MemoryBackend());
  });
});

describe('writeFileAtomic', () => {
  it('replaces a file and leaves no temporary behind', async () => {
    const p = join(dir, 'out.vmi');
    await writeFileAtomic(p, b(1, 2));
    await writeFileAtomic(p, b(3));
    expect(new Uint8Array(await readFile(p))).toEqual(b(3));
    expect(await readdir(dir)).toEqual(['out.vmi']);
  });
});

describe('writeBlocks', () => {
  it('writes runs at any offset, whole blocks past the page cache where the system can, and the file reads back as written', async () => {
    const p = join(dir, 'pages');
    const fd = openSync(p, 'w+');
    const direct = openDirect(fd);
    const size = 600_000;
    const want = new Uint8Array(size);
    const buffer = blockAligned(200_000 + 4096);
    // Ragged at both ends, aligned at both, a run too short to go direct, and one over the others.
    const runs = [
      [1000, 150_000],
      [4096 * 40, 4096 * 20],
      [4096 * 60 + 7, 3000],
      [300_001, 200_000],
      [2000, 90_000],
    ] as const;
    let seed = 1;
    for (const [at, length] of runs) {
      const lead = at % 4096;
      const run = buffer.subarray(lead, lead + length);
      for (let i = 0; i < length; i++) run[i] = seed = (seed * 1103515245 + 12345) >>> 24;
      want.set(run, at);
      writeBlocks(fd, direct, run, at);
    }
    if (direct >= 0) closeSync(direct);
    closeSync(fd);
    const got = new Uint8Array(await readFile(p));
    expect(got.length).toBe(500_001);
    expect(got).toEqual(want.subarray(0, 500_001));
  });

  it('writes through the page cache what a file system refuses to take past it, and says so', async () => {
    const p = join(dir, 'pages');
    const fd = openSync(p, 'w+');
    const direct = openDirect(fd);
    // A plain buffer (its memory off a block's boundary, 16 bytes past one as allocated here): a
    // file system that takes direct writes refuses them from there.
    const plain = new ArrayBuffer(300_000);
    const bytes = new Uint8Array(plain, 100, 150_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 255;
    const taken = writeBlocks(fd, direct, bytes, 100);
    if (direct >= 0) closeSync(direct);
    closeSync(fd);
    expect(new Uint8Array(await readFile(p)).subarray(100)).toEqual(bytes);
    if (direct < 0) expect(taken).toBe(true);
  });
});
