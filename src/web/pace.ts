/**
 * A VM's CPU share as a pace cap: at most `mips` million instructions per
 * second of wall time. The worker asks, before each slice, how long to wait
 * so that the instructions run since the cap's anchor are not ahead of the
 * wall clock, and sizes its slices to a few milliseconds at the cap. Measured
 * from an anchor rather than slice by slice, timer lateness does not add up:
 * a slice that waited too long is followed by one that waits less.
 */

/**
 * The most a VM held up (a busy host, an autosave) makes up by running
 * ahead of its cap: further behind, the rest is let go. Over a window of a
 * few seconds that is a few per cent either way.
 */
const MAX_LAG_MS = 500;

export class PaceCap {
  /** Million instructions per second at most; null for no cap. */
  private mips: number | null = null;
  private anchorMs = 0;
  private anchorPosition = 0;

  get cap(): number | null {
    return this.mips;
  }

  /** Sets the cap (null or a non-positive number: none) and counts from here. */
  set(mips: number | null, nowMs: number, position: number): void {
    this.mips = mips !== null && Number.isFinite(mips) && mips > 0 ? mips : null;
    this.restart(nowMs, position);
  }

  /** Counts from here: the run starts, or the machine moved by other means than running (a seek, a fork). */
  restart(nowMs: number, position: number): void {
    this.anchorMs = nowMs;
    this.anchorPosition = position;
  }

  /** Milliseconds to wait before running on from `position` so as to stay within the cap (0: run now). */
  wait(nowMs: number, position: number): number {
    if (this.mips === null) return 0;
    if (position < this.anchorPosition) this.restart(nowMs, position);
    const due = this.anchorMs + (position - this.anchorPosition) / (this.mips * 1000);
    if (nowMs - due > MAX_LAG_MS) {
      this.restart(nowMs - MAX_LAG_MS, position);
      return 0;
    }
    return Math.max(0, due - nowMs);
  }

  /** The most instructions one slice of `sliceMs` may run at the cap (Infinity without one). */
  sliceLimit(sliceMs: number): number {
    return this.mips === null ? Infinity : Math.max(1, Math.floor(this.mips * 1000 * sliceMs));
  }
}
