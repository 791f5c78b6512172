/** core/virtio/gpu.ts: the 2D control queue, the screen, errors as responses, and saved state. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Device } from '../../core/device.js';
import { HOST_MEMORY, VirtioGpu } from '../../core/virtio/gpu.js';
import { VirtioMmio } from '../../core/virtio/mmio.js';
import { expectStateRoundTrip } from './roundtrip.js';
import { DATA, fakeRam, RAM_BASE, TestDriver } from './virtio-driver.js';

const REQ = DATA;
const RESP = DATA + 0x800;
/** Where the tests put resource backings (the fake RAM ends at RAM_BASE + 0x10000). */
const BACKING = RAM_BASE + 0x8000;

const OK = 0x1100;
const OK_DISPLAY_INFO = 0x1101;
const ERR_UNSPEC = 0x1200;
const ERR_OUT_OF_MEMORY = 0x1201;
const ERR_INVALID_SCANOUT_ID = 0x1202;
const ERR_INVALID_RESOURCE_ID = 0x1203;
const ERR_INVALID_PARAMETER = 0x1205;
const B8G8R8X8 = 2;
const R8G8B8A8 = 67;

function setup() {
  const { ram, dma } = fakeRam();
  const gpu = new VirtioGpu(dma);
  const mmio = new VirtioMmio(gpu, dma, () => {});
  const drv = new TestDriver(mmio, ram);
  drv.init();
  /** Sends a command (a header of type `type`, then u32 words) and returns the response type and the used length. */
  const send = (type: number, words: number[] = [], respLen = 24, flags = 0, fence = 0) => {
    const at = REQ - RAM_BASE;
    drv.view.setUint32(at, type, true);
    drv.view.setUint32(at + 4, flags, true);
    drv.view.setUint32(at + 8, fence, true);
    drv.view.setUint32(at + 12, 0, true);
    drv.view.setUint32(at + 16, 0, true);
    drv.view.setUint32(at + 20, 0, true);
    words.forEach((w, i) => drv.view.setUint32(at + 24 + 4 * i, w >>> 0, true));
    drv.ram.bytes.fill(0xee, RESP - RAM_BASE, RESP - RAM_BASE + respLen);
    drv.submit([
      { addr: REQ, len: 24 + 4 * words.length, next: 1 },
      { addr: RESP, len: respLen, write: true },
    ]);
    const used = drv.takeUsed();
    expect(used.length).toBe(1);
    return { type: drv.view.getUint32(RESP - RAM_BASE, true), len: used[0]!.len };
  };
  const create = (id: number, width: number, height: number, format = B8G8R8X8) =>
    send(0x0101, [id, format, width, height]).type;
  const attach = (id: number, entries: [number, number][]) =>
    send(0x0106, [id, entries.length, ...entries.flatMap(([addr, len]) => [addr, 0, len, 0])]).type;
  const transfer = (id: number, x: number, y: number, w: number, h: number, offset: number) =>
    send(0x0105, [x, y, w, h, offset, 0, id, 0]).type;
  const scanout = (id: number, x: number, y: number, w: number, h: number, scanoutId = 0) =>
    send(0x0103, [x, y, w, h, scanoutId, id]).type;
  return { gpu, mmio, drv, dma, send, create, attach, transfer, scanout };
}

/** A 16×16 picture in guest RAM at BACKING: pixel (x, y) has bytes [x, y, x ^ y, 0xff]. */
function paint(drv: TestDriver): void {
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 16; x++) drv.ram.bytes.set([x, y, x ^ y, 0xff], BACKING - RAM_BASE + (y * 16 + x) * 4);
}

describe('VirtioGpu', () => {
  it('is device 16 with VERSION_1 only, one scanout and no capsets', () => {
    const { drv, mmio } = setup();
    expect([drv.r(8), drv.features(0), drv.features(1)]).toEqual([16, 0, 1]);
    expect([mmio.read(0x100, 4), mmio.read(0x108, 4), mmio.read(0x10c, 4)]).toEqual([0, 1, 0]);
  });

  it('reports one 1280×800 display, enabled', () => {
    const { send, drv } = setup();
    expect(send(0x0100, [], 408)).toEqual({ type: OK_DISPLAY_INFO, len: 408 });
    const at = RESP - RAM_BASE + 24;
    expect([0, 4, 8, 12, 16].map((o) => drv.view.getUint32(at + o, true))).toEqual([0, 0, 1280, 800, 1]);
    expect(drv.view.getUint32(at + 24 + 16, true)).toBe(0);
  });

  it('shows nothing until a scanout is set', () => {
    const { gpu, create } = setup();
    expect(create(1, 16, 16)).toBe(OK);
    expect(gpu.screen()).toBeNull();
  });

  it('copies the backing into the resource and shows the scanout rectangle as RGB', () => {
    const { gpu, drv, create, attach, transfer, scanout, send } = setup();
    paint(drv);
    expect(create(1, 16, 16)).toBe(OK);
    // Two entries, split in the middle of a row.
    expect(
      attach(1, [
        [BACKING, 600],
        [BACKING + 600, 1024 - 600],
      ]),
    ).toBe(OK);
    expect(transfer(1, 0, 0, 16, 16, 0)).toBe(OK);
    expect(scanout(1, 0, 0, 16, 16)).toBe(OK);
    expect(send(0x0104, [0, 0, 16, 16, 1, 0]).type).toBe(OK);
    const screen = gpu.screen()!;
    expect([screen.width, screen.height]).toEqual([16, 16]);
    // B8G8R8X8: bytes are blue, green, red.
    expect([...screen.rgb.subarray(0, 3)]).toEqual([0, 0, 0]);
    const p = (x: number, y: number) => [...screen.rgb.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)];
    expect(p(5, 3)).toEqual([5 ^ 3, 3, 5]);
    expect(p(15, 15)).toEqual([0, 15, 15]);
  });

  it('leaves what lies beyond the end of the backing as it was', () => {
    const { gpu, drv, create, attach, transfer, scanout } = setup();
    paint(drv);
    create(1, 16, 16);
    expect(attach(1, [[BACKING, 16 * 4 * 8]])).toBe(OK);
    expect(transfer(1, 0, 0, 16, 16, 0)).toBe(OK);
    scanout(1, 0, 0, 16, 16);
    const rgb = gpu.screen()!.rgb;
    expect([...rgb.subarray((7 * 16 + 1) * 3, (7 * 16 + 1) * 3 + 3)]).toEqual([1 ^ 7, 7, 1]);
    expect([...rgb.subarray((8 * 16 + 1) * 3, (8 * 16 + 1) * 3 + 3)]).toEqual([0, 0, 0]);
  });

  it('transfers a sub-rectangle from offset + row × stride, and reads R8G8B8A8', () => {
    const { gpu, drv, create, attach, transfer, scanout } = setup();
    paint(drv);
    expect(create(2, 16, 16, R8G8B8A8)).toBe(OK);
    expect(attach(2, [[BACKING, 1024]])).toBe(OK);
    // Only x 4..7, y 2..3: the rest stays black.
    expect(transfer(2, 4, 2, 4, 2, (2 * 16 + 4) * 4)).toBe(OK);
    expect(scanout(2, 0, 0, 16, 16)).toBe(OK);
    const screen = gpu.screen()!;
    const p = (x: number, y: number) => [...screen.rgb.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)];
    expect(p(4, 2)).toEqual([4, 2, 6]);
    expect(p(7, 3)).toEqual([7, 3, 4]);
    expect(p(8, 3)).toEqual([0, 0, 0]);
    expect(p(4, 4)).toEqual([0, 0, 0]);
  });

  it('shows only the scanout rectangle of a larger resource', () => {
    const { gpu, drv, create, attach, transfer, scanout } = setup();
    paint(drv);
    expect(create(1, 16, 32)).toBe(OK);
    expect(attach(1, [[BACKING, 16 * 32 * 4]])).toBe(OK);
    expect(transfer(1, 0, 0, 16, 16, 0)).toBe(OK);
    expect(scanout(1, 0, 0, 16, 16)).toBe(OK);
    expect(gpu.screen()!.height).toBe(16);
    expect(scanout(1, 0, 20, 16, 16)).toBe(ERR_INVALID_PARAMETER);
  });

  it('draws the screen as RGBA for a canvas, the same pixels as its RGB, in every format', () => {
    for (const format of [1, 2, 3, 4, 67, 68, 121, 134]) {
      const { gpu, drv, create, attach, transfer, scanout } = setup();
      paint(drv);
      expect(create(1, 20, 32, format)).toBe(OK);
      expect(attach(1, [[BACKING, 20 * 32 * 4]])).toBe(OK);
      expect(transfer(1, 0, 0, 20, 20, 0)).toBe(OK);
      // A rectangle that starts inside the resource: rows and columns are offset.
      expect(scanout(1, 3, 2, 16, 17)).toBe(OK);
      const { rgb, width, height } = gpu.screen()!;
      expect(gpu.screenSize()).toEqual({ width, height });
      const canvas = new Uint8ClampedArray(width * height * 4);
      expect(gpu.drawRgba(canvas, { x: 0, y: 0, width, height })).toBe(true);
      const expected = new Uint8ClampedArray(width * height * 4);
      for (let i = 0; i < width * height; i++)
        expected.set([rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!, 255], 4 * i);
      expect(canvas).toEqual(expected);
      expect(rgb.some((v) => v !== 0)).toBe(true);
      // A part: only its pixels are drawn.
      const part = new Uint8ClampedArray(width * height * 4);
      gpu.drawRgba(part, { x: 2, y: 5, width: 3, height: 4 });
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const i = 4 * (y * width + x);
          const inside = x >= 2 && x < 5 && y >= 5 && y < 9;
          expect([...part.subarray(i, i + 4)]).toEqual(inside ? [...expected.subarray(i, i + 4)] : [0, 0, 0, 0]);
        }
    }
  });

  it('tells what part of the screen transfers changed since the last look', () => {
    const { gpu, drv, create, attach, transfer, scanout, send } = setup();
    paint(drv);
    create(1, 20, 32);
    attach(1, [[BACKING, 20 * 32 * 4]]);
    scanout(1, 3, 2, 16, 17);
    expect(gpu.takeDamage()).toEqual({ x: 0, y: 0, width: 16, height: 17 });
    expect(gpu.takeDamage()).toBeNull();
    // In resource coordinates, partly off the screen: clipped, and moved to the screen's.
    transfer(1, 1, 4, 4, 3, 0);
    transfer(1, 10, 10, 2, 2, 0);
    expect(gpu.takeDamage()).toEqual({ x: 0, y: 2, width: 9, height: 8 });
    transfer(1, 0, 25, 20, 5, 0);
    expect(gpu.takeDamage()).toBeNull();
    send(0x0103, [0, 0, 0, 0, 0, 0]);
    expect(gpu.takeDamage()).toBeNull();
    expect(gpu.screenSize()).toBeNull();
  });

  it('answers bad commands with error responses, never an exception', () => {
    const { create, attach, transfer, scanout, send } = setup();
    expect(create(0, 16, 16)).toBe(ERR_INVALID_RESOURCE_ID);
    expect(create(1, 16, 16, 99)).toBe(ERR_INVALID_PARAMETER);
    expect(create(1, 0, 16)).toBe(ERR_INVALID_PARAMETER);
    expect(create(1, 0xffffffff, 0xffffffff)).toBe(ERR_OUT_OF_MEMORY);
    expect(create(1, 16, 16)).toBe(OK);
    expect(create(1, 16, 16)).toBe(ERR_INVALID_RESOURCE_ID);
    // Without a backing, what needs one is refused.
    expect(transfer(1, 0, 0, 16, 16, 0)).toBe(ERR_UNSPEC);
    expect(scanout(1, 0, 0, 16, 16)).toBe(ERR_UNSPEC);
    expect(send(0x0107, [1, 0]).type).toBe(ERR_UNSPEC);
    expect(attach(9, [[BACKING, 1024]])).toBe(ERR_INVALID_RESOURCE_ID);
    // A backing outside RAM, or running off its end, is refused when attached.
    expect(attach(1, [[0x1000, 1024]])).toBe(ERR_UNSPEC);
    expect(attach(1, [[RAM_BASE + 0xff00, 0x200]])).toBe(ERR_UNSPEC);
    expect(attach(1, [[BACKING, 512]])).toBe(OK);
    expect(attach(1, [[BACKING, 1024]])).toBe(ERR_UNSPEC);
    expect(transfer(1, 8, 0, 16, 16, 0)).toBe(ERR_INVALID_PARAMETER);
    expect(transfer(1, 0xffffffff, 0, 2, 1, 0)).toBe(ERR_INVALID_PARAMETER);
    expect(send(0x0104, [0, 0, 17, 1, 1, 0]).type).toBe(ERR_INVALID_PARAMETER);
    expect(scanout(1, 0, 0, 16, 16, 1)).toBe(ERR_INVALID_SCANOUT_ID);
    expect(scanout(7, 0, 0, 16, 16)).toBe(ERR_INVALID_RESOURCE_ID);
    expect(scanout(1, 0, 0, 8, 8)).toBe(ERR_INVALID_PARAMETER);
    expect(send(0x0104, [0, 0, 1, 1, 5, 0]).type).toBe(ERR_INVALID_RESOURCE_ID);
    expect(send(0x0102, [5, 0]).type).toBe(ERR_INVALID_RESOURCE_ID);
    expect(send(0x0999).type).toBe(ERR_UNSPEC);
    // Too short for its command.
    expect(send(0x0101, [1]).type).toBe(ERR_UNSPEC);
    // Too many backing entries for the request's length.
    expect(send(0x0106, [1, 1000]).type).toBe(ERR_UNSPEC);
  });

  it('bounds host memory: resources past HOST_MEMORY get OUT_OF_MEMORY, and unref frees them', () => {
    const { create, send } = setup();
    const side = Math.floor(Math.sqrt(HOST_MEMORY / 4 / 2));
    expect(create(1, side, side)).toBe(OK);
    expect(create(2, side, side)).toBe(OK);
    expect(create(3, side, side)).toBe(ERR_OUT_OF_MEMORY);
    expect(send(0x0102, [1, 0]).type).toBe(OK);
    expect(create(3, side, side)).toBe(OK);
  });

  it('turns the screen off when its resource is unreferenced or the scanout is set to 0', () => {
    const { gpu, create, attach, scanout, send } = setup();
    create(1, 16, 16);
    attach(1, [[BACKING, 1024]]);
    scanout(1, 0, 0, 16, 16);
    expect(gpu.screen()).not.toBeNull();
    expect(scanout(0, 0, 0, 0, 0)).toBe(OK);
    expect(gpu.screen()).toBeNull();
    scanout(1, 0, 0, 16, 16);
    send(0x0102, [1, 0]);
    expect(gpu.screen()).toBeNull();
  });

  it('echoes a fence, and cuts a response to the buffer the driver gave', () => {
    const { send, drv } = setup();
    expect(send(0x0100, [], 408, 1, 0x1234)).toEqual({ type: OK_DISPLAY_INFO, len: 408 });
    expect([drv.view.getUint32(RESP - RAM_BASE + 4, true), drv.view.getUint32(RESP - RAM_BASE + 8, true)]).toEqual([
      1, 0x1234,
    ]);
    expect(send(0x0100, [], 40)).toEqual({ type: OK_DISPLAY_INFO, len: 40 });
  });

  it('forgets every resource on a device reset', () => {
    const { gpu, drv, create, attach, scanout } = setup();
    create(1, 16, 16);
    attach(1, [[BACKING, 1024]]);
    scanout(1, 0, 0, 16, 16);
    drv.w(0x70, 0);
    expect(gpu.screen()).toBeNull();
    expect(gpu.saveState().resources).toEqual([]);
  });

  it('saves and restores everything, with the bytes where the backing no longer holds the pixels', () => {
    const a = setup();
    paint(a.drv);
    a.create(1, 16, 16);
    a.attach(1, [[BACKING, 1024]]);
    a.transfer(1, 0, 0, 16, 16, 0);
    a.scanout(1, 0, 0, 16, 16);
    // Drawn into RAM after the transfer: one pixel of the screen is not what the backing holds.
    a.drv.ram.bytes[BACKING - RAM_BASE + 5] ^= 0xff;
    const saved = (a.gpu.saveState().resources as { pixels: unknown; differs: unknown[] }[])[0]!;
    expect(saved.pixels).toBeNull();
    expect(saved.differs).toEqual([4, Uint8Array.of(1, 0, 1, 0xff)]);
    a.mmio.write(0x104, 0, 4);
    (a.gpu as unknown as { eventsRead: number }).eventsRead = 1;
    const b = new VirtioGpu(a.dma);
    expectStateRoundTrip(a.gpu as unknown as Device, b as unknown as Device, [
      'deviceId',
      'features',
      'queueCount',
      'queueSizeMax',
      'dma',
      // Empty again once a restore has read the pixels back.
      'unread',
    ]);
    expect(b.screen()).toEqual(a.gpu.screen());
  });

  it('saves a resource that its backing holds without its pixels, and reads them back after a restore', () => {
    const a = setup();
    paint(a.drv);
    a.create(1, 16, 16);
    a.create(2, 16, 16);
    a.attach(1, [[BACKING, 1024]]);
    a.transfer(1, 0, 0, 16, 16, 0);
    a.scanout(1, 0, 0, 16, 16);
    const state = a.gpu.saveState();
    expect((state.resources as { pixels: unknown }[]).map((r) => r.pixels === null)).toEqual([true, false]);
    // A restore: the device's state, then RAM as it was (restored after the state, as a checkpoint may be).
    const b = new VirtioGpu(a.dma);
    const saved = a.drv.ram.bytes.slice();
    a.drv.ram.bytes.fill(0);
    b.loadState(state);
    a.drv.ram.bytes.set(saved);
    b.afterRestore();
    expect(b.screen()).toEqual(a.gpu.screen());
    expect(b.saveState()).toEqual(state);
  });

  it('saves pixels whole when more than half differ from the backing', () => {
    const a = setup();
    paint(a.drv);
    a.create(1, 16, 16);
    a.attach(1, [[BACKING, 1024]]);
    a.transfer(1, 0, 0, 16, 16, 0);
    a.drv.ram.bytes.fill(0, BACKING - RAM_BASE, BACKING - RAM_BASE + 1024);
    const saved = (a.gpu.saveState().resources as { pixels: unknown; differs: unknown[] }[])[0]!;
    expect(saved.pixels).toBeInstanceOf(Uint8Array);
    expect(saved.differs).toEqual([]);
  });

  it('refuses a state that leaves out pixels its backing cannot hold', () => {
    const a = setup();
    a.create(1, 16, 16);
    a.attach(1, [[BACKING, 1024]]);
    const state = a.gpu.saveState();
    (state.resources as { backing: number[] }[])[0]!.backing = [BACKING, 512];
    expect(() => new VirtioGpu(a.dma).loadState(state)).toThrow(/no pixels/);
    const runOff = a.gpu.saveState();
    (runOff.resources as { differs: unknown[] }[])[0]!.differs = [1020, new Uint8Array(8)];
    expect(() => new VirtioGpu(a.dma).loadState(runOff)).toThrow(/malformed difference/);
  });

  it('answers any sequence of requests, however malformed, with a response and never an exception', () => {
    const word = fc.oneof(
      fc.constantFrom(0, 1, 2, 16, 64, 0x7fffffff, 0xffffffff, BACKING, BACKING + 0x800, RAM_BASE + 0xfff0),
      fc.nat(),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    const request = fc.record({
      type: fc.constantFrom(0x0100, 0x0101, 0x0102, 0x0103, 0x0104, 0x0105, 0x0106, 0x0107, 0x0108, 0x0300, 0),
      words: fc.array(word, { maxLength: 12 }),
      respLen: fc.constantFrom(0, 1, 23, 24, 100, 408),
    });
    fc.assert(
      fc.property(fc.array(request, { maxLength: 30 }), (requests) => {
        const t = setup();
        paint(t.drv);
        for (const r of requests) {
          if (r.respLen === 0) {
            // No writable buffer at all: the request is served and its answer cut to nothing.
            t.drv.submit([{ addr: REQ, len: 24 + 4 * r.words.length }]);
            expect(t.drv.takeUsed().map((u) => u.len)).toEqual([0]);
            continue;
          }
          const { type, len } = t.send(r.type, r.words, r.respLen);
          expect(len).toBeLessThanOrEqual(r.respLen);
          if (len >= 4) expect(type >= 0x1100 && type <= 0x1205).toBe(true);
        }
        const screen = t.gpu.screen();
        if (screen) expect(screen.rgb.length).toBe(screen.width * screen.height * 3);
        const state = t.gpu.saveState();
        const copy = new VirtioGpu(t.dma);
        copy.loadState(state);
        copy.afterRestore();
        expect(copy.saveState()).toEqual(state);
      }),
      { numRuns: 300 },
    );
  });
});
