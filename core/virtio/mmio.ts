import type { AccessSize, Device, DeviceState, Dma, IrqLine } from '../device.js';
import { StateReader } from '../devices/state.js';
import type { FdtBuilder } from '../fdt.js';
import type { Phandles } from '../devicetree.js';

/**
 * The virtio-mmio transport, version 2 only (virtio 1.x, section 4.2), with
 * split virtqueues (section 2.7). Notifications are processed synchronously
 * on the QueueNotify write, so a request is complete when the store retires.
 */

/** What a device may ask of its transport. */
export interface VirtioTransport {
  /** Serves queue `queue` now, as a driver's notification would: a device with news for buffers it held (virtio-input's events). */
  kick(queue: number): void;
}

/** What a device type plugs into the transport (block, gpu, input). */
export interface VirtioDevice {
  /** Virtio device id (section 5): 2 = block, 16 = gpu, 18 = input. */
  readonly deviceId: number;
  /** Offered feature bits as [bits 0..31, bits 32..63]; must include VIRTIO_F_VERSION_1. */
  readonly features: readonly [number, number];
  /** How many virtqueues the device has. */
  readonly queueCount: number;
  /** QueueNumMax for every queue. */
  readonly queueSizeMax: number;
  /** Reads the device-specific configuration space (little-endian). */
  configRead(offset: number, size: AccessSize): number;
  configWrite(offset: number, value: number, size: AccessSize): void;
  /**
   * Serves one available descriptor chain of queue `queue` and returns the
   * used-ring `len` (bytes written into the chain), or null to leave the
   * chain (and those after it) available until the device kicks the queue:
   * a buffer the driver gives for an event that has not happened yet.
   * Throws {@link VirtqueueError} when the request is malformed.
   */
  process(queue: number, chain: Chain): number | null;
  /** Called once by the transport that carries the device. */
  attach?(transport: VirtioTransport): void;
  /** The driver reset the device (status written 0). */
  reset(): void;
  /** See Device.afterRestore. */
  afterRestore?(): void;
  saveState(): DeviceState;
  loadState(state: DeviceState): void;
}

/** A malformed queue or request. The transport answers with DEVICE_NEEDS_RESET; it never reaches the host. */
export class VirtqueueError extends Error {
  override readonly name = 'VirtqueueError';
}

interface Segment {
  addr: number;
  len: number;
}

/** A validated descriptor chain: its device-readable buffers, then its device-writable ones, seen as two byte streams. */
export class Chain {
  readonly readableLength: number;
  readonly writableLength: number;

  constructor(
    private readonly dma: Dma,
    private readonly readable: Segment[],
    private readonly writable: Segment[],
  ) {
    this.readableLength = readable.reduce((n, s) => n + s.len, 0);
    this.writableLength = writable.reduce((n, s) => n + s.len, 0);
  }

  /** Fills `dest` from the readable stream at `offset`. */
  read(offset: number, dest: Uint8Array): void {
    this.transfer(this.readable, offset, dest, (addr, part) => this.dma.readBytes(addr, part));
  }

  /** Copies `src` into the writable stream at `offset`. */
  write(offset: number, src: Uint8Array): void {
    this.transfer(this.writable, offset, src, (addr, part) => this.dma.writeBytes(addr, part));
  }

  private transfer(
    segments: Segment[],
    offset: number,
    data: Uint8Array,
    move: (addr: number, part: Uint8Array) => boolean,
  ): void {
    let done = 0;
    let skip = offset;
    for (const seg of segments) {
      if (done === data.length) break;
      if (skip >= seg.len) {
        skip -= seg.len;
        continue;
      }
      const n = Math.min(seg.len - skip, data.length - done);
      if (!move(seg.addr + skip, data.subarray(done, done + n))) throw new VirtqueueError('buffer outside RAM');
      done += n;
      skip = 0;
    }
    if (done !== data.length) throw new VirtqueueError('request longer than its buffers');
  }
}

const MAGIC = 0x74726976; // "virt"
const VERSION = 2;
/** "QEMU" read as a little-endian word, QEMU's vendor id. */
const VENDOR_ID = 0x554d4551;

const Reg = {
  Magic: 0x000,
  Version: 0x004,
  DeviceId: 0x008,
  VendorId: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptAck: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  SHMLenLow: 0x0b0,
  SHMLenHigh: 0x0b4,
  ConfigGeneration: 0x0fc,
  Config: 0x100,
} as const;

const STATUS_DRIVER_OK = 0x04;
const STATUS_FEATURES_OK = 0x08;
const STATUS_NEEDS_RESET = 0x40;
const INT_USED_BUFFER = 0x1;
const INT_CONFIG_CHANGE = 0x2;
/** VIRTIO_F_VERSION_1 is bit 32: bit 0 of the high word. */
const VERSION_1_HI = 0x1;

const DESC_SIZE = 16;
const DESC_F_NEXT = 1;
const DESC_F_WRITE = 2;
const DESC_F_INDIRECT = 4;
const STATE_VERSION = 1;

/** One split virtqueue as the driver configured it, plus the device's ring positions. */
interface Queue {
  num: number;
  ready: number;
  /** Guest-physical table addresses as low/high words, exactly as written. */
  desc: [number, number];
  avail: [number, number];
  used: [number, number];
  /** Next avail-ring entry to consume and next used-ring index, both mod 2^16. */
  lastAvail: number;
  nextUsed: number;
}

/** Working buffer for descriptors and ring entries; transient, so shared by all slots. */
const scratch = new Uint8Array(DESC_SIZE);
const scratchView = new DataView(scratch.buffer);

function emptyQueue(): Queue {
  return { num: 0, ready: 0, desc: [0, 0], avail: [0, 0], used: [0, 0], lastAvail: 0, nextUsed: 0 };
}

/**
 * One virtio-mmio slot. With `device` null it is an empty slot: magic and
 * version read as usual and DeviceID reads 0, which drivers skip
 * (section 4.2.3.1.1), so a guest can scan the slots.
 */
export class VirtioMmio implements Device, VirtioTransport {
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures: [number, number] = [0, 0];
  private queueSel = 0;
  private status = 0;
  private interruptStatus = 0;
  private queues: Queue[];

  constructor(
    readonly device: VirtioDevice | null,
    private readonly dma: Dma,
    private readonly irq: IrqLine,
    readonly name = 'virtio0',
  ) {
    this.queues = Array.from({ length: device?.queueCount ?? 0 }, emptyQueue);
    device?.attach?.(this);
  }

  kick(queue: number): void {
    this.notify(queue);
  }

  read(offset: number, size: AccessSize): number {
    if (offset >= Reg.Config) return this.device === null ? 0 : this.device.configRead(offset - Reg.Config, size);
    // Registers are 32-bit only (section 4.2.2.2).
    if (size !== 4) return 0;
    switch (offset) {
      case Reg.Magic:
        return MAGIC;
      case Reg.Version:
        return VERSION;
      case Reg.VendorId:
        return VENDOR_ID;
    }
    if (this.device === null) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case Reg.DeviceId:
        return this.device.deviceId;
      case Reg.DeviceFeatures:
        return this.deviceFeaturesSel < 2 ? this.device.features[this.deviceFeaturesSel] >>> 0 : 0;
      case Reg.QueueNumMax:
        return q === undefined ? 0 : this.device.queueSizeMax;
      case Reg.QueueNum:
        return q?.num ?? 0;
      case Reg.QueueReady:
        return q?.ready ?? 0;
      case Reg.QueueDescLow:
        return q?.desc[0] ?? 0;
      case Reg.QueueDescHigh:
        return q?.desc[1] ?? 0;
      case Reg.QueueDriverLow:
        return q?.avail[0] ?? 0;
      case Reg.QueueDriverHigh:
        return q?.avail[1] ?? 0;
      case Reg.QueueDeviceLow:
        return q?.used[0] ?? 0;
      case Reg.QueueDeviceHigh:
        return q?.used[1] ?? 0;
      case Reg.InterruptStatus:
        return this.interruptStatus;
      case Reg.Status:
        return this.status;
      case Reg.SHMLenLow:
      case Reg.SHMLenHigh:
        // No shared memory regions: a length of -1 says the one selected does not exist (virtio 1.2, 4.2.2).
        return 0xffffffff;
      default:
        // Including ConfigGeneration: the configuration space never changes behind the driver's back.
        return 0;
    }
  }

  write(offset: number, value: number, size: AccessSize): void {
    if (this.device === null) return;
    if (offset >= Reg.Config) {
      this.device.configWrite(offset - Reg.Config, value, size);
      return;
    }
    if (size !== 4) return;
    const v = value >>> 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case Reg.DeviceFeaturesSel:
        this.deviceFeaturesSel = v;
        break;
      case Reg.DriverFeatures:
        if (this.driverFeaturesSel < 2) this.driverFeatures[this.driverFeaturesSel] = v;
        break;
      case Reg.DriverFeaturesSel:
        this.driverFeaturesSel = v;
        break;
      case Reg.QueueSel:
        this.queueSel = v;
        break;
      case Reg.QueueNotify:
        this.notify(v);
        break;
      case Reg.InterruptAck:
        this.interruptStatus &= ~v;
        this.updateIrq();
        break;
      case Reg.Status:
        this.writeStatus(v);
        break;
      default:
        if (q !== undefined) writeQueueReg(q, offset, v);
    }
  }

  saveState(): DeviceState {
    return {
      version: STATE_VERSION,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: [...this.driverFeatures],
      queueSel: this.queueSel,
      status: this.status,
      interruptStatus: this.interruptStatus,
      queues: this.queues.map((q) => ({ ...q, desc: [...q.desc], avail: [...q.avail], used: [...q.used] })),
      device: this.device === null ? null : this.device.saveState(),
    };
  }

  /** Restores registers and queues; the interrupt line is not driven (the PLIC restores its own view of it). */
  loadState(state: DeviceState): void {
    const r = new StateReader(this.name, state, STATE_VERSION);
    this.deviceFeaturesSel = r.number('deviceFeaturesSel');
    this.driverFeaturesSel = r.number('driverFeaturesSel');
    const [lo, hi] = r.numbers('driverFeatures', 2);
    this.driverFeatures = [lo, hi];
    this.queueSel = r.number('queueSel');
    this.status = r.number('status');
    this.interruptStatus = r.number('interruptStatus');
    this.queues = r.records('queues', this.queues.length).map((rec) => {
      const qr = new StateReader(this.name, rec);
      const pair = (key: string): [number, number] => {
        const [a, b] = qr.numbers(key, 2);
        return [a, b];
      };
      return {
        num: qr.number('num'),
        ready: qr.number('ready'),
        desc: pair('desc'),
        avail: pair('avail'),
        used: pair('used'),
        lastAvail: qr.number('lastAvail'),
        nextUsed: qr.number('nextUsed'),
      };
    });
    if (this.device !== null) {
      const inner = state.device;
      if (typeof inner !== 'object' || inner === null) r.fail('device state missing');
      this.device.loadState(inner as DeviceState);
    }
  }

  afterRestore(): void {
    this.device?.afterRestore?.();
  }

  /** The device-tree node of one slot (QEMU virt describes all eight, filled or not). */
  static fdtNode(b: FdtBuilder, base: number, size: number, irq: number, phandles: Phandles): void {
    b.beginNode(`virtio_mmio@${base.toString(16)}`);
    b.prop('interrupts', irq);
    b.prop('interrupt-parent', phandles.plic);
    b.prop('reg', [0, base, 0, size]);
    b.prop('compatible', 'virtio,mmio');
    b.endNode();
  }

  private writeStatus(v: number): void {
    const device = this.device as VirtioDevice;
    if (v === 0) {
      this.reset(device);
      return;
    }
    let status = (v & 0xff) | (this.status & STATUS_NEEDS_RESET);
    // FEATURES_OK stays clear when the driver accepted features we did not
    // offer, or not VERSION_1: we are a modern-only device (section 3.1.1).
    if (status & STATUS_FEATURES_OK && !(this.status & STATUS_FEATURES_OK)) {
      const [lo, hi] = this.driverFeatures;
      const offered = (lo & ~device.features[0]) === 0 && (hi & ~device.features[1]) === 0;
      if (!offered || !(hi & VERSION_1_HI)) status &= ~STATUS_FEATURES_OK;
    }
    this.status = status;
  }

  private reset(device: VirtioDevice): void {
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = [0, 0];
    this.queueSel = 0;
    this.status = 0;
    this.interruptStatus = 0;
    this.queues = this.queues.map(emptyQueue);
    device.reset();
    this.updateIrq();
  }

  private notify(index: number): void {
    const q = this.queues[index];
    if (q === undefined || !q.ready || (this.status & (STATUS_DRIVER_OK | STATUS_NEEDS_RESET)) !== STATUS_DRIVER_OK)
      return;
    try {
      this.drain(index, q);
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      // Section 2.1.2: a device in an error state sets DEVICE_NEEDS_RESET and,
      // once DRIVER_OK is set, sends a configuration change notification.
      this.status |= STATUS_NEEDS_RESET;
      this.interruptStatus |= INT_CONFIG_CHANGE;
    }
    this.updateIrq();
  }

  /** Serves every chain the driver made available (section 2.7.13), writing each to the used ring. */
  private drain(index: number, q: Queue): void {
    const device = this.device as VirtioDevice;
    const num = q.num;
    if (num === 0 || num > device.queueSizeMax || (num & (num - 1)) !== 0) throw new VirtqueueError('bad queue size');
    const avail = address(q.avail);
    const used = address(q.used);
    const availIdx = this.read16(avail + 2);
    if (((availIdx - q.lastAvail) & 0xffff) > num) throw new VirtqueueError('avail index ran ahead of the ring');
    while (q.lastAvail !== availIdx) {
      const head = this.read16(avail + 4 + 2 * (q.lastAvail % num));
      const len = device.process(index, this.walk(q, head));
      if (len === null) break;
      scratchView.setUint32(0, head, true);
      scratchView.setUint32(4, len, true);
      this.dmaWrite(used + 4 + 8 * (q.nextUsed % num), scratch.subarray(0, 8));
      q.nextUsed = (q.nextUsed + 1) & 0xffff;
      q.lastAvail = (q.lastAvail + 1) & 0xffff;
      scratchView.setUint16(0, q.nextUsed, true);
      this.dmaWrite(used + 2, scratch.subarray(0, 2));
      this.interruptStatus |= INT_USED_BUFFER;
    }
  }

  /**
   * Follows a chain from `head`. The walk is bounded by the queue size, so a
   * loop is caught; readable buffers must precede writable ones (2.7.4.2);
   * indirect descriptors are not offered, so they are an error.
   */
  private walk(q: Queue, head: number): Chain {
    const table = address(q.desc);
    const readable: Segment[] = [];
    const writable: Segment[] = [];
    let index = head;
    for (let count = 0; ; count++) {
      if (count >= q.num) throw new VirtqueueError('descriptor chain loops');
      if (index >= q.num) throw new VirtqueueError(`descriptor index ${index} out of range`);
      this.dmaRead(table + DESC_SIZE * index, scratch);
      const addrHigh = scratchView.getUint32(4, true);
      const seg = { addr: scratchView.getUint32(0, true), len: scratchView.getUint32(8, true) };
      const flags = scratchView.getUint16(12, true);
      if (flags & DESC_F_INDIRECT) throw new VirtqueueError('indirect descriptors were not negotiated');
      if (addrHigh !== 0) throw new VirtqueueError('buffer outside RAM');
      if (flags & DESC_F_WRITE) writable.push(seg);
      else if (writable.length > 0) throw new VirtqueueError('readable descriptor after a writable one');
      else readable.push(seg);
      if (!(flags & DESC_F_NEXT)) break;
      index = scratchView.getUint16(14, true);
    }
    return new Chain(this.dma, readable, writable);
  }

  private read16(addr: number): number {
    this.dmaRead(addr, scratch.subarray(0, 2));
    return scratchView.getUint16(0, true);
  }

  private dmaRead(addr: number, dest: Uint8Array): void {
    if (!this.dma.readBytes(addr, dest)) throw new VirtqueueError('virtqueue outside RAM');
  }

  private dmaWrite(addr: number, src: Uint8Array): void {
    if (!this.dma.writeBytes(addr, src)) throw new VirtqueueError('virtqueue outside RAM');
  }

  private updateIrq(): void {
    this.irq(this.interruptStatus !== 0);
  }
}

function writeQueueReg(q: Queue, offset: number, v: number): void {
  switch (offset) {
    case Reg.QueueNum:
      q.num = v;
      break;
    case Reg.QueueReady:
      q.ready = v & 1;
      break;
    case Reg.QueueDescLow:
      q.desc[0] = v;
      break;
    case Reg.QueueDescHigh:
      q.desc[1] = v;
      break;
    case Reg.QueueDriverLow:
      q.avail[0] = v;
      break;
    case Reg.QueueDriverHigh:
      q.avail[1] = v;
      break;
    case Reg.QueueDeviceLow:
      q.used[0] = v;
      break;
    case Reg.QueueDeviceHigh:
      q.used[1] = v;
      break;
  }
}

/** A ring address; a high word other than 0 lies beyond rv32's physical space. */
function address([low, high]: [number, number]): number {
  if (high !== 0) throw new VirtqueueError('virtqueue outside RAM');
  return low;
}
