import type { Dma } from '../../core/device.js';
import { PagedMemory } from '../../core/paged.js';
import { VirtioMmio } from '../../core/virtio/mmio.js';

export const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x10000;
export const QUEUE_NUM = 8;
/** Ring addresses and a data area inside the fake RAM. */
export const DESC = RAM_BASE + 0x1000;
export const AVAIL = RAM_BASE + 0x2000;
export const USED = RAM_BASE + 0x3000;
export const DATA = RAM_BASE + 0x4000;

/** RAM as a PagedMemory behind a Dma that refuses anything outside it. */
export function fakeRam(): { ram: PagedMemory; dma: Dma } {
  const ram = new PagedMemory(RAM_SIZE);
  const inside = (addr: number, len: number) => addr >= RAM_BASE && addr + len <= RAM_BASE + RAM_SIZE;
  const dma: Dma = {
    readBytes(addr, dest) {
      if (!inside(addr, dest.length)) return false;
      dest.set(ram.bytes.subarray(addr - RAM_BASE, addr - RAM_BASE + dest.length));
      return true;
    },
    writeBytes(addr, src) {
      if (!inside(addr, src.length)) return false;
      ram.write(addr - RAM_BASE, src);
      return true;
    },
  };
  return { ram, dma };
}

export interface Desc {
  addr: number;
  len: number;
  write?: boolean;
  /** Index of the next descriptor; omitted ends the chain. */
  next?: number;
  flags?: number;
}

/** A minimal virtio-mmio driver, written from the spec's driver requirements (3.1.1, 4.2.3). */
export class TestDriver {
  private availIdx = 0;
  private usedSeen = 0;
  readonly view: DataView;

  constructor(
    readonly mmio: VirtioMmio,
    readonly ram: PagedMemory,
  ) {
    this.view = new DataView(ram.bytes.buffer);
  }

  r(off: number): number {
    return this.mmio.read(off, 4);
  }

  w(off: number, v: number): void {
    this.mmio.write(off, v, 4);
  }

  /** The initialisation sequence; returns the final status. */
  init(features: [number, number] = [this.features(0), this.features(1)]): number {
    this.w(0x70, 0);
    this.w(0x70, 1);
    this.w(0x70, 1 | 2);
    this.w(0x24, 0);
    this.w(0x20, features[0]);
    this.w(0x24, 1);
    this.w(0x20, features[1]);
    this.w(0x70, 1 | 2 | 8);
    if (!(this.r(0x70) & 8)) return this.r(0x70);
    this.w(0x30, 0);
    this.w(0x38, QUEUE_NUM);
    this.w(0x80, DESC);
    this.w(0x84, 0);
    this.w(0x90, AVAIL);
    this.w(0x94, 0);
    this.w(0xa0, USED);
    this.w(0xa4, 0);
    this.w(0x44, 1);
    this.w(0x70, 1 | 2 | 4 | 8);
    return this.r(0x70);
  }

  features(sel: number): number {
    this.w(0x14, sel);
    return this.r(0x10);
  }

  /** Writes descriptors at their indices, makes `head` available and notifies queue 0. */
  submit(descs: Map<number, Desc> | Desc[], head = 0): void {
    const entries = descs instanceof Map ? [...descs] : descs.map((d, i) => [i, d] as const);
    for (const [i, d] of entries) {
      const at = DESC - RAM_BASE + 16 * i;
      this.view.setUint32(at, d.addr, true);
      this.view.setUint32(at + 4, 0, true);
      this.view.setUint32(at + 8, d.len, true);
      const flags = d.flags ?? (d.write ? 2 : 0) | (d.next !== undefined ? 1 : 0);
      this.view.setUint16(at + 12, flags, true);
      this.view.setUint16(at + 14, d.next ?? 0, true);
    }
    this.view.setUint16(AVAIL - RAM_BASE + 4 + 2 * (this.availIdx % QUEUE_NUM), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.view.setUint16(AVAIL - RAM_BASE + 2, this.availIdx, true);
    this.w(0x50, 0);
  }

  /** Sets the avail index directly (for malformed-ring tests). */
  setAvailIdx(idx: number): void {
    this.availIdx = idx;
    this.view.setUint16(AVAIL - RAM_BASE + 2, idx, true);
  }

  /** Used-ring entries added since the last call. */
  takeUsed(): { id: number; len: number }[] {
    const idx = this.view.getUint16(USED - RAM_BASE + 2, true);
    const out: { id: number; len: number }[] = [];
    for (; this.usedSeen !== idx; this.usedSeen = (this.usedSeen + 1) & 0xffff) {
      const at = USED - RAM_BASE + 4 + 8 * (this.usedSeen % QUEUE_NUM);
      out.push({ id: this.view.getUint32(at, true), len: this.view.getUint32(at + 4, true) });
    }
    return out;
  }

  /** Writes a virtio-blk request header at DATA. */
  header(type: number, sector: number): void {
    this.view.setUint32(DATA - RAM_BASE, type, true);
    this.view.setUint32(DATA - RAM_BASE + 4, 0, true);
    this.view.setUint32(DATA - RAM_BASE + 8, sector >>> 0, true);
    this.view.setUint32(DATA - RAM_BASE + 12, Math.floor(sector / 2 ** 32), true);
  }

  byte(addr: number): number {
    return this.ram.bytes[addr - RAM_BASE];
  }

  bytes(addr: number, len: number): Uint8Array {
    return this.ram.bytes.slice(addr - RAM_BASE, addr - RAM_BASE + len);
  }
}
