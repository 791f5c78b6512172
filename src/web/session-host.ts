/**
 * A recording host: the machine driven through session/'s Session, so that
 * the worker can seek, step back, run back, fork and export/import .vmi.
 * The engine enables the time-travel controls from `timeTravel` alone.
 */
import type { RunResult, StopReason } from '../../core/machine.js';
import { Session } from '../../session/session.js';
import { readVmi, writeVmi } from '../../storage/index.js';
import { diffResult, timelineInfo, timelineVersion } from './branches.js';
import { ConsoleHistory, type ConsoleText } from './console-history.js';
import { machineSpec, type HostSpec, type MachineHost } from './host.js';
import type { DiffResult, Executor, PointRef, TimelineInfo, WatchRange } from './protocol.js';

export class SessionHost implements MachineHost {
  readonly timeTravel = true;

  /** Console output by position, so that a seek can show the console as it was. */
  readonly history = new ConsoleHistory();

  constructor(readonly session: Session) {
    session.onOutput = (byte, position) => this.history.write(byte, position);
  }

  /** A new recording of a program from reset. */
  static create(spec: HostSpec): SessionHost {
    return new SessionHost(Session.create(machineSpec(spec)));
  }

  /** Opens a .vmi file (validated by readVmi before anything is built). */
  static open(bytes: Uint8Array, executor?: Executor): SessionHost {
    return new SessionHost(Session.open(readVmi(bytes), { executor }));
  }

  get machine() {
    return this.session.machine;
  }

  get branch(): string {
    return this.session.branch;
  }

  end(): number {
    return this.session.branchEnd();
  }

  run(steps: number): RunResult {
    this.history.drop();
    const from = this.session.position;
    const r = this.session.run(steps);
    this.history.keep(this.session.timeline.lineage(this.session.branch), from, this.session.position);
    return r;
  }

  type(bytes: Uint8Array): void {
    this.session.type(bytes);
  }

  seek(branch: string | undefined, position: number, progress?: (done: number, total: number) => boolean): boolean {
    return this.replayed(branch, position, () => this.session.seek(branch === undefined ? { position } : { branch, position }, progress));
  }

  stepBack(count: number): void {
    this.replayed(undefined, Math.max(0, this.session.position - count), () => this.session.stepBack(count));
  }

  /**
   * Runs a seek to (branch, position) and keeps the console output its
   * replay wrote. The session replays from the machine's position when that
   * lies between the nearest checkpoint and the target, else from the
   * checkpoint: claiming only [from, position) is right either way.
   */
  private replayed(branch: string | undefined, position: number, seek: () => unknown): boolean {
    const s = this.session;
    const id = branch === undefined ? s.branch : s.resolveBranch(branch);
    const cp = s.timeline.checkpointAtOrBefore(id, position);
    const here = s.position;
    const from = cp && (here < cp.position || here > position) ? cp.position : here;
    this.history.drop();
    // A seek stopped short (sliced or cancelled) still ran without a break from `from` to where it stands.
    const reached = seek() !== false;
    this.history.keep(s.timeline.lineage(s.branch), from, s.position);
    return reached;
  }

  reverseContinue(breakpoints: number[], watchpoints: WatchRange[]): StopReason | null {
    const reason = this.session.reverseContinue({ breakpoints, watchpoints });
    this.history.drop();
    return reason;
  }

  fork(position: number, name?: string): string {
    const id = this.session.fork(position, name);
    this.history.drop();
    return id;
  }

  console(): ConsoleText {
    return this.history.at(this.session.timeline.lineage(this.session.branch), this.session.position);
  }

  timeline(): TimelineInfo {
    return timelineInfo(this.session, this.history);
  }

  timelineVersion(): string {
    return timelineVersion(this.session, this.history);
  }

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
      return diffResult(s.diff({ branch: na.id, position: a.position }, { branch: nb.id, position: b.position }), na, nb);
    } finally {
      s.seek(back);
      this.history.drop();
    }
  }

  renameBranch(branch: string, name: string): void {
    this.session.renameBranch(branch, name);
  }

  deleteBranch(branch: string): void {
    const id = this.session.resolveBranch(branch);
    this.session.deleteBranch(id);
    this.history.forget(id);
  }

  bookmark(name: string, position: number): void {
    this.session.bookmark(name, position);
  }

  exportVmi(): Uint8Array {
    return writeVmi(this.session.toRecording());
  }

  compressPages(maxPages: number): number {
    return this.session.checkpoints.pages.compress(maxPages);
  }

  stateHash(): string {
    return this.session.stateHash();
  }
}
