import type { AccessSize, DeviceState } from '../device.js';
import { StateReader } from '../devices/state.js';
import type { Chain, VirtioDevice, VirtioTransport } from './mmio.js';

/**
 * A virtio input device (device id 18, virtio 1.x section 5.8): a keyboard
 * or a tablet (an absolute pointer with three buttons). Events are Linux
 * input events {type, code, value}; the host sends them in batches ending
 * with a SYN_REPORT, and the device writes one per buffer the driver put on
 * the event queue. Events wait in the device (saved with it) until the
 * driver has given buffers for them, so none is lost to a driver that is
 * still starting; past PENDING_MAX waiting events, new batches are dropped
 * (a driver that never reads).
 */

export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_ABS = 0x03;
export const EV_LED = 0x11;
export const EV_REP = 0x14;
export const SYN_REPORT = 0;
export const ABS_X = 0;
export const ABS_Y = 1;
export const BTN_LEFT = 0x110;
export const BTN_RIGHT = 0x111;
export const BTN_MIDDLE = 0x112;
/** The tablet's coordinates run from 0 to this on both axes, as QEMU's. */
export const ABS_MAX = 0x7fff;

/** struct virtio_input_event: le16 type, le16 code, le32 value. */
export const EVENT_SIZE = 8;
const PENDING_MAX = 4096;
const QUEUE_SIZE = 64;
const VERSION_1_HI = 1;
const STATE_VERSION = 1;

/** virtio_input_config_select (5.8.5). */
const Select = {
  IdName: 0x01,
  IdSerial: 0x02,
  IdDevids: 0x03,
  PropBits: 0x10,
  EvBits: 0x11,
  AbsInfo: 0x12,
} as const;

/** One Linux input event. */
export interface InputEvent {
  type: number;
  code: number;
  value: number;
}

/** What a kind of input device tells the driver in its configuration space. */
export interface InputProfile {
  /** The key of the device's saved state and of its recorded events. */
  kind: 'keyboard' | 'tablet';
  name: string;
  serial: string;
  /** struct virtio_input_devids: bustype, vendor, product, version. */
  devids: readonly [number, number, number, number];
  /** Event codes each event type supports. */
  events: ReadonlyMap<number, readonly number[]>;
  /** Absolute axes: their range. */
  abs: ReadonlyMap<number, { min: number; max: number }>;
}

const BUS_VIRTUAL = 0x06;
/** QEMU's vendor id for its virtio input devices; the product ids are its keyboard's (1) and tablet's (3). */
const VENDOR = 0x0627;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export const KEYBOARD: InputProfile = {
  kind: 'keyboard',
  name: 'Rewind Virtio Keyboard',
  serial: 'rewind-keyboard',
  devids: [BUS_VIRTUAL, VENDOR, 0x0001, 0x0001],
  // Every key code from KEY_ESC (1) to KEY_MICMUTE (248); num, caps and scroll lock lights; auto-repeat by the guest.
  events: new Map([
    [EV_KEY, range(1, 248)],
    [EV_LED, [0, 1, 2]],
    [EV_REP, [0, 1]],
  ]),
  abs: new Map(),
};

export const TABLET: InputProfile = {
  kind: 'tablet',
  name: 'Rewind Virtio Tablet',
  serial: 'rewind-tablet',
  devids: [BUS_VIRTUAL, VENDOR, 0x0003, 0x0001],
  events: new Map([
    [EV_KEY, [BTN_LEFT, BTN_RIGHT, BTN_MIDDLE]],
    [EV_ABS, [ABS_X, ABS_Y]],
  ]),
  abs: new Map([
    [ABS_X, { min: 0, max: ABS_MAX }],
    [ABS_Y, { min: 0, max: ABS_MAX }],
  ]),
};

/** Events as the bytes of virtio_input_event structs (a recorded event's payload). */
export function encodeEvents(events: readonly InputEvent[]): number[] {
  const bytes = new Uint8Array(events.length * EVENT_SIZE);
  const view = new DataView(bytes.buffer);
  events.forEach((e, i) => {
    view.setUint16(i * EVENT_SIZE, e.type, true);
    view.setUint16(i * EVENT_SIZE + 2, e.code, true);
    view.setUint32(i * EVENT_SIZE + 4, e.value >>> 0, true);
  });
  return [...bytes];
}

/** The inverse of encodeEvents; null when the bytes are not whole events. */
export function decodeEvents(payload: readonly number[]): InputEvent[] | null {
  if (payload.length === 0 || payload.length % EVENT_SIZE !== 0) return null;
  const bytes = Uint8Array.from(payload);
  const view = new DataView(bytes.buffer);
  const out: InputEvent[] = [];
  for (let at = 0; at < bytes.length; at += EVENT_SIZE)
    out.push({
      type: view.getUint16(at, true),
      code: view.getUint16(at + 2, true),
      value: view.getUint32(at + 4, true),
    });
  return out;
}

export class VirtioInput implements VirtioDevice {
  readonly deviceId = 18;
  readonly features: readonly [number, number] = [0, VERSION_1_HI];
  /** eventq (device to driver) and statusq (driver to device: LED changes, which nothing shows). */
  readonly queueCount = 2;
  readonly queueSizeMax = QUEUE_SIZE;
  private select = 0;
  private subsel = 0;
  /** Events sent and not yet given to the driver, as flat (type, code, value) triples. */
  private pending: number[] = [];
  private transport: VirtioTransport | null = null;

  constructor(readonly profile: InputProfile) {}

  attach(transport: VirtioTransport): void {
    this.transport = transport;
  }

  /** Sends a batch of events (the caller ends it with a SYN_REPORT); they reach the driver as it gives buffers. */
  send(events: readonly InputEvent[]): void {
    if (this.pending.length / 3 + events.length > PENDING_MAX) return;
    for (const e of events) this.pending.push(e.type & 0xffff, e.code & 0xffff, e.value >>> 0);
    this.transport?.kick(0);
  }

  /** Events waiting for the driver's buffers. */
  get waiting(): number {
    return this.pending.length / 3;
  }

  /** struct virtio_input_config: select, subsel, size, 5 reserved, then the selected item (5.8.4). */
  configRead(offset: number, size: AccessSize): number {
    const data = this.selected();
    const bytes = new Uint8Array(8 + 128);
    bytes[0] = this.select;
    bytes[1] = this.subsel;
    bytes[2] = data.length;
    bytes.set(data, 8);
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + (bytes[offset + i] ?? 0);
    return value;
  }

  configWrite(offset: number, value: number, size: AccessSize): void {
    // Byte writes, as drivers make them; a wider write sets the bytes it covers.
    for (let i = 0; i < size; i++) {
      const byte = (value >>> (8 * i)) & 0xff;
      if (offset + i === 0) this.select = byte;
      else if (offset + i === 1) this.subsel = byte;
    }
  }

  /** The item that select and subsel name; empty (size 0) when the device has none. */
  private selected(): Uint8Array {
    const p = this.profile;
    switch (this.select) {
      case Select.IdName:
        return this.subsel === 0 ? new TextEncoder().encode(p.name) : new Uint8Array(0);
      case Select.IdSerial:
        return this.subsel === 0 ? new TextEncoder().encode(p.serial) : new Uint8Array(0);
      case Select.IdDevids: {
        if (this.subsel !== 0) return new Uint8Array(0);
        const out = new Uint8Array(8);
        const view = new DataView(out.buffer);
        p.devids.forEach((v, i) => view.setUint16(2 * i, v, true));
        return out;
      }
      case Select.EvBits: {
        const codes = p.events.get(this.subsel);
        if (!codes) return new Uint8Array(0);
        const bitmap = new Uint8Array(Math.floor(Math.max(...codes) / 8) + 1);
        for (const c of codes) bitmap[c >> 3]! |= 1 << (c & 7);
        return bitmap;
      }
      case Select.AbsInfo: {
        const abs = p.abs.get(this.subsel);
        if (!abs) return new Uint8Array(0);
        // struct virtio_input_absinfo: min, max, fuzz, flat, res.
        const out = new Uint8Array(20);
        const view = new DataView(out.buffer);
        view.setUint32(0, abs.min, true);
        view.setUint32(4, abs.max, true);
        return out;
      }
      default:
        // Including PropBits: no properties.
        return new Uint8Array(0);
    }
  }

  /**
   * An event buffer gets the oldest waiting event, or is held until there
   * is one; a status buffer is taken and ignored. A buffer too small for an
   * event is returned empty and the event waits for the next.
   */
  process(queue: number, chain: Chain): number | null {
    if (queue !== 0) return 0;
    if (this.pending.length === 0) return null;
    if (chain.writableLength < EVENT_SIZE) return 0;
    const [type, code, value] = this.pending.splice(0, 3) as [number, number, number];
    const event = new Uint8Array(EVENT_SIZE);
    const view = new DataView(event.buffer);
    view.setUint16(0, type, true);
    view.setUint16(2, code, true);
    view.setUint32(4, value, true);
    chain.write(0, event);
    return EVENT_SIZE;
  }

  /** A driver reset forgets the selection; events keep waiting for the next driver. */
  reset(): void {
    this.select = 0;
    this.subsel = 0;
  }

  saveState(): DeviceState {
    return { version: STATE_VERSION, select: this.select, subsel: this.subsel, pending: [...this.pending] };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(`virtio-input ${this.profile.kind}`, state, STATE_VERSION);
    this.select = r.number('select');
    this.subsel = r.number('subsel');
    const pending = r.numbers('pending', undefined, 3 * PENDING_MAX);
    if (pending.length % 3 !== 0) r.fail('pending is not whole events');
    this.pending = pending;
  }
}
