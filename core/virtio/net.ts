import type { AccessSize, DeviceState } from '../device.js';
import { StateReader } from '../devices/state.js';
import { type Chain, type VirtioDevice, type VirtioTransport, VirtqueueError } from './mmio.js';

/**
 * A virtio network device (device id 1, virtio 1.x section 5.1), as QEMU's
 * `-device virtio-net-device` with only VIRTIO_NET_F_MAC and VERSION_1
 * negotiated: a receive queue and a transmit queue, no control queue, no
 * offloads, no merged receive buffers, so every buffer starts with the
 * 12-byte struct virtio_net_hdr of version 1 and holds one whole frame.
 *
 * Frames the guest transmits go to the host (`transmit`: a switch). Frames
 * the host delivers (`receive`: an input event of this machine, recorded at
 * its position) wait in the device, as part of its saved state, until the
 * driver has put a receive buffer for them, so a frame sent before the
 * driver starts is not lost (QEMU holds it in the netdev's queue too). At
 * most PENDING_MAX frames wait; past it, new ones are dropped, as a full
 * NIC drops them. Malformed transmit requests and frames that are too short
 * or too long are dropped, never an exception: the guest cannot tell a
 * dropped frame from one lost on the wire.
 */

/** struct virtio_net_hdr with num_buffers: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
export const NET_HDR_SIZE = 12;
/** An Ethernet header: destination, source, type. */
export const MIN_FRAME = 14;
/** 1500 bytes of payload, the header and a VLAN tag (no FCS: virtio frames carry none). */
export const MAX_FRAME = 1518;
/** Frames that may wait for receive buffers. */
export const PENDING_MAX = 256;
const QUEUE_SIZE = 256;
const RECEIVEQ = 0;
const TRANSMITQ = 1;
/** VIRTIO_NET_F_MAC (5.1.3). */
const F_MAC = 1 << 5;
const VERSION_1_HI = 1;
const STATE_VERSION = 1;

/** QEMU's MAC for a first NIC; a group gives its machines the next ones. */
export const DEFAULT_MAC = '52:54:00:12:34:56';

/** The six bytes of a MAC written as `xx:xx:xx:xx:xx:xx`, or null when it is not one. */
export function parseMac(text: string): number[] | null {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) return null;
  return text.split(':').map((x) => parseInt(x, 16));
}

export function formatMac(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export class VirtioNet implements VirtioDevice {
  readonly deviceId = 1;
  readonly features: readonly [number, number] = [F_MAC, VERSION_1_HI];
  readonly queueCount = 2;
  readonly queueSizeMax = QUEUE_SIZE;
  /** Frames delivered and not yet written into a receive buffer, oldest first. */
  private pending: Uint8Array[] = [];
  private transport: VirtioTransport | null = null;

  /** `mac`: six bytes (struct virtio_net_config's mac); `transmit` gets each frame the guest sends. */
  constructor(
    readonly mac: readonly number[],
    private readonly transmit: (frame: Uint8Array) => void,
  ) {}

  attach(transport: VirtioTransport): void {
    this.transport = transport;
  }

  /** Delivers a frame: it reaches the driver as it gives receive buffers. Returns false when it was dropped. */
  receive(frame: Uint8Array): boolean {
    if (frame.length < MIN_FRAME || frame.length > MAX_FRAME || this.pending.length >= PENDING_MAX) return false;
    this.pending.push(frame.slice());
    this.transport?.kick(RECEIVEQ);
    return true;
  }

  /** Frames waiting for the driver's receive buffers. */
  get waiting(): number {
    return this.pending.length;
  }

  /** struct virtio_net_config: mac[6]; status and the rest need features we do not offer, and read as 0. */
  configRead(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + (this.mac[offset + i] ?? 0);
    return value;
  }

  /** The MAC is read-only without VIRTIO_NET_F_CTRL_MAC_ADDR (legacy drivers wrote it; modern ones may not). */
  configWrite(_offset: number, _value: number, _size: AccessSize): void {}

  /**
   * A receive buffer gets the oldest waiting frame behind a zeroed header
   * (num_buffers 1, 5.1.6.4), or is held until a frame comes; a frame that
   * does not fit the buffer is dropped and the next one tried (QEMU's
   * virtio_net_receive_rcu does the same without merged buffers). A
   * transmit request is one header and one frame; a frame shorter than an
   * Ethernet header or longer than MAX_FRAME is dropped. A request with no
   * room for its header is malformed, as in QEMU (virtio_error): the device
   * then needs a reset.
   */
  process(queue: number, chain: Chain): number | null {
    if (queue === TRANSMITQ) {
      if (chain.readableLength < NET_HDR_SIZE) throw new VirtqueueError('virtio-net: transmit header missing');
      const length = chain.readableLength - NET_HDR_SIZE;
      if (length >= MIN_FRAME && length <= MAX_FRAME) {
        const frame = new Uint8Array(length);
        chain.read(NET_HDR_SIZE, frame);
        this.transmit(frame);
      }
      return 0;
    }
    if (queue !== RECEIVEQ) return 0;
    if (chain.writableLength === 0) throw new VirtqueueError('virtio-net: receive buffer not writable');
    for (;;) {
      const frame = this.pending.shift();
      if (frame === undefined) return null;
      if (NET_HDR_SIZE + frame.length > chain.writableLength) continue;
      const buffer = new Uint8Array(NET_HDR_SIZE + frame.length);
      buffer[10] = 1;
      buffer.set(frame, NET_HDR_SIZE);
      chain.write(0, buffer);
      return buffer.length;
    }
  }

  /** A driver reset keeps the waiting frames for the next driver, as the keyboard keeps its keys. */
  reset(): void {}

  saveState(): DeviceState {
    return { version: STATE_VERSION, pending: this.pending.map((f) => f.slice()) };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader('virtio-net', state, STATE_VERSION);
    const pending = state['pending'];
    const valid =
      Array.isArray(pending) &&
      pending.length <= PENDING_MAX &&
      pending.every((f) => f instanceof Uint8Array && f.length >= MIN_FRAME && f.length <= MAX_FRAME);
    if (!valid) r.fail('pending is not a list of frames');
    // Copied into plain Uint8Arrays: a decoder may hand back Buffers or views of a larger buffer.
    this.pending = (pending as Uint8Array[]).map((f) => Uint8Array.from(f));
  }
}
