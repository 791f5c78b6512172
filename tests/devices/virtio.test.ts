import { describe, expect, it } from 'vitest';
import { PagedMemory } from '../../core/paged.js';
import { diskFromImage, VirtioBlock } from '../../core/virtio/block.js';
import { VirtioMmio } from '../../core/virtio/mmio.js';
import { expectStateRoundTrip } from './roundtrip.js';
import { AVAIL, DATA, DESC, type Desc, fakeRam, RAM_BASE, TestDriver, USED } from './virtio-driver.js';

const T_IN = 0;
const T_OUT = 1;
const T_FLUSH = 4;
const T_GET_ID = 8;
const HDR = DATA;
const BUF = DATA + 0x100;
const STATUS = DATA + 0x80;
const NEEDS_RESET = 0x40;

/** A 16-sector image plus 100 stray bytes; byte i of sector s holds (s * 7 + i) & 0xff. */
function image(): Uint8Array {
  const img = new Uint8Array(16 * 512 + 100);
  for (let i = 0; i < img.length; i++) img[i] = (Math.floor(i / 512) * 7 + i) & 0xff;
  return img;
}

function setup(readOnly = false) {
  const { memory, sectors } = diskFromImage(image());
  // The image's pages start dirty (they differ from zero); forget that to see what the device writes.
  memory.clearDirty();
  const { ram, dma } = fakeRam();
  const irq: boolean[] = [];
  const block = new VirtioBlock(memory, sectors, readOnly);
  const mmio = new VirtioMmio(block, dma, (l) => irq.push(l));
  const drv = new TestDriver(mmio, ram);
  const line = () => irq[irq.length - 1] ?? false;
  return { memory, ram, dma, mmio, drv, line, block };
}

/** header (readable), data, status (writable). */
function request(dataLen: number, dataWritable: boolean): Desc[] {
  return [
    { addr: HDR, len: 16, next: 1 },
    { addr: BUF, len: dataLen, write: dataWritable, next: 2 },
    { addr: STATUS, len: 1, write: true },
  ];
}

function noData(): Desc[] {
  return [
    { addr: HDR, len: 16, next: 1 },
    { addr: STATUS, len: 1, write: true },
  ];
}

describe('VirtioMmio transport', () => {
  it('identifies itself as a version 2 block device', () => {
    const { drv } = setup();
    expect([drv.r(0), drv.r(4), drv.r(8), drv.r(0xc)]).toEqual([0x74726976, 2, 2, 0x554d4551]);
  });

  it('an empty slot reads magic and version, device id 0, and ignores writes', () => {
    const { dma } = fakeRam();
    const slot = new VirtioMmio(null, dma, () => {
      throw new Error('no interrupt expected');
    });
    slot.write(0x70, 1, 4);
    expect([slot.read(0, 4), slot.read(4, 4), slot.read(8, 4), slot.read(0x70, 4), slot.read(0x100, 4)]).toEqual([
      0x74726976, 2, 0, 0, 0,
    ]);
  });

  it('offers VERSION_1, SEG_MAX, BLK_SIZE, FLUSH, and RO only when read-only', () => {
    const rw = setup().drv;
    expect([rw.features(0), rw.features(1), rw.features(2)]).toEqual([(1 << 2) | (1 << 6) | (1 << 9), 1, 0]);
    expect(setup(true).drv.features(0) & (1 << 5)).toBe(1 << 5);
  });

  it('refuses FEATURES_OK for unoffered features or without VERSION_1', () => {
    expect(setup().drv.init([1 << 3, 1]) & 8).toBe(0);
    expect(setup().drv.init([0, 0]) & 8).toBe(0);
    expect(setup().drv.init()).toBe(0x0f);
  });

  it('reports the queue size and keeps queue registers per queue', () => {
    const { drv } = setup();
    drv.init();
    expect(drv.r(0x34)).toBe(256);
    expect([drv.r(0x38), drv.r(0x44), drv.r(0x80), drv.r(0x90), drv.r(0xa0)]).toEqual([8, 1, DESC, AVAIL, USED]);
    drv.w(0x30, 1);
    expect([drv.r(0x34), drv.r(0x38)]).toEqual([0, 0]);
  });

  it('raises the used-buffer interrupt and lowers it on InterruptACK', () => {
    const { drv, line } = setup();
    drv.init();
    drv.header(T_FLUSH, 0);
    drv.submit(noData());
    expect(drv.r(0x60)).toBe(1);
    expect(line()).toBe(true);
    drv.w(0x64, 1);
    expect(drv.r(0x60)).toBe(0);
    expect(line()).toBe(false);
  });

  it('resets everything on a status write of 0', () => {
    const { drv, line } = setup();
    drv.init();
    drv.header(T_FLUSH, 0);
    drv.submit(noData());
    drv.w(0x70, 0);
    expect([drv.r(0x70), drv.r(0x60), drv.r(0x38), drv.r(0x44), drv.r(0x80)]).toEqual([0, 0, 0, 0, 0]);
    expect(line()).toBe(false);
  });

  it('does not process notifications before DRIVER_OK', () => {
    const { drv } = setup();
    drv.init();
    drv.w(0x70, 1 | 2 | 8);
    drv.header(T_FLUSH, 0);
    drv.submit(noData());
    expect(drv.takeUsed()).toEqual([]);
  });
});

describe('VirtioBlock', () => {
  it('has capacity floor(length / 512) and block size 512 in its config space', () => {
    const { mmio } = setup();
    expect([mmio.read(0x100, 4), mmio.read(0x104, 4), mmio.read(0x10c, 4), mmio.read(0x114, 4)]).toEqual([
      16, 0, 254, 512,
    ]);
    expect(mmio.read(0x100, 1)).toBe(16);
  });

  it('rounds the disk up to whole pages in diskFromImage', () => {
    const { memory, sectors } = diskFromImage(new Uint8Array(5000).fill(1));
    expect([memory.size, sectors, memory.bytes[4999], memory.bytes[5000]]).toEqual([8192, 9, 1, 0]);
  });

  it('reads sectors; the used length counts data and status (1024 + 1)', () => {
    const { drv } = setup();
    drv.init();
    drv.header(T_IN, 3);
    drv.submit(request(1024, true));
    expect(drv.takeUsed()).toEqual([{ id: 0, len: 1025 }]);
    expect(drv.byte(STATUS)).toBe(0);
    expect(drv.bytes(BUF, 1024)).toEqual(image().slice(3 * 512, 5 * 512));
  });

  it('gathers data split over several descriptors', () => {
    const { drv } = setup();
    drv.init();
    drv.header(T_IN, 0);
    drv.submit([
      { addr: HDR, len: 8, next: 3 },
      { addr: BUF + 0x800, len: 12, write: true, next: 2 },
      { addr: STATUS, len: 1, write: true },
      { addr: HDR + 8, len: 8, next: 4 },
      { addr: BUF, len: 500, write: true, next: 1 },
    ]);
    expect(drv.takeUsed()).toEqual([{ id: 0, len: 513 }]);
    expect(drv.byte(STATUS)).toBe(0);
    const img = image();
    expect(drv.bytes(BUF, 500)).toEqual(img.slice(0, 500));
    expect(drv.bytes(BUF + 0x800, 12)).toEqual(img.slice(500, 512));
  });

  it('accepts a chain as long as the queue', () => {
    const { drv } = setup();
    drv.init();
    drv.header(T_IN, 0);
    const chain: Desc[] = [{ addr: HDR, len: 16, next: 1 }];
    for (let i = 1; i <= 6; i++) chain.push({ addr: BUF + 512 * (i - 1), len: 512, write: true, next: i + 1 });
    chain.push({ addr: STATUS, len: 1, write: true });
    drv.submit(chain);
    expect(drv.takeUsed()).toEqual([{ id: 0, len: 6 * 512 + 1 }]);
    expect(drv.byte(STATUS)).toBe(0);
    expect(drv.bytes(BUF, 6 * 512)).toEqual(image().slice(0, 6 * 512));
  });

  it('writes sectors into the disk pages and marks them dirty', () => {
    const { drv, memory } = setup();
    drv.init();
    drv.header(T_OUT, 9);
    drv.ram.bytes.fill(0xab, BUF - RAM_BASE, BUF - RAM_BASE + 512);
    drv.submit(request(512, false));
    expect(drv.takeUsed()).toEqual([{ id: 0, len: 1 }]);
    expect(drv.byte(STATUS)).toBe(0);
    expect(memory.bytes.slice(9 * 512, 10 * 512).every((b) => b === 0xab)).toBe(true);
    expect(memory.bytes[10 * 512]).toBe(image()[10 * 512]);
    expect(memory.dirtyPages()).toEqual([1]);
  });

  it('fails writes to a read-only disk with IOERR and leaves it untouched', () => {
    const { drv, memory } = setup(true);
    drv.init();
    drv.header(T_OUT, 0);
    drv.submit(request(512, false));
    expect(drv.byte(STATUS)).toBe(1);
    expect(memory.bytes.slice(0, 512)).toEqual(image().slice(0, 512));
    expect(memory.dirtyPages()).toEqual([]);
  });

  it('acknowledges FLUSH', () => {
    const { drv } = setup();
    drv.init();
    drv.ram.bytes[STATUS - RAM_BASE] = 0xff;
    drv.header(T_FLUSH, 0);
    drv.submit(noData());
    expect(drv.byte(STATUS)).toBe(0);
  });

  it('answers GET_ID with a NUL-padded 20-byte id', () => {
    const { drv } = setup();
    drv.init();
    drv.ram.bytes.fill(0xff, BUF - RAM_BASE, BUF - RAM_BASE + 20);
    drv.header(T_GET_ID, 0);
    drv.submit(request(20, true));
    expect(drv.byte(STATUS)).toBe(0);
    const id = drv.bytes(BUF, 20);
    expect(new TextDecoder().decode(id.subarray(0, 11))).toBe('rewind-disk');
    expect([...id.subarray(11)].every((b) => b === 0)).toBe(true);
  });

  it('answers an unknown request type with UNSUPP', () => {
    const { drv } = setup();
    drv.init();
    drv.header(99, 0);
    drv.submit(noData());
    expect(drv.byte(STATUS)).toBe(2);
  });

  it('fails out-of-range sectors and partial sectors with IOERR', () => {
    const { drv } = setup();
    drv.init();
    drv.header(T_IN, 15);
    drv.submit(request(1024, true));
    expect(drv.byte(STATUS)).toBe(1);
    drv.header(T_IN, 2 ** 40);
    drv.submit(request(512, true));
    expect(drv.byte(STATUS)).toBe(1);
    drv.header(T_IN, 0);
    drv.submit(request(100, true));
    expect(drv.byte(STATUS)).toBe(1);
    drv.header(T_IN, 15);
    drv.submit(request(512, true));
    expect(drv.byte(STATUS)).toBe(0);
    expect(drv.r(0x70) & NEEDS_RESET).toBe(0);
  });

  describe('malformed requests set DEVICE_NEEDS_RESET and never throw', () => {
    const cases: [string, (drv: TestDriver) => void][] = [
      ['next index out of range', (d) => d.submit([{ addr: HDR, len: 16, next: 8 }])],
      ['head index out of range', (d) => d.submit(noData(), 200)],
      [
        'a loop',
        (d) =>
          d.submit([
            { addr: HDR, len: 16, next: 1 },
            { addr: BUF, len: 512, write: true, next: 0 },
          ]),
      ],
      [
        'a data buffer outside RAM',
        (d) =>
          d.submit([
            { addr: HDR, len: 16, next: 1 },
            { addr: 0x1000, len: 512, write: true, next: 2 },
            { addr: STATUS, len: 1, write: true },
          ]),
      ],
      [
        'a status byte past the end of RAM',
        (d) =>
          d.submit([
            { addr: HDR, len: 16, next: 1 },
            { addr: RAM_BASE + 0x10000, len: 1, write: true },
          ]),
      ],
      [
        'a readable buffer after a writable one',
        (d) =>
          d.submit([
            { addr: STATUS, len: 1, write: true, next: 1 },
            { addr: HDR, len: 16 },
          ]),
      ],
      [
        'a short header',
        (d) =>
          d.submit([
            { addr: HDR, len: 8, next: 1 },
            { addr: STATUS, len: 1, write: true },
          ]),
      ],
      ['no status byte', (d) => d.submit([{ addr: HDR, len: 16 }])],
      ['an indirect descriptor', (d) => d.submit([{ addr: HDR, len: 16, flags: 4 }])],
      [
        'a ring outside RAM',
        (d) => {
          d.w(0x70, 1 | 2 | 8);
          d.w(0x80, 0x100);
          d.w(0x70, 1 | 2 | 4 | 8);
          d.submit(noData());
        },
      ],
      [
        'an avail index that runs ahead',
        (d) => {
          d.setAvailIdx(9);
          d.w(0x50, 0);
        },
      ],
    ];
    for (const [what, act] of cases) {
      it(what, () => {
        const { drv, line } = setup();
        drv.init();
        drv.header(T_IN, 0);
        expect(() => act(drv)).not.toThrow();
        expect(drv.r(0x70) & NEEDS_RESET).toBe(NEEDS_RESET);
        expect(drv.r(0x60) & 2).toBe(2);
        expect(line()).toBe(true);
        expect(drv.takeUsed()).toEqual([]);
        // Stuck until reset: a good request is ignored.
        drv.submit(noData());
        expect(drv.takeUsed()).toEqual([]);
        expect(drv.init()).toBe(0x0f);
      });
    }
  });

  it('round-trips transport and queue state', () => {
    const a = setup();
    a.drv.init();
    a.drv.header(T_IN, 1);
    for (let i = 0; i < 3; i++) a.drv.submit(request(512, true));
    a.drv.w(0x14, 1);
    a.drv.w(0x24, 1);
    a.drv.w(0x30, 3);
    const b = new VirtioMmio(new VirtioBlock(a.memory, 16), a.dma, () => {});
    expectStateRoundTrip(a.mmio, b, ['name', 'device', 'dma']);
  });

  it('rejects a state of another version', () => {
    const { mmio } = setup();
    expect(() => mmio.loadState({ ...mmio.saveState(), version: 0 })).toThrow(/virtio0/);
  });

  it('refuses more sectors than the disk holds', () => {
    expect(() => new VirtioBlock(new PagedMemory(4096), 9)).toThrow(RangeError);
  });
});
