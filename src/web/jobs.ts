/**
 * Long work in the worker (a seek that replays far, an import, an export),
 * done a slice at a time: the worker handles messages only between slices,
 * so slicing is what lets a `cancel` (or anything else) get through. Each
 * job reports `progress` events once it outlives its first slice, and a
 * last one with `finished` when it ends however it ends.
 */
import type { MachineHost } from './host.js';
import type { PointRef, ProgressOp, WorkerEvent } from './protocol.js';

/** Wall time a job works before it yields. */
const JOB_SLICE_MS = 40;
/** At most this often a job reports progress. */
const PROGRESS_MS = 100;
/**
 * Wall time an import spends replaying from reset to rebuild the console
 * before it restores the nearest checkpoint instead (guests that poll a
 * device run at a few MIPS: a step count would not bound the wait).
 */
const CONSOLE_REPLAY_MS = 2000;
/** Steps replayed between two looks at the clock. */
const REPLAY_CHUNK = 1_000_000;
/** Pages deflated between two looks at the clock while exporting. */
const PAGES_PER_LOOK = 32;

/** One long operation, cut into slices. */
export interface Work<T> {
  readonly op: ProgressOp;
  /**
   * Whether a command that changes the machine cancels it (a seek must not
   * run under a step), or it can go on beside them (an export).
   */
  readonly exclusive: boolean;
  /** Works until `deadline` (in the runner's clock) and returns the result, or how far it got. */
  slice(deadline: number): { value: T } | { done: number; total: number };
  /** Called when cancelled between slices: says where things stand (they are consistent). */
  cancelled(): string;
}

/** The error a cancelled job rejects with ('superseded' when another command took over). */
export class JobCancelled extends Error {
  constructor(
    readonly code: 'cancelled' | 'superseded',
    message: string,
  ) {
    super(message);
  }
}

interface Running {
  work: Work<unknown>;
  reject: (e: Error) => void;
  settle: () => void;
  reported: boolean;
  lastReport: number;
}

export class Jobs {
  private next = 1;
  private readonly active = new Map<number, Running>();

  constructor(
    private readonly post: (event: WorkerEvent) => void,
    private readonly defer: (fn: () => void) => void,
    private readonly now: () => number,
  ) {}

  /**
   * Runs `work` to its end: the first slice now (a job that fits in it
   * returns its value at once), the rest deferred. `settle` runs once when
   * it ends, whether done, failed or cancelled.
   */
  run<T>(work: Work<T>, settle: () => void = () => {}): T | Promise<T> {
    let first: ReturnType<Work<T>['slice']>;
    try {
      first = work.slice(this.now() + JOB_SLICE_MS);
    } catch (e) {
      settle();
      throw e;
    }
    if ('value' in first) {
      settle();
      return first.value;
    }
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const job: Running = { work, reject, settle, reported: false, lastReport: 0 };
      this.active.set(id, job);
      const go = (r: ReturnType<Work<T>['slice']>) => {
        if ('value' in r) {
          this.end(id, job);
          resolve(r.value);
          return;
        }
        const t = this.now();
        if (!job.reported || t - job.lastReport >= PROGRESS_MS) {
          job.reported = true;
          job.lastReport = t;
          this.post({ type: 'progress', job: id, op: work.op, done: r.done, total: r.total });
        }
        this.defer(() => {
          if (this.active.get(id) !== job) return;
          let next: ReturnType<Work<T>['slice']>;
          try {
            next = work.slice(this.now() + JOB_SLICE_MS);
          } catch (e) {
            this.end(id, job);
            reject(e instanceof Error ? e : new Error(String(e)));
            return;
          }
          go(next);
        });
      };
      go(first);
    });
  }

  /** Whether a job is under way (the machine is on its way somewhere). */
  get busy(): boolean {
    return this.active.size > 0;
  }

  /** Cancels one job by id, or every job; returns how many. */
  cancel(id?: number): number {
    const ids = id === undefined ? [...this.active.keys()] : this.active.has(id) ? [id] : [];
    for (const i of ids) this.stop(i, 'cancelled');
    return ids.length;
  }

  /** Cancels the jobs a change of the machine would break (before that change runs). */
  supersede(): void {
    for (const [id, job] of this.active) if (job.work.exclusive) this.stop(id, 'superseded');
  }

  private stop(id: number, code: JobCancelled['code']): void {
    const job = this.active.get(id)!;
    const message = job.work.cancelled();
    this.end(id, job);
    job.reject(new JobCancelled(code, message));
  }

  private end(id: number, job: Running): void {
    this.active.delete(id);
    if (job.reported) this.post({ type: 'progress', job: id, op: job.work.op, done: 0, total: 0, finished: true });
    job.settle();
  }
}

/** A progress callback for Session-style replay that stops at the deadline. */
function until(deadline: number, now: () => number, seen: (done: number, total: number) => void) {
  return (done: number, total: number): boolean => {
    seen(done, total);
    return now() < deadline;
  };
}

/**
 * Seeks in slices. A seek that is cancelled stops where it reached: a
 * valid position on the target branch, short of the target.
 */
export function seekWork(
  host: MachineHost,
  branch: string | undefined,
  position: number,
  now: () => number,
): Work<void> {
  const seek = host.seek.bind(host);
  let total = 0;
  return {
    op: 'seek',
    exclusive: true,
    slice(deadline) {
      const done = seek(
        branch,
        position,
        until(deadline, now, (_d, t) => (total = Math.max(total, t))),
      );
      // A slice whose deadline came with the last step of the way has arrived all the same: done, not
      // left for a cancel to call "short of" the very position it stands at (seek made the target branch current).
      if (done || host.machine.position === position) return { value: undefined };
      // Later slices go on from where the machine stands: measure against the whole way.
      return { done: Math.max(0, total - (position - host.machine.position)), total };
    },
    cancelled: () => `seek cancelled: stopped at position ${host.machine.position}, short of ${position}`,
  };
}

/** What an export replies: the file, and the point it was taken at. */
export interface ExportedVmi {
  bytes: Uint8Array;
  name: string;
  branch: string;
  position: number;
}

/**
 * Exports in slices: deflating the pages still stored raw is the long part
 * (a page store compresses lazily); writing the file is then one slice.
 */
export function exportWork(host: MachineHost, now: () => number): Work<ExportedVmi> {
  const compress = host.compressPages.bind(host);
  const total = compress(0);
  return {
    op: 'export',
    exclusive: false,
    slice(deadline) {
      let left = 0;
      do left = compress(PAGES_PER_LOOK);
      while (left > 0 && now() < deadline);
      if (left > 0) return { done: Math.max(0, total - left), total: Math.max(total, left) };
      return {
        value: { bytes: host.exportVmi(), name: 'rewind.vmi', branch: host.branch, position: host.machine.position },
      };
    },
    cancelled: () => 'export cancelled: no file was written',
  };
}

/**
 * Imports in slices: validating and opening the file is one slice, then
 * the machine goes to `at` (by default the end of the root branch: where
 * the recording got to) in slices. A file that keeps its console output
 * (every .vmi Rewind writes now) is seeked at once; for an older one it
 * replays from reset for up to CONSOLE_REPLAY_MS rather than restoring the
 * nearest checkpoint, so that the console shows what was written on the
 * way, and then seeks the rest.
 * The new machine is only handed over at the end, so a cancelled or failed
 * import changes nothing.
 */
export function importWork(open: () => MachineHost, at: PointRef | undefined, now: () => number): Work<MachineHost> {
  let host: MachineHost | null = null;
  let target: PointRef = { position: 0 };
  let replay = false;
  let replayStart = 0;
  return {
    op: 'import',
    exclusive: true,
    slice(deadline) {
      if (!host) {
        host = open();
        target = at ?? { branch: host.branch, position: host.end() };
        // A file that keeps its console output needs no replay from reset to show it.
        replay = !host.session.consoleKnown(target.branch ?? host.branch, target.position);
        replayStart = now();
        // Position 0 of the target branch: from there, running forward replays its recorded past.
        if (replay) host.seek(target.branch, 0);
        if (now() >= deadline) return { done: 0, total: target.position };
      }
      const h = host;
      while (replay && h.machine.position < target.position && now() < deadline) {
        const r = h.run(Math.min(REPLAY_CHUNK, target.position - h.machine.position));
        // A replay that stalls (it should not) or takes too long goes on as a seek below.
        if (r.steps === 0 || now() - replayStart > CONSOLE_REPLAY_MS) replay = false;
      }
      if (replay && h.machine.position < target.position) return { done: h.machine.position, total: target.position };
      if (
        h.seek(
          target.branch,
          target.position,
          until(deadline, now, () => {}),
        )
      )
        return { value: h };
      return { done: h.machine.position, total: target.position };
    },
    cancelled: () => 'import cancelled: the machine is as it was',
  };
}
