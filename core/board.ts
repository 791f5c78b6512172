/**
 * The devices of the machine, a subset of QEMU's riscv32 `virt` (Spike's
 * REGISTER_DEVICE idea): each device's file exports its entry (address,
 * size, PLIC source, constructor, device-tree nodes), and this list is the
 * one place that names them. Its order is the order of the bus ranges, of
 * the device-tree nodes and of the saved state's devices: append, never
 * reorder (the device tree must stay as QEMU's and saved states as they are).
 *
 * Adding a device: a file with its class and its `DeviceEntry`, and one line here.
 */
import type { DeviceEntry } from './device.js';
import { CLINT_DEVICE } from './devices/clint.js';
import { PLIC_DEVICE } from './devices/plic.js';
import { SYSCON_DEVICE } from './devices/syscon.js';
import { UART0_DEVICE } from './devices/uart16550.js';
import { VIRTIO_DEVICES } from './virtio/slots.js';

export const DEVICES: readonly DeviceEntry[] = [
  SYSCON_DEVICE,
  CLINT_DEVICE,
  PLIC_DEVICE,
  UART0_DEVICE,
  ...VIRTIO_DEVICES,
];
