/**
 * The physical memory map of the machine: a subset of QEMU's riscv32 `virt`.
 * RAM is here; each device's range (and PLIC source) is in its own entry,
 * listed in core/board.ts.
 */
export const MemoryMap = {
  ram: { base: 0x8000_0000 },
} as const;

/** The CLINT's timebase in Hz, announced in the device tree. mtime advances one tick per step. */
export const TIMEBASE_HZ = 10_000_000;

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
