/**
 * The virtio-mmio transports: like QEMU's virt, eight slots from 0x10001000,
 * one page each, on PLIC sources 1 to 8. The disk (virtio-blk) sits in the
 * first slot; with a screen, the GPU, the keyboard and the tablet take the
 * next three; with a network, the virtio-net device takes the fifth. The others answer as empty (device id 0), and only a slot
 * that holds a device appears in the device tree.
 */
import type { DeviceEntry, DeviceHost } from '../device.js';
import { VirtioBlock } from './block.js';
import { VirtioGpu } from './gpu.js';
import { KEYBOARD, TABLET, VirtioInput } from './input.js';
import { VirtioNet } from './net.js';
import { type VirtioDevice, VirtioMmio } from './mmio.js';

const BASE = 0x1000_1000;
const STRIDE = 0x1000;
const COUNT = 8;
const DISK_SLOT = 0;
const NET_SLOT = 4;
/** The screen's devices, by slot: they come together (`--screen`). */
const SCREEN_SLOTS = new Map<number, (host: DeviceHost) => VirtioDevice>([
  [1, (host) => new VirtioGpu(host.dma)],
  [2, () => new VirtioInput(KEYBOARD)],
  [3, () => new VirtioInput(TABLET)],
]);

function slot(i: number): DeviceEntry<VirtioMmio> {
  const screenDevice = SCREEN_SLOTS.get(i);
  return {
    name: `virtio${i}`,
    base: BASE + i * STRIDE,
    size: STRIDE,
    irq: 1 + i,
    create: (host, self) => {
      const disk = i === DISK_SLOT ? host.disk : null;
      let device: VirtioDevice | null = disk ? new VirtioBlock(disk.memory, disk.sectors, disk.readOnly) : null;
      if (screenDevice && host.screen) device = screenDevice(host);
      if (i === NET_SLOT && host.net) device = new VirtioNet(host.net.mac, host.net.transmit);
      return new VirtioMmio(device, host.dma, host.irq(self.irq!), self.name);
    },
    fdtNode: (b, self, tree) => {
      const filled =
        i === DISK_SLOT
          ? tree.config.hasDisk
          : i === NET_SLOT
            ? (tree.config.hasNet ?? false)
            : screenDevice !== undefined && tree.config.hasScreen;
      if (filled) VirtioMmio.fdtNode(b, self.base, self.size, self.irq!, tree.phandles);
    },
  };
}

export const VIRTIO_DEVICES: readonly DeviceEntry<VirtioMmio>[] = Array.from({ length: COUNT }, (_, i) => slot(i));
