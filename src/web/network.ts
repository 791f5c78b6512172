/**
 * A network group in the web app: machines in workers of their own, joined
 * by a virtual switch and run in lockstep quanta of virtual time, as
 * `rewind group` runs them in one thread (session/group.ts;
 * docs/network.md, "Groups in the web app"). The page holds the
 * switchboard; each quantum goes to every member's worker at once, and
 * their results are taken in member order, so the runs are the same as
 * the CLI's: a group saved here replays (and verifies) there.
 */
import { TIMEBASE_HZ } from '../../core/memmap.js';
import { DEFAULT_QUANTUM, Switchboard, type GroupMoment, type TypedInput } from '../../session/group.js';
import { writeGroupFile, type GroupFile } from '../../session/group-file.js';
import { PaceCap } from './pace.js';
import type { QuantumResult } from './protocol.js';

/** One machine of the group, as the page reaches its worker. */
export interface NetworkMember {
  name: string;
  mac: string;
  /** Sends it quantum `quantum` (see the `quantum` command); resolves when it has run it. */
  quantum(quantum: number, start: number, until: number, frames: Uint8Array[]): Promise<QuantumResult>;
}

export interface NetworkOptions {
  quantum?: number;
  /** Where a saved group stood (its file's moment): the group goes on from there. */
  moment?: GroupMoment;
  /** Console input each member was typed at quanta so far (the file's). */
  typed?: TypedInput[][];
  /** Keep the group's virtual time to the wall clock, as a machine alone keeps an idle OS (default true). */
  realTime?: boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Waits shorter than this are not worth a timer: the group runs on and waits longer later. */
const MIN_WAIT_MS = 15;
/** The longest the group runs without letting the rest of its thread have a turn. */
const YIELD_MS = 20;
/** How long a group that cannot move waits before it looks again (input typed into a member wakes it). */
const IDLE_MS = 40;

export class NetworkGroup {
  readonly board: Switchboard;
  /** Console input given to each member, stamped with its quantum. */
  readonly typed: TypedInput[][];
  /** Why the group stopped on its own (a member that failed), or null. */
  problem: string | null = null;
  /** Called after each quantum. */
  onQuantum: () => void = () => {};
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  /** Keeps the group's virtual time (ticks) to the wall clock: a pace of the timebase's ticks a second. */
  private readonly pace = new PaceCap();
  private readonly realTime: boolean;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly members: readonly NetworkMember[],
    options: NetworkOptions = {},
  ) {
    this.board = new Switchboard(members.length, options.quantum ?? DEFAULT_QUANTUM, options.moment);
    this.typed = members.map((_, i) => [...(options.typed?.[i] ?? [])]);
    this.realTime = options.realTime ?? true;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Runs quanta until paused (or a member fails). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.problem = null;
    this.pace.set(this.realTime ? TIMEBASE_HZ / 1e6 : null, this.now(), this.ticks);
    this.loop = this.runLoop();
  }

  /** Stops after the quantum on its way; resolves once it has ended. */
  async pause(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async runLoop(): Promise<void> {
    let yielded = this.now();
    while (this.running) {
      const moved = await this.step();
      if (!this.running) return;
      const ahead = this.pace.wait(this.now(), this.ticks);
      const wait = moved ? (ahead >= MIN_WAIT_MS ? ahead : 0) : IDLE_MS;
      // Members that answer at once (in the same thread) would otherwise keep everything else waiting.
      if (wait > 0 || this.now() - yielded >= YIELD_MS) {
        await this.sleep(wait);
        yielded = this.now();
      }
    }
  }

  /** One quantum of every member; false when none could move (or one failed). */
  private async step(): Promise<boolean> {
    const plan = this.board.begin();
    let results: (QuantumResult | null)[];
    try {
      results = await Promise.all(
        this.members.map((m, i) =>
          this.board.ends[i]!.state === 'power' || this.board.ends[i]!.state === 'limit'
            ? Promise.resolve(null)
            : m.quantum(plan.quantum, plan.start, plan.until, plan.deliveries[i]!),
        ),
      );
    } catch (e) {
      // A member that failed half-way leaves the quantum unfinished: the group cannot go on.
      this.running = false;
      this.problem = `the group stopped at quantum ${plan.quantum}: ${e instanceof Error ? e.message : String(e)}`;
      this.onQuantum();
      return false;
    }
    results.forEach((r, i) => {
      if (r?.typed) this.typed[i]!.push({ quantum: plan.quantum, bytes: r.typed });
      if (r?.ran) this.board.finish(i, r.end, r.sent);
    });
    const moved = this.board.close();
    this.onQuantum();
    return moved;
  }

  /** The group's virtual time: ticks of every machine's clock at the end of the quanta run. */
  private get ticks(): number {
    return this.board.quanta * this.board.quantum;
  }

  /**
   * The group as a group file where it stands (paused): its quantum, the
   * quanta run, its moment, and each member's typed input and recording
   * (`recordings[i]`, a whole .vmi ending with a checkpoint at the group's
   * present).
   */
  toFile(recordings: readonly Uint8Array[]): Uint8Array {
    const file: GroupFile = {
      quantum: this.board.quantum,
      maxSteps: null,
      quanta: this.board.quanta,
      moment: this.board.moment(),
      forks: [],
      machines: this.members.map((m, i) => ({
        name: m.name,
        mac: m.mac,
        input: new Uint8Array(0),
        typed: this.typed[i]!,
        vmi: recordings[i]!,
      })),
    };
    return writeGroupFile(file);
  }
}
