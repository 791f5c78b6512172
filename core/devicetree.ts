import { DEVICES } from './board.js';
import type { DeviceTreeContext } from './device.js';
import { UART0_DEVICE } from './devices/uart16550.js';
import { FdtBuilder } from './fdt.js';
import { TIMEBASE_HZ } from './memmap.js';

/** The phandles that nodes use to refer to each other. */
export interface Phandles {
  cpuIntc: number;
  plic: number;
  syscon: number;
}

/** What the device tree describes beyond the fixed memory map. */
export interface DeviceTreeConfig {
  ramBase: number;
  ramSize: number;
  hasDisk: boolean;
  /** A GPU, a keyboard and a tablet on virtio-mmio (the tree is unchanged without them). */
  hasScreen?: boolean;
  /** A virtio-net device on virtio-mmio (the tree is unchanged without it). */
  hasNet?: boolean;
  /** The kernel command line, in /chosen. */
  bootargs?: string;
  /** Where the loader put an initial ramdisk (physical, end exclusive). */
  initrd?: { start: number; end: number };
}

const PHANDLES: Phandles = { cpuIntc: 1, plic: 2, syscon: 3 };
const ISA = 'rv32imac_zicsr_zifencei';

/**
 * The device tree handed to the guest in a1 at reset, modelled on the one
 * QEMU's riscv32 virt machine generates, so that the same kernels boot on
 * both. Each device of the table (core/board.ts) writes its own nodes.
 */
export function buildDeviceTree(config: DeviceTreeConfig): Uint8Array {
  const b = new FdtBuilder();
  const tree: DeviceTreeContext = { config, phandles: PHANDLES };
  b.beginNode('');
  b.prop('#address-cells', 2);
  b.prop('#size-cells', 2);
  b.prop('compatible', 'riscv-virtio');
  b.prop('model', 'riscv-virtio,qemu');

  b.beginNode('chosen');
  b.prop('stdout-path', `/soc/serial@${UART0_DEVICE.base.toString(16)}`);
  if (config.bootargs !== undefined) b.prop('bootargs', config.bootargs);
  if (config.initrd !== undefined) {
    b.propU64('linux,initrd-start', [config.initrd.start]);
    b.propU64('linux,initrd-end', [config.initrd.end]);
  }
  b.endNode();

  cpus(b);

  b.beginNode(`memory@${config.ramBase.toString(16)}`);
  b.prop('device_type', 'memory');
  b.propU64('reg', [config.ramBase, config.ramSize]);
  b.endNode();

  b.beginNode('soc');
  b.prop('#address-cells', 2);
  b.prop('#size-cells', 2);
  b.prop('compatible', 'simple-bus');
  b.prop('ranges', null);
  for (const d of DEVICES) d.fdtNode?.(b, d, tree);
  b.endNode();

  for (const d of DEVICES) d.fdtRootNodes?.(b, d, tree);
  b.endNode();
  return b.finish();
}

/** /cpus with hart 0 and its local interrupt controller (RISC-V CPU binding). */
function cpus(b: FdtBuilder): void {
  b.beginNode('cpus');
  b.prop('#address-cells', 1);
  b.prop('#size-cells', 0);
  b.prop('timebase-frequency', TIMEBASE_HZ);
  b.beginNode('cpu@0');
  b.prop('device_type', 'cpu');
  b.prop('reg', 0);
  b.prop('status', 'okay');
  b.prop('compatible', 'riscv');
  b.prop('riscv,isa', ISA);
  b.prop('mmu-type', 'riscv,sv32');
  b.beginNode('interrupt-controller');
  // #address-cells 0 keeps dtc's interrupt_provider check quiet (newer QEMU adds it too).
  b.prop('#address-cells', 0);
  b.prop('#interrupt-cells', 1);
  b.prop('interrupt-controller', null);
  b.prop('compatible', 'riscv,cpu-intc');
  b.prop('phandle', PHANDLES.cpuIntc);
  b.endNode();
  b.endNode();
  b.endNode();
}
