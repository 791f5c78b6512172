/**
 * A group of machines joined by a virtual Ethernet switch, run in lockstep
 * quanta (docs/network.md). Each machine is its own Session with its own
 * recording; the group only decides when each one runs and which frames
 * it is given, so each machine replays alone from its own input events,
 * and the group replays together from its members' specs, inputs and the
 * quantum.
 *
 * Quanta are of virtual time: quantum k is the span [kQ, (k+1)Q) of every
 * machine's clock (`cpu.cycles()`: steps plus the ticks skipped asleep in
 * wfi), so machines that sleep on timers (Linux) keep time with busy ones.
 * A quantum: each machine in turn, in member order, is given the frames
 * the switch forwarded to it during the previous quantum (each a `net`
 * input event at its current position, arriving at time kQ, in the order
 * they were sent: sender by sender, in member order), then runs until its
 * clock reaches (k+1)Q, or it falls asleep until then or later. The frames
 * it transmits meanwhile go through the switch and wait for the next
 * quantum. Nothing depends on the host's speed or clock, so the same group
 * always gives the same runs.
 */
import { RewindError } from '../core/errors.js';
import type { PowerEvent } from '../core/devices/syscon.js';
import { Session, type SessionOptions, type Stop } from './session.js';
import type { MachineSpec } from './spec.js';

/**
 * Ticks of virtual time per quantum unless told otherwise: 1 ms of guest
 * time at 10 MHz (10,000 steps of a busy machine), a LAN's latency, and
 * long enough that switching machines costs a CPU-bound guest about a
 * sixth of its speed (docs/network.md, Figures).
 */
export const DEFAULT_QUANTUM = 10_000;
/** Frames one quantum may carry to the machines in all; more are dropped, as a switch's buffers overflow. */
const IN_FLIGHT_MAX = 4096;
const BROADCAST = 0x01;

/** One machine of a group: its spec (with a network device) and the console input it is given. */
export interface Member {
  name: string;
  spec: MachineSpec;
  /** Console input, fed as the guest becomes ready for it (as `rewind run --input-file`). */
  input?: Uint8Array;
}

/**
 * A learning switch: it learns each sender's MAC on its port, sends a
 * frame for a learnt unicast MAC to that port alone, and floods broadcast,
 * multicast and unknown destinations to every other port. A frame is never
 * sent back to its own port.
 */
export class VirtualSwitch {
  private readonly ports = new Map<string, number>();

  constructor(readonly portCount: number) {}

  /** A switch that has learnt what this one has. */
  clone(): VirtualSwitch {
    const copy = new VirtualSwitch(this.portCount);
    for (const [mac, port] of this.ports) copy.ports.set(mac, port);
    return copy;
  }

  /** The ports a frame from `port` goes to. */
  forward(port: number, frame: Uint8Array): number[] {
    const key = (at: number) => Array.from(frame.subarray(at, at + 6), (b) => b.toString(16)).join(':');
    const source = key(6);
    if (!(frame[6]! & BROADCAST)) this.ports.set(source, port);
    const known = frame[0]! & BROADCAST ? undefined : this.ports.get(key(0));
    if (known !== undefined) return known === port ? [] : [known];
    return Array.from({ length: this.portCount }, (_, i) => i).filter((i) => i !== port);
  }
}

/**
 * A fork of the whole group (see forkGroup in group-file.ts): its moment
 * (a number of quanta from reset), the branch it made on every machine,
 * and each machine's console input from then on (empty for none).
 */
export interface GroupFork {
  quantum: number;
  branch: string;
  inputs: Uint8Array[];
}

/** How a member ended (or stands), in `rewind run`'s terms. */
export type MemberEnd =
  { state: 'running' } | { state: 'power'; power: PowerEvent } | { state: 'waiting' } | { state: 'limit' };

export interface GroupRunOptions {
  /** Each machine stops at this position (as `--max-instructions`). */
  maxSteps?: number;
  /** Called after every quantum; return false to stop the run there. */
  afterQuantum?: (group: Group) => boolean | void;
}

export class Group {
  /** Each member's end so far, by member index. */
  readonly ends: MemberEnd[];
  /** Frames forwarded during the quantum that ran last, by destination, in the order they were sent. */
  private inFlight: Uint8Array[][];
  /** Quanta run so far. */
  quanta = 0;
  /** Frames the switch dropped: to a machine that has powered off, or past IN_FLIGHT_MAX in one quantum. */
  dropped = 0;
  /** The group forks its machines' recordings hold, oldest first (saved in the group file). */
  forks: GroupFork[] = [];

  private constructor(
    readonly members: readonly Member[],
    readonly sessions: readonly Session[],
    readonly quantum: number,
    readonly network: VirtualSwitch,
  ) {
    this.ends = sessions.map(() => ({ state: 'running' }));
    this.inFlight = sessions.map(() => []);
    sessions.forEach((s, i) => {
      s.onTransmit = (frame) => this.send(i, frame);
    });
  }

  /** Builds every member from reset; each must have a network device. */
  static create(members: readonly Member[], quantum = DEFAULT_QUANTUM, options: SessionOptions = {}): Group {
    if (members.length < 1) throw new RewindError('bad-argument', 'a group needs at least one machine');
    if (!Number.isSafeInteger(quantum) || quantum < 1)
      throw new RewindError('bad-argument', `a quantum is a whole number of ticks ≥ 1, not ${quantum}`);
    const sessions = members.map((m) => {
      if (!m.spec.net) throw new RewindError('bad-argument', `machine ${m.name} has no network device`);
      const session = Session.create(m.spec, options);
      if (m.input) session.script(m.input);
      return session;
    });
    return new Group(members, sessions, quantum, new VirtualSwitch(members.length));
  }

  /**
   * Goes on from where `moment` (the same group run again to some quantum)
   * stands, with these sessions: each already at its machine's position
   * of that moment (a fork of its recording, say). The frames on their way,
   * the switch's table and each machine's end come from `moment`;
   * `wake` lists machines to run again even if they were waiting for
   * input (they are given new input).
   */
  static resume(moment: Group, sessions: readonly Session[], wake: readonly number[] = []): Group {
    sessions.forEach((s, i) => {
      if (s.position !== moment.sessions[i]!.position)
        throw new RewindError('bad-state', `machine ${moment.members[i]!.name} is not at the moment's position`);
    });
    const group = new Group(moment.members, sessions, moment.quantum, moment.network.clone());
    group.inFlight = moment.inFlight.map((q) => q.map((f) => f.slice()));
    group.ends.splice(0, group.ends.length, ...moment.ends.map((e) => ({ ...e })));
    for (const i of wake) if (group.ends[i]!.state === 'waiting') group.ends[i] = { state: 'running' };
    group.quanta = moment.quanta;
    group.dropped = moment.dropped;
    return group;
  }

  private send(from: number, frame: Uint8Array): void {
    for (const to of this.network.forward(from, frame)) {
      const queued = this.inFlight.reduce((n, q) => n + q.length, 0);
      if (queued >= IN_FLIGHT_MAX || this.ends[to]!.state === 'power') this.dropped++;
      else this.inFlight[to]!.push(frame.slice());
    }
  }

  /**
   * Runs one quantum. A member that waits for console input is not run
   * again until frames come for it; a member that powered off or reached
   * `maxSteps` no more. Returns false when no member can move any more.
   */
  runQuantum(maxSteps = Infinity): boolean {
    const delivering = this.inFlight;
    this.inFlight = this.sessions.map(() => []);
    const start = this.quanta * this.quantum;
    let moved = false;
    this.sessions.forEach((session, i) => {
      const frames = delivering[i]!;
      const end = this.ends[i]!;
      if (end.state === 'power' || end.state === 'limit') return;
      if (end.state === 'waiting' && frames.length === 0) return;
      for (const frame of frames) session.receiveFrame(frame, start);
      const budget = maxSteps - session.position;
      const stop =
        budget > 0 ? session.run(budget, { until: start + this.quantum }) : ({ reason: 'limit', steps: 0 } as Stop);
      this.ends[i] = endOf(stop, session.position >= maxSteps);
      moved = true;
    });
    this.quanta++;
    return moved || this.inFlight.some((q) => q.length > 0);
  }

  /** Runs quanta until no member can move (each powered off, waiting with nothing coming, or at `maxSteps`). */
  run(options: GroupRunOptions = {}): void {
    while (this.runQuantum(options.maxSteps)) if (options.afterQuantum?.(this) === false) return;
  }
}

function endOf(stop: Stop, atLimit: boolean): MemberEnd {
  switch (stop.reason) {
    case 'power':
      return { state: 'power', power: stop.power };
    case 'waiting':
      return { state: 'waiting' };
    case 'limit':
    case 'breakpoint':
    case 'watchpoint':
      return atLimit ? { state: 'limit' } : { state: 'running' };
  }
}
