/**
 * The screen's frames on their way to the page: the worker looks at the
 * machine's screen at most about once a display frame while it runs (and at
 * every stop), and sends it only when it changed, as RGBA the page puts on
 * its canvas as it is.
 *
 * A look costs the guest time (reading the screen, comparing it with the
 * last one sent): the next look waits at least FRAME_MS and at least
 * LOOK_SHARE⁻¹ times what the last one cost, so looking never takes more
 * than about 1/LOOK_SHARE of the worker's time, whatever the screen's size.
 */
import type { Machine } from '../../core/machine.js';
import type { ScreenFrame, WorkerEvent } from './protocol.js';

/** The display's pace, enough for a console and a game: a frame at most every 33 ms (30 Hz). */
const FRAME_MS = 33;
/** Looks wait 20 times what the last one cost: at most ~5% of the worker's time. */
const LOOK_SHARE = 20;

export class ScreenFrames {
  /** The RGB of the frame last sent, or null when the page shows no screen. */
  private last: Uint8Array | null = null;
  private lastSize = '';
  private nextLookAt = 0;

  constructor(
    private readonly post: (event: WorkerEvent, transfer?: Transferable[]) => void,
    private readonly now: () => number,
  ) {}

  /** A new machine: the page gets its screen (or its lack of one) at the next look. */
  reset(): void {
    this.last = null;
    this.lastSize = '';
    this.nextLookAt = 0;
    this.post({ type: 'screen', frame: null });
  }

  /** Looks at the screen when a look is due (`now`: at once, as at a stop) and sends it when it changed. */
  look(machine: Machine, now: boolean): void {
    const gpu = machine.gpu;
    if (!gpu) return;
    const t0 = this.now();
    if (!now && t0 < this.nextLookAt) return;
    const screen = gpu.screen();
    const size = screen ? `${screen.width}x${screen.height}` : '';
    const changed = !screen ? this.last !== null : size !== this.lastSize || !equal(screen.rgb, this.last);
    if (changed) {
      this.last = screen?.rgb ?? null;
      this.lastSize = size;
      const frame: ScreenFrame | null = screen
        ? { width: screen.width, height: screen.height, rgba: rgba(screen.rgb), position: machine.position }
        : null;
      this.post({ type: 'screen', frame }, frame ? [frame.rgba.buffer] : []);
    }
    const t1 = this.now();
    this.nextLookAt = t1 + Math.max(FRAME_MS, (t1 - t0) * LOOK_SHARE);
  }
}

function equal(a: Uint8Array, b: Uint8Array | null): boolean {
  if (!b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** RGB to the RGBA an ImageData holds (opaque: the screen has no alpha). */
export function rgba(rgb: Uint8Array): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray((rgb.length / 3) * 4);
  for (let i = 0, o = 0; i < rgb.length; i += 3, o += 4) {
    out[o] = rgb[i]!;
    out[o + 1] = rgb[i + 1]!;
    out[o + 2] = rgb[i + 2]!;
    out[o + 3] = 255;
  }
  return out;
}

/** The screen shrunk to at most `width` pixels wide (nearest pixel: a thumbnail to find a moment by, not to read). */
export function shrink(
  screen: { width: number; height: number; rgb: Uint8Array },
  width: number,
): { width: number; height: number; rgba: Uint8ClampedArray<ArrayBuffer> } {
  const k = Math.max(1, Math.ceil(screen.width / width));
  const w = Math.max(1, Math.floor(screen.width / k));
  const h = Math.max(1, Math.floor(screen.height / k));
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0, o = 0; y < h; y++)
    for (let x = 0; x < w; x++, o += 4) {
      const i = (y * k * screen.width + x * k) * 3;
      out[o] = screen.rgb[i]!;
      out[o + 1] = screen.rgb[i + 1]!;
      out[o + 2] = screen.rgb[i + 2]!;
      out[o + 3] = 255;
    }
  return { width: w, height: h, rgba: out };
}
