/** The physical memory map of the machine: a subset of QEMU's riscv32 `virt`. */
export const MemoryMap = {
  syscon: { base: 0x0010_0000, size: 0x1000 },
  clint: { base: 0x0200_0000, size: 0x1_0000 },
  plic: { base: 0x0c00_0000, size: 0x60_0000 },
  uart0: { base: 0x1000_0000, size: 0x100 },
  virtio0: { base: 0x1000_1000, size: 0x1000 },
  /** Like QEMU's virt, eight virtio-mmio slots; the disk sits in the first, the others answer as empty. */
  virtioSlots: { base: 0x1000_1000, stride: 0x1000, count: 8 },
  ram: { base: 0x8000_0000 },
} as const;

/** PLIC interrupt sources, as on QEMU's virt. */
export const Irq = {
  virtio0: 1,
  uart0: 10,
} as const;

/** The CLINT's timebase in Hz, announced in the device tree. mtime advances one tick per step. */
export const TIMEBASE_HZ = 10_000_000;

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
