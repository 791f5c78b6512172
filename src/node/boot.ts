/** Building a machine from the user's files (Node side). */
import { RewindError } from '../../core/errors.js';
import { isElf, parseElf, rawImage, type Program } from '../../core/loader.js';
import { DEFAULT_RAM_MIB, Machine } from '../../core/machine.js';
import { MemoryMap } from '../../core/memmap.js';
import { readUserFile } from './files.js';

export interface BootOptions {
  program: string;
  ramMiB?: number;
  disk?: string;
  diskReadOnly?: boolean;
  /** Treat the program as a raw image even without a .bin/.img extension. */
  raw?: boolean;
}

const RAW_EXTENSIONS = /\.(bin|img|raw|image)$/i;

export function loadProgram(path: string, ramSize: number, raw = false): { program: Program; image: Uint8Array } {
  const bytes = readUserFile(path, 'program');
  if (isElf(bytes)) return { program: parseElf(bytes, MemoryMap.ram.base, ramSize), image: bytes };
  if (raw || RAW_EXTENSIONS.test(path)) return { program: rawImage(bytes, MemoryMap.ram.base, ramSize), image: bytes };
  throw new RewindError('bad-elf', `${path} is not an ELF file (for a raw image at 0x80000000 use a .bin extension or --raw)`);
}

export function ramBytes(ramMiB: number | undefined): number {
  const mib = ramMiB ?? DEFAULT_RAM_MIB;
  if (!Number.isInteger(mib) || mib < 1 || mib > 2048) {
    throw new RewindError('bad-argument', `--ram must be between 1 and 2048 MiB (got ${mib})`);
  }
  return mib * 1024 * 1024;
}

export function bootMachine(options: BootOptions): { machine: Machine; image: Uint8Array; disk?: Uint8Array } {
  const ramSize = ramBytes(options.ramMiB);
  const { program, image } = loadProgram(options.program, ramSize, options.raw);
  const disk = options.disk ? readUserFile(options.disk, 'disk image') : undefined;
  if (disk && disk.length < 512) throw new RewindError('bad-argument', `disk image ${options.disk} is smaller than one 512-byte sector`);
  const machine = new Machine({ program, ramSize, disk, diskReadOnly: options.diskReadOnly });
  return { machine, image, disk };
}
