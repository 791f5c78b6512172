/**
 * The timeline: a tree of branches, event-sourced. Every change to it is made
 * with immer's `produceWithPatches` and its patches are appended to a log;
 * the current tree is the fold of the log with `applyPatches`
 * ({@link Timeline.fromLog}), so the log can be persisted append-only.
 * Input events are the one exception: a branch's events only ever grow at
 * their end, so they are appended in place (with the same `add` patches in
 * the log) rather than copied by immer at every append, which made a
 * recording with many events quadratic (5,000 key presses took 4.5 s).
 *
 * Positions are absolute (steps since reset) on every branch.
 *
 * Semantics at a fork (child forked from parent at position P):
 * - the child inherits the parent's input events with position < P;
 *   events at exactly P belong to the child alone (that is where the user
 *   "types something different");
 * - the child inherits the parent's checkpoints with position <= P: a
 *   checkpoint at p holds the machine before any event at p is applied, so a
 *   parent checkpoint at P is valid for the child;
 * - events at one position are applied in log order when the machine's
 *   position equals it, before the next instruction executes.
 * Seeking to (branch, p) = restore `checkpointAtOrBefore(branch, p)` at c,
 * then replay `eventsBetween(branch, c, p)` while running to p.
 */
import { Immer, enablePatches, type Draft, type Patch } from 'immer';
import { RewindError } from '../core/errors.js';

enablePatches();
/** The timeline's own immer: trees are not frozen, so that events can be appended in place (see above). */
const immer = new Immer({ autoFreeze: false });

/** Payload of an input event: bytes typed, or a small value for other devices. */
export type EventPayload = Uint8Array | number[] | number | string;

/** One input event, recorded before it is applied. */
export interface InputEvent {
  /** Position (steps since reset) at which it is applied. */
  position: number;
  /**
   * Virtual time (`cpu.cycles()`: steps plus idle ticks) at which it arrived. Replay keys on
   * `position`; the time matters only to a hart asleep there, which sleeps until then (a frame a
   * group delivers at a quantum's start, docs/network.md).
   */
  time: number;
  /** Device name ("uart0", ...). */
  device: string;
  payload: EventPayload;
}

/** A named position on a branch. */
export interface Bookmark {
  name: string;
  position: number;
}

/** A checkpoint as the timeline knows it (the data lives in the checkpoint store). */
export interface CheckpointRef {
  id: string;
  position: number;
}

/** One branch of the timeline tree. */
export interface Branch {
  id: string;
  name: string;
  /** Parent branch id; null for the root. */
  parent: string | null;
  /** Position at which it leaves its parent (0 for the root). */
  forkPosition: number;
  /** Its own events (position >= forkPosition), in the order they apply. */
  events: InputEvent[];
  /** Its own checkpoints, ascending by position. */
  checkpoints: CheckpointRef[];
  bookmarks: Bookmark[];
  /** Steps run on this branch so far: it ends at forkPosition + length. */
  length: number;
}

/** The whole tree, plain data. */
export interface TimelineTree {
  branches: Record<string, Branch>;
  /** Counter for branch ids ("b0", "b1", ...). */
  nextId: number;
}

/** One entry of the timeline log: the patches of one change. */
export type TimelineLogEntry = Patch[];

/** A part of a branch's history contributed by one branch of its lineage. */
export interface LineageSegment {
  branch: string;
  /** First position this branch contributes. */
  from: number;
  /**
   * Where the next branch of the lineage forks off (events < to, checkpoints
   * <= to belong here); Infinity for the branch asked about.
   */
  to: number;
}

/** The empty tree every log folds from. */
export const EMPTY_TIMELINE: TimelineTree = Object.freeze({ branches: {}, nextId: 0 }) as TimelineTree;

function bad(message: string): never {
  throw new RewindError('bad-argument', message);
}

function checkPosition(p: number, what: string): void {
  if (!Number.isSafeInteger(p) || p < 0) bad(`${what} must be a non-negative integer, not ${p}`);
}

/** A copy of plain objects and arrays, all the way down; anything else (bytes, numbers) is shared. */
function plainCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plainCopy);
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plainCopy(x);
  return out;
}

/** The event-sourced timeline. */
export class Timeline {
  private tree: TimelineTree;
  private readonly entries: TimelineLogEntry[];

  private constructor(tree: TimelineTree, log: TimelineLogEntry[]) {
    this.tree = tree;
    this.entries = log;
  }

  /** A new timeline with one root branch (id "b0"). */
  static create(rootName = 'main'): Timeline {
    const t = new Timeline(EMPTY_TIMELINE, []);
    t.change((d) => {
      const id = `b${d.nextId++}`;
      d.branches[id] = {
        id,
        name: rootName,
        parent: null,
        forkPosition: 0,
        events: [],
        checkpoints: [],
        bookmarks: [],
        length: 0,
      };
    });
    return t;
  }

  /** Rebuilds a timeline by folding its log. Throws RewindError('bad-state') when a patch does not apply. */
  static fromLog(log: readonly TimelineLogEntry[]): Timeline {
    return new Timeline(foldTimelineLog(log), log.slice());
  }

  /** The current tree: a new object after every change but an append of events, which grow its branches' lists in place. */
  get state(): TimelineTree {
    return this.tree;
  }

  /** The current tree with its own copies of the events lists: stays as it is while the timeline goes on. */
  snapshot(): TimelineTree {
    const branches: Record<string, Branch> = {};
    for (const b of Object.values(this.tree.branches)) branches[b.id] = { ...b, events: b.events.slice() };
    return { ...this.tree, branches };
  }

  /** The whole log. */
  get log(): readonly TimelineLogEntry[] {
    return this.entries;
  }

  private change(recipe: (draft: Draft<TimelineTree>) => void): void {
    const [next, patches] = immer.produceWithPatches(this.tree, recipe);
    if (patches.length === 0) return;
    this.tree = next;
    // The log keeps its own copies: a value may hold an events list that later grows in place.
    this.entries.push(patches.map((p) => ('value' in p ? { ...p, value: plainCopy(p.value) } : p)));
  }

  /**
   * Replaces one branch, by hand as immer would (a new tree, branch record and branch) and with the
   * patch it would log: for the changes made at every slice and checkpoint, where immer's proxies cost
   * more than the change.
   */
  private changeBranch(next: Branch, patch: Patch): void {
    this.tree = { ...this.tree, branches: { ...this.tree.branches, [next.id]: next } };
    this.entries.push([patch]);
  }

  /** The branch with this id; throws RewindError('not-found'). */
  branch(id: string): Branch {
    const b = this.tree.branches[id];
    if (!b || !Object.hasOwn(this.tree.branches, id)) throw new RewindError('not-found', `no branch ${id}`);
    return b;
  }

  /** All branches. */
  branches(): Branch[] {
    return Object.values(this.tree.branches);
  }

  /** The root branch (the one without a parent). */
  root(): Branch {
    const r = this.branches().find((b) => b.parent === null);
    if (!r) throw new RewindError('not-found', 'the timeline has no root branch');
    return r;
  }

  /** Branches whose parent is `id`. */
  children(id: string): Branch[] {
    return this.branches().filter((b) => b.parent === id);
  }

  /**
   * Forks a new branch off `parent` at `position` and returns its id. When
   * `position` lies before `parent`'s own fork position, the branch that owns
   * that position (an ancestor) becomes the parent.
   */
  fork(parent: string, position: number, name: string): string {
    checkPosition(position, 'fork position');
    let owner = this.branch(parent);
    while (position < owner.forkPosition && owner.parent !== null) owner = this.branch(owner.parent);
    const end = owner.forkPosition + owner.length;
    if (position > end) bad(`cannot fork branch ${owner.name} at ${position}: it only runs to ${end}`);
    let id = '';
    this.change((d) => {
      id = `b${d.nextId++}`;
      d.branches[id] = {
        id,
        name,
        parent: owner.id,
        forkPosition: position,
        events: [],
        checkpoints: [],
        bookmarks: [],
        length: 0,
      };
    });
    return id;
  }

  rename(id: string, name: string): void {
    this.branch(id);
    this.change((d) => {
      d.branches[id]!.name = name;
    });
  }

  /** Deletes a branch with no children (not the root). */
  deleteBranch(id: string): void {
    const b = this.branch(id);
    if (b.parent === null) bad('cannot delete the root branch');
    const kids = this.children(id);
    if (kids.length > 0)
      bad(`cannot delete branch ${b.name}: branches ${kids.map((k) => k.name).join(', ')} fork from it`);
    this.change((d) => {
      delete d.branches[id];
    });
  }

  /** Adds (or moves) a bookmark on a branch. */
  addBookmark(id: string, name: string, position: number): void {
    this.branch(id);
    checkPosition(position, 'bookmark position');
    this.change((d) => {
      const b = d.branches[id]!;
      const i = b.bookmarks.findIndex((m) => m.name === name);
      if (i >= 0) b.bookmarks[i]!.position = position;
      else b.bookmarks.push({ name, position });
    });
  }

  removeBookmark(id: string, name: string): void {
    this.branch(id);
    this.change((d) => {
      const b = d.branches[id]!;
      b.bookmarks = b.bookmarks.filter((m) => m.name !== name);
    });
  }

  /** Records that the branch now runs to `end` (absolute position); never shrinks. */
  extendTo(id: string, end: number): void {
    const b = this.branch(id);
    checkPosition(end, 'end position');
    const length = end - b.forkPosition;
    if (length <= b.length) return;
    // A run extends its branch at every slice: the log keeps one entry for a run of them, not thousands.
    const last = this.entries[this.entries.length - 1];
    const p = last?.length === 1 ? last[0]! : null;
    if (
      p?.op === 'replace' &&
      p.path.length === 3 &&
      p.path[0] === 'branches' &&
      p.path[1] === id &&
      p.path[2] === 'length'
    )
      this.entries.pop();
    this.changeBranch({ ...b, length }, { op: 'replace', path: ['branches', id, 'length'], value: length });
  }

  /**
   * Appends input events to a branch. Each must lie at or after the fork
   * position and at or after the branch's last event.
   */
  appendEvents(id: string, events: readonly InputEvent[]): void {
    const b = this.branch(id);
    let last = b.events.length > 0 ? b.events[b.events.length - 1]!.position : b.forkPosition;
    for (const e of events) {
      checkPosition(e.position, 'event position');
      if (e.position < last) bad(`event at ${e.position} on branch ${b.name} comes before ${last}`);
      last = e.position;
    }
    if (events.length === 0) return;
    // In place, with the patches immer would have made for the pushes (see the file comment).
    const own = b.events;
    const patches: Patch[] = [];
    for (const e of events) {
      const copy: InputEvent = { position: e.position, time: e.time, device: e.device, payload: e.payload };
      patches.push({ op: 'add', path: ['branches', id, 'events', own.length], value: copy });
      own.push(copy);
    }
    this.entries.push(patches);
  }

  /** Records a checkpoint of a branch (position >= the fork position), kept in position order. */
  /** Forgets the checkpoints `ids` of branch `id` (thinning); positions stay reachable by replay from an older one. */
  removeCheckpoints(id: string, ids: ReadonlySet<string>): void {
    if (!this.branch(id).checkpoints.some((c) => ids.has(c.id))) return;
    this.change((d) => {
      const b = d.branches[id]!;
      b.checkpoints = b.checkpoints.filter((c) => !ids.has(c.id));
    });
  }

  addCheckpoint(id: string, ref: CheckpointRef): void {
    const b = this.branch(id);
    checkPosition(ref.position, 'checkpoint position');
    if (ref.position < b.forkPosition)
      bad(`checkpoint at ${ref.position} is before branch ${b.name} forks at ${b.forkPosition}`);
    if (b.checkpoints.some((c) => c.id === ref.id)) return;
    const cps = b.checkpoints;
    let i = cps.length;
    while (i > 0 && cps[i - 1]!.position > ref.position) i--;
    // A new list with the checkpoint in position order.
    const value = { id: ref.id, position: ref.position };
    const checkpoints = [...cps.slice(0, i), value, ...cps.slice(i)];
    this.changeBranch(
      { ...b, checkpoints },
      { op: 'add', path: ['branches', id, 'checkpoints', i], value: { ...value } },
    );
  }

  /** The branches from the root down to `id`, each with the positions it contributes. */
  lineage(id: string): LineageSegment[] {
    const chain: Branch[] = [];
    let b: Branch | undefined = this.branch(id);
    while (b) {
      chain.push(b);
      if (chain.length > 100_000) throw new RewindError('bad-state', 'branch parents form a cycle');
      b = b.parent === null ? undefined : this.branch(b.parent);
    }
    chain.reverse();
    return chain.map((br, i) => ({
      branch: br.id,
      from: br.forkPosition,
      to: i + 1 < chain.length ? chain[i + 1]!.forkPosition : Infinity,
    }));
  }

  /**
   * The latest checkpoint at or before `position` on the lineage of
   * `branch` (on a tie, the one on the deeper branch); null when none.
   */
  checkpointAtOrBefore(branch: string, position: number): (CheckpointRef & { branch: string }) | null {
    let best: (CheckpointRef & { branch: string }) | null = null;
    for (const s of this.lineage(branch)) {
      const limit = Math.min(s.to, position);
      for (const c of this.branch(s.branch).checkpoints) {
        if (c.position < s.from || c.position > limit) continue;
        if (!best || c.position >= best.position) best = { id: c.id, position: c.position, branch: s.branch };
      }
    }
    return best;
  }

  /**
   * What a seek costs on `branch`: for each window (the last `within`
   * positions of the branch), the most instructions a seek into it replays
   * from the checkpoint before its target (from reset when there is none).
   */
  seekCosts(branch: string, windows: readonly number[]): { within: number; replay: number }[] {
    const b = this.branch(branch);
    const end = b.forkPosition + b.length;
    const points = [0];
    for (const s of this.lineage(branch))
      for (const c of this.branch(s.branch).checkpoints)
        if (c.position >= s.from && c.position <= Math.min(s.to, end)) points.push(c.position);
    points.sort((x, y) => x - y);
    points.push(end);
    return windows.map((within) => {
      const from = Math.max(0, end - within);
      let replay = 0;
      for (let i = 1; i < points.length; i++)
        if (points[i]! > from) replay = Math.max(replay, points[i]! - points[i - 1]!);
      return { within: Math.min(within, end), replay };
    });
  }

  /** Events with from <= position < to along the lineage of `branch`, in the order they apply. */
  eventsBetween(branch: string, from: number, to: number): InputEvent[] {
    const out: InputEvent[] = [];
    for (const s of this.lineage(branch)) {
      const lo = Math.max(s.from, from);
      const hi = Math.min(s.to, to);
      if (lo >= hi) continue;
      for (const e of this.branch(s.branch).events) if (e.position >= lo && e.position < hi) out.push(e);
    }
    return out;
  }
}

/** The tree a log folds to. Throws RewindError('bad-state') when a patch does not apply. */
export function foldTimelineLog(log: readonly TimelineLogEntry[]): TimelineTree {
  // One pass over all the patches: applied entry by entry, every appended event would copy its
  // branch's events again. Only when that fails, entry by entry to name the one that does not apply.
  try {
    return immer.applyPatches(EMPTY_TIMELINE, log.flat());
  } catch {
    let tree = EMPTY_TIMELINE;
    for (let i = 0; i < log.length; i++) {
      try {
        tree = immer.applyPatches(tree, log[i]!);
      } catch (e) {
        throw new RewindError(
          'bad-state',
          `timeline log entry ${i} does not apply (${e instanceof Error ? e.message : String(e)})`,
        );
      }
    }
    throw new RewindError('bad-state', 'the timeline log does not apply');
  }
}

/** A timeline over a given tree, with no log (e.g. read from a `.vmi` without one). Its changes start a fresh log. */
export function timelineFromTree(tree: TimelineTree): Timeline {
  // A log of one entry that replaces the root of the empty tree.
  const entry: TimelineLogEntry = [
    { op: 'replace', path: ['branches'], value: tree.branches },
    { op: 'replace', path: ['nextId'], value: tree.nextId },
  ];
  return Timeline.fromLog([entry]);
}
