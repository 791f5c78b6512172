/**
 * What the page sees of a recording's branches: the tree, the marks along
 * the current branch for the scrubber, and diffs cut to a size worth
 * sending (a diff from reset can touch every page of RAM).
 */
import type { Diff, PageChange, Session } from '../../session/session.js';
import type { InputEvent } from '../../storage/index.js';
import type { DiffResult, PageDiff, TimelineInfo } from './protocol.js';

/** At most this many pages, runs per page and bytes per run go into a DiffResult. */
const DIFF_PAGES = 256;
const DIFF_RUNS = 16;
const DIFF_RUN_BYTES = 64;

/** The branch tree and the marks of the current branch's lineage. */
export function timelineInfo(session: Session): TimelineInfo {
  const t = session.timeline;
  const branch = session.branch;
  const lineage = t.lineage(branch);
  const end = Math.max(session.branchEnd(), session.position);
  const checkpoints: number[] = [];
  const bookmarks: TimelineInfo['bookmarks'] = [];
  for (const s of lineage) {
    const b = t.branch(s.branch);
    for (const c of b.checkpoints) if (c.position >= s.from && c.position <= s.to) checkpoints.push(c.position);
    for (const m of b.bookmarks)
      if (m.position >= s.from && m.position <= Math.min(s.to, end))
        bookmarks.push({ name: m.name, position: m.position });
  }
  const events = t.eventsBetween(branch, 0, Infinity);
  const inputs: number[] = [];
  for (const e of events) if (inputs[inputs.length - 1] !== e.position) inputs.push(e.position);
  return {
    branch,
    branches: session.branches().map((b) => ({
      id: b.id,
      name: b.name,
      parent: b.parent,
      forkPosition: b.forkPosition,
      end: session.branchEnd(b.id),
    })),
    checkpoints: [...new Set(checkpoints)].sort((x, y) => x - y),
    inputs,
    commands: commandStarts(events),
    output: session.history?.marks(lineage, end) ?? [],
    bookmarks: bookmarks.sort((x, y) => x.position - y.position),
  };
}

const ENTER = new Set([13, 10]);

function payloadBytes(p: InputEvent['payload']): Iterable<number> {
  return typeof p === 'number' ? [p] : typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

/**
 * Where each command line typed into the console starts: the first input
 * event after an Enter (an event of Enters alone starts nothing: an empty
 * line is no command), so that `[` and `]` go by commands, not by every
 * keystroke. Every other device's event (a CSR write from gdb) is its own.
 */
export function commandStarts(events: readonly InputEvent[]): number[] {
  const out: number[] = [];
  let lineEnded = true;
  for (const e of events) {
    if (e.device !== 'uart0') {
      if (out[out.length - 1] !== e.position) out.push(e.position);
      continue;
    }
    const bytes = [...payloadBytes(e.payload)];
    if (bytes.length === 0) continue;
    const onlyEnters = bytes.every((b) => ENTER.has(b));
    if (lineEnded && !onlyEnters && out[out.length - 1] !== e.position) out.push(e.position);
    lineEnded = ENTER.has(bytes[bytes.length - 1]!);
  }
  return out;
}

/** Changes whenever timelineInfo would. */
export function timelineVersion(session: Session): string {
  return `${session.timeline.log.length}:${session.history?.size ?? 0}:${session.branch}`;
}

function pages(changes: PageChange[]): PageDiff[] {
  return changes.slice(0, DIFF_PAGES).map((c) => ({
    page: c.page,
    address: c.address,
    changedBytes: c.runs.reduce((n, r) => n + r.a.length, 0),
    runs: c.runs
      .slice(0, DIFF_RUNS)
      .map((r) => ({ offset: r.offset, a: r.a.slice(0, DIFF_RUN_BYTES), b: r.b.slice(0, DIFF_RUN_BYTES) })),
  }));
}

/** A session's diff for the page, with branch ids and names. */
export function diffResult(diff: Diff, a: { id: string; name: string }, b: { id: string; name: string }): DiffResult {
  return {
    a: { branch: a.id, name: a.name, position: diff.a.position, hash: diff.a.hash },
    b: { branch: b.id, name: b.name, position: diff.b.position, hash: diff.b.hash },
    pc: diff.pc,
    registers: diff.registers,
    csrs: diff.csrs,
    ram: pages(diff.ram),
    disk: pages(diff.disk),
    ramPages: diff.ram.length,
    diskPages: diff.disk.length,
  };
}
