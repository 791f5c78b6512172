// @vitest-environment happy-dom
// Choosing the executor: a load that asks for the JIT gets a machine on it
// and says so, a recording made on it is the one the interpreter makes, and
// the page shows the executor and why the JIT could not run.
import { afterEach, describe, expect, test, vi } from 'vitest';
import ExecutorPicker from '../../ui/ExecutorPicker.svelte';
import Message from '../../ui/Message.svelte';
import { AppState } from '../../ui/app.svelte.js';
import type { LibraryState } from '../../ui/library.svelte.js';
import { MachineHost } from '../../src/web/host.js';
import type { Command, Executor, WorkerEvent } from '../../src/web/protocol.js';
import { readVmi } from '../../storage/index.js';
import { FakeClient, engineHarness, guest, recordingHosts, render, unmountAll } from './support.js';

const loaded = (executor: Executor, executorNote: string | null = null): WorkerEvent => ({
  type: 'loaded',
  name: 'default.elf',
  entry: 0x80000000,
  symbols: [],
  ramSize: 1 << 20,
  executor,
  executorNote,
  diskSize: null,
});

/** An engine whose hosts are kept, to look at the machines they built. */
function harness() {
  const hosts: MachineHost[] = [];
  const queue: (() => void)[] = [];
  const h = engineHarness({
    defer: (fn) => queue.push(fn),
    createHost: (spec, record) => {
      const host = MachineHost.create(spec, record);
      hosts.push(host);
      return host;
    },
  });
  return { ...h, hosts };
}

afterEach(() => {
  unmountAll();
  vi.unstubAllGlobals();
});

describe('executor', () => {
  test('a load that asks for the interpreter builds the machine on it and the loaded event says so; the default is the JIT', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello'), executor: 'interp' });
    expect(h.hosts[0]!.machine.config.executor).toBe('interp');
    expect(h.last('loaded')).toMatchObject({ executor: 'interp', executorNote: null });
    h.engine.handle({ type: 'load', image: guest('hello') });
    expect(h.hosts[1]!.machine.config.executor).toBeUndefined();
    expect(h.last('loaded')).toMatchObject({ executor: 'jit', executorNote: null });
  });

  test('a recording on the JIT has the interpreter’s state hashes, and its .vmi does not name the executor', () => {
    const run = (executor: Executor) => {
      const h = harness();
      h.engine.handle({ type: 'load', image: guest('default'), record: true, executor });
      h.reply({ type: 'step', count: 200_000 });
      h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('help\nlook\n') });
      h.reply({ type: 'step', count: 1_000_000 });
      // The JIT did run compiled code (core/jit keeps count).
      if (executor === 'jit')
        expect(
          (h.hosts[0]!.machine.cpu.jit as unknown as { stats: { compiled: number } }).stats.compiled,
        ).toBeGreaterThan(0);
      const vmi = readVmi((h.reply({ type: 'exportVmi' }) as { bytes: Uint8Array }).bytes);
      return { hash: h.reply({ type: 'stateHash' }), machine: vmi.config.machine };
    };
    const jit = run('jit');
    const interp = run('interp');
    expect(jit.hash).toBe(interp.hash);
    expect(jit.machine).toEqual(interp.machine);
    expect(jit.machine).not.toHaveProperty('executor');
  });

  test('a .vmi opens on the executor the import asks for, at the same state', async () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('default'), record: true });
    h.reply({ type: 'step', count: 100_000 });
    const { position } = h.lastStatus();
    const bytes = (h.reply({ type: 'exportVmi' }) as { bytes: Uint8Array }).bytes;
    // An import (and a seek) may go on in slices: they reply once done.
    const opened = engineHarness({ defer: (fn) => setTimeout(fn, 0), ...recordingHosts });
    const done = async (id: number) => {
      await vi.waitFor(() => expect(opened.replyTo(id)).toMatchObject({ ok: true }));
      return (opened.replyTo(id) as { data: unknown }).data;
    };
    const at = (await done(opened.send({ type: 'importVmi', bytes, executor: 'jit' }))) as { branch: string };
    expect(opened.last('loaded')).toMatchObject({ executor: 'jit', executorNote: null });
    await done(opened.send({ type: 'seek', branch: at.branch, position }));
    expect(await done(opened.send({ type: 'stateHash' }))).toBe(h.reply({ type: 'stateHash' }));
  });

  test('loads ask for the chosen executor; changing it reboots a bundled guest on it', async () => {
    vi.stubGlobal('fetch', async () => new Response(new Uint8Array([1, 2, 3])));
    const client = new FakeClient();
    const app = new AppState(client);
    const target = render(ExecutorPicker, { app });
    expect(target.querySelector('label')?.textContent).toContain('Executor');
    const select = target.querySelector('select')!;
    expect([...select.options].map((o) => o.textContent)).toEqual(['Interpreter', 'JIT']);
    expect(select.value).toBe('jit');
    client.emit(loaded('jit'));
    select.value = 'interp';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await vi.waitFor(() => expect(client.sent.some((c) => c.type === 'load')).toBe(true));
    const load = client.sent.find((c) => c.type === 'load') as Extract<Command, { type: 'load' }>;
    expect(load).toMatchObject({ name: 'default.elf', executor: 'interp', run: true });
    // Until the worker reports the new machine, the one in use is named.
    expect(target.querySelector('[data-testid=executor-in-use]')?.textContent).toBe('JIT in use');
    client.emit(loaded('interp'));
    expect(target.querySelector('[data-testid=executor-in-use]')).toBeNull();
  });

  test('with a library, changing it reopens the saved VM where it stands on the new executor', async () => {
    const client = new FakeClient();
    const app = new AppState(client);
    const reopened: string[] = [];
    const library = { reopen: async () => (reopened.push(app.executor), true) } as unknown as LibraryState;
    const target = render(ExecutorPicker, { app, library });
    client.emit(loaded('jit'));
    const select = target.querySelector('select')!;
    select.value = 'interp';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await vi.waitFor(() => expect(reopened).toEqual(['interp']));
    // Not a reboot: no load of the guest, so no new VM.
    expect(client.sent.filter((c) => c.type === 'load')).toEqual([]);
  });

  test('a program of another source is not reloaded: the choice waits for its next load', () => {
    const client = new FakeClient();
    const app = new AppState(client);
    const target = render(ExecutorPicker, { app });
    client.emit({ ...loaded('jit'), name: 'mine.elf' } as WorkerEvent);
    const select = target.querySelector('select')!;
    select.value = 'interp';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    expect(app.executor).toBe('interp');
    expect(client.sent).toEqual([]);
  });

  test('when the JIT could not run, the page says so and names the interpreter as the executor in use', () => {
    const client = new FakeClient();
    const app = new AppState(client);
    app.executor = 'jit';
    const message = render(Message, { app });
    const picker = render(ExecutorPicker, { app });
    client.emit(
      loaded('interp', 'code generation is not allowed here (EvalError: no unsafe-eval); using the interpreter'),
    );
    const alert = message.querySelector('[role=alert]');
    expect(alert?.textContent).toContain(
      'JIT unavailable: code generation is not allowed here (EvalError: no unsafe-eval); using the interpreter',
    );
    expect(picker.querySelector('[data-testid=executor-in-use]')?.textContent).toBe('Interpreter in use');
  });
});
