/**
 * What the worker drives: one Session (session/), recording or not. The
 * host adapts it to the page's terms (branch ids and names, diffs cut to
 * size, .vmi bytes); the engine and UI light up seek / step back / run
 * back / fork / export / import from `timeTravel` alone.
 */
import { peekAllCsrs } from '../../core/csr.js';
import { RewindError } from '../../core/errors.js';
import type { Machine } from '../../core/machine.js';
import type { ConsoleText } from '../../session/output.js';
import { Session, type DebugStops, type RunOptions, type Stop } from '../../session/session.js';
import type { MachineSpec } from '../../session/spec.js';
import { readVmi, writeVmi, type InputEvent } from '../../storage/index.js';
import { diffResult, timelineInfo, timelineVersion } from './branches.js';
import type { DiffResult, Executor, PointRef, Registers, TimelineInfo } from './protocol.js';

/** The worker's machine: a session, with the page's view of it. */
export class MachineHost {
  constructor(readonly session: Session) {}

  /** A machine for a program from reset, recording (time travel) or not, its pages within `budget` bytes. */
  static create(spec: MachineSpec, record: boolean, budget?: number): MachineHost {
    return new MachineHost(Session.create(spec, { record, budget }));
  }

  /**
   * A recording of `spec` whose root branch holds `events` and runs to
   * `end`, not replayed yet: a seek anywhere up to `end` replays them (a
   * share link opens so).
   */
  static replaying(spec: MachineSpec, events: readonly InputEvent[], end: number, budget?: number): MachineHost {
    const session = Session.create(spec, { record: true, budget });
    const root = session.timeline.root().id;
    session.timeline.appendEvents(root, events);
    session.timeline.extendTo(root, Math.max(end, events.at(-1)?.position ?? 0));
    return new MachineHost(session);
  }

  /** Opens a .vmi file (all of it checked by readVmi before anything is built: the bytes are in memory anyway). */
  static open(bytes: Uint8Array, executor?: Executor, budget?: number): MachineHost {
    return new MachineHost(Session.open(readVmi(bytes, { whole: true }), { executor, budget }));
  }

  /** True when the time-travel members below work. */
  get timeTravel(): boolean {
    return this.session.recording;
  }

  get machine(): Machine {
    return this.session.machine;
  }

  /** Current branch id. */
  get branch(): string {
    return this.session.branch;
  }

  /** The furthest position the current branch has reached. */
  end(): number {
    return this.session.branchEnd();
  }

  run(steps: number, options?: RunOptions): Stop {
    return this.session.run(steps, options);
  }

  /** Console input at the current position (typed in the past, it forks). */
  type(bytes: Uint8Array): void {
    this.session.type(bytes);
  }

  setStops(stops: DebugStops): void {
    this.session.setStops(stops);
  }

  /**
   * Returns false when `progress` said stop: the machine then stands at a
   * valid position on the target branch short of the target (seek again to go on).
   */
  seek(branch: string | undefined, position: number, progress?: (done: number, total: number) => boolean): boolean {
    return this.session.seek(branch === undefined ? { position } : { branch, position }, progress);
  }

  stepBack(count: number): void {
    this.session.stepBack(count);
  }

  /** Goes back to the last hit of the stops set; null when none hit (the machine is then at the start). */
  reverseContinue(): Stop | null {
    return this.session.reverseContinue();
  }

  /** Forks at `position`; a name must be unique (without one, `fork@N`, made unique with a number). */
  fork(position: number, name?: string): string {
    if (name !== undefined) this.needFreeName(name.trim());
    let auto = `fork@${position}`;
    for (let n = 2; name === undefined && this.nameTaken(auto); n++) auto = `fork@${position} (${n})`;
    return this.session.fork(position, name?.trim() ?? auto);
  }

  private nameTaken(name: string, except?: string): boolean {
    return this.session.branches().some((b) => b.name === name && b.id !== except);
  }

  private needFreeName(name: string, except?: string): void {
    if (this.nameTaken(name, except))
      throw new RewindError('bad-argument', `there is already a branch named "${name}": pick another name`);
  }

  /** The recording as a .vmi, with a checkpoint where the machine stands, so that reopening it there replays nothing. */
  exportVmi(): Uint8Array {
    this.session.checkpointHere();
    return writeVmi(this.session.toRecording());
  }

  /** Deflates up to `maxPages` pages an export would otherwise deflate at once; returns how many remain. */
  compressPages(maxPages: number): number {
    return this.session.checkpoints.pages.compress(maxPages);
  }

  /** The state hash now (hex), as `rewind state` prints it. */
  stateHash(): string {
    return this.session.stateHash();
  }

  /** The console as it was at the current position. */
  console(): ConsoleText {
    return this.session.console();
  }

  /** The input events before the current position along the branch's lineage: what the state here is made of. */
  eventsBefore(): InputEvent[] {
    return this.session.timeline.eventsBetween(this.branch, 0, this.machine.position);
  }

  /** Console bytes the guest took before the current position: the input events along the branch's lineage. */
  inputTaken(): number {
    let n = 0;
    for (const e of this.session.timeline.eventsBetween(this.branch, 0, this.machine.position))
      if (e.device === 'uart0') n += payloadLength(e.payload);
    return n;
  }

  /** The branch tree and the current branch's marks; `timelineVersion` changes whenever they do. */
  timeline(): TimelineInfo {
    return timelineInfo(this.session);
  }

  timelineVersion(): string {
    return timelineVersion(this.session);
  }

  /** Compares two points; the machine ends where it was. */
  diff(a: PointRef, b: PointRef): DiffResult {
    const s = this.session;
    const back = { branch: s.branch, position: s.position };
    const named = (p: PointRef) => {
      const id = s.resolveBranch(p.branch ?? back.branch);
      return { id, name: s.timeline.branch(id).name };
    };
    const na = named(a);
    const nb = named(b);
    try {
      return diffResult(
        s.diff({ branch: na.id, position: a.position }, { branch: nb.id, position: b.position }),
        na,
        nb,
      );
    } finally {
      s.seek(back);
    }
  }

  /** Renames a branch; a name another branch has is refused. */
  renameBranch(branch: string, name: string): void {
    this.needFreeName(name.trim(), this.session.resolveBranch(branch));
    this.session.renameBranch(branch, name);
  }

  deleteBranch(branch: string): void {
    this.session.deleteBranch(branch);
  }

  bookmark(name: string, position: number): void {
    this.session.bookmark(name, position);
  }
}

function payloadLength(p: InputEvent['payload']): number {
  return typeof p === 'number' ? 1 : typeof p === 'string' ? new TextEncoder().encode(p).length : p.length;
}

/** Registers and CSRs now, every CSR read as M-mode would read it (no side effects). */
export function registersOf(machine: Machine): Registers {
  const cpu = machine.cpu;
  const csr = peekAllCsrs(cpu);
  return {
    position: machine.position,
    pc: cpu.pcValue,
    priv: cpu.priv,
    x: Array.from(cpu.x.subarray(0, 32), (v) => v >>> 0),
    csr,
  };
}
