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
import { DEFAULT_MAC, formatMac, parseMac } from '../core/virtio/net.js';
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

/** The MAC of machine `i` of a group: QEMU's first NIC's, counted up (so Linux's /init gives it 10.0.0.i+1). */
export function memberMac(i: number): string {
  const mac = parseMac(DEFAULT_MAC)!;
  mac[5] = (mac[5]! + i) & 0xff;
  return formatMac(mac);
}

/**
 * Checks names given to a group's machines: each distinct, a letter or
 * digit then up to 47 of [A-Za-z0-9._-]. `context` begins the message.
 */
export function checkMachineNames(names: readonly string[], context = ''): string[] {
  names.forEach((name, i) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/.test(name))
      throw new RewindError(
        'bad-argument',
        `${context}"${name}" is not a machine name (a letter or digit, then letters, digits, ".", "_" or "-")`,
      );
    if (names.indexOf(name) !== i) throw new RewindError('bad-argument', `two machines are named "${name}"`);
  });
  return [...names];
}

/** Console input typed into a machine of a group, given to it at the start of quantum `quantum` (the app's groups, docs/network.md). */
export interface TypedInput {
  quantum: number;
  bytes: Uint8Array;
}

/** One machine of a group: its spec (with a network device) and the console input it is given. */
export interface Member {
  name: string;
  spec: MachineSpec;
  /** Console input, fed as the guest becomes ready for it (as `rewind run --input-file`). */
  input?: Uint8Array;
  /** Or console input typed at quanta, in the order typed (not both). */
  typed?: readonly TypedInput[];
}

/**
 * A learning switch: it learns each sender's MAC on its port, sends a
 * frame for a learnt unicast MAC to that port alone, and floods broadcast,
 * multicast and unknown destinations to every other port. A frame is never
 * sent back to its own port.
 */
export class VirtualSwitch {
  private readonly ports = new Map<string, number>();

  constructor(
    readonly portCount: number,
    learnt: readonly (readonly [string, number])[] = [],
  ) {
    for (const [mac, port] of learnt) this.ports.set(mac, port);
  }

  /** What it has learnt, MAC (lower-case hex, `:` between bytes, no leading zeros) to port, oldest first. */
  learnt(): [string, number][] {
    return [...this.ports];
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

/** Where a group stands between two quanta, apart from its machines: all it needs to go on from there. */
export interface GroupMoment {
  /** Quanta run so far. */
  quanta: number;
  /** Frames the switch has dropped so far. */
  dropped: number;
  /** Each member's end so far. */
  ends: MemberEnd[];
  /** The switch's table (VirtualSwitch.learnt). */
  learnt: [string, number][];
  /** Frames on their way, by destination, in the order they are delivered. */
  inFlight: Uint8Array[][];
}

/** One quantum as the switchboard hands it out: its span of virtual time and each member's frames. */
export interface QuantumPlan {
  /** The quantum's number (quanta run before it). */
  quantum: number;
  /** Its first tick: the frames arrive then. */
  start: number;
  /** Its end: each member runs until its clock reaches it. */
  until: number;
  /** The frames each member is given, by member index. */
  deliveries: Uint8Array[][];
}

/**
 * The group without its machines: the switch, the frames on their way,
 * each member's end and the quanta run. `Group` drives it with sessions in
 * one thread; the web app drives it with a worker per machine
 * (src/web/network.ts), every member's quantum at once. Both give the same
 * runs as long as a quantum is begin(), then finish() for the members in
 * member order (each with the frames it sent, in order), then close():
 * routing a member's frames after its whole run is the same as routing
 * them as it sends them, since a frame never goes back to its sender.
 */
export class Switchboard {
  readonly ends: MemberEnd[];
  quanta: number;
  dropped: number;
  readonly network: VirtualSwitch;
  private inFlight: Uint8Array[][];
  private moved = false;

  constructor(
    readonly size: number,
    readonly quantum: number,
    moment?: GroupMoment,
  ) {
    if (!Number.isSafeInteger(quantum) || quantum < 1)
      throw new RewindError('bad-argument', `a quantum is a whole number of ticks ≥ 1, not ${quantum}`);
    if (moment && (moment.ends.length !== size || moment.inFlight.length !== size))
      throw new RewindError('bad-argument', `the moment is of a group of ${moment.ends.length} machines, not ${size}`);
    this.ends = moment
      ? moment.ends.map((e) => ({ ...e }))
      : Array.from({ length: size }, () => ({ state: 'running' }));
    this.inFlight = moment
      ? moment.inFlight.map((q) => q.map((f) => f.slice()))
      : Array.from({ length: size }, () => []);
    this.quanta = moment?.quanta ?? 0;
    this.dropped = moment?.dropped ?? 0;
    this.network = new VirtualSwitch(size, moment?.learnt);
  }

  /** Where it stands (a copy). */
  moment(): GroupMoment {
    return {
      quanta: this.quanta,
      dropped: this.dropped,
      ends: this.ends.map((e) => ({ ...e })),
      learnt: this.network.learnt(),
      inFlight: this.inFlight.map((q) => q.map((f) => f.slice())),
    };
  }

  /** Frames on their way now. */
  get framesInFlight(): number {
    return this.inFlight.reduce((n, q) => n + q.length, 0);
  }

  /** Starts the next quantum: hands out the frames forwarded during the last one. */
  begin(): QuantumPlan {
    const deliveries = this.inFlight;
    this.inFlight = deliveries.map(() => []);
    this.moved = false;
    const start = this.quanta * this.quantum;
    return { quantum: this.quanta, start, until: start + this.quantum, deliveries };
  }

  /**
   * Whether member `i` runs this quantum, given `news` things for it (frames
   * and typed input): not once it has powered off or reached its limit, and
   * while it waits for input only when something comes.
   */
  runs(i: number, news: number): boolean {
    const end = this.ends[i]!;
    if (end.state === 'power' || end.state === 'limit') return false;
    return end.state !== 'waiting' || news > 0;
  }

  /** Member `i` ran this quantum: where it ended, and the frames it sent, in order, to go through the switch. */
  finish(i: number, end: MemberEnd, sent: readonly Uint8Array[]): void {
    this.ends[i] = end;
    this.moved = true;
    for (const frame of sent)
      for (const to of this.network.forward(i, frame)) {
        if (this.framesInFlight >= IN_FLIGHT_MAX || this.ends[to]!.state === 'power') this.dropped++;
        else this.inFlight[to]!.push(frame.slice());
      }
  }

  /** Ends the quantum; false when no member could move and no frame is on its way (the group can go no further alone). */
  close(): boolean {
    this.quanta++;
    return this.moved || this.framesInFlight > 0;
  }

  /** Member `i` is to run again even though it waits for input (it is given new input). */
  wake(i: number): void {
    if (this.ends[i]!.state === 'waiting') this.ends[i] = { state: 'running' };
  }
}

export interface GroupRunOptions {
  /** Each machine stops at this position (as `--max-instructions`). */
  maxSteps?: number;
  /** Called after every quantum; return false to stop the run there. */
  afterQuantum?: (group: Group) => boolean | void;
  /** Stop after this many quanta from reset, whether or not a machine could still move. */
  quanta?: number;
}

export class Group {
  /** The group forks its machines' recordings hold, oldest first (saved in the group file). */
  forks: GroupFork[] = [];
  /** The frames the member that is running has sent in this quantum. */
  private sent: Uint8Array[] = [];
  /** Per member, its next typed input not given yet. */
  private readonly typedNext: number[];

  private constructor(
    readonly members: readonly Member[],
    readonly sessions: readonly Session[],
    readonly board: Switchboard,
    takesTyped: boolean,
  ) {
    sessions.forEach((s) => {
      s.onTransmit = (frame) => this.sent.push(frame.slice());
    });
    this.typedNext = members.map((m) => (takesTyped ? 0 : (m.typed?.length ?? 0)));
  }

  /** Each member's end so far, by member index. */
  get ends(): readonly MemberEnd[] {
    return this.board.ends;
  }

  /** Quanta run so far. */
  get quanta(): number {
    return this.board.quanta;
  }

  /** Frames the switch dropped: to a machine that has powered off, or past IN_FLIGHT_MAX in one quantum. */
  get dropped(): number {
    return this.board.dropped;
  }

  get quantum(): number {
    return this.board.quantum;
  }

  /** Builds every member from reset; each must have a network device. */
  static create(members: readonly Member[], quantum = DEFAULT_QUANTUM, options: SessionOptions = {}): Group {
    if (members.length < 1) throw new RewindError('bad-argument', 'a group needs at least one machine');
    const board = new Switchboard(members.length, quantum);
    const sessions = members.map((m) => {
      if (!m.spec.net) throw new RewindError('bad-argument', `machine ${m.name} has no network device`);
      if (m.input && m.input.length > 0 && m.typed && m.typed.length > 0)
        throw new RewindError('bad-argument', `machine ${m.name} is given both scripted and typed input`);
      const typed = m.typed ?? [];
      if (typed.some((t, k) => !Number.isSafeInteger(t.quantum) || t.quantum < (typed[k - 1]?.quantum ?? 0)))
        throw new RewindError('bad-argument', `machine ${m.name}: typed input is not in the order of its quanta`);
      const session = Session.create(m.spec, options);
      if (m.input && m.input.length > 0) session.script(m.input);
      return session;
    });
    return new Group(members, sessions, board, true);
  }

  /**
   * Goes on from `moment` (where this group, run again, stood between two
   * quanta) with these sessions: each already at its machine's position of
   * that moment (a fork of its recording, say). `wake` lists machines to
   * run again even if they were waiting for input (they are given new input).
   * The members' typed input is not given from there: it belongs to the
   * run the moment was taken from (a fork scripts its own).
   */
  static resume(
    members: readonly Member[],
    quantum: number,
    moment: GroupMoment,
    sessions: readonly Session[],
    wake: readonly number[] = [],
  ): Group {
    const board = new Switchboard(members.length, quantum, moment);
    for (const i of wake) board.wake(i);
    return new Group(members, sessions, board, false);
  }

  /** Where the group stands between quanta, apart from its machines. */
  moment(): GroupMoment {
    return this.board.moment();
  }

  /**
   * Runs one quantum. A member that waits for console input is not run
   * again until input or frames come for it; a member that powered off or
   * reached `maxSteps` no more. Returns false when no member can move any more.
   */
  runQuantum(maxSteps = Infinity): boolean {
    const plan = this.board.begin();
    this.sessions.forEach((session, i) => {
      const typed = this.typedAt(i, plan.quantum);
      const frames = plan.deliveries[i]!;
      if (!this.board.runs(i, frames.length + typed.length)) return;
      for (const t of typed) session.type(t.bytes);
      for (const frame of frames) session.receiveFrame(frame, plan.start);
      const budget = maxSteps - session.position;
      this.sent = [];
      const stop = budget > 0 ? session.run(budget, { until: plan.until }) : ({ reason: 'limit', steps: 0 } as Stop);
      this.board.finish(i, memberEnd(stop, session.position >= maxSteps), this.sent);
    });
    return this.board.close();
  }

  /** Member `i`'s typed input for quantum `quantum`. */
  private typedAt(i: number, quantum: number): TypedInput[] {
    const typed = this.members[i]!.typed ?? [];
    const out: TypedInput[] = [];
    while (this.typedNext[i]! < typed.length && typed[this.typedNext[i]!]!.quantum <= quantum)
      out.push(typed[this.typedNext[i]!++]!);
    return out;
  }

  /**
   * Runs quanta until no member can move (each powered off, waiting with
   * nothing coming, or at `maxSteps`), or, with `quanta`, until that many
   * have run from reset (whatever the members do: input may be typed later).
   */
  run(options: GroupRunOptions = {}): void {
    const bounded = options.quanta !== undefined;
    while (!bounded || this.quanta < options.quanta!) {
      const moved = this.runQuantum(options.maxSteps);
      if (!moved && !bounded) return;
      if (options.afterQuantum?.(this) === false) return;
    }
  }
}

/** A member's end from how its run stopped (`atLimit`: at its `maxSteps`). */
export function memberEnd(stop: Stop, atLimit: boolean): MemberEnd {
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
