/** session/group.ts and session/group-file.ts: lockstep quanta, the switch, the group file, replays alone and together, forks. */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RewindError } from '../../core/errors.js';
import { Group, VirtualSwitch, type Member } from '../../session/group.js';
import {
  forkGroup,
  groupToFile,
  openMachine,
  readGroupFile,
  verifyGroup,
  writeGroupFile,
} from '../../session/group-file.js';
import { Session } from '../../session/session.js';
import { programSpec, specFromOptions, specOptions } from '../../session/spec.js';
import { expected, guest } from '../support/cli.js';
import { frame } from './driver.js';

const RAM = 16 << 20;
const member = (name: string, mac: string): Member => ({
  name,
  spec: programSpec(new Uint8Array(readFileSync(guest(name))), { ramSize: RAM, net: { mac } }),
});
const pair = () => [member('pong', '52:54:00:12:34:56'), member('ping', '52:54:00:12:34:57')];

function runPair(quantum = 1000) {
  const group = Group.create(pair(), quantum);
  const consoles = group.sessions.map(() => [] as number[]);
  group.sessions.forEach((s, i) => (s.onOutput = (b) => consoles[i]!.push(b)));
  group.run();
  return { group, consoles: consoles.map((c) => Buffer.from(c).toString('latin1')) };
}

describe('the virtual switch', () => {
  it('floods broadcast and unknown destinations, then sends to the port a MAC was learnt on', () => {
    const sw = new VirtualSwitch(3);
    const a = [2, 0, 0, 0, 0, 0xa];
    const b = [2, 0, 0, 0, 0, 0xb];
    const to = (dst: number[], src: number[]) =>
      Uint8Array.from([...dst, ...src, 0x88, 0xb5, ...new Array(46).fill(0)]);
    expect(sw.forward(0, to([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], a))).toEqual([1, 2]);
    expect(sw.forward(1, to(a, b))).toEqual([0]);
    expect(sw.forward(0, to(b, a))).toEqual([1]);
    expect(sw.forward(2, to([2, 0, 0, 0, 0, 0xc], b))).toEqual([0, 1]);
    // A learnt MAC moves with its sender; nothing goes back to where it came from.
    expect(sw.forward(2, to(b, a))).toEqual([]);
  });
});

describe('a group of two machines', () => {
  it('exchanges frames in lockstep quanta, and both power off with pass', () => {
    const { group, consoles } = runPair();
    expect(group.ends.map((e) => e.state)).toEqual(['power', 'power']);
    expect(consoles[0]).toContain('pong: bye after 8 pings, 0 bad');
    expect(consoles[1]).toContain('ping: 8 of 8 pongs good');
    expect(consoles[1]).toContain('ping: pong 1 from 52:54:00:12:34:56');
  });

  it('reaches the same state hashes on the interpreter as on the JIT', () => {
    const jit = runPair().group;
    const interp = Group.create(
      pair().map((m) => ({ ...m, spec: { ...m.spec, executor: 'interp' as const } })),
      1000,
    );
    interp.run();
    expect(interp.sessions.map((s) => s.stateHash())).toEqual(jit.sessions.map((s) => s.stateHash()));
  });

  it('gives the same group file on every run, whatever the quantum gives', () => {
    const a = writeGroupFile(groupToFile(runPair(500).group, null));
    const b = writeGroupFile(groupToFile(runPair(500).group, null));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const other = runPair(7000);
    expect(other.consoles[1]).toContain('ping: 8 of 8 pongs good');
  });

  it('records each machine so that it replays alone, and the group together, to the same state hashes', () => {
    const { group } = runPair();
    const file = readGroupFile(writeGroupFile(groupToFile(group, null)));
    expect(file.machines.map((m) => [m.name, m.mac])).toEqual([
      ['pong', '52:54:00:12:34:56'],
      ['ping', '52:54:00:12:34:57'],
    ]);
    for (const [i, m] of file.machines.entries()) {
      const alone = openMachine(m);
      const root = alone.timeline.root();
      expect(root.events.length).toBeGreaterThan(0);
      expect(root.events.every((e) => e.device === 'net')).toBe(true);
      alone.seek({ position: alone.branchEnd() });
      expect(alone.stateHash()).toBe(group.sessions[i]!.stateHash());
    }
    const verdicts = verifyGroup(file);
    expect(verdicts.map((v) => v.problem)).toEqual([null, null]);
    expect(verdicts.every((v) => v.checked >= 2)).toBe(true);
  });

  it('forks a machine at a position and keeps both branches', () => {
    const { group } = runPair();
    const ping = openMachine(groupToFile(group, null).machines[1]!);
    const main = ping.branch;
    const firstFrame = ping.timeline.root().events[0]!.position;
    const end = ping.branchEnd();
    ping.seek({ position: firstFrame });
    const before = ping.stateHash();
    // A different frame instead of the first pong: the guest sees garbage, not its pong, and keeps waiting.
    ping.receiveFrame(frame(60, 3));
    const fork = ping.branch;
    expect(fork).not.toBe(main);
    ping.run(200_000);
    expect(ping.timeline.branch(fork).events.length).toBe(1);
    expect(ping.branchEnd(main)).toBe(end);
    expect(ping.replay(main, { verify: true }).mismatch).toBeNull();
    ping.seek({ branch: main, position: firstFrame });
    expect(ping.stateHash()).toBe(before);
    ping.seek({ branch: main, position: end });
    expect(ping.machine.power?.kind).toBe('pass');
  });

  it('forks the whole group at a moment: the same inputs give the same future on the new branches, the old ones are kept', () => {
    const { group, consoles } = runPair();
    const file = readGroupFile(writeGroupFile(groupToFile(group, null)));
    const fork = forkGroup(file, 40);
    const after = fork.sessions.map(() => [] as number[]);
    fork.sessions.forEach((s, i) => (s.onOutput = (b) => after[i]!.push(b)));
    fork.run();
    expect(fork.ends.map((e) => e.state)).toEqual(['power', 'power']);
    fork.sessions.forEach((s, i) => {
      expect(s.branchName).toBe('group@40');
      expect(s.branches().length).toBe(2);
      // The fork ran on from the moment as the original did: the same end, the rest of the same console.
      expect(s.stateHash()).toBe(group.sessions[i]!.stateHash());
      expect(consoles[i]!.endsWith(Buffer.from(after[i]!).toString('latin1'))).toBe(true);
    });
    expect(after[1]!.length).toBeGreaterThan(0);
    const saved = readGroupFile(writeGroupFile(groupToFile(fork, null)));
    expect(saved.forks.map((f) => [f.quantum, f.branch])).toEqual([[40, 'group@40']]);
    expect(verifyGroup(saved).map((v) => v.problem)).toEqual([null, null]);
  });

  it('a group fork with new console input for one machine diverges there, and only there', () => {
    const members = [member('pong', '52:54:00:12:34:56'), member('echo', '52:54:00:12:34:57')];
    members[1]!.input = new TextEncoder().encode('hello\n');
    const group = Group.create(members, 1000);
    group.run({ maxSteps: 2_000_000 });
    const file = readGroupFile(writeGroupFile(groupToFile(group, 2_000_000)));
    const fork = forkGroup(file, 3, [undefined, new TextEncoder().encode('other\n')]);
    const echoed: number[] = [];
    fork.sessions[1]!.onOutput = (b) => echoed.push(b);
    fork.run({ maxSteps: 2_000_000 });
    expect(Buffer.from(echoed).toString('latin1')).toContain('other');
    const echo = fork.sessions[1]!;
    expect(echo.branches().map((b) => b.name)).toEqual(['main', 'group@3']);
    expect(echo.stateHash()).not.toBe(group.sessions[1]!.stateHash());
    // Saved, the fork replays together too: the group again to its moment, forked with its inputs, run on.
    const saved = readGroupFile(writeGroupFile(groupToFile(fork, 2_000_000)));
    expect(verifyGroup(saved).map((v) => v.problem)).toEqual([null, null]);
    const twice = forkGroup(saved, 3, [undefined, new TextEncoder().encode('third\n')]);
    expect(twice.sessions[1]!.branchName).toBe('group@3.2');
    expect(() => forkGroup(file, 10_000)).toThrow(/ends after/);
  });

  it('a group fork before a machine took its input gives it the input of the fork alone, run and verified', () => {
    const members = [member('pong', '52:54:00:12:34:56'), member('echo', '52:54:00:12:34:57')];
    members[1]!.input = new TextEncoder().encode('hello\n');
    const group = Group.create(members, 1000);
    group.run({ maxSteps: 2_000_000 });
    const file = readGroupFile(writeGroupFile(groupToFile(group, 2_000_000)));
    // At quantum 0 nothing has been taken: 'hello' is dropped, not typed before 'other'.
    const fork = forkGroup(file, 0, [undefined, new TextEncoder().encode('other\n')]);
    const echoed: number[] = [];
    fork.sessions[1]!.onOutput = (b) => echoed.push(b);
    fork.run({ maxSteps: 2_000_000 });
    expect(Buffer.from(echoed).toString('latin1')).toContain('other');
    expect(Buffer.from(echoed).toString('latin1')).not.toContain('hello');
    const saved = readGroupFile(writeGroupFile(groupToFile(fork, 2_000_000)));
    expect(verifyGroup(saved).map((v) => v.problem)).toEqual([null, null]);
  });

  it('keeps every clock in quanta of virtual time: a machine asleep in wfi does not run ahead, and takes frames while asleep', () => {
    const quantum = 1000;
    const group = Group.create([...pair(), member('timer', '52:54:00:12:34:58')], quantum);
    /** The clock times at which timer stood asleep, short of the quantum's end. */
    const timerAsleep = new Set<number>();
    group.run({
      afterQuantum: (g) => {
        const end = g.quanta * quantum;
        g.sessions.forEach((s, i) => {
          if (g.ends[i]!.state !== 'running') return;
          // A busy machine stops at the quantum's end; one asleep until later stops where it fell asleep.
          const clock = s.machine.cpu.cycles();
          expect(clock).toBeLessThanOrEqual(end);
          if (clock < end) expect(s.machine.cpu.waiting).toBe(true);
          if (clock < end && i === 2) timerAsleep.add(end);
        });
      },
    });
    expect(group.ends.map((e) => (e.state === 'power' ? e.power.kind : e.state))).toEqual(['pass', 'pass', 'pass']);
    // Frames arrive at the start of a quantum, on the clock of every machine; timer got ping's broadcasts asleep.
    const file = readGroupFile(writeGroupFile(groupToFile(group, null)));
    const frames = openMachine(file.machines[2]!)
      .timeline.root()
      .events.filter((e) => e.device === 'net');
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((e) => e.time % quantum === 0)).toBe(true);
    expect(frames.some((e) => timerAsleep.has(e.time))).toBe(true);
    expect(verifyGroup(file).map((v) => v.problem)).toEqual([null, null, null]);
  });

  it('machines that crash, or never read their frames, change nothing of the other two', () => {
    const crash = member('default', '52:54:00:12:34:58');
    crash.input = new Uint8Array(readFileSync(expected('default-crash.in')));
    const group = Group.create([...pair(), crash, member('echo', '52:54:00:12:34:59')], 1000);
    const consoles = group.sessions.map(() => [] as number[]);
    group.sessions.forEach((s, i) => (s.onOutput = (b) => consoles[i]!.push(b)));
    group.run();
    const alone = runPair();
    expect(consoles.slice(0, 2).map((c) => Buffer.from(c).toString('latin1'))).toEqual(alone.consoles);
    expect(group.ends.map((e) => (e.state === 'power' ? e.power.kind : e.state))).toEqual([
      'pass',
      'pass',
      'fail',
      'waiting',
    ]);
    // The crashed machine's share of the broadcasts was dropped; echo's waits in its device, which has no driver.
    expect(group.dropped).toBe(9);
    expect(group.sessions[3]!.machine.net!.waiting).toBe(9);
    expect(group.sessions[0]!.stateHash()).toBe(alone.group.sessions[0]!.stateHash());
  });

  it('a machine waiting for console input with nothing coming ends the group as waiting', () => {
    const members = [member('pong', '52:54:00:12:34:56'), { ...member('echo', '52:54:00:12:34:57') }];
    const group = Group.create(members, 1000);
    group.run({ maxSteps: 3_000_000 });
    expect(group.ends[1]!.state).toBe('waiting');
  });
});

describe('the group file', () => {
  const bytes = writeGroupFile(groupToFile(runPair().group, null));

  it('refuses damage anywhere with one bad-vmi message', () => {
    const damaged = (at: number) => {
      const b = bytes.slice();
      b[at]! ^= 0x40;
      return b;
    };
    const refuse = (b: Uint8Array, message: RegExp) => {
      let error: unknown;
      try {
        const file = readGroupFile(b);
        file.machines.forEach((m) => openMachine(m));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RewindError);
      expect((error as RewindError).code).toBe('bad-vmi');
      expect((error as RewindError).message).toMatch(message);
    };
    refuse(bytes.subarray(0, 4), /magic/);
    refuse(damaged(0), /magic/);
    refuse(damaged(9), /newer/);
    refuse(damaged(13), /header hash/);
    refuse(damaged(60), /manifest hash/);
    refuse(bytes.subarray(0, bytes.length - 1), /truncated/);
    refuse(Uint8Array.from([...bytes, 0]), /after the end/);
    refuse(damaged(bytes.length - 100), /machine ping/);
  });

  it('any damage is refused as bad-vmi, never another exception', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(bytes.length - 1), xor: fc.integer({ min: 1, max: 255 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(bytes.length),
        (flips, cut) => {
          const b = bytes.slice(0, Math.max(cut, 1));
          for (const f of flips) if (f.at < b.length) b[f.at]! ^= f.xor;
          try {
            readGroupFile(b).machines.forEach((m) => openMachine(m));
          } catch (e) {
            expect(e).toBeInstanceOf(RewindError);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('a machine spec with a network device', () => {
  it('is recorded as the devices list and the MAC, and read back; without it nothing is added', () => {
    const spec = member('ping', '52:54:00:12:34:57').spec;
    const options = specOptions(spec);
    expect(options).toMatchObject({ devices: ['virtio-net'], mac: '52:54:00:12:34:57' });
    expect(specFromOptions(options, spec.image, RAM).net).toEqual({ mac: '52:54:00:12:34:57' });
    const both = specOptions({ ...spec, screen: true });
    expect(both['devices']).toEqual(['virtio-gpu', 'virtio-keyboard', 'virtio-tablet', 'virtio-net']);
    expect(specFromOptions(both, spec.image, RAM)).toMatchObject({ screen: true, net: { mac: '52:54:00:12:34:57' } });
    expect(specOptions({ ...spec, net: undefined })).toEqual({ kind: 'elf' });
    expect(() => specFromOptions({ kind: 'elf', devices: ['virtio-net'] }, spec.image, RAM)).toThrow(/MAC/);
    expect(() => specFromOptions({ kind: 'elf', devices: ['virtio-net', 'virtio-gpu'] }, spec.image, RAM)).toThrow(
      /does not know/,
    );
  });

  it('a frame is refused before anything changes: no network device, or not an Ethernet frame', () => {
    const plain = Session.create(programSpec(new Uint8Array(readFileSync(guest('hello'))), { ramSize: RAM }));
    expect(() => plain.receiveFrame(frame(60))).toThrow(/no network device/);
    const s = Session.create(member('pong', '52:54:00:12:34:56').spec);
    expect(() => s.receiveFrame(frame(8))).toThrow(/14 to 1518/);
    expect(s.branches().length).toBe(1);
  });
});
