/**
 * What a machine is built from at reset — the program and its kind, RAM
 * size, the disk image, and for Linux the initramfs and command line — so
 * that a recording can rebuild it anywhere.
 */
import { linuxBoot } from '../core/boot/linux.js';
import { RewindError } from '../core/errors.js';
import { isElf, parseElf, rawImage } from '../core/loader.js';
import { Machine } from '../core/machine.js';
import { MemoryMap } from '../core/memmap.js';

export type ProgramKind = 'elf' | 'raw' | 'linux';

export interface MachineSpec {
  kind: ProgramKind;
  /** The program: ELF bytes, a raw image loaded at the start of RAM, or a Linux kernel Image. */
  image: Uint8Array;
  /** RAM size in bytes. */
  ramSize: number;
  /** The disk image at reset, if any. */
  disk?: Uint8Array;
  /** Linux: the initramfs. */
  initrd?: Uint8Array;
  /** Linux: the kernel command line. */
  append?: string;
  /** Which executor runs the hart (not recorded: both give the same run). */
  executor?: 'interp' | 'jit';
}

/** The kind of a program file's bytes: ELF when it has the magic, raw otherwise. */
export function programKind(bytes: Uint8Array): ProgramKind {
  return isElf(bytes) ? 'elf' : 'raw';
}

/** Builds a machine at reset from its spec. */
export function buildMachine(spec: MachineSpec): Machine {
  const base = MemoryMap.ram.base;
  if (spec.kind === 'linux') {
    const boot = linuxBoot({ kernel: spec.image, initrd: spec.initrd, append: spec.append, ramSize: spec.ramSize });
    return new Machine({ ...boot, disk: spec.disk, executor: spec.executor });
  }
  const program = spec.kind === 'elf' ? parseElf(spec.image, base, spec.ramSize) : rawImage(spec.image, base, spec.ramSize);
  return new Machine({ program, ramSize: spec.ramSize, disk: spec.disk, executor: spec.executor });
}

/** The spec's options as plain data for a .vmi's config (the program and disk travel separately). */
export function specOptions(spec: MachineSpec): Record<string, unknown> {
  const options: Record<string, unknown> = { kind: spec.kind };
  if (spec.append !== undefined) options['append'] = spec.append;
  if (spec.initrd !== undefined) options['initrd'] = spec.initrd;
  return options;
}

/** Rebuilds a spec from a .vmi's config and images. */
export function specFromOptions(options: Record<string, unknown>, image: Uint8Array | null, ramSize: number, disk?: Uint8Array): MachineSpec {
  const kind = options['kind'];
  if (kind !== 'elf' && kind !== 'raw' && kind !== 'linux') throw new RewindError('bad-vmi', `unknown program kind ${JSON.stringify(kind)} in the recording`);
  if (!image) throw new RewindError('bad-vmi', 'the recording has no program image');
  const spec: MachineSpec = { kind, image, ramSize, disk };
  const append = options['append'];
  const initrd = options['initrd'];
  if (append !== undefined) {
    if (typeof append !== 'string') throw new RewindError('bad-vmi', 'the recorded kernel command line is not text');
    spec.append = append;
  }
  if (initrd !== undefined) {
    if (!(initrd instanceof Uint8Array)) throw new RewindError('bad-vmi', 'the recorded initramfs is not bytes');
    spec.initrd = initrd;
  }
  return spec;
}
