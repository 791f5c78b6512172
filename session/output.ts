/**
 * The console's history in a session: every byte the guest wrote, with the
 * position of the instruction that wrote it, kept per branch the way the
 * timeline keeps events (a byte written at position q belongs to the branch
 * of the lineage whose segment holds q, so a fork at P owns the output of
 * the instruction at P). The console at position p of a branch is then the
 * bytes of its lineage written before p.
 *
 * Output is only known for the stretches the machine ran through in one
 * go (a run, or a seek's replay); each branch keeps which stretches it has,
 * so bytes replayed twice are stored once and a gap is reported as such.
 */
import type { ConsoleLog, LineageSegment } from '../storage/index.js';

/** The console up to a position: its bytes, the position that wrote each, and whether nothing before is missing. */
export interface ConsoleText {
  bytes: Uint8Array;
  positions: Float64Array;
  complete: boolean;
}

interface BranchOutput {
  /** Positions (ascending) and bytes, side by side. */
  at: number[];
  bytes: number[];
  /** Stretches [from, to) whose output is all here, sorted and disjoint. */
  known: [number, number][];
}

/** First index in the ascending `xs` whose value is ≥ x. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The parts of [from, to) not covered by the sorted, disjoint `known`. */
function gaps(known: readonly [number, number][], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let at = from;
  for (const [a, b] of known) {
    if (b <= at) continue;
    if (a >= to) break;
    if (a > at) out.push([at, a]);
    at = Math.max(at, b);
    if (at >= to) break;
  }
  if (at < to) out.push([at, to]);
  return out;
}

function merge(known: [number, number][], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let lo = from;
  let hi = to;
  for (const [a, b] of known) {
    if (b < lo || a > hi) out.push([a, b]);
    else {
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
  }
  out.push([lo, hi]);
  return out.sort((x, y) => x[0] - y[0]);
}

export class OutputHistory {
  private readonly branches = new Map<string, BranchOutput>();
  /** Bytes written since the last `take`, with their positions. */
  private pendingAt: number[] = [];
  private pendingBytes: number[] = [];
  private stored = 0;

  /** Bytes stored in all branches (changes whenever new output is kept). */
  get size(): number {
    return this.stored;
  }

  /** A byte the machine wrote while executing the instruction at `position`. */
  write(byte: number, position: number): void {
    this.pendingAt.push(position);
    this.pendingBytes.push(byte);
  }

  /** Forgets what was written since the last `keep` (output of a search or of a move the history cannot place). */
  drop(): void {
    this.pendingAt = [];
    this.pendingBytes = [];
  }

  /**
   * The machine ran without a break from `from` to `to` on the branch with
   * this lineage: keep what it wrote there (where not known already).
   */
  keep(lineage: readonly LineageSegment[], from: number, to: number): void {
    const at = this.pendingAt;
    const bytes = this.pendingBytes;
    this.drop();
    for (const s of lineage) {
      const lo = Math.max(s.from, from);
      const hi = Math.min(s.to, to);
      if (lo >= hi) continue;
      const out = this.of(s.branch);
      for (const [a, b] of gaps(out.known, lo, hi)) {
        let i = lowerBound(at, a);
        const j = lowerBound(out.at, a);
        const tail = j === out.at.length;
        const addAt: number[] = [];
        const addBytes: number[] = [];
        for (; i < at.length && at[i]! < b; i++) {
          addAt.push(at[i]!);
          addBytes.push(bytes[i]!);
        }
        if (addAt.length === 0) continue;
        if (tail) {
          for (let k = 0; k < addAt.length; k++) {
            out.at.push(addAt[k]!);
            out.bytes.push(addBytes[k]!);
          }
        } else {
          out.at.splice(j, 0, ...addAt);
          out.bytes.splice(j, 0, ...addBytes);
        }
        this.stored += addAt.length;
      }
      out.known = merge(out.known, lo, hi);
    }
  }

  /** Whether all output of the lineage before `position` is known. */
  knows(lineage: readonly LineageSegment[], position: number): boolean {
    return lineage.every((s) => {
      const hi = Math.min(s.to, position);
      if (s.from >= hi) return true;
      const out = this.branches.get(s.branch);
      return out !== undefined && gaps(out.known, s.from, hi).length === 0;
    });
  }

  /** The console at `position` of the branch with this lineage. */
  at(lineage: readonly LineageSegment[], position: number): ConsoleText {
    const at: number[] = [];
    const bytes: number[] = [];
    for (const s of lineage) {
      const hi = Math.min(s.to, position);
      if (s.from >= hi) continue;
      const out = this.branches.get(s.branch);
      if (!out) continue;
      const end = lowerBound(out.at, hi);
      for (let i = lowerBound(out.at, s.from); i < end; i++) {
        at.push(out.at[i]!);
        bytes.push(out.bytes[i]!);
      }
    }
    return { bytes: Uint8Array.from(bytes), positions: Float64Array.from(at), complete: this.knows(lineage, position) };
  }

  /**
   * Where the console was written along a lineage up to `end`, thinned to
   * at most one position per `bins`th of the range (marks for a scrubber).
   */
  marks(lineage: readonly LineageSegment[], end: number, bins = 400): number[] {
    const out: number[] = [];
    let lastBin = -1;
    for (const s of lineage) {
      const b = this.branches.get(s.branch);
      if (!b) continue;
      const hi = Math.min(s.to, end);
      const stop = lowerBound(b.at, hi);
      for (let i = lowerBound(b.at, s.from); i < stop; i++) {
        const p = b.at[i]!;
        const bin = end > 0 ? Math.floor((p / end) * bins) : 0;
        if (bin === lastBin) continue;
        lastBin = bin;
        out.push(p);
      }
    }
    return out;
  }

  /** The history as a .vmi keeps it. */
  toLog(): ConsoleLog {
    const log: ConsoleLog = {};
    for (const [id, b] of this.branches)
      log[id] = { at: [...b.at], bytes: Uint8Array.from(b.bytes), known: b.known.map(([a, z]) => [a, z]) };
    return log;
  }

  /** Takes what a .vmi kept (checked by readVmi: positions ascending, stretches sorted and apart). */
  load(log: ConsoleLog): void {
    this.branches.clear();
    this.drop();
    this.stored = 0;
    for (const [id, b] of Object.entries(log)) {
      this.branches.set(id, { at: [...b.at], bytes: [...b.bytes], known: b.known.map(([a, z]) => [a, z]) });
      this.stored += b.at.length;
    }
  }

  /** Forgets a deleted branch. */
  forget(branch: string): void {
    const b = this.branches.get(branch);
    if (!b) return;
    this.stored -= b.at.length;
    this.branches.delete(branch);
  }

  private of(branch: string): BranchOutput {
    let b = this.branches.get(branch);
    if (!b) {
      b = { at: [], bytes: [], known: [] };
      this.branches.set(branch, b);
    }
    return b;
  }
}
