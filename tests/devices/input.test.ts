/** core/virtio/input.ts: the configuration space Linux reads, events through the event queue, and saved state. */
import { describe, expect, it } from 'vitest';
import type { Device } from '../../core/device.js';
import {
  ABS_X,
  BTN_LEFT,
  EV_ABS,
  EV_KEY,
  EV_SYN,
  KEYBOARD,
  TABLET,
  VirtioInput,
  decodeEvents,
  encodeEvents,
} from '../../core/virtio/input.js';
import { VirtioMmio } from '../../core/virtio/mmio.js';
import { expectStateRoundTrip } from './roundtrip.js';
import { DATA, fakeRam, TestDriver } from './virtio-driver.js';

function setup(profile = KEYBOARD) {
  const { ram, dma } = fakeRam();
  const input = new VirtioInput(profile);
  const irq: boolean[] = [];
  const mmio = new VirtioMmio(input, dma, (l) => irq.push(l));
  const drv = new TestDriver(mmio, ram);
  /** Selects a config item and reads it: [size, bytes]. */
  const cfg = (select: number, subsel: number): number[] => {
    mmio.write(0x100, select, 1);
    mmio.write(0x101, subsel, 1);
    const size = mmio.read(0x102, 1);
    return Array.from({ length: size }, (_, i) => mmio.read(0x108 + i, 1));
  };
  /** Gives the driver's event buffers, one descriptor each, 8 bytes apart at DATA. */
  const give = (count: number, first = 0) => {
    for (let i = first; i < first + count; i++)
      drv.submit(new Map([[i, { addr: DATA + 8 * i, len: 8, write: true }]]), i);
  };
  const received = (i: number) => decodeEvents([...drv.bytes(DATA + 8 * i, 8)])![0];
  return { input, mmio, drv, cfg, give, received, irq };
}

const text = (bytes: number[]) => String.fromCharCode(...bytes);

describe('VirtioInput', () => {
  it('is device 18, VERSION_1 only', () => {
    const { drv } = setup();
    expect([drv.r(8), drv.features(0), drv.features(1)]).toEqual([18, 0, 1]);
  });

  it('names itself, its serial and its ids', () => {
    const { cfg } = setup();
    expect(text(cfg(1, 0))).toBe('Rewind Virtio Keyboard');
    expect(text(cfg(2, 0))).toBe('rewind-keyboard');
    expect(cfg(3, 0)).toEqual([6, 0, 0x27, 0x06, 1, 0, 1, 0]);
    expect(cfg(0x10, 0)).toEqual([]);
    expect(cfg(0, 0)).toEqual([]);
  });

  it('has key bits for every key from ESC, and LED and repeat bits; no absolute axes', () => {
    const { cfg } = setup();
    const keys = cfg(0x11, EV_KEY);
    expect(keys.length).toBe(32);
    expect(keys[0]).toBe(0xfe);
    expect(keys[31]).toBe(0x01);
    expect(cfg(0x11, 0x11)).toEqual([7]);
    expect(cfg(0x11, 0x14)).toEqual([3]);
    expect(cfg(0x11, EV_ABS)).toEqual([]);
  });

  it('a tablet has three buttons and two absolute axes from 0 to 0x7fff', () => {
    const { cfg } = setup(TABLET);
    expect(text(cfg(1, 0))).toBe('Rewind Virtio Tablet');
    expect(cfg(3, 0)[4]).toBe(3);
    const buttons = cfg(0x11, EV_KEY);
    expect(buttons.length).toBe(Math.floor(0x112 / 8) + 1);
    expect(buttons[0x110 / 8]).toBe(7);
    expect(cfg(0x11, EV_ABS)).toEqual([3]);
    expect(cfg(0x12, ABS_X)).toEqual([0, 0, 0, 0, 0xff, 0x7f, 0, 0, ...new Array(12).fill(0)]);
    expect(cfg(0x12, 2)).toEqual([]);
  });

  it('holds events until the driver gives buffers, then writes one per buffer and interrupts', () => {
    const { input, drv, give, received, irq } = setup(TABLET);
    drv.init();
    const batch = [
      { type: EV_ABS, code: ABS_X, value: 0x4000 },
      { type: EV_KEY, code: BTN_LEFT, value: 1 },
      { type: EV_SYN, code: 0, value: 0 },
    ];
    input.send(batch);
    expect(input.waiting).toBe(3);
    give(2);
    expect(drv.takeUsed()).toEqual([
      { id: 0, len: 8 },
      { id: 1, len: 8 },
    ]);
    expect([received(0), received(1)]).toEqual(batch.slice(0, 2));
    expect(irq[irq.length - 1]).toBe(true);
    // A buffer given with nothing to say is held, not returned.
    give(2, 2);
    expect(drv.takeUsed()).toEqual([{ id: 2, len: 8 }]);
    expect(received(2)).toEqual(batch[2]);
    input.send([{ type: EV_SYN, code: 0, value: 0 }]);
    expect(drv.takeUsed()).toEqual([{ id: 3, len: 8 }]);
    expect(input.waiting).toBe(0);
  });

  it('encodes events as the bytes of virtio_input_event structs, and refuses partial ones', () => {
    const events = [{ type: EV_KEY, code: 30, value: 1 }];
    expect(encodeEvents(events)).toEqual([1, 0, 30, 0, 1, 0, 0, 0]);
    expect(decodeEvents(encodeEvents(events))).toEqual(events);
    expect(decodeEvents([1, 2, 3])).toBeNull();
    expect(decodeEvents([])).toBeNull();
  });

  it('saves and restores the selection and the waiting events', () => {
    const a = new VirtioInput(KEYBOARD);
    a.configWrite(0, 0x11, 1);
    a.configWrite(1, EV_KEY, 1);
    a.send([{ type: EV_KEY, code: 30, value: 1 }]);
    const b = new VirtioInput(KEYBOARD);
    expectStateRoundTrip(a as unknown as Device, b as unknown as Device, [
      'deviceId',
      'features',
      'queueCount',
      'queueSizeMax',
      'profile',
      'transport',
    ]);
  });

  it('a guest-visible reset keeps the events for the next driver', () => {
    const { input, drv, give } = setup();
    input.send([{ type: EV_KEY, code: 30, value: 1 }]);
    drv.w(0x70, 0);
    drv.init();
    give(1);
    expect(drv.takeUsed()).toEqual([{ id: 0, len: 8 }]);
  });
});
