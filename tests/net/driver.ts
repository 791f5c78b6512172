/** A minimal two-queue virtio-mmio driver for the network device's tests (virtio 1.x, 3.1.1 and 2.7). */
import type { PagedMemory } from '../../core/paged.js';
import type { VirtioMmio } from '../../core/virtio/mmio.js';
import { fakeRam, RAM_BASE } from '../devices/virtio-driver.js';

export const QUEUE_NUM = 8;
/** Where receive buffers (one per descriptor, 2 KiB apart) and transmit requests lie. */
export const RX_DATA = RAM_BASE + 0x8000;
export const TX_DATA = RAM_BASE + 0xc000;
const ringBase = (q: number) => RAM_BASE + 0x1000 + q * 0x3000;

export interface Desc {
  addr: number;
  len: number;
  write?: boolean;
  next?: number;
  flags?: number;
}

export class NetDriver {
  readonly view: DataView;
  private availIdx = [0, 0];
  private usedSeen = [0, 0];

  constructor(
    readonly mmio: VirtioMmio,
    readonly ram: PagedMemory,
  ) {
    this.view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.size);
  }

  static over(make: (dma: ReturnType<typeof fakeRam>['dma']) => VirtioMmio): NetDriver {
    const { ram, dma } = fakeRam();
    return new NetDriver(make(dma), ram);
  }

  r(off: number): number {
    return this.mmio.read(off, 4);
  }

  w(off: number, v: number): void {
    this.mmio.write(off, v, 4);
  }

  /** Negotiates MAC and VERSION_1 and sets up both queues; returns the status. */
  init(): number {
    this.w(0x70, 0);
    this.w(0x70, 1 | 2);
    this.w(0x24, 0);
    this.w(0x20, 1 << 5);
    this.w(0x24, 1);
    this.w(0x20, 1);
    this.w(0x70, 1 | 2 | 8);
    for (const q of [0, 1]) {
      const base = ringBase(q);
      this.w(0x30, q);
      this.w(0x38, QUEUE_NUM);
      this.w(0x80, base);
      this.w(0x90, base + 0x1000);
      this.w(0xa0, base + 0x2000);
      this.w(0x44, 1);
    }
    this.availIdx = [0, 0];
    this.usedSeen = [0, 0];
    this.w(0x70, 1 | 2 | 4 | 8);
    return this.r(0x70);
  }

  /** Writes descriptors at their indices, makes `head` available on queue `q` and notifies it. */
  submit(q: number, descs: Desc[], head = 0, first = head): void {
    const base = ringBase(q) - RAM_BASE;
    descs.forEach((d, k) => {
      const at = base + 16 * (first + k);
      this.view.setUint32(at, d.addr, true);
      this.view.setUint32(at + 4, 0, true);
      this.view.setUint32(at + 8, d.len, true);
      this.view.setUint16(at + 12, d.flags ?? (d.write ? 2 : 0) | (d.next !== undefined ? 1 : 0), true);
      this.view.setUint16(at + 14, d.next ?? 0, true);
    });
    const avail = base + 0x1000;
    this.view.setUint16(avail + 4 + 2 * (this.availIdx[q]! % QUEUE_NUM), head, true);
    this.availIdx[q] = (this.availIdx[q]! + 1) & 0xffff;
    this.view.setUint16(avail + 2, this.availIdx[q]!, true);
    this.w(0x50, q);
  }

  /** Gives receive buffer `i` (2 KiB at RX_DATA + 2 KiB × i, or `len` bytes) as descriptor i. */
  giveRx(i: number, len = 2048): void {
    this.submit(0, [{ addr: RX_DATA + 2048 * i, len, write: true }], i);
  }

  /** Transmits a frame from descriptor `i`: the 12-byte header then the frame, in one buffer. */
  transmit(frame: Uint8Array, i = 0): void {
    const at = TX_DATA + 2048 * i;
    this.ram.bytes.fill(0, at - RAM_BASE, at - RAM_BASE + 12);
    this.ram.bytes.set(frame, at - RAM_BASE + 12);
    this.submit(1, [{ addr: at, len: 12 + frame.length }], i);
  }

  /** Used-ring entries of queue `q` added since the last call. */
  takeUsed(q: number): { id: number; len: number }[] {
    const used = ringBase(q) - RAM_BASE + 0x2000;
    const idx = this.view.getUint16(used + 2, true);
    const out: { id: number; len: number }[] = [];
    for (; this.usedSeen[q] !== idx; this.usedSeen[q] = (this.usedSeen[q]! + 1) & 0xffff) {
      const at = used + 4 + 8 * (this.usedSeen[q]! % QUEUE_NUM);
      out.push({ id: this.view.getUint32(at, true), len: this.view.getUint32(at + 4, true) });
    }
    return out;
  }

  bytes(addr: number, len: number): Uint8Array {
    return this.ram.bytes.slice(addr - RAM_BASE, addr - RAM_BASE + len);
  }
}

/** A broadcast Ethernet frame of `length` bytes from `src`, its payload counting up from `seed`. */
export function frame(length: number, seed = 0, src = [0x52, 0x54, 0, 0x12, 0x34, 0x56]): Uint8Array {
  const f = new Uint8Array(length);
  const head = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...src, 0x88, 0xb5];
  f.set(head.slice(0, length));
  for (let i = 14; i < length; i++) f[i] = (seed + i) & 0xff;
  return f;
}
