/**
 * What a machine is built from at reset — the program and its kind, RAM
 * size, the disk image — so that a recording can rebuild it anywhere.
 */
import { RewindError } from '../core/errors.js';
import { isElf, parseElf, rawImage } from '../core/loader.js';
import { Machine } from '../core/machine.js';
import { MemoryMap } from '../core/memmap.js';

export type ProgramKind = 'elf' | 'raw';

export interface MachineSpec {
  kind: ProgramKind;
  /** The program: ELF bytes or a raw image loaded at the start of RAM. */
  image: Uint8Array;
  /** RAM size in bytes. */
  ramSize: number;
  /** The disk image at reset, if any. */
  disk?: Uint8Array;
}

/** The kind of a program file's bytes: ELF when it has the magic, raw otherwise. */
export function programKind(bytes: Uint8Array): ProgramKind {
  return isElf(bytes) ? 'elf' : 'raw';
}

/** Builds a machine at reset from its spec. */
export function buildMachine(spec: MachineSpec): Machine {
  const base = MemoryMap.ram.base;
  const program = spec.kind === 'elf' ? parseElf(spec.image, base, spec.ramSize) : rawImage(spec.image, base, spec.ramSize);
  return new Machine({ program, ramSize: spec.ramSize, disk: spec.disk });
}

/** The spec's options as plain data for a .vmi's config (images travel separately). */
export function specOptions(spec: MachineSpec): Record<string, unknown> {
  return { kind: spec.kind };
}

/** Rebuilds a spec from a .vmi's config and images. */
export function specFromOptions(options: Record<string, unknown>, image: Uint8Array | null, ramSize: number, disk?: Uint8Array): MachineSpec {
  const kind = options['kind'];
  if (kind !== 'elf' && kind !== 'raw') throw new RewindError('bad-vmi', `unknown program kind ${JSON.stringify(kind)} in the recording`);
  if (!image) throw new RewindError('bad-vmi', 'the recording has no program image');
  return { kind, image, ramSize, disk };
}
