import type { AccessSize, DeviceState } from '../device.js';
import { StateReader } from '../devices/state.js';
import { PAGE_SIZE } from '../memmap.js';
import { PagedMemory } from '../paged.js';
import { type Chain, type VirtioDevice, VirtqueueError } from './mmio.js';

export const SECTOR_SIZE = 512;
const QUEUE_SIZE = 256;
const HEADER_SIZE = 16;
const ID_SIZE = 20;
const ID = 'rewind-disk';

/** Request types and status values (virtio 1.x, 5.2.6). */
const T_IN = 0;
const T_OUT = 1;
const T_FLUSH = 4;
const T_GET_ID = 8;
const S_OK = 0;
const S_IOERR = 1;
const S_UNSUPP = 2;

/** Feature bits (5.2.3). */
const F_SEG_MAX = 1 << 2;
const F_RO = 1 << 5;
const F_BLK_SIZE = 1 << 6;
const F_FLUSH = 1 << 9;
const VERSION_1_HI = 1;
const STATE_VERSION = 1;

/**
 * Puts a disk image into a PagedMemory rounded up to whole pages. Only
 * whole 512-byte sectors are visible to the guest.
 */
export function diskFromImage(image: Uint8Array): { memory: PagedMemory; sectors: number } {
  const memory = new PagedMemory(Math.max(PAGE_SIZE, Math.ceil(image.length / PAGE_SIZE) * PAGE_SIZE));
  memory.write(0, image);
  return { memory, sectors: Math.floor(image.length / SECTOR_SIZE) };
}

/**
 * A virtio block device (device id 2) over a PagedMemory disk. Writes land
 * in those pages and mark them dirty; the user's image file is never touched.
 *
 * Offered features: VERSION_1; SEG_MAX (seg_max = queue size - 2, as QEMU) and
 * BLK_SIZE (512), which Linux reads to size its requests; FLUSH, so that the
 * guest's cache flushes are acknowledged (a no-op: nothing is buffered); RO
 * when read-only.
 */
export class VirtioBlock implements VirtioDevice {
  readonly deviceId = 2;
  readonly features: readonly [number, number];
  readonly queueCount = 1;
  readonly queueSizeMax = QUEUE_SIZE;
  private readonly config: Uint8Array;
  /** Told the bytes of each read the guest makes (a host's activity light); not machine state. */
  onRead: ((bytes: number) => void) | null = null;

  /** `sectors` must fit in `disk`; see {@link diskFromImage}. */
  constructor(
    private readonly disk: PagedMemory,
    private readonly sectors: number,
    private readonly readOnly = false,
  ) {
    if (sectors * SECTOR_SIZE > disk.size)
      throw new RangeError(`${sectors} sectors do not fit in a ${disk.size}-byte disk`);
    this.features = [F_SEG_MAX | F_BLK_SIZE | F_FLUSH | (readOnly ? F_RO : 0), VERSION_1_HI];
    // struct virtio_blk_config (5.2.4): capacity at 0, seg_max at 12, blk_size at 20.
    this.config = new Uint8Array(24);
    const view = new DataView(this.config.buffer);
    view.setUint32(0, sectors >>> 0, true);
    view.setUint32(4, Math.floor(sectors / 0x1_0000_0000), true);
    view.setUint32(12, QUEUE_SIZE - 2, true);
    view.setUint32(20, SECTOR_SIZE, true);
  }

  configRead(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + (this.config[offset + i] ?? 0);
    return value;
  }

  /** The configuration is read-only (no writeback feature offered). */
  configWrite(_offset: number, _value: number, _size: AccessSize): void {}

  /**
   * One request (5.2.6): a 16-byte readable header {type, reserved, sector},
   * data, and a final writable status byte. A missing header or status byte
   * is malformed (QEMU calls virtio_error there too); a bad sector range or
   * length is an IOERR. The used length is the whole writable size, data
   * plus status, as QEMU reports it.
   */
  process(_queue: number, chain: Chain): number {
    if (chain.readableLength < HEADER_SIZE) throw new VirtqueueError('virtio-blk: request header missing');
    if (chain.writableLength < 1) throw new VirtqueueError('virtio-blk: status byte missing');
    const header = new Uint8Array(HEADER_SIZE);
    chain.read(0, header);
    const view = new DataView(header.buffer);
    const type = view.getUint32(0, true);
    const sector = view.getUint32(8, true) + view.getUint32(12, true) * 0x1_0000_0000;
    const status = this.serve(type, sector, chain);
    chain.write(chain.writableLength - 1, Uint8Array.of(status));
    return chain.writableLength;
  }

  reset(): void {}

  /** The block device keeps no state outside its disk pages. */
  saveState(): DeviceState {
    return { version: STATE_VERSION };
  }

  loadState(state: DeviceState): void {
    new StateReader('virtio-blk', state, STATE_VERSION);
  }

  private serve(type: number, sector: number, chain: Chain): number {
    switch (type) {
      case T_IN: {
        const range = this.range(sector, chain.writableLength - 1);
        if (range === null) return S_IOERR;
        chain.write(0, this.disk.bytes.subarray(range.start, range.end));
        this.onRead?.(range.end - range.start);
        return S_OK;
      }
      case T_OUT: {
        const range = this.readOnly ? null : this.range(sector, chain.readableLength - HEADER_SIZE);
        if (range === null) return S_IOERR;
        // Dirty first: a read that fails halfway has still changed bytes.
        this.disk.markDirty(range.start, range.end - range.start);
        chain.read(HEADER_SIZE, this.disk.bytes.subarray(range.start, range.end));
        return S_OK;
      }
      case T_FLUSH:
        return S_OK;
      case T_GET_ID: {
        const id = new Uint8Array(ID_SIZE);
        id.set(new TextEncoder().encode(ID));
        chain.write(0, id.subarray(0, Math.min(ID_SIZE, chain.writableLength - 1)));
        return S_OK;
      }
      default:
        return S_UNSUPP;
    }
  }

  /** The disk byte range of a transfer, or null when it is not whole sectors inside the disk. */
  private range(sector: number, length: number): { start: number; end: number } | null {
    if (length % SECTOR_SIZE !== 0 || sector + length / SECTOR_SIZE > this.sectors) return null;
    return { start: sector * SECTOR_SIZE, end: sector * SECTOR_SIZE + length };
  }
}
