/**
 * The screen's frames on their way to the page: the worker looks at the
 * machine's screen at most about once a display frame while it runs (and at
 * every stop), and sends it when the GPU says part of it may have changed
 * (`takeDamage`), as the RGBA the page puts on its canvas as it is. The
 * worker keeps that RGBA and converts only the changed part (a line of text
 * on a console, a cell of a game), then sends a copy.
 *
 * A look costs the guest time: the next look waits at least FRAME_MS and at
 * least LOOK_SHARE⁻¹ times what the last one cost, so looking never takes
 * more than about 1/LOOK_SHARE of the worker's time, whatever the screen's
 * size.
 */
import type { Machine } from '../../core/machine.js';
import type { VirtioGpu } from '../../core/virtio/gpu.js';
import type { ScreenFrame, WorkerEvent } from './protocol.js';

/** The display's pace, enough for a console and a game: a frame at most every 33 ms (30 Hz). */
const FRAME_MS = 33;
/** Looks wait 12 times what the last one cost: at most ~8% of the worker's time (a whole 1280×800 screen takes ~2.5 ms). */
const LOOK_SHARE = 12;

export class ScreenFrames {
  /** The GPU last looked at (a new machine has a new one) and the screen as last sent, or null when none is shown. */
  private gpu: VirtioGpu | null = null;
  private canvas: { width: number; height: number; rgba: Uint8ClampedArray<ArrayBuffer> } | null = null;
  private nextLookAt = 0;

  constructor(
    private readonly post: (event: WorkerEvent, transfer?: Transferable[]) => void,
    private readonly now: () => number,
  ) {}

  /** A new machine: the page gets its screen (or its lack of one) at the next look. */
  reset(): void {
    this.gpu = null;
    this.canvas = null;
    this.nextLookAt = 0;
    this.post({ type: 'screen', frame: null });
  }

  /** Looks at the screen when a look is due (`now`: at once, as at a stop) and sends it when it may have changed. */
  look(machine: Machine, now: boolean): void {
    const gpu = machine.gpu;
    if (!gpu) return;
    const t0 = this.now();
    if (!now && t0 < this.nextLookAt) return;
    let damage = gpu.takeDamage();
    const size = gpu.screenSize();
    if (!size) {
      if (this.canvas) this.post({ type: 'screen', frame: null });
      this.canvas = null;
      return;
    }
    let canvas = this.canvas;
    if (gpu !== this.gpu || !canvas || canvas.width !== size.width || canvas.height !== size.height) {
      canvas = { ...size, rgba: new Uint8ClampedArray(size.width * size.height * 4) };
      damage = { x: 0, y: 0, ...size };
    }
    this.gpu = gpu;
    this.canvas = canvas;
    if (!damage) return;
    gpu.drawRgba(canvas.rgba, damage);
    const frame: ScreenFrame = {
      width: canvas.width,
      height: canvas.height,
      rgba: canvas.rgba.slice(),
      position: machine.position,
    };
    this.post({ type: 'screen', frame }, [frame.rgba.buffer]);
    const t1 = this.now();
    this.nextLookAt = t1 + Math.max(FRAME_MS, (t1 - t0) * LOOK_SHARE);
  }
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
