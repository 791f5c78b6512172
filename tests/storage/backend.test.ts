import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RewindError } from '../../core/errors.js';
import { MemoryBackend, type StorageBackend } from '../../storage/index.js';
import { DirBackend, encodeBatchFile, writeFileAtomic } from '../../storage/node.js';

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
  await s.putBatch([{ key: 'page/1', value: b(1) }, { key: 'page/2', value: b(2, 2) }, { key: 'cp/1', value: b(3) }]);
  expect(await s.get('page/2')).toEqual(b(2, 2));
  expect(await s.list('page/')).toEqual(['page/1', 'page/2']);
  await s.putBatch([{ key: 'page/1', value: null }, { key: 'page/3', value: b() }, { key: 'page/3', value: b(9) }]);
  expect(await s.list('page/')).toEqual(['page/2', 'page/3']);
  expect(await s.get('page/3')).toEqual(b(9));
  await s.delete(['cp/1']);
  expect(await s.list('')).toEqual(['page/2', 'page/3']);
  // A batch with a bad value applies nothing.
  await expect(s.putBatch([{ key: 'x', value: b(1) }, { key: 'y', value: 'no' as unknown as Uint8Array }])).rejects.toThrow();
  expect(await s.get('x')).toBeUndefined();
}

describe('MemoryBackend', () => {
  it('keeps the backend contract', async () => {
    await contract(new MemoryBackend());
  });
});

describe('DirBackend', () => {
  it('keeps the backend contract and survives reopening', async () => {
    const s = await DirBackend.open(dir);
    await contract(s);
    await s.close();
    const r = await DirBackend.open(dir);
    expect(await r.list('')).toEqual(['page/2', 'page/3']);
    expect(await r.get('page/3')).toEqual(b(9));
    await r.close();
  });

  it('never shows a batch whose write was cut short, and keeps what was committed', async () => {
    const s = await DirBackend.open(dir);
    await s.putBatch([{ key: 'committed', value: b(1, 2, 3) }]);
    await s.close();
    // A crash mid-write leaves a temporary file, whole or torn.
    const batch = encodeBatchFile(0, [{ key: 'half', value: b(7) }, { key: 'committed', value: null }]);
    await writeFile(join(dir, '000000000002.99.0.partial'), batch.subarray(0, batch.length - 5));
    await writeFile(join(dir, '000000000002.99.1.partial'), batch);
    const r = await DirBackend.open(dir);
    expect(await r.list('')).toEqual(['committed']);
    expect(await r.get('committed')).toEqual(b(1, 2, 3));
    expect((await readdir(dir)).filter((n) => n.endsWith('.partial'))).toEqual([]);
    // And the store goes on working.
    await r.putBatch([{ key: 'next', value: b(4) }]);
    await r.close();
    const r2 = await DirBackend.open(dir);
    expect(await r2.list('')).toEqual(['committed', 'next']);
    await r2.close();
  });

  it('ignores a torn newest batch but refuses a corrupt older one', async () => {
    const s = await DirBackend.open(dir);
    await s.putBatch([{ key: 'a', value: b(1) }]);
    await s.putBatch([{ key: 'b', value: b(2) }]);
    await s.close();
    const newest = join(dir, '000000000002.batch');
    const bytes = await readFile(newest);
    await writeFile(newest, bytes.subarray(0, bytes.length - 3));
    const r = await DirBackend.open(dir);
    expect(await r.list('')).toEqual(['a']);
    await r.putBatch([{ key: 'c', value: b(3) }]);
    await r.close();
    const older = join(dir, '000000000001.batch');
    const ob = await readFile(older);
    ob[ob.length - 20] ^= 1;
    await writeFile(older, ob);
    await expect(DirBackend.open(dir)).rejects.toThrow(RewindError);
  });

  it('compacts into one snapshot batch', async () => {
    const s = await DirBackend.open(dir);
    for (let i = 0; i < 10; i++) await s.putBatch([{ key: `k${i % 3}`, value: b(i) }]);
    await s.delete(['k0']);
    await s.compact();
    expect((await readdir(dir)).filter((n) => n.endsWith('.batch')).length).toBe(1);
    expect(await s.get('k1')).toEqual(b(7));
    await s.putBatch([{ key: 'k9', value: b(9) }]);
    await s.close();
    const r = await DirBackend.open(dir);
    expect(await r.list('')).toEqual(['k1', 'k2', 'k9']);
    expect(await r.get('k2')).toEqual(b(8));
    await r.close();
  });

  it('orders concurrent batches', async () => {
    const s = await DirBackend.open(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.putBatch([{ key: 'x', value: b(i) }])));
    expect(await s.get('x')).toEqual(b(19));
    await s.close();
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
