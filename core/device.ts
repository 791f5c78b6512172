/**
 * What every memory-mapped device implements. The bus hands a device offsets
 * relative to its base; the device never sees absolute addresses.
 */

/** Access width in bytes. */
export type AccessSize = 1 | 2 | 4;

/**
 * A device's saved state: plain data with named keys and a version, so that
 * a field added later can be told apart from a field forgotten.
 * Values must be msgpack-able (numbers, strings, booleans, arrays, plain
 * objects, Uint8Array).
 */
export interface DeviceState {
  version: number;
  [key: string]: unknown;
}

/** A line into the interrupt controller: level-triggered. */
export type IrqLine = (level: boolean) => void;

/** A memory-mapped device. */
export interface Device {
  /** Short name, used as the key of its saved state ("uart0", "plic"...). */
  readonly name: string;
  /** Reads `size` bytes at `offset`; returns the value zero-extended (unsigned). */
  read(offset: number, size: AccessSize): number;
  /** Writes the low `size` bytes of `value` at `offset`. */
  write(offset: number, value: number, size: AccessSize): void;
  /** Everything needed to restore the device exactly. */
  saveState(): DeviceState;
  /** Restores what saveState returned; throws a RewindError on a bad state. */
  loadState(state: DeviceState): void;
}

/**
 * Physical memory access for devices that do DMA (virtio). Addresses are
 * guest-physical. Returns false when any byte lies outside RAM.
 */
export interface Dma {
  readBytes(addr: number, dest: Uint8Array): boolean;
  writeBytes(addr: number, src: Uint8Array): boolean;
}
