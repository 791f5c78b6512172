/** core/virtio/net.ts: the MAC, transmit and receive through the queues, waiting frames, saved state, malformed requests. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Device } from '../../core/device.js';
import { buildDeviceTree } from '../../core/devicetree.js';
import { parseFdt } from '../../core/fdt.js';
import { rawImage } from '../../core/loader.js';
import { Machine } from '../../core/machine.js';
import { VirtioMmio } from '../../core/virtio/mmio.js';
import { MAX_FRAME, PENDING_MAX, VirtioNet, formatMac, parseMac } from '../../core/virtio/net.js';
import { expectStateRoundTrip } from '../devices/roundtrip.js';
import { RAM_BASE } from '../devices/virtio-driver.js';
import { NetDriver, RX_DATA, frame } from './driver.js';

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x57];

function setup() {
  const sent: Uint8Array[] = [];
  const irq: boolean[] = [];
  let net!: VirtioNet;
  const drv = NetDriver.over((dma) => {
    net = new VirtioNet(MAC, (f) => sent.push(f));
    return new VirtioMmio(net, dma, (l) => irq.push(l));
  });
  return { net, drv, sent, irq };
}

describe('VirtioNet', () => {
  it('is device 1 offering MAC and VERSION_1, with the MAC in its configuration space', () => {
    const { drv } = setup();
    drv.w(0x14, 0);
    const lo = drv.r(0x10);
    drv.w(0x14, 1);
    expect([drv.r(8), lo, drv.r(0x10)]).toEqual([1, 0x20, 1]);
    expect(Array.from({ length: 6 }, (_, i) => drv.mmio.read(0x100 + i, 1))).toEqual(MAC);
    expect(drv.mmio.read(0x100, 4)).toBe(0x12005452);
    expect(drv.mmio.read(0x106, 2)).toBe(0);
    expect(drv.init() & 8).toBe(8);
  });

  it('parses and prints MACs', () => {
    expect(parseMac('52:54:00:12:34:5A')).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x5a]);
    expect(parseMac('52:54:00:12:34')).toBeNull();
    expect(formatMac(MAC)).toBe('52:54:00:12:34:57');
  });

  it('hands each transmitted frame, without its header, to the host', () => {
    const { drv, sent, irq } = setup();
    drv.init();
    const f = frame(60, 7);
    drv.transmit(f);
    expect(sent).toEqual([f]);
    expect(drv.takeUsed(1)).toEqual([{ id: 0, len: 0 }]);
    expect(irq[irq.length - 1]).toBe(true);
  });

  it('drops frames too short or too long to send, and needs a reset after a request with no header', () => {
    const { drv, sent } = setup();
    drv.init();
    drv.transmit(frame(10), 0);
    drv.transmit(frame(MAX_FRAME + 1), 1);
    expect(sent).toEqual([]);
    expect(drv.takeUsed(1).length).toBe(2);
    drv.submit(1, [{ addr: RX_DATA, len: 8 }], 2);
    expect(drv.r(0x70) & 0x40).toBe(0x40);
  });

  it('keeps delivered frames until the driver gives receive buffers, then writes header and frame', () => {
    const { net, drv, irq } = setup();
    const a = frame(60, 1);
    const b = frame(1514, 2);
    expect(net.receive(a)).toBe(true);
    expect(net.receive(b)).toBe(true);
    drv.init();
    expect(net.waiting).toBe(2);
    drv.giveRx(0);
    drv.giveRx(1);
    expect(drv.takeUsed(0)).toEqual([
      { id: 0, len: 12 + 60 },
      { id: 1, len: 12 + 1514 },
    ]);
    const header = drv.bytes(RX_DATA, 12);
    expect([...header]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(drv.bytes(RX_DATA + 12, 60)).toEqual(a);
    expect(drv.bytes(RX_DATA + 2048 + 12, 1514)).toEqual(b);
    expect(irq[irq.length - 1]).toBe(true);
    // A buffer given with no frame is held until one comes.
    drv.giveRx(2);
    expect(drv.takeUsed(0)).toEqual([]);
    net.receive(a);
    expect(drv.takeUsed(0)).toEqual([{ id: 2, len: 72 }]);
  });

  it('drops a frame too large for the buffer and gives the buffer the next one, as QEMU without merged buffers', () => {
    const { net, drv } = setup();
    drv.init();
    net.receive(frame(200));
    net.receive(frame(60, 3));
    drv.giveRx(0, 100);
    expect(drv.takeUsed(0)).toEqual([{ id: 0, len: 72 }]);
    expect(drv.bytes(RX_DATA + 12, 60)).toEqual(frame(60, 3));
  });

  it('bounds the frames that wait, and refuses frames that are not Ethernet frames', () => {
    const { net } = setup();
    expect(net.receive(frame(13))).toBe(false);
    expect(net.receive(frame(MAX_FRAME + 1))).toBe(false);
    for (let i = 0; i < PENDING_MAX; i++) expect(net.receive(frame(60, i))).toBe(true);
    expect(net.receive(frame(60))).toBe(false);
    expect(net.waiting).toBe(PENDING_MAX);
  });

  it('saves and restores the waiting frames, and refuses a damaged state', () => {
    const a = new VirtioNet(MAC, () => {});
    a.receive(frame(64, 9));
    a.receive(frame(100, 1));
    const b = new VirtioNet(MAC, () => {});
    expectStateRoundTrip(a as unknown as Device, b as unknown as Device, [
      'deviceId',
      'features',
      'queueCount',
      'queueSizeMax',
      'mac',
      'transport',
    ]);
    expect(() => b.loadState({ version: 1, pending: [new Uint8Array(3)] })).toThrow(/virtio-net: pending/);
    expect(() => b.loadState({ version: 1, pending: 'x' })).toThrow(/virtio-net/);
    expect(() => b.loadState({ version: 2, pending: [] })).toThrow(/version/);
  });

  it('any sequence of malformed descriptors and notifications never throws, and the state still round-trips', () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    const desc = fc.record({
      addr: fc.oneof(word, fc.integer({ min: RAM_BASE, max: RAM_BASE + 0x10000 })),
      len: fc.oneof(word, fc.integer({ min: 0, max: 4096 })),
      flags: fc.integer({ min: 0, max: 7 }),
      next: fc.integer({ min: 0, max: 12 }),
    });
    const step = fc.record({
      queue: fc.integer({ min: 0, max: 2 }),
      head: fc.integer({ min: 0, max: 9 }),
      descs: fc.array(desc, { minLength: 1, maxLength: 3 }),
      deliver: fc.option(fc.integer({ min: 0, max: 2000 })),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        const { net, drv } = setup();
        drv.init();
        for (const s of steps) {
          if (s.deliver !== null) net.receive(frame(Math.max(1, s.deliver)));
          drv.submit(s.queue, s.descs, s.head);
        }
        const copy = new VirtioNet(MAC, () => {});
        copy.loadState(net.saveState());
        expect(copy.saveState()).toEqual(net.saveState());
      }),
      { numRuns: 300 },
    );
  });
});

describe('a machine with a network device', () => {
  const program = rawImage(Uint8Array.from([0x73, 0, 0x50, 0x10]), RAM_BASE, 4 << 20);

  it('has the device tree of before without it, and one more virtio_mmio node with it', () => {
    const config = { ramBase: RAM_BASE, ramSize: 4 << 20, hasDisk: false };
    expect(buildDeviceTree({ ...config, hasNet: false })).toEqual(buildDeviceTree(config));
    const soc = (dtb: Uint8Array) =>
      parseFdt(dtb)
        .root.children.find((c) => c.name === 'soc')!
        .children.map((c) => c.name);
    const extra = soc(buildDeviceTree({ ...config, hasNet: true })).filter(
      (n) => !soc(buildDeviceTree(config)).includes(n),
    );
    expect(extra).toEqual(['virtio_mmio@10005000']);
  });

  it('answers in slot 4 (0x10005000, PLIC 5), and a frame event reaches the device', () => {
    const m = new Machine({ program, ramSize: 4 << 20, net: { mac: MAC } });
    expect(m.virtio[4]!.read(8, 4)).toBe(1);
    expect(m.net).not.toBeNull();
    m.inject('net', [...frame(60)]);
    expect(m.net!.waiting).toBe(1);
    const plain = new Machine({ program, ramSize: 4 << 20 });
    expect(plain.net).toBeNull();
    expect(() => plain.inject('net', [...frame(60)])).toThrow(/no network device/);
  });
});
