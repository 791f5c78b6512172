// @vitest-environment happy-dom
// The library over a storage backend (a full quota leaves the saved copy
// whole), long worker jobs in slices (progress, cancel, a consistent
// machine after), and the page's library state and progress bar against a
// fake worker client.
import { flushSync } from 'svelte';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { RewindError } from '../../core/errors.js';
import { Session } from '../../session/session.js';
import { programKind } from '../../session/spec.js';
import { Library } from '../../src/web/library.js';
import { MachineHost } from '../../src/web/host.js';
import type { WorkerEvent } from '../../src/web/protocol.js';
import { MemoryBackend, type BatchEntry } from '../../storage/index.js';
import LibraryPanel from '../../ui/Library.svelte';
import Progress from '../../ui/Progress.svelte';
import { AppState } from '../../ui/app.svelte.js';
import { LibraryState, uniqueName } from '../../ui/library.svelte.js';
import { engineHarness, FakeClient, guest, render, unmountAll } from './support.js';

const vm = (id: string, name = id) => ({ id, name, created: 1, branch: 'b0', position: 10 });

/** A backend that fails every batch the way IndexedDB does when the quota is full. */
class FullBackend extends MemoryBackend {
  full = false;
  override async putBatch(entries: readonly BatchEntry[]): Promise<void> {
    if (this.full)
      throw new RewindError(
        'quota',
        'browser storage is full: the last change was not saved (free space or export a .vmi)',
      );
    return super.putBatch(entries);
  }
}

describe('Library', () => {
  test('saves, lists (newest first), loads, renames and deletes VMs; remembers the last one', async () => {
    let t = 100;
    const lib = new Library(new MemoryBackend(), () => t++);
    expect(await lib.list()).toEqual([]);
    expect(await lib.last()).toBeNull();
    await lib.save(vm('aa', 'first'), new Uint8Array([1, 2, 3]));
    await lib.save(vm('bb', 'second'), new Uint8Array(5000));
    expect((await lib.list()).map((m) => [m.id, m.name, m.size])).toEqual([
      ['bb', 'second', 5000],
      ['aa', 'first', 3],
    ]);
    expect(await lib.last()).toBe('bb');
    const loaded = await lib.load('aa');
    expect(loaded?.meta).toMatchObject({ id: 'aa', branch: 'b0', position: 10, size: 3 });
    expect([...loaded!.bytes]).toEqual([1, 2, 3]);
    await lib.rename('aa', '  renamed ');
    expect((await lib.meta('aa'))?.name).toBe('renamed');
    await expect(lib.rename('aa', '   ')).rejects.toThrow(/needs a name/);
    await lib.delete('bb');
    expect(await lib.last()).toBeNull();
    expect((await lib.list()).map((m) => m.id)).toEqual(['aa']);
    expect(await lib.load('bb')).toBeNull();
    await expect(lib.meta('../x')).rejects.toThrow(/not a VM id/);
  });

  test('a full quota fails the save with a clear error and leaves the previous copy whole', async () => {
    const backend = new FullBackend();
    const lib = new Library(backend);
    await lib.save(vm('aa'), new Uint8Array([1, 1, 1]));
    const before = await lib.load('aa');
    backend.full = true;
    const err = await lib.save({ ...vm('aa'), position: 99 }, new Uint8Array([2, 2, 2, 2])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RewindError);
    expect((err as RewindError).code).toBe('quota');
    expect(await lib.load('aa')).toEqual(before);
    // Nor does a new VM appear half-written.
    await expect(lib.save(vm('cc'), new Uint8Array(1))).rejects.toThrow(/full/);
    expect((await lib.list()).map((m) => m.id)).toEqual(['aa']);
  });

  test('unreadable metadata is left out of the list instead of breaking it', async () => {
    const backend = new MemoryBackend();
    const lib = new Library(backend);
    await lib.save(vm('aa'), new Uint8Array(1));
    await backend.putBatch([{ key: 'vm/zz/meta', value: new TextEncoder().encode('{not json') }]);
    expect((await lib.list()).map((m) => m.id)).toEqual(['aa']);
  });
});

const settle = () => new Promise((r) => setTimeout(r, 0));

/** An engine over a recording with no periodic checkpoints (so a seek back replays from reset), pumped by hand. */
function longHarness() {
  const queue: (() => void)[] = [];
  let clock = 0;
  const h = engineHarness({
    defer: (fn) => queue.push(fn),
    // Each look at the clock takes 25 ms: a job slice (40 ms) then sees two replay chunks.
    now: () => (clock += 25),
    createHost: (spec) =>
      new MachineHost(
        Session.create({ kind: programKind(spec.image), image: spec.image, ramSize: spec.ramSize }, { interval: 1e12 }),
      ),
    openVmi: (bytes) => MachineHost.open(bytes),
  });
  /** Runs deferred slices until none is left, letting replies (promises) settle between them. */
  const pump = async () => {
    await settle();
    while (queue.length > 0) {
      queue.shift()!();
      await settle();
    }
  };
  return { ...h, pump };
}

describe('long jobs in the worker', () => {
  test('a far seek goes in slices with progress; cancelled, it stops at a valid position and says where', async () => {
    const h = longHarness();
    h.engine.handle({ type: 'load', image: guest('bench'), name: 'bench', ramSize: 64 << 20, record: true });
    h.send({ type: 'step', count: 6_000_000 });
    expect(h.lastStatus().position).toBe(6_000_000);
    const seek = h.send({ type: 'seek', position: 5_000_000 });
    expect(h.replyTo(seek)).toBeUndefined();
    const progress = h.events.filter((e) => e.type === 'progress');
    expect(progress.length).toBe(1);
    expect(progress[0]).toMatchObject({ op: 'seek', total: 5_000_000 });
    // A command that reads goes on beside the job.
    const hashId = h.send({ type: 'stateHash' });
    expect(h.replyTo(hashId)).toMatchObject({ ok: true });
    h.send({ type: 'cancel', job: (progress[0] as { job: number }).job });
    await settle();
    const r = h.replyTo(seek)!;
    expect(r.ok).toBe(false);
    const where = h.lastStatus();
    expect(where.state).toBe('paused');
    expect(where.position).toBeGreaterThan(0);
    expect(where.position).toBeLessThan(5_000_000);
    expect(!r.ok && r.error).toEqual({
      code: 'cancelled',
      message: `seek cancelled: stopped at position ${where.position}, short of 5000000`,
    });
    expect(h.events.filter((e) => e.type === 'progress').pop()).toMatchObject({ finished: true });
    await h.pump();
    expect(h.lastStatus().position).toBe(where.position);

    // From there the machine is sound: the seek finishes to the same state as a machine run straight there.
    const again = h.send({ type: 'seek', position: 5_000_000 });
    await h.pump();
    expect(h.replyTo(again)).toMatchObject({ ok: true });
    const straight = longHarness();
    straight.engine.handle({ type: 'load', image: guest('bench'), name: 'bench', ramSize: 64 << 20, record: true });
    straight.send({ type: 'step', count: 5_000_000 });
    const a = h.send({ type: 'stateHash' });
    const b = straight.send({ type: 'stateHash' });
    expect(h.replyTo(a)).toMatchObject({ ok: true });
    expect((h.replyTo(a) as { data: string }).data).toBe((straight.replyTo(b) as { data: string }).data);
  });

  test('another seek takes over from one in progress without an error event', async () => {
    const h = longHarness();
    h.engine.handle({ type: 'load', image: guest('bench'), name: 'bench', ramSize: 64 << 20, record: true });
    h.send({ type: 'step', count: 6_000_000 });
    const first = h.send({ type: 'seek', position: 5_000_000 });
    const second = h.send({ type: 'seek', position: 100 });
    await h.pump();
    expect(h.replyTo(first)).toMatchObject({ ok: false, error: { code: 'superseded' } });
    expect(h.replyTo(second)).toMatchObject({ ok: true });
    expect(h.lastStatus().position).toBe(100);
    expect(h.events.some((e) => e.type === 'error')).toBe(false);
  });

  test('an import opens at the end of the recording, with the console replayed; a damaged one changes nothing', async () => {
    const h = longHarness();
    h.engine.handle({ type: 'load', image: guest('hello'), name: 'hello', ramSize: 64 << 20, record: true });
    h.send({ type: 'run' });
    await h.pump();
    const end = h.lastStatus().position;
    const exp = h.send({ type: 'exportVmi' });
    const file = (h.replyTo(exp) as { data: { bytes: Uint8Array; branch: string; position: number } }).data;
    expect(file).toMatchObject({ branch: 'b0', position: end });

    const other = longHarness();
    const bad = file.bytes.slice();
    bad[bad.length >> 1]! ^= 0x55;
    const refused = other.send({ type: 'importVmi', bytes: bad });
    expect(other.replyTo(refused)).toMatchObject({ ok: false, error: { code: 'bad-vmi' } });
    expect(other.events.some((e) => e.type === 'loaded')).toBe(false);

    const ok = other.send({ type: 'importVmi', bytes: file.bytes });
    await other.pump();
    expect(other.replyTo(ok)).toMatchObject({ ok: true, data: { branch: 'b0', position: end } });
    const consoleEvent = other.events.filter((e) => e.type === 'console').pop() as Extract<
      WorkerEvent,
      { type: 'console' }
    >;
    expect(consoleEvent.complete).toBe(true);
    expect(new TextDecoder().decode(consoleEvent.bytes)).toContain('Hello');
  });
});

/** A fake worker client on which a request with no answer fails, so that none goes unnoticed. */
const fakeClient = () => new FakeClient((cmd) => Promise.reject(new Error(`no answer for ${cmd.type}`)));

function pageSetup(backend = new MemoryBackend()) {
  const client = fakeClient();
  const app = new AppState(client);
  let url = 'http://localhost/?record=1';
  const library = new LibraryState(app, new Library(backend), { href: () => url, replace: (u) => (url = u) });
  client.answers.exportVmi = () => ({ bytes: new Uint8Array([9, 9]), name: 'rewind.vmi', branch: 'b0', position: 42 });
  client.answers.stateHash = () => 'ab'.repeat(16);
  client.emit({ type: 'ready', capabilities: { timeTravel: true } });
  return { client, app, library, backend, url: () => url };
}

const loaded = (name: string): WorkerEvent => ({
  type: 'loaded',
  name,
  entry: 0,
  symbols: [],
  ramSize: 1 << 20,
  executor: 'interp',
  executorNote: null,
  diskSize: null,
});
const paused = (position: number): WorkerEvent => ({
  type: 'status',
  status: { state: 'paused', position, end: position, branch: 'b0', pc: 0, priv: 3, cause: 'user' },
});

describe('the page’s library', () => {
  test('a loaded VM is saved when it stops, and the URL names its point', async () => {
    const { client, library, url } = pageSetup();
    client.emit(loaded('game.elf'));
    client.emit(paused(42));
    const id = library.current!.id;
    expect(new URL(url()).searchParams.toString()).toBe(`record=1&vm=${id}&branch=b0&at=42`);
    await library.save();
    expect(library.entries).toMatchObject([{ id, name: 'game.elf', size: 2, branch: 'b0', position: 42 }]);
  });

  test('a stop on a new branch (a fork) is saved at once; steps on a saved branch wait to settle', async () => {
    const { client, library } = pageSetup();
    let exports = 0;
    let at = { branch: 'b0', position: 42 };
    client.answers.exportVmi = () => (exports++, { bytes: new Uint8Array([1]), name: 'rewind.vmi', ...at });
    client.emit(loaded('game.elf'));
    const timeline = (ids: string[]): WorkerEvent => ({
      type: 'timeline',
      timeline: {
        branch: ids.at(-1)!,
        branches: ids.map((id) => ({ id, name: id, parent: null, forkPosition: 0, end: 0 })),
        checkpoints: [],
        inputs: [],
        commands: [],
        output: [],
        bookmarks: [],
      },
    });
    const stop = (branch: string, position: number): WorkerEvent => ({
      type: 'status',
      status: { state: 'paused', position, end: position, branch, pc: 0, priv: 3, cause: 'seek' },
    });
    client.emit(timeline(['b0']));
    await library.save();
    expect(exports).toBe(1);
    // A seek on the saved branch: a burst of these makes one save, later.
    client.emit(stop('b0', 10));
    expect(library.saving).toBe(false);
    // A fork: saved now, so a reload a moment later finds the branch.
    at = { branch: 'b1', position: 20 };
    client.emit(timeline(['b0', 'b1']));
    client.emit(stop('b1', 20));
    expect(library.saving).toBe(true);
    await vi.waitFor(() => expect(library.saving).toBe(false));
    expect(exports).toBe(2);
    expect(library.entries).toMatchObject([{ branch: 'b1', position: 20 }]);
  });

  test('a stop back at the point saved last, while a save of another point is on its way, is saved after it', async () => {
    try {
      const { client, library } = pageSetup();
      const exported: number[] = [];
      let release = () => {};
      client.answers.exportVmi = () => {
        const { position } = library.app.status;
        exported.push(position);
        const file = { bytes: new Uint8Array([1]), name: 'rewind.vmi', branch: 'b0', position };
        // The save of 10 waits: the machine goes back to 42 meanwhile.
        return position === 10 ? new Promise((r) => (release = () => r(file))) : file;
      };
      client.emit(loaded('game.elf'));
      client.emit({
        type: 'timeline',
        timeline: {
          branch: 'b0',
          branches: [{ id: 'b0', name: 'b0', parent: null, forkPosition: 0, end: 0 }],
          checkpoints: [],
          inputs: [],
          commands: [],
          output: [],
          bookmarks: [],
        },
      });
      client.emit(paused(42));
      await library.save();
      exported.length = 0;
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      // A seek to 10 settles, and its save begins.
      client.emit(paused(10));
      await vi.advanceTimersByTimeAsync(1000);
      expect(library.saving).toBe(true);
      // Back at 42 before the save of 10 is written: as the page sees it, 42 is saved already.
      client.emit(paused(42));
      release();
      for (let i = 0; i < 40 && (library.saving || exported.length < 2); i++) await vi.advanceTimersByTimeAsync(50);
      expect(library.saving).toBe(false);
      expect(exported).toEqual([10, 42]);
      expect(library.entries).toMatchObject([{ branch: 'b0', position: 42 }]);
    } finally {
      vi.useRealTimers();
    }
  });

  test('a full quota is said once, clearly, and the saved copy stays', async () => {
    const backend = new FullBackend();
    const { client, app, library } = pageSetup(backend);
    client.emit(loaded('game.elf'));
    await library.save();
    const saved = await library.library.load(library.current!.id);
    backend.full = true;
    client.answers.exportVmi = () => ({
      bytes: new Uint8Array([7, 7, 7]),
      name: 'rewind.vmi',
      branch: 'b0',
      position: 50,
    });
    await library.save();
    expect(app.message).toBe(
      'Could not save "game.elf": browser storage is full: the last change was not saved (free space or export a .vmi)',
    );
    app.message = null;
    await library.save();
    expect(app.message).toBeNull();
    expect(await library.library.load(library.current!.id)).toEqual(saved);
  });

  test('a damaged .vmi is refused with the worker’s message and the library is unchanged; an ELF loads', async () => {
    const { client, app, library } = pageSetup();
    client.emit(loaded('game.elf'));
    client.emit(paused(42));
    await library.save();
    const before = await library.library.list();
    client.answers.importVmi = () => {
      throw Object.assign(new Error('integrity hash mismatch: the file is damaged'), { code: 'bad-vmi' });
    };
    const bytes = new TextEncoder().encode('REWINDVM garbage');
    await library.openFile({ name: 'broken.vmi', arrayBuffer: async () => bytes.buffer as ArrayBuffer });
    expect(app.message).toBe('Could not import broken.vmi: integrity hash mismatch: the file is damaged');
    expect(await library.library.list()).toEqual(before);

    client.answers.load = () => undefined;
    const elf = guest('hello');
    await library.openFile({ name: 'hello.elf', arrayBuffer: async () => elf.slice().buffer as ArrayBuffer });
    expect(client.sent.filter((c) => c.type === 'load')).toHaveLength(1);
  });

  test('an imported .vmi is kept in the library under its file name, as the worker opened it', async () => {
    const { client, library } = pageSetup();
    client.answers.importVmi = () => {
      client.emit(loaded('trip.vmi'));
      return { branch: 'b0', position: 7 };
    };
    const bytes = new Uint8Array([1, 2, 3, 4]);
    await library.openFile({ name: 'trip.vmi', arrayBuffer: async () => bytes.buffer as ArrayBuffer });
    expect(library.entries).toMatchObject([{ name: 'trip', size: 4, position: 7 }]);
    expect(library.current?.name).toBe('trip');
  });

  test('the start point: a deep link, the last VM, or nothing', async () => {
    const { library, app } = pageSetup();
    expect(await library.startPoint(new URLSearchParams(''))).toBeNull();
    await library.library.save(vm('abc'), new Uint8Array(1));
    expect(await library.startPoint(new URLSearchParams(''))).toEqual({ id: 'abc' });
    expect(await library.startPoint(new URLSearchParams('vm=abc&branch=b1&at=77'))).toEqual({
      id: 'abc',
      at: { branch: 'b1', position: 77 },
    });
    expect(await library.startPoint(new URLSearchParams('guest=x.elf'))).toBeNull();
    // A VM this browser lacks opens nothing (no default guest), and says so.
    expect(await library.startPoint(new URLSearchParams('vm=gone'))).toEqual({ missing: 'gone' });
    expect(app.message).toMatch(/no VM "gone".*Pick a guest/);
    await settle();
  });

  test('new VMs get names no other VM has; the same guest twice is "x" and "x (2)"', async () => {
    expect(uniqueName('hello.elf', [])).toBe('hello.elf');
    expect(uniqueName('hello.elf', ['hello.elf', 'hello.elf (2)', 'echo.elf'])).toBe('hello.elf (3)');
    const { client, library } = pageSetup();
    client.emit(loaded('hello.elf'));
    await library.save();
    client.emit(loaded('hello.elf'));
    await library.save();
    expect(library.entries.map((m) => m.name).sort()).toEqual(['hello.elf', 'hello.elf (2)']);
  });

  test('reopening the current VM (another executor) saves it and opens it again: the same entry, no new one', async () => {
    const { client, app, library } = pageSetup();
    client.emit(loaded('game.elf'));
    client.emit(paused(42));
    await library.save();
    const id = library.current!.id;
    client.answers.importVmi = (cmd) => {
      client.emit(loaded('game.elf'));
      return { branch: 'b0', position: (cmd as { at: { position: number } }).at.position };
    };
    app.executor = 'interp';
    expect(await library.reopen()).toBe(true);
    const imports = client.sent.filter((c) => c.type === 'importVmi');
    expect(imports).toMatchObject([{ executor: 'interp', at: { branch: 'b0', position: 42 } }]);
    expect(library.current?.id).toBe(id);
    expect(library.entries.map((m) => m.id)).toEqual([id]);
  });

  test('a link to a point the VM lacks opens it where it was saved and says why', async () => {
    const { client, app, library } = pageSetup();
    await library.library.save({ ...vm('abc', 'my game'), position: 42 }, new Uint8Array(3));
    client.answers.importVmi = (cmd) => {
      const at = (cmd as { at: { branch?: string; position: number } }).at;
      if (at.position > 42)
        throw Object.assign(new Error('branch main only runs to position 42'), { code: 'bad-argument' });
      client.emit(loaded('my game'));
      return at;
    };
    expect(await library.open('abc', { branch: 'b0', position: 999 })).toBe(true);
    expect(app.message).toBe(
      '"my game" has no position 999 of branch "b0" (branch main only runs to position 42): opened where it was saved, position 42.',
    );
    expect(library.current).toMatchObject({ id: 'abc', name: 'my game' });
  });
});

afterEach(unmountAll);

describe('Library panel', () => {
  test('lists saved VMs with their size, date and position; Open, Rename and Delete (confirmed) are named after the VM', async () => {
    const { library } = pageSetup();
    await library.library.save(vm('aa', 'first'), new Uint8Array(3 << 10));
    await library.library.save(vm('bb', 'second'), new Uint8Array(10));
    await library.refresh();
    const target = render(LibraryPanel, { library });
    const items = [...target.querySelectorAll('li')].map((li) => li.textContent!.replace(/\s+/g, ' ').trim());
    expect(items.sort()).toEqual([
      expect.stringMatching(/^first 3 KiB Open Rename Delete saved .+ · position \d+ · created .+$/),
      expect.stringMatching(/^second 10 B Open Rename Delete saved .+ · position \d+ · created .+$/),
    ]);
    const button = (label: string) => target.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`)!;
    for (const label of ['Open first', 'Rename first', 'Delete first', 'Open second'])
      expect(button(label)).toBeTruthy();
    button('Rename first').click();
    flushSync();
    const input = target.querySelector<HTMLInputElement>('input[aria-label="New name for first"]')!;
    input.value = 'renamed';
    input.dispatchEvent(new Event('input'));
    input.form!.dispatchEvent(new Event('submit', { cancelable: true }));
    await settle();
    await settle();
    flushSync();
    expect((await library.library.meta('aa'))?.name).toBe('renamed');
    // Delete asks first: Keep keeps it; Confirm deletes it.
    button('Delete second').click();
    flushSync();
    expect(target.textContent).toContain('Delete with all its branches?');
    button('Keep second').click();
    await settle();
    flushSync();
    expect(await library.library.meta('bb')).not.toBeNull();
    button('Delete second').click();
    flushSync();
    button('Confirm delete second').click();
    await settle();
    await settle();
    flushSync();
    expect([...target.querySelectorAll('li .name')].map((n) => n.textContent)).toEqual(['renamed']);
  });
});

describe('Progress', () => {
  test('shows a bar for a long job with a Cancel button that cancels it, and goes when it finishes', () => {
    const client = fakeClient();
    const app = new AppState(client);
    const target = render(Progress, { app });
    client.emit({ type: 'progress', job: 3, op: 'seek', done: 250, total: 1000 });
    const bar = target.querySelector('progress')!;
    expect(bar.getAttribute('value')).toBe('250');
    expect(bar.getAttribute('max')).toBe('1000');
    expect(target.textContent).toContain('Seeking');
    const cancel = [...target.querySelectorAll('button')].find((b) => b.textContent === 'Cancel')!;
    cancel.click();
    expect(client.sent.pop()).toEqual({ type: 'cancel', job: 3 });
    client.emit({ type: 'progress', job: 3, op: 'seek', done: 0, total: 0, finished: true });
    expect(target.querySelector('progress')).toBeNull();
  });
});
