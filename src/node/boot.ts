/** Building a machine from the user's files (Node side). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RewindError } from '../../core/errors.js';
import { isElf } from '../../core/loader.js';
import { DEFAULT_RAM_MIB } from '../../core/machine.js';
import { programSpec, type MachineSpec } from '../../session/spec.js';
import { readUserFile } from './files.js';

export interface BootOptions {
  /** A program: ELF or raw image (not with `kernel`). */
  program?: string;
  /** A Linux kernel Image, started by the built-in SBI firmware. */
  kernel?: string;
  initrd?: string;
  append?: string;
  ramMiB?: number;
  disk?: string;
  /** Treat the program as a raw image even without a .bin/.img extension. */
  raw?: boolean;
  executor?: 'interp' | 'jit';
  /** Attach a screen: the virtio GPU, keyboard and tablet. */
  screen?: boolean;
  /** Attach a network device (virtio-net) with this MAC. */
  mac?: string;
}

/** Flags every command that boots a machine accepts. */
export const BOOT_FLAGS = {
  disk: 'string',
  ram: 'number',
  raw: 'boolean',
  kernel: 'string',
  initrd: 'string',
  append: 'string',
  linux: 'boolean',
  executor: 'string',
  screen: 'boolean',
  net: 'boolean',
} as const;

const RAW_EXTENSIONS = /\.(bin|img|raw|image)$/i;

/** A program file's bytes: an ELF, or a raw image when the name or --raw says so. */
function readProgram(path: string, raw = false): Uint8Array {
  const bytes = readUserFile(path, 'program');
  if (isElf(bytes) || raw || RAW_EXTENSIONS.test(path)) return bytes;
  throw new RewindError(
    'bad-elf',
    `${path} is not an ELF file (for a raw image at 0x80000000 use a .bin extension or --raw)`,
  );
}

export function ramBytes(ramMiB: number | undefined): number {
  const mib = ramMiB ?? DEFAULT_RAM_MIB;
  if (!Number.isInteger(mib) || mib < 1 || mib > 2048) {
    throw new RewindError('bad-argument', `--ram must be between 1 and 2048 MiB (got ${mib})`);
  }
  return mib * 1024 * 1024;
}

/**
 * Where the Linux guest's kernel, initramfs and disk are: what `npm run
 * build:linux` built ($REWIND_LINUX_DIR, else .cache/linux) when it is
 * there, else the committed build in guests/linux/build/.
 */
export function linuxDir(): string {
  // This file runs from src/node/ (tests) or dist/src/node/ (the CLI): the repository is two or three levels up.
  const root = new URL('../..', import.meta.url).pathname.replace(/\/dist\/$/, '/');
  const built = process.env['REWIND_LINUX_DIR'] ?? join(root, '.cache/linux');
  return existsSync(join(built, 'Image')) ? built : join(root, 'guests/linux/build');
}

/** `--linux`: the guest that `npm run build:linux` built, else the committed one. */
export function builtLinux(): Pick<BootOptions, 'kernel' | 'initrd' | 'disk'> {
  const dir = linuxDir();
  const kernel = join(dir, 'Image');
  if (!existsSync(kernel))
    throw new RewindError('not-found', `no Linux guest in ${dir}: run npm run build:linux first`);
  const initrd = join(dir, 'initramfs.cpio');
  const disk = join(dir, 'disk.img');
  return { kernel, initrd: existsSync(initrd) ? initrd : undefined, disk: existsSync(disk) ? disk : undefined };
}

/** The machine spec the options describe, with every file read and checked. */
export function bootSpec(options: BootOptions): MachineSpec {
  const ramSize = ramBytes(options.ramMiB);
  const disk = options.disk ? readUserFile(options.disk, 'disk image') : undefined;
  if (disk && disk.length < 512)
    throw new RewindError('bad-argument', `disk image ${options.disk} is smaller than one 512-byte sector`);
  const { executor, screen } = options;
  const net = options.mac === undefined ? undefined : { mac: options.mac };
  if (options.kernel) {
    if (options.program) throw new RewindError('bad-argument', 'give either a program or --kernel, not both');
    const initrd = options.initrd ? readUserFile(options.initrd, 'initrd') : undefined;
    return programSpec(readUserFile(options.kernel, 'kernel'), {
      ramSize,
      disk,
      executor,
      screen,
      net,
      linux: { initrd, append: options.append },
    });
  }
  if (options.initrd || options.append !== undefined)
    throw new RewindError('bad-argument', '--initrd and --append go with --kernel');
  if (!options.program) throw new RewindError('bad-argument', 'no program given');
  return programSpec(readProgram(options.program, options.raw), { ramSize, disk, executor, screen, net });
}
