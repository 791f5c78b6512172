/**
 * What every memory-mapped device implements. The bus hands a device offsets
 * relative to its base; the device never sees absolute addresses.
 */
import type { DeviceTreeConfig, Phandles } from './devicetree.js';
import type { VirtualClock } from './devices/clint.js';
import type { PowerEvent } from './devices/syscon.js';
import type { FdtBuilder } from './fdt.js';
import type { PagedMemory } from './paged.js';

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
  /** Called once RAM holds the restored state too, before the guest runs: for a device that keeps part of its state in RAM. */
  afterRestore?(): void;
}

/**
 * Physical memory access for devices that do DMA (virtio). Addresses are
 * guest-physical. Returns false when any byte lies outside RAM.
 */
export interface Dma {
  readBytes(addr: number, dest: Uint8Array): boolean;
  writeBytes(addr: number, src: Uint8Array): boolean;
}

/**
 * What a device's constructor gets from the machine it is built into:
 * lines into the hart and the PLIC, the virtual clock, RAM for DMA, and the
 * machine's outputs. Lines may be called only once the machine is built.
 */
export interface DeviceHost {
  /** Sets or clears a device-driven bit of the hart's mip (IRQ.MSI, IRQ.MEI...). */
  hartLine(bit: number, level: boolean): void;
  /** The line of PLIC source `source`. */
  irq(source: number): IrqLine;
  /** mtime: read and set (the CLINT). */
  readonly clock: VirtualClock;
  readonly dma: Dma;
  /** A byte the guest wrote to the console. */
  output(byte: number): void;
  /** The guest asked to power off or reset. */
  power(event: PowerEvent): void;
  /** The disk image (the machine's own copy), or null. */
  readonly disk: { memory: PagedMemory; sectors: number; readOnly: boolean } | null;
  /** Whether the machine has a screen: a GPU, a keyboard and a tablet. */
  readonly screen: boolean;
  /** The network device's MAC and where its transmitted frames go, or null without one. */
  readonly net: { mac: readonly number[]; transmit(frame: Uint8Array): void } | null;
}

/** What a device's device-tree emitters get: the machine's description and the shared phandles. */
export interface DeviceTreeContext {
  readonly config: DeviceTreeConfig;
  readonly phandles: Phandles;
}

/**
 * One device of the machine (Spike's REGISTER_DEVICE): its address range,
 * its PLIC source, how to build it and its device-tree nodes. Each device's
 * file exports its entry; core/board.ts lists them. The table gives the bus
 * ranges, the saved-state keys and the device tree, all in its order.
 */
export interface DeviceEntry<D extends Device = Device> {
  /** The key of its saved state (Device.name of what `create` returns). */
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** Its PLIC source, when it has one. */
  readonly irq?: number;
  create(host: DeviceHost, self: DeviceEntry<D>): D;
  /** Its node under /soc, when the guest should see one. */
  fdtNode?(b: FdtBuilder, self: DeviceEntry<D>, tree: DeviceTreeContext): void;
  /** Nodes at the root of the tree, after /soc. */
  fdtRootNodes?(b: FdtBuilder, self: DeviceEntry<D>, tree: DeviceTreeContext): void;
}
