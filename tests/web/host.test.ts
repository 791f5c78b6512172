// The host's page state against fake workers: each VM its own client, a
// crash that stays its own, clones into their own library entries, stop
// and start from the library, resources sent to the right worker.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Group, memberMac } from '../../session/group.js';
import { groupToFile, writeGroupFile } from '../../session/group-file.js';
import { programSpec } from '../../session/spec.js';
import { Library } from '../../src/web/library.js';
import type { WorkerEvent } from '../../src/web/protocol.js';
import { MemoryBackend } from '../../storage/index.js';
import { HostState, type HostClient } from '../../ui/host.svelte.js';
import { FakeClient } from './support.js';

class FakeWorker extends FakeClient implements HostClient {
  terminated = false;
  private crashListeners: ((reason: string) => void)[] = [];
  terminate(): void {
    this.terminated = true;
  }
  onCrash(listener: (reason: string) => void): () => boolean {
    this.crashListeners.push(listener);
    return () => true;
  }
  crash(reason: string): void {
    for (const l of this.crashListeners) l(reason);
  }
}

const loaded = (name: string, ramSize = 64 << 20): WorkerEvent => ({
  type: 'loaded',
  name,
  entry: 0,
  symbols: [],
  ramSize,
  executor: 'interp',
  executorNote: null,
  diskSize: null,
});
const status = (state: 'running' | 'paused', position: number): WorkerEvent => ({
  type: 'status',
  status: { state, position, end: position, branch: 'b0', pc: 0, priv: 3 },
});

function setup(library = new Library(new MemoryBackend())) {
  const workers: FakeWorker[] = [];
  let url = 'http://localhost/';
  const host = new HostState({
    spawn: () => {
      const w = new FakeWorker();
      w.answers.exportVmi = () => ({ bytes: new Uint8Array([1, 2, 3]), name: 'x.vmi', branch: 'b0', position: 7 });
      w.answers.importVmi = (cmd) => {
        w.emit({ type: 'ready', capabilities: { timeTravel: true } });
        w.emit(loaded('echo.elf'));
        const at = cmd.type === 'importVmi' ? cmd.at : undefined;
        w.emit(status('paused', at?.position ?? 0));
        return { branch: at?.branch ?? 'b0', position: at?.position ?? 0 };
      };
      workers.push(w);
      return w;
    },
    library,
    url: { href: () => url, replace: (u) => (url = u) },
  });
  return { host, workers, library, url: () => url };
}

/** The first VM as a running recorded echo guest. */
function runningFirst(s: ReturnType<typeof setup>) {
  const w = s.workers[0]!;
  w.emit({ type: 'ready', capabilities: { timeTravel: true } });
  w.emit(loaded('echo.elf'));
  w.emit(status('running', 100));
  return w;
}

describe('the host', () => {
  test('starts with one VM, focused, in a worker of its own', () => {
    const { host, workers } = setup();
    expect(host.vms).toHaveLength(1);
    expect(host.focused).toBe(host.vms[0]);
    expect(host.focused.client).toBe(workers[0]);
    expect(host.focused.state).toBe('empty');
  });

  test('a crash is its VM’s own: it shows as crashed, the other VM runs on', async () => {
    const s = setup();
    runningFirst(s);
    await s.library.save({ id: 'saved1', name: 'other', created: 0, branch: 'b0', position: 3 }, new Uint8Array([5]));
    const second = await s.host.openEntry('saved1');
    expect(s.host.vms).toHaveLength(2);
    expect(s.host.focused).toBe(second);
    s.workers[1]!.emit(status('running', 10));
    s.workers[0]!.crash('out of memory');
    expect(s.host.vms[0]!.state).toBe('crashed');
    expect(s.host.vms[0]!.crashed).toBe('out of memory');
    expect(second.state).toBe('running');
  });

  test('opening an entry a VM already has shows that VM instead of a second copy', async () => {
    const s = setup();
    await s.library.save({ id: 'saved1', name: 'one', created: 0, branch: 'b0', position: 3 }, new Uint8Array([5]));
    const vm = await s.host.openEntry('saved1');
    s.host.focus(s.host.vms[0]!);
    expect(await s.host.openEntry('saved1')).toBe(vm);
    expect(s.host.vms).toHaveLength(2);
    expect(s.host.focused).toBe(vm);
  });

  test('a clone is a new VM at its source’s point, in its own library entry, running when its source ran', async () => {
    const s = setup();
    runningFirst(s);
    const source = s.host.vms[0]!;
    const clone = await s.host.clone(source);
    expect(clone).not.toBeNull();
    expect(s.host.vms).toHaveLength(2);
    expect(s.host.focused).toBe(clone);
    const imported = s.workers[1]!.sent.find((c) => c.type === 'importVmi');
    expect(imported).toMatchObject({ at: { branch: 'b0', position: 7 } });
    const entries = await s.library.list();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ id: clone!.library.current!.id, name: 'echo.elf (clone)', position: 7 });
    expect(clone!.library.current!.id).not.toBe(source.library.current!.id);
    expect(s.workers[1]!.sent.some((c) => c.type === 'run')).toBe(true);
    // Only the focused VM names itself in the URL.
    s.workers[0]!.emit(status('paused', 100));
    expect(new URL(s.url()).searchParams.get('vm')).toBe(clone!.library.current!.id);
  });

  test('stop saves and ends the worker; start opens the saved VM in a new worker, in its place', async () => {
    const s = setup();
    const w = runningFirst(s);
    const vm = s.host.vms[0]!;
    await s.host.stop(vm);
    expect(w.sent.some((c) => c.type === 'pause')).toBe(true);
    expect(w.terminated).toBe(true);
    expect(vm.state).toBe('stopped');
    const saved = await s.library.list();
    expect(saved).toHaveLength(1);
    const fresh = await s.host.start(vm);
    expect(fresh).not.toBe(vm);
    expect(s.host.vms).toEqual([fresh]);
    expect(s.host.focused).toBe(fresh);
    expect(s.workers[1]!.sent.find((c) => c.type === 'importVmi')).toMatchObject({ at: { position: 7 } });
    expect(fresh.library.current!.id).toBe(saved[0]!.id);
  });

  test('a CPU cap goes to the VM’s worker at once; its RAM only while it is paused', () => {
    const s = setup();
    const w = runningFirst(s);
    const vm = s.host.vms[0]!;
    s.host.setResources(vm, { ramMiB: 128, paceMips: 50 });
    expect(w.sent).toContainEqual({ type: 'setPace', mips: 50 });
    expect(w.sent.some((c) => c.type === 'setRam')).toBe(false);
    expect(vm.resources).toEqual({ ramMiB: 64, paceMips: 50 });
    expect(s.host.message).toMatch(/Pause .* first/);
    w.emit(status('paused', 120));
    s.host.setResources(vm, { ramMiB: 128, paceMips: 50 });
    expect(w.sent).toContainEqual({ type: 'setRam', ramSize: 128 << 20 });
    expect(vm.resources).toEqual({ ramMiB: 128, paceMips: 50 });
  });

  test('the VMs of a page left come back on the next visit, paused, with their caps; but the one the page opened', async () => {
    const first = setup();
    await first.library.save({ id: 'vmA', name: 'a', created: 0, branch: 'b0', position: 1 }, new Uint8Array([1]));
    await first.library.save({ id: 'vmB', name: 'b', created: 0, branch: 'b0', position: 2 }, new Uint8Array([2]));
    await first.host.openEntry('vmA');
    const b = await first.host.openEntry('vmB');
    first.host.setResources(b, { ramMiB: 64, paceMips: 30 });
    const kept = new Map<string, string>();
    first.host.remember({ setItem: (k, v) => kept.set(k, v) });
    await first.library.delete('vmA');

    const next = setup(first.library);
    const storage = { getItem: (k: string) => kept.get(k) ?? null };
    await next.host.reopenRemembered('vmB', storage);
    // vmB is the page's own (it keeps its cap), vmA is gone from the library: nothing to open.
    expect(next.host.vms).toHaveLength(1);
    expect(next.workers[0]!.sent).toContainEqual({ type: 'setPace', mips: 30 });
    await first.library.save({ id: 'vmA', name: 'a', created: 0, branch: 'b0', position: 1 }, new Uint8Array([1]));
    await next.host.reopenRemembered(null, storage);
    expect(next.host.vms.map((v) => v.library.current?.id ?? null)).toEqual([null, 'vmA', 'vmB']);
    expect(next.workers[2]!.sent).toContainEqual({ type: 'setPace', mips: 30 });
    expect(next.workers[2]!.sent.some((c) => c.type === 'run')).toBe(false);
  });

  test('a version 1 group file, opened as any file, opens its machines each on its own, and says why', async () => {
    const s = setup();
    // Opened as any file is (Import, a drop): the library hands it to the host.
    const bytes = new Uint8Array(readFileSync('tests/fixtures/vmg-v1/ping-pong.vmg'));
    await s.host.focused.library.openFile({ name: 'ping-pong.vmg', arrayBuffer: () => Promise.resolve(bytes.buffer) });
    expect(s.host.groups).toEqual([]);
    expect(s.host.vms.map((v) => v.library.current?.name)).toEqual([undefined, 'pong', 'ping']);
    expect(s.host.message).toMatch(/version 1 group file.*each on its own/);
    expect(s.workers.flatMap((w) => w.sent).some((c) => c.type === 'joinGroup')).toBe(false);
  });

  test("a version 2 group file opens as a group, paused; a member's pause and removal act on the group", async () => {
    const members = ['pong', 'ping'].map((name, i) => ({
      name,
      spec: programSpec(new Uint8Array(readFileSync(`guests/build/${name}.elf`)), {
        ramSize: 16 << 20,
        net: { mac: memberMac(i) },
      }),
    }));
    const g = Group.create(members, 1000);
    g.run({ quanta: 40 });
    const s = setup();
    const group = (await s.host.openGroup(writeGroupFile(groupToFile(g, null, 40)), 'pair.vmg'))!;
    expect(s.host.groups).toEqual([group]);
    expect(group.quanta).toBe(40);
    const [pong, ping] = [s.workers[1]!, s.workers[2]!];
    // Each joins as the file's moment left it.
    expect(pong.sent).toContainEqual({ type: 'joinGroup', end: g.ends[0] });
    expect(ping.sent).toContainEqual({ type: 'joinGroup', end: g.ends[1] });
    expect(group.running).toBe(false);

    void s.host.start(s.host.vms[1]!);
    expect(group.running).toBe(true);
    expect(ping.sent).toContainEqual({ type: 'run' });
    s.host.pause(s.host.vms[2]!);
    await expect.poll(() => group.running).toBe(false);
    expect(pong.sent.at(-1)).toEqual({ type: 'pause' });

    s.host.remove(s.host.vms[2]!);
    await expect.poll(() => s.host.groups).toEqual([]);
    expect(pong.sent).toContainEqual({ type: 'leaveGroup' });
    // Taken apart, a member that runs on its own no longer runs the group.
    const sent = pong.sent.length;
    pong.emit(status('running', 50));
    await new Promise((done) => setTimeout(done, 50));
    expect(pong.sent.slice(sent).map((c) => c.type)).toEqual([]);
    expect(group.running).toBe(false);
  });
});
