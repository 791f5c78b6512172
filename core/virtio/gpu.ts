import type { AccessSize, DeviceState, Dma } from '../device.js';
import { StateReader } from '../devices/state.js';
import type { Chain, VirtioDevice } from './mmio.js';

/**
 * A virtio GPU (device id 16) in 2D mode (virtio 1.x, section 5.7): the
 * guest creates resources (host-side images), backs them with pages of its
 * RAM, copies those pages into them (TRANSFER_TO_HOST_2D) and shows one on
 * the scanout (SET_SCANOUT). What the scanout shows is the screen.
 *
 * The resources' pixels are device state: they are saved with the machine,
 * so every position has its screen. A resource is saved as how its pixels
 * differ from what its backing holds (nothing after a whole-frame transfer,
 * a few runs of bytes while the guest draws the next frame): RAM travels as
 * pages in the checkpoint anyway, and the pixels are read back from it
 * after a restore ({@link VirtioGpu.afterRestore}). So a checkpoint of a
 * guest that presents its frames costs a comparison, not a copy of the
 * screen; pixels that differ from their backing in more than half of
 * their bytes are saved whole. Their total is
 * bounded (HOST_MEMORY), and every malformed or impossible command gets an
 * error response (VIRTIO_GPU_RESP_ERR_*), never an exception.
 *
 * No feature bits beyond VERSION_1: no virgl, no EDID (a driver then takes
 * the mode from GET_DISPLAY_INFO), no blobs. One scanout of 1280×800, as
 * QEMU's virtio-gpu-device by default.
 */

export const SCREEN_WIDTH = 1280;
export const SCREEN_HEIGHT = 800;
/** Bytes of pixels all resources together may hold: three full screens, well inside a checkpoint's 16 MiB state. */
export const HOST_MEMORY = 12 << 20;
/** Resources a guest may hold at once, and backing entries per resource (a 4 MiB buffer in 4 KiB pages takes 1000). */
const MAX_RESOURCES = 1024;
const MAX_BACKING_ENTRIES = 16384;
const QUEUE_SIZE = 256;
const VERSION_1_HI = 1;
const STATE_VERSION = 1;

/** Control and cursor commands (5.7.6.7). */
const Cmd = {
  GetDisplayInfo: 0x0100,
  ResourceCreate2d: 0x0101,
  ResourceUnref: 0x0102,
  SetScanout: 0x0103,
  ResourceFlush: 0x0104,
  TransferToHost2d: 0x0105,
  ResourceAttachBacking: 0x0106,
  ResourceDetachBacking: 0x0107,
} as const;

/** Response types. */
const Resp = {
  OkNoData: 0x1100,
  OkDisplayInfo: 0x1101,
  ErrUnspec: 0x1200,
  ErrOutOfMemory: 0x1201,
  ErrInvalidScanoutId: 0x1202,
  ErrInvalidResourceId: 0x1203,
  ErrInvalidParameter: 0x1205,
} as const;

const FLAG_FENCE = 1;
/** struct virtio_gpu_ctrl_hdr: type, flags, fence_id (u64), ctx_id, ring_idx + padding. */
const HDR_SIZE = 24;
/** 16 × struct virtio_gpu_display_one {rect, enabled, flags}. */
const MAX_SCANOUTS = 16;
const DISPLAY_INFO_SIZE = HDR_SIZE + MAX_SCANOUTS * 24;
/** QEMU refuses scanouts smaller than 16×16; so do we, so that a guest gets the same answers on both. */
const MIN_SCANOUT = 16;

/**
 * Where red, green and blue sit in a pixel's four bytes, by format
 * (5.7.6.8: the name lists the components from the lowest address up).
 */
const FORMATS = new Map<number, readonly [number, number, number]>([
  [1, [2, 1, 0]], // B8G8R8A8_UNORM
  [2, [2, 1, 0]], // B8G8R8X8_UNORM
  [3, [1, 2, 3]], // A8R8G8B8_UNORM
  [4, [1, 2, 3]], // X8R8G8B8_UNORM
  [67, [0, 1, 2]], // R8G8B8A8_UNORM
  [68, [3, 2, 1]], // X8B8G8R8_UNORM
  [121, [3, 2, 1]], // A8B8G8R8_UNORM
  [134, [0, 1, 2]], // R8G8B8X8_UNORM
]);

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Damage that covers any screen (see VirtioGpu.takeDamage, which clips it). */
const EVERYTHING: Rect = { x: 0, y: 0, width: 2 ** 31, height: 2 ** 31 };

/** A host-side image: its pixels, and the guest pages it copies from. */
interface Resource {
  id: number;
  format: number;
  width: number;
  height: number;
  pixels: Uint8Array;
  /** Guest-physical (address, length) pairs, in order; null when none is attached. */
  backing: number[] | null;
}

/** What the scanout shows: a resource and the rectangle of it. */
interface Scanout extends Rect {
  resource: number;
}

/** A screen as RGB bytes, three per pixel, row after row. */
export interface ScreenImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Where saveState reads a backing to compare it with the pixels: transient, so shared, and kept (a screen's worth each checkpoint). */
let scratch = new Uint8Array(0);

/** Byte runs where pixels differ from their backing: offset, bytes, offset, bytes... */
type Difference = (number | Uint8Array)[];
/** Equal words a run of differences spans before a new run starts, and the most runs kept before saving pixels whole. */
const RUN_GAP = 16;
const MAX_RUNS = 4096;

/** A command refused: the error response it gets. */
class GpuError extends Error {
  constructor(readonly type: number) {
    super(`virtio-gpu response 0x${type.toString(16)}`);
  }
}

export class VirtioGpu implements VirtioDevice {
  readonly deviceId = 16;
  readonly features: readonly [number, number] = [0, VERSION_1_HI];
  /** controlq and cursorq. */
  readonly queueCount = 2;
  readonly queueSizeMax = QUEUE_SIZE;
  private resources = new Map<number, Resource>();
  private scanout: Scanout | null = null;
  /** struct virtio_gpu_config's events_read: nothing is ever announced, but a driver may clear it. */
  private eventsRead = 0;
  /** Resources restored without their pixels, to be read from their backings (see afterRestore). */
  private unread = new Map<number, Difference>();

  /**
   * The part of the screen that may have changed since the last takeDamage(), in screen
   * coordinates (all of it after a new scanout, a reset or a restore), or null. For a viewer, which
   * then converts only that part: presentation only, not machine state (and not saved).
   */
  #damage: Rect | null = EVERYTHING;

  constructor(private readonly dma: Dma) {}

  /** What may have changed on the screen since the last call (see #damage); null for nothing. */
  takeDamage(): Rect | null {
    const d = this.#damage;
    const s = this.scanout;
    this.#damage = null;
    if (!d || !s) return null;
    // Clipped to the screen as it is now.
    const width = Math.min(d.x + d.width, s.width) - d.x;
    const height = Math.min(d.y + d.height, s.height) - d.y;
    return width > 0 && height > 0 ? { x: d.x, y: d.y, width, height } : null;
  }

  /** Marks a rectangle of the screen (screen coordinates) as changed. */
  private damage(r: Rect): void {
    const d = this.#damage;
    if (!d) this.#damage = r;
    else {
      const x = Math.min(d.x, r.x);
      const y = Math.min(d.y, r.y);
      this.#damage = {
        x,
        y,
        width: Math.max(d.x + d.width, r.x + r.width) - x,
        height: Math.max(d.y + d.height, r.y + r.height) - y,
      };
    }
  }

  /** The screen now, or null when nothing is on the scanout. Alpha is not shown, as on QEMU's display. */
  screen(): ScreenImage | null {
    const size = this.screenSize();
    if (!size) return null;
    // The canvas's RGBA without its alpha: one conversion of the formats, drawRgba's.
    const rgba = new Uint8ClampedArray(size.width * size.height * 4);
    this.drawRgba(rgba, { x: 0, y: 0, ...size });
    const rgb = new Uint8Array(size.width * size.height * 3);
    for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
      rgb[o] = rgba[i]!;
      rgb[o + 1] = rgba[i + 1]!;
      rgb[o + 2] = rgba[i + 2]!;
    }
    return { ...size, rgb };
  }

  /** The screen's size, or null when nothing is on the scanout. */
  screenSize(): { width: number; height: number } | null {
    const s = this.scanout;
    return s ? { width: s.width, height: s.height } : null;
  }

  /**
   * Draws rectangle `r` of the screen (screen coordinates) into `rgba`, the RGBA of a canvas of
   * the screen's size (opaque: alpha is not shown). False when nothing is on the scanout.
   */
  drawRgba(rgba: Uint8ClampedArray<ArrayBuffer>, r: Rect): boolean {
    const shown = this.shown();
    if (!shown) return false;
    const { s, res } = shown;
    // A word at a time: each pixel's bytes moved to R, G, B, A order (little-endian words).
    const [rs, gs, bs] = FORMATS.get(res.format)!.map((i) => i * 8);
    const out = new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length >> 2);
    // Restored pixels may sit anywhere in a decoded buffer: words need them 4-byte aligned.
    const bytes = res.pixels.byteOffset % 4 === 0 ? res.pixels : res.pixels.slice();
    const pixels = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
    const bgr = rs === 16 && gs === 8 && bs === 0;
    for (let y = r.y; y < r.y + r.height; y++) {
      const from = (s.y + y) * res.width + s.x + r.x;
      const to = from + r.width;
      let o = y * s.width + r.x;
      if (bgr)
        // B8G8R8X8 and B8G8R8A8, what Linux's DRM framebuffers use: red and blue swap places.
        for (let i = from; i < to; i++) {
          const p = pixels[i]!;
          out[o++] = ((p >>> 16) & 255) | (p & 0xff00) | ((p & 255) << 16) | 0xff000000;
        }
      else
        for (let i = from; i < to; i++) {
          const p = pixels[i]!;
          out[o++] = ((p >>> rs) & 255) | (((p >>> gs) & 255) << 8) | (((p >>> bs) & 255) << 16) | 0xff000000;
        }
    }
    return true;
  }

  /** The scanout and the resource it shows, or null when nothing is on it. */
  private shown(): { s: Scanout; res: Resource } | null {
    this.afterRestore();
    const s = this.scanout;
    const res = s && this.resources.get(s.resource);
    return s && res ? { s, res } : null;
  }

  /** struct virtio_gpu_config: events_read, events_clear, num_scanouts (1), num_capsets (0). */
  configRead(offset: number, size: AccessSize): number {
    if (size !== 4) return 0;
    switch (offset) {
      case 0:
        return this.eventsRead;
      case 8:
        return 1;
      default:
        return 0;
    }
  }

  configWrite(offset: number, value: number, size: AccessSize): void {
    if (offset === 4 && size === 4) this.eventsRead &= ~value;
  }

  /**
   * One command. The cursor queue (1) is answered with an empty used buffer
   * and draws nothing. On the control queue, a request too short for its
   * command, or any bad argument, is an error response; a response longer
   * than the driver's buffer is cut to fit (QEMU does the same).
   */
  process(queue: number, chain: Chain): number {
    this.afterRestore();
    if (queue === 1) return 0;
    const request = new Uint8Array(Math.min(chain.readableLength, HDR_SIZE + 32));
    chain.read(0, request);
    const req = new DataView(request.buffer);
    let type: number;
    let payload: Uint8Array = new Uint8Array(0);
    try {
      if (request.length < HDR_SIZE) throw new GpuError(Resp.ErrUnspec);
      const answer = this.command(req.getUint32(0, true), req, chain);
      type = answer.type;
      payload = answer.payload ?? payload;
    } catch (e) {
      if (!(e instanceof GpuError)) throw e;
      type = e.type;
    }
    const response = new Uint8Array(HDR_SIZE + payload.length);
    const resp = new DataView(response.buffer);
    resp.setUint32(0, type, true);
    if (request.length >= HDR_SIZE && req.getUint32(4, true) & FLAG_FENCE) {
      // Commands complete before the used buffer is returned, so every fence is already signalled.
      resp.setUint32(4, FLAG_FENCE, true);
      resp.setUint32(8, req.getUint32(8, true), true);
      resp.setUint32(12, req.getUint32(12, true), true);
      resp.setUint32(16, req.getUint32(16, true), true);
    }
    response.set(payload, HDR_SIZE);
    const length = Math.min(response.length, chain.writableLength);
    chain.write(0, response.subarray(0, length));
    return length;
  }

  private command(type: number, req: DataView, chain: Chain): { type: number; payload?: Uint8Array } {
    const need = (bytes: number) => {
      if (req.byteLength < HDR_SIZE + bytes) throw new GpuError(Resp.ErrUnspec);
    };
    const u32 = (at: number) => req.getUint32(HDR_SIZE + at, true);
    const rect = (at: number): Rect => ({ x: u32(at), y: u32(at + 4), width: u32(at + 8), height: u32(at + 12) });
    switch (type) {
      case Cmd.GetDisplayInfo:
        return { type: Resp.OkDisplayInfo, payload: displayInfo() };
      case Cmd.ResourceCreate2d:
        need(16);
        this.create(u32(0), u32(4), u32(8), u32(12));
        break;
      case Cmd.ResourceUnref:
        need(4);
        this.unref(u32(0));
        break;
      case Cmd.SetScanout:
        need(24);
        this.setScanout(rect(0), u32(16), u32(20));
        break;
      case Cmd.ResourceFlush:
        need(24);
        if (!inside(rect(0), this.resource(u32(16)))) throw new GpuError(Resp.ErrInvalidParameter);
        break;
      case Cmd.TransferToHost2d:
        need(32);
        this.transfer(rect(0), u32(16) + u32(20) * 0x1_0000_0000, u32(24));
        break;
      case Cmd.ResourceAttachBacking:
        need(8);
        this.attachBacking(u32(0), u32(4), chain);
        break;
      case Cmd.ResourceDetachBacking:
        need(4);
        this.backed(u32(0)).backing = null;
        break;
      default:
        throw new GpuError(Resp.ErrUnspec);
    }
    return { type: Resp.OkNoData };
  }

  private resource(id: number): Resource {
    const res = this.resources.get(id);
    if (!res) throw new GpuError(Resp.ErrInvalidResourceId);
    return res;
  }

  /** A resource that has a backing: commands that need one answer ERR_UNSPEC without (as QEMU's). */
  private backed(id: number): Resource {
    const res = this.resource(id);
    if (!res.backing) throw new GpuError(Resp.ErrUnspec);
    return res;
  }

  private create(id: number, format: number, width: number, height: number): void {
    if (id === 0 || this.resources.has(id)) throw new GpuError(Resp.ErrInvalidResourceId);
    if (!FORMATS.has(format) || width === 0 || height === 0) throw new GpuError(Resp.ErrInvalidParameter);
    const bytes = width * height * 4;
    if (bytes > HOST_MEMORY - this.hostMemory() || this.resources.size >= MAX_RESOURCES)
      throw new GpuError(Resp.ErrOutOfMemory);
    this.resources.set(id, { id, format, width, height, pixels: new Uint8Array(bytes), backing: null });
  }

  private hostMemory(): number {
    let n = 0;
    for (const r of this.resources.values()) n += r.pixels.length;
    return n;
  }

  /** Destroys a resource; a scanout that showed it goes dark (as on QEMU). */
  private unref(id: number): void {
    this.resource(id);
    this.resources.delete(id);
    if (this.scanout?.resource === id) this.scanout = null;
  }

  /** Shows a rectangle of a resource; resource 0 turns the scanout off. */
  private setScanout(r: Rect, scanoutId: number, id: number): void {
    if (scanoutId !== 0) throw new GpuError(Resp.ErrInvalidScanoutId);
    if (id === 0) {
      this.scanout = null;
      return;
    }
    const res = this.backed(id);
    if (!inside(r, res) || r.width < MIN_SCANOUT || r.height < MIN_SCANOUT)
      throw new GpuError(Resp.ErrInvalidParameter);
    this.scanout = { ...r, resource: id };
    this.#damage = EVERYTHING;
  }

  /**
   * Copies a rectangle from the backing into the resource. Row h of the
   * rectangle comes from backing offset `offset + h × stride`, where the
   * stride is the resource's row (width × 4), as drivers lay it out.
   */
  private transfer(r: Rect, offset: number, id: number): void {
    const res = this.backed(id);
    if (!inside(r, res)) throw new GpuError(Resp.ErrInvalidParameter);
    const stride = res.width * 4;
    for (let h = 0; h < r.height; h++) {
      const at = (r.y + h) * stride + r.x * 4;
      readBacking(this.dma, res.backing!, offset + h * stride, res.pixels.subarray(at, at + r.width * 4));
    }
    const s = this.scanout;
    if (s?.resource !== id) return;
    // The part of it on the screen, in screen coordinates.
    const x = Math.max(r.x, s.x);
    const y = Math.max(r.y, s.y);
    const width = Math.min(r.x + r.width, s.x + s.width) - x;
    const height = Math.min(r.y + r.height, s.y + s.height) - y;
    if (width > 0 && height > 0) this.damage({ x: x - s.x, y: y - s.y, width, height });
  }

  /** The mem entries {addr: u64, length, padding} follow the request's 32 bytes. */
  private attachBacking(id: number, count: number, chain: Chain): void {
    const res = this.resource(id);
    if (res.backing || count === 0 || count > MAX_BACKING_ENTRIES) throw new GpuError(Resp.ErrUnspec);
    const start = HDR_SIZE + 8;
    if (chain.readableLength < start + count * 16) throw new GpuError(Resp.ErrUnspec);
    const entries = new Uint8Array(count * 16);
    chain.read(start, entries);
    const view = new DataView(entries.buffer);
    const backing: number[] = [];
    const probe = new Uint8Array(1);
    for (let i = 0; i < count; i++) {
      const addr = view.getUint32(16 * i, true);
      const length = view.getUint32(16 * i + 8, true);
      // Each entry must lie in RAM, which is one range: both ends in it will do. Above 4 GiB is outside rv32's space.
      const inRam = length === 0 || (this.dma.readBytes(addr, probe) && this.dma.readBytes(addr + length - 1, probe));
      if (view.getUint32(16 * i + 4, true) !== 0 || !inRam) throw new GpuError(Resp.ErrUnspec);
      backing.push(addr, length);
    }
    res.backing = backing;
  }

  /**
   * Reads the pixels a restored state left out from the backings, which
   * must hold the restored RAM: the machine calls this once RAM is restored,
   * before the guest runs (and any use of the pixels calls it first).
   */
  afterRestore(): void {
    if (this.unread.size === 0) return;
    for (const [id, difference] of this.unread) {
      const res = this.resources.get(id)!;
      readBacking(this.dma, res.backing!, 0, res.pixels);
      for (let i = 0; i < difference.length; i += 2)
        res.pixels.set(difference[i + 1] as Uint8Array, difference[i] as number);
    }
    this.unread.clear();
  }

  reset(): void {
    this.#damage = EVERYTHING;
    this.unread.clear();
    this.resources.clear();
    this.scanout = null;
    this.eventsRead = 0;
  }

  /**
   * Resources in id order. `pixels` is null when the backing holds them,
   * but for the byte runs in `differs` (see the class comment).
   */
  saveState(): DeviceState {
    this.afterRestore();
    const resources = [...this.resources.values()]
      .sort((a, b) => a.id - b.id)
      .map((r) => {
        const differs = this.againstBacking(r);
        return {
          ...r,
          pixels: differs ? null : r.pixels.slice(),
          differs: differs ?? [],
          backing: r.backing && [...r.backing],
        };
      });
    return {
      version: STATE_VERSION,
      resources,
      scanout: this.scanout && { ...this.scanout },
      eventsRead: this.eventsRead,
    };
  }

  loadState(state: DeviceState): void {
    this.#damage = EVERYTHING;
    const r = new StateReader('virtio-gpu', state, STATE_VERSION);
    const list = state.resources;
    if (!Array.isArray(list) || list.length > MAX_RESOURCES) r.fail('resources is not a list');
    const resources = new Map<number, Resource>();
    const unread = new Map<number, Difference>();
    let total = 0;
    for (const rec of list as Record<string, unknown>[]) {
      if (typeof rec !== 'object' || rec === null) r.fail('a resource is not a record');
      const rr = new StateReader('virtio-gpu', rec);
      const res: Resource = {
        id: rr.number('id'),
        format: rr.number('format'),
        width: rr.number('width'),
        height: rr.number('height'),
        pixels: rec.pixels as Uint8Array,
        backing: rec.backing === null ? null : rr.numbers('backing', undefined, 2 * MAX_BACKING_ENTRIES),
      };
      const size = res.width * res.height * 4;
      if (!FORMATS.has(res.format)) r.fail(`resource ${res.id} has an unknown format`);
      if (!Number.isSafeInteger(size) || size <= 0 || total + size > HOST_MEMORY)
        r.fail('resources exceed the host memory');
      if (rec.pixels === null) {
        if (!res.backing || backingLength(res.backing) < size) r.fail(`resource ${res.id} has no pixels`);
        const differs = rec.differs;
        const runs = Array.isArray(differs) && differs.length <= 2 * MAX_RUNS && differs.length % 2 === 0;
        const valid =
          runs &&
          differs.every((v, i) =>
            i % 2 === 0
              ? Number.isSafeInteger(v) && (v as number) >= 0
              : v instanceof Uint8Array && (differs[i - 1] as number) + v.length <= size,
          );
        if (!valid) r.fail(`resource ${res.id} has a malformed difference from its backing`);
        unread.set(res.id, differs as Difference);
        res.pixels = new Uint8Array(size);
      } else if (!(res.pixels instanceof Uint8Array) || res.pixels.length !== size) {
        r.fail(`resource ${res.id} has the wrong number of pixels`);
      } else {
        // A copy as a plain Uint8Array (msgpack may hand out a Buffer over its own bytes).
        res.pixels = new Uint8Array(res.pixels);
      }
      total += size;
      resources.set(res.id, res);
    }
    let scanout: Scanout | null = null;
    if (state.scanout !== null) {
      const sr = new StateReader('virtio-gpu', state.scanout as Record<string, unknown>);
      scanout = {
        x: sr.number('x'),
        y: sr.number('y'),
        width: sr.number('width'),
        height: sr.number('height'),
        resource: sr.number('resource'),
      };
      const res = resources.get(scanout.resource);
      if (!res || !inside(scanout, res)) r.fail('the scanout shows no resource');
    }
    this.resources = resources;
    this.scanout = scanout;
    this.eventsRead = r.number('eventsRead');
    this.unread = unread;
  }

  /**
   * How the pixels differ from the bytes at the start of the backing (what
   * a whole-frame transfer copies): the runs of bytes that differ, empty
   * when none does; null when there is no such backing, or when the runs
   * would hold more than half of the pixels (then they are saved whole).
   */
  private againstBacking(res: Resource): Difference | null {
    const size = res.pixels.length;
    if (!res.backing || backingLength(res.backing) < size) return null;
    if (scratch.length < size) scratch = new Uint8Array(size);
    const held = scratch.subarray(0, size);
    readBacking(this.dma, res.backing, 0, held);
    // Compared a word at a time: both start at offset 0 of their buffers, and sizes are multiples of 4.
    const a = new Int32Array(held.buffer, 0, size >> 2);
    const b = new Int32Array(res.pixels.buffer, res.pixels.byteOffset, size >> 2);
    // Where the runs are first (cheap), then their bytes, only when they are few enough.
    const runs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) continue;
      // A run goes on over equal words while the next difference is near: fewer, longer runs.
      let end = i + 1;
      for (let j = end; j < a.length && j < end + RUN_GAP; j++) if (a[j] !== b[j]) end = j + 1;
      bytes += 4 * (end - i);
      if (bytes > size / 2 || runs.length >= 2 * MAX_RUNS) return null;
      runs.push(4 * i, 4 * end);
      i = end;
    }
    const out: Difference = [];
    for (let k = 0; k < runs.length; k += 2) out.push(runs[k]!, res.pixels.slice(runs[k], runs[k + 1]));
    return out;
  }
}

/** Bytes a backing holds: the sum of its entries' lengths. */
function backingLength(backing: number[]): number {
  let n = 0;
  for (let i = 1; i < backing.length; i += 2) n += backing[i]!;
  return n;
}

/** Whether a rectangle lies inside a resource (sums in doubles: no 32-bit wrap-around). */
function inside(r: Rect, res: Resource): boolean {
  return r.x + r.width <= res.width && r.y + r.height <= res.height;
}

/** GET_DISPLAY_INFO's payload: scanout 0 enabled at 1280×800, the others off. */
function displayInfo(): Uint8Array {
  const out = new Uint8Array(DISPLAY_INFO_SIZE - HDR_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(8, SCREEN_WIDTH, true);
  view.setUint32(12, SCREEN_HEIGHT, true);
  view.setUint32(16, 1, true);
  return out;
}

/**
 * Fills `dest` from the backing's byte stream at `offset`. Bytes beyond the
 * end of the backing are left as they were (QEMU copies what there is and
 * answers OK). The entries were checked to lie in RAM when attached.
 */
function readBacking(dma: Dma, backing: number[], offset: number, dest: Uint8Array): void {
  let skip = offset;
  let done = 0;
  for (let i = 0; i < backing.length && done < dest.length; i += 2) {
    const addr = backing[i]!;
    const len = backing[i + 1]!;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const n = Math.min(len - skip, dest.length - done);
    dma.readBytes(addr + skip, dest.subarray(done, done + n));
    done += n;
    skip = 0;
  }
}
