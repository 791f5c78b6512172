/**
 * A recording host: the machine driven through session/'s Session, so that
 * the worker can seek, step back, run back, fork and export/import .vmi.
 * The engine enables the time-travel controls from `timeTravel` alone.
 */
import type { RunResult, StopReason } from '../../core/machine.js';
import { Session } from '../../session/session.js';
import { programKind } from '../../session/spec.js';
import { readVmi, writeVmi } from '../../storage/index.js';
import type { HostSpec, MachineHost } from './host.js';
import type { WatchRange } from './protocol.js';

export class SessionHost implements MachineHost {
  readonly timeTravel = true;

  constructor(readonly session: Session) {}

  /** A new recording of a program from reset. */
  static create(spec: HostSpec): SessionHost {
    return new SessionHost(Session.create({ kind: programKind(spec.image), image: spec.image, ramSize: spec.ramSize, disk: spec.disk }));
  }

  /** Opens a .vmi file (validated by readVmi before anything is built). */
  static open(bytes: Uint8Array): SessionHost {
    return new SessionHost(Session.open(readVmi(bytes)));
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
    return this.session.run(steps);
  }

  type(bytes: Uint8Array): void {
    this.session.type(bytes);
  }

  seek(branch: string | undefined, position: number): void {
    this.session.seek(branch === undefined ? { position } : { branch, position });
  }

  stepBack(count: number): void {
    this.session.stepBack(count);
  }

  reverseContinue(breakpoints: number[], watchpoints: WatchRange[]): StopReason | null {
    return this.session.reverseContinue({ breakpoints, watchpoints });
  }

  fork(position: number, name?: string): string {
    return this.session.fork(position, name);
  }

  exportVmi(): Uint8Array {
    return writeVmi(this.session.toRecording());
  }
}
