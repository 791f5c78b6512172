/**
 * Booting Linux the way QEMU's virt machine and OpenSBI do it: the kernel's
 * raw Image at RAM start + 4 MiB (the 4 MiB-aligned offset a 32-bit RISC-V
 * kernel needs for its linear map), an optional initramfs high in RAM just
 * below the device tree, the command line and the initrd's place in the
 * device tree's /chosen, and the built-in SBI firmware (core/firmware/sbi.ts)
 * starting the kernel in S-mode with a0 = hart id and a1 = the device tree.
 * See docs/linux.md.
 */
import { RewindError } from '../errors.js';
import { isElf, parseElf, type Program, type Segment } from '../loader.js';
import type { Machine } from '../machine.js';
import { MemoryMap } from '../memmap.js';
import { sbiFirmware } from '../firmware/sbi.js';

const MiB = 1024 * 1024;
const PAGE = 4096;

/** Where the kernel goes: RAM start + 4 MiB (Documentation/riscv/boot.rst; QEMU virt, OpenSBI fw_jump). */
export const LINUX_KERNEL_OFFSET = 4 * MiB;
export const DEFAULT_LINUX_BOOTARGS = 'console=ttyS0 earlycon=sbi';
/** With a screen: kernel messages on its console too (the last console= stays /dev/console). */
export const SCREEN_LINUX_BOOTARGS = `console=tty0 ${DEFAULT_LINUX_BOOTARGS}`;
/** RAM for a Linux guest unless told otherwise. */
export const DEFAULT_LINUX_RAM = 64 * MiB;

export interface LinuxBootOptions {
  /** The kernel: a raw RISC-V Image (arch/riscv/boot/Image), or an ELF whose segments lie in RAM. */
  kernel: Uint8Array;
  /** An initramfs (cpio, possibly compressed as the kernel supports). */
  initrd?: Uint8Array;
  /** Kernel command line; default "console=ttyS0 earlycon=sbi". */
  append?: string;
  /** RAM size in bytes. */
  ramSize?: number;
}

export interface LinuxBootConfig {
  program: Program;
  ramSize: number;
  bootargs: string;
  initrd?: { start: number; end: number };
  firmware: (machine: Machine) => void;
}

/** The fields of a RISC-V Linux Image header (Documentation/riscv/boot-image-header.rst). */
export interface ImageHeader {
  textOffset: number;
  /** Bytes the kernel occupies once running, .bss included. */
  imageSize: number;
  version: number;
}

/** Parses the 64-byte header of a RISC-V kernel Image, or null when the magic is not there. */
export function parseImageHeader(bytes: Uint8Array): ImageHeader | null {
  if (bytes.length < 64) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0x30, 0x38));
  const magic2 = v.getUint32(0x38, true);
  if (magic !== 'RISCV\0\0\0' && magic2 !== 0x05435352) return null; // "RSC\x05"
  const u64 = (o: number): number => v.getUint32(o, true) + v.getUint32(o + 4, true) * 2 ** 32;
  return { textOffset: u64(8), imageSize: u64(16), version: v.getUint32(0x28, true) };
}

/**
 * The lowest address the machine may put its device tree at for this RAM
 * size (2 MiB-aligned below the end of RAM, as core/machine.ts does),
 * assuming the tree is smaller than 1 MiB.
 */
function dtbFloor(ramBase: number, ramSize: number): number {
  return Math.floor((ramBase + ramSize - MiB) / (2 * MiB)) * 2 * MiB;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Builds the machine configuration that boots a Linux kernel with the built-in SBI. */
export function linuxBoot(opts: LinuxBootOptions): LinuxBootConfig {
  const ramSize = opts.ramSize ?? DEFAULT_LINUX_RAM;
  const ramBase = MemoryMap.ram.base;
  if (!Number.isInteger(ramSize) || ramSize % MiB !== 0 || ramSize < 8 * MiB || ramSize > 2048 * MiB) {
    throw new RewindError(
      'bad-argument',
      `Linux needs RAM of a whole number of MiB between 8 and 2048 (got ${ramSize / MiB} MiB)`,
    );
  }
  const kernelAddr = ramBase + LINUX_KERNEL_OFFSET;
  const limit = dtbFloor(ramBase, ramSize);
  const segments: Segment[] = [];
  let entry: number;
  let kernelEnd: number;
  if (isElf(opts.kernel)) {
    let program: Program;
    try {
      program = parseElf(opts.kernel, ramBase, ramSize);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new RewindError(
        'bad-image',
        `the kernel ELF cannot be loaded as is (${why}); use the raw Image (arch/riscv/boot/Image)`,
      );
    }
    segments.push(...program.segments);
    entry = program.entry;
    kernelEnd = Math.max(...program.segments.map((s) => s.addr + s.bytes.length + s.zero));
  } else {
    const header = parseImageHeader(opts.kernel);
    if (header === null) {
      throw new RewindError(
        'bad-image',
        'not a RISC-V Linux kernel Image (no "RISCV" magic at offset 0x30); give arch/riscv/boot/Image',
      );
    }
    const size = Math.max(header.imageSize, opts.kernel.length);
    segments.push({ addr: kernelAddr, bytes: opts.kernel, zero: 0 });
    entry = kernelAddr;
    kernelEnd = kernelAddr + size;
  }
  if (kernelEnd > limit) {
    throw new RewindError(
      'bad-image',
      `the kernel (${hex(kernelAddr)}..${hex(kernelEnd)}) does not fit below the device tree at ${hex(limit)}; give the machine more RAM`,
    );
  }
  let initrd: { start: number; end: number } | undefined;
  if (opts.initrd !== undefined) {
    if (opts.initrd.length === 0) throw new RewindError('bad-image', 'the initrd is empty');
    const start = Math.floor((limit - opts.initrd.length) / PAGE) * PAGE;
    // Leave the kernel room for its early allocations above its image (page tables, the DT copy).
    if (start < kernelEnd + 2 * MiB) {
      throw new RewindError(
        'bad-image',
        `the initrd (${opts.initrd.length} bytes) does not fit in RAM beside the kernel; give the machine more RAM`,
      );
    }
    segments.push({ addr: start, bytes: opts.initrd, zero: 0 });
    initrd = { start, end: start + opts.initrd.length };
  }
  return {
    program: { entry, segments, symbols: new Map() },
    ramSize,
    bootargs: opts.append ?? DEFAULT_LINUX_BOOTARGS,
    initrd,
    firmware: sbiFirmware,
  };
}
