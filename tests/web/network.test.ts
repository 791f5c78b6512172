/**
 * src/web/network.ts with the worker's engine in Node: a network group of
 * machines, each in an engine of its own, driven by the page's switchboard
 * one quantum at a time. It runs as `rewind group` runs the same machines
 * in one thread (same consoles, same state hashes), and the group file it
 * saves replays and verifies in the CLI's terms.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Group } from '../../session/group.js';
import { readGroupFile, verifyGroup } from '../../session/group-file.js';
import { programSpec } from '../../session/spec.js';
import { Engine } from '../../src/web/engine.js';
import type { ExportedVmi } from '../../src/web/jobs.js';
import { NetworkGroup, type NetworkMember } from '../../src/web/network.js';
import type { Request } from '../../src/web/client.js';
import type { Command, QuantumResult, WorkerEvent } from '../../src/web/protocol.js';
import { linuxFile, linuxMissing, PROMPT } from '../linux/linux-run.js';
import { groupNames } from '../../ui/network.svelte.js';
import { guest, recordingHosts } from './support.js';

const RAM = 16 << 20;
const macOf = (i: number) => `52:54:00:12:34:${(0x56 + i).toString(16)}`;

/** An engine as a worker runs it, with its console and its replies. */
class Vm {
  readonly engine: Engine;
  console = '';
  readonly events: WorkerEvent[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, (e: Extract<WorkerEvent, { type: 'reply' }>) => void>();
  lastStatus: Extract<WorkerEvent, { type: 'status' }>['status'] | null = null;

  constructor() {
    this.engine = new Engine({
      ...recordingHosts,
      post: (e) => {
        this.events.push(e);
        if (e.type === 'output') this.console += Buffer.from(e.bytes).toString('latin1');
        if (e.type === 'console') this.console = Buffer.from(e.bytes).toString('latin1');
        if (e.type === 'status') this.lastStatus = e.status;
        if (e.type === 'reply') this.waiting.get(e.id)?.(e);
      },
      defer: (fn) => setImmediate(fn),
    });
  }

  request<T>(cmd: Request): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, (e) => {
        this.waiting.delete(id);
        if (e.ok) resolve(e.data as T);
        else reject(Object.assign(new Error(e.error.message), { code: e.error.code }));
      });
      this.engine.handle({ ...cmd, id } as Command);
    });
  }

  member(name: string, mac: string): NetworkMember {
    return {
      name,
      mac,
      quantum: (quantum, start, until, frames) =>
        this.request<QuantumResult>({ type: 'quantum', quantum, start, until, frames }),
    };
  }
}

/** Loads `image` (with a network device, recording) into a new engine that joins a group and runs. */
async function joined(load: Omit<Extract<Command, { type: 'load' }>, 'type' | 'id'>): Promise<Vm> {
  const vm = new Vm();
  await vm.request({ type: 'load', record: true, ...load });
  await vm.request({ type: 'joinGroup' });
  vm.engine.handle({ type: 'run' });
  return vm;
}

async function saved(group: NetworkGroup, vms: readonly Vm[]): Promise<Uint8Array> {
  await group.pause();
  const files = await Promise.all(vms.map((vm) => vm.request<ExportedVmi>({ type: 'exportVmi' })));
  return group.toFile(files.map((f) => f.bytes));
}

describe('a network group of workers', () => {
  it('runs ping and pong as rewind group does, and saves a group file that verifies', async () => {
    const names = ['pong', 'ping'];
    const vms = await Promise.all(
      names.map((n, i) => joined({ image: guest(n), name: n, ramSize: RAM, net: { mac: macOf(i) } })),
    );
    const group = new NetworkGroup(
      vms.map((vm, i) => vm.member(names[i]!, macOf(i))),
      { quantum: 1000, realTime: false },
    );
    group.start();
    while (!group.board.ends.every((e) => e.state === 'power')) await new Promise((done) => setTimeout(done, 20));
    const file = readGroupFile(await saved(group, vms));

    // The same machines in one thread.
    const alone = Group.create(
      names.map((n, i) => ({
        name: n,
        spec: programSpec(new Uint8Array(readFileSync(`guests/build/${n}.elf`)), {
          ramSize: RAM,
          net: { mac: macOf(i) },
        }),
      })),
      1000,
    );
    const consoles = alone.sessions.map(() => [] as number[]);
    alone.sessions.forEach((s, i) => (s.onOutput = (b) => consoles[i]!.push(b)));
    alone.run();
    expect(vms.map((vm) => vm.console)).toEqual(consoles.map((c) => Buffer.from(c).toString('latin1')));
    expect(vms[1]!.console).toContain('ping: 8 of 8 pongs good');
    expect(await Promise.all(vms.map((vm) => vm.request<string>({ type: 'stateHash' })))).toEqual(
      alone.sessions.map((s) => s.stateHash()),
    );
    expect(file.quanta).toBe(group.board.quanta);
    expect(verifyGroup(file).map((v) => v.problem)).toEqual([null, null]);
  });

  it('a breakpoint in a member holds the group; run on, and a look at the past, change nothing of the runs', async () => {
    const names = ['pong', 'ping'];
    const load = (n: string, i: number) => ({ image: guest(n), name: n, ramSize: RAM, net: { mac: macOf(i) } });
    const runGroup = async (debug: boolean) => {
      const vms = await Promise.all(names.map((n, i) => joined(load(n, i))));
      const group = new NetworkGroup(
        vms.map((vm, i) => vm.member(names[i]!, macOf(i))),
        { quantum: 1000, realTime: false },
      );
      const ping = vms[1]!;
      if (debug) {
        const symbols = new Map(
          (ping.events.find((e) => e.type === 'loaded') as Extract<WorkerEvent, { type: 'loaded' }>).symbols,
        );
        await ping.request({ type: 'setBreakpoints', addresses: [symbols.get('net_send')!] });
      }
      group.start();
      if (debug) {
        // Held at net_send: the group waits for ping, whatever pong could do.
        while (ping.lastStatus?.cause !== 'breakpoint') await new Promise((done) => setTimeout(done, 5));
        const held = group.board.quanta;
        await new Promise((done) => setTimeout(done, 100));
        expect(group.board.quanta).toBe(held);
        // Typing in the past is refused; a look at the past, then run on: back at the present first.
        const here = ping.lastStatus.position;
        await ping.request({ type: 'stepBack', count: 50 });
        await expect(ping.request({ type: 'type', bytes: Uint8Array.of(0x61) })).rejects.toThrow(/network group/);
        await ping.request({ type: 'setBreakpoints', addresses: [] });
        ping.engine.handle({ type: 'run' });
        while (group.board.quanta === held) await new Promise((done) => setTimeout(done, 5));
        expect((await ping.request<{ position: number }>({ type: 'getRegisters' })).position).toBeGreaterThan(here);
      }
      while (!group.board.ends.every((e) => e.state === 'power')) await new Promise((done) => setTimeout(done, 20));
      await group.pause();
      return Promise.all(vms.map((vm) => vm.request<string>({ type: 'stateHash' })));
    };
    expect(await runGroup(true)).toEqual(await runGroup(false));
  });

  it.skipIf(linuxMissing() !== null)(
    'lets two Linux machines ping each other with input typed while they run, and the file verifies',
    async () => {
      const kernel = new Uint8Array(readFileSync(linuxFile('Image')));
      const initrd = new Uint8Array(readFileSync(linuxFile('initramfs.cpio')));
      const names = ['alice', 'bob'];
      const vms = await Promise.all(
        names.map((n, i) =>
          joined({ image: kernel.slice(), name: n, linux: { initrd: initrd.slice() }, net: { mac: macOf(i) } }),
        ),
      );
      const group = new NetworkGroup(
        vms.map((vm, i) => vm.member(names[i]!, macOf(i))),
        { realTime: false },
      );
      const until = async (what: () => boolean, label: string) => {
        for (let t = 0; !what(); t++) {
          if (t > 6000 || group.problem)
            throw new Error(`no ${label}: ${group.problem ?? vms.map((v) => v.console).join('\n---\n')}`);
          await new Promise((done) => setTimeout(done, 10));
        }
      };
      group.start();
      await until(() => vms.every((vm) => vm.console.endsWith(PROMPT)), 'prompts');
      await vms[0]!.request({ type: 'type', bytes: new TextEncoder().encode('ping -c 1 10.0.0.2\n') });
      await until(() => /1 packets? transmitted, 1 received/.test(vms[0]!.console), 'reply');
      const file = readGroupFile(await saved(group, vms));
      expect(vms[0]!.console).toMatch(/64 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64/);
      expect(file.machines[0]!.typed.map((t) => new TextDecoder().decode(t.bytes))).toEqual(['ping -c 1 10.0.0.2\n']);
      expect(file.machines[1]!.typed).toEqual([]);
      expect(verifyGroup(file).map((v) => v.problem)).toEqual([null, null]);
    },
    300_000,
  );

  it('takes two to eight distinct machine names for a new network, and names what is wrong', () => {
    expect(groupNames(' alice, bob carol ')).toEqual(['alice', 'bob', 'carol']);
    expect(() => groupNames('alice')).toThrow(/at least two machines/);
    expect(() => groupNames('a b c d e f g h i')).toThrow(/at most 8/);
    expect(() => groupNames('alice alice')).toThrow('two machines are named "alice"');
    expect(() => groupNames('alice -bob')).toThrow('"-bob" is not a machine name');
  });
});
