/**
 * The virtio-mmio transports: like QEMU's virt, eight slots from 0x10001000,
 * one page each, on PLIC sources 1 to 8. The disk (virtio-blk) sits in the
 * first slot; the others answer as empty (device id 0), and only a slot that
 * holds a device appears in the device tree.
 */
import type { DeviceEntry } from '../device.js';
import { VirtioBlock } from './block.js';
import { VirtioMmio } from './mmio.js';

const BASE = 0x1000_1000;
const STRIDE = 0x1000;
const COUNT = 8;
const DISK_SLOT = 0;

function slot(i: number): DeviceEntry<VirtioMmio> {
  return {
    name: `virtio${i}`,
    base: BASE + i * STRIDE,
    size: STRIDE,
    irq: 1 + i,
    create: (host, self) => {
      const disk = i === DISK_SLOT ? host.disk : null;
      const device = disk ? new VirtioBlock(disk.memory, disk.sectors, disk.readOnly) : null;
      return new VirtioMmio(device, host.dma, host.irq(self.irq!), self.name);
    },
    fdtNode: (b, self, tree) => {
      if (i === DISK_SLOT && tree.config.hasDisk) VirtioMmio.fdtNode(b, self.base, self.size, self.irq!, tree.phandles);
    },
  };
}

export const VIRTIO_DEVICES: readonly DeviceEntry<VirtioMmio>[] = Array.from({ length: COUNT }, (_, i) => slot(i));
