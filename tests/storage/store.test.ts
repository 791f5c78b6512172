import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RewindError } from '../../core/errors.js';
import { MemoryBackend, RecordingStore, type BatchEntry } from '../../storage/index.js';
import { DirBackend } from '../../storage/node.js';
import { FakeMachine, diffSnapshots } from './fake.js';

/** A memory backend whose next batch fails like a full quota. */
class FlakyBackend extends MemoryBackend {
  failNext = false;
  override async putBatch(entries: readonly BatchEntry[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new RewindError('quota', 'storage is full');
    }
    return super.putBatch(entries);
  }
}

describe('RecordingStore', () => {
  it('persists checkpoints and the timeline, and reopens to the same recording', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rewind-rec-'));
    try {
      const backend = await DirBackend.open(dir);
      const m = new FakeMachine(16, 4);
      m.ram.write(0, Uint8Array.of(1, 2, 3));
      const store = await RecordingStore.create(backend, m, { kernel: Uint8Array.of(1, 2, 3) }, { fullEvery: 3 });
      const root = store.timeline.root().id;
      const snaps = new Map<string, ReturnType<FakeMachine['snapshot']>>();
      for (let i = 1; i <= 7; i++) {
        m.mutate(i);
        store.timeline.appendEvents(root, [{ position: m.position, time: 0, device: 'uart0', payload: Uint8Array.of(i) }]);
        const cp = store.checkpoint(root);
        snaps.set(cp.id, m.snapshot());
        if (i % 3 === 0) await store.commit();
      }
      await store.commit();
      const exported = store.exportVmi();
      await backend.close();

      const m2 = new FakeMachine(16, 4);
      const again = await RecordingStore.open(await DirBackend.open(dir), m2, { fullEvery: 3 });
      expect(again.timeline.state).toEqual(store.timeline.state);
      for (const [id, snap] of snaps) {
        again.checkpointer.restore(id, { verify: true });
        expect(diffSnapshots(m2.snapshot(), snap)).toBeNull();
        expect(m2.saveState()).toEqual(snap.state);
      }
      expect(again.exportVmi()).toEqual(exported);
      await again.backend.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves nothing half-written when a commit fails, and retries it', async () => {
    const backend = new FlakyBackend();
    const m = new FakeMachine(16, null);
    const store = await RecordingStore.create(backend, m, { kernel: null });
    const before = await backend.list('');
    m.mutate(1);
    const cp = store.checkpoint(store.timeline.root().id);
    backend.failNext = true;
    await expect(store.commit()).rejects.toThrow(/full/);
    expect(await backend.list('')).toEqual(before);
    // Reopening now shows the last committed state: no trace of the failed checkpoint.
    const seen = await RecordingStore.open(backend, new FakeMachine(16, null));
    expect(seen.checkpointer.has(cp.id)).toBe(false);
    expect(seen.timeline.root().checkpoints.some((c) => c.id === cp.id)).toBe(false);
    await store.commit();
    const after = await RecordingStore.open(backend, new FakeMachine(16, null));
    expect(after.checkpointer.has(cp.id)).toBe(true);
    expect(after.timeline.state).toEqual(store.timeline.state);
  });

  it('imports a .vmi only after validating it', async () => {
    const m = new FakeMachine(16, 4);
    const store = await RecordingStore.create(new MemoryBackend(), m, { kernel: null });
    m.mutate(3);
    store.checkpoint(store.timeline.root().id);
    const file = store.exportVmi({ keepLog: false });
    const target = new MemoryBackend();
    const bad = file.slice();
    bad[bad.length - 1] ^= 1;
    await expect(RecordingStore.importVmi(target, bad)).rejects.toMatchObject({ code: 'bad-vmi' });
    expect(await target.list('')).toEqual([]);
    await RecordingStore.importVmi(target, file);
    const opened = await RecordingStore.open(target, new FakeMachine(16, 4));
    expect(opened.timeline.state).toEqual(store.timeline.state);
  });
});
