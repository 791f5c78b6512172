/**
 * What a machine is built from at reset — the program and its kind, RAM
 * size, the disk image, and for Linux the initramfs and command line — so
 * that a recording can rebuild it anywhere. This is the one description of
 * "what to boot": the CLI (from files), gdb, the web app (from a load
 * command) and a .vmi (from its config) all make a MachineSpec, and the
 * program's bytes are parsed once, however often a machine is built.
 */
import { SCREEN_LINUX_BOOTARGS, linuxBoot } from '../core/boot/linux.js';
import { RewindError } from '../core/errors.js';
import { isElf, parseElf, rawImage, type Program } from '../core/loader.js';
import { Machine } from '../core/machine.js';
import { MemoryMap } from '../core/memmap.js';
import { parseMac } from '../core/virtio/net.js';

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
  /** A screen: the virtio GPU, keyboard and tablet (recorded as the machine's `devices`). */
  screen?: boolean;
  /** A network device with this MAC (recorded as the machine's `devices` and `mac`). */
  net?: { mac: string };
}

/** The optional devices a .vmi names in `config.machine.devices`, which `screen` attaches together. */
export const SCREEN_DEVICES = ['virtio-gpu', 'virtio-keyboard', 'virtio-tablet'] as const;
/** The name a .vmi gives the network device in `config.machine.devices`, after the screen's. */
export const NET_DEVICE = 'virtio-net';

/** The kind of a program file's bytes: ELF when it has the magic, raw otherwise. */
export function programKind(bytes: Uint8Array): ProgramKind {
  return isElf(bytes) ? 'elf' : 'raw';
}

/** Linux's extra images and options. */
export interface LinuxParts {
  initrd?: Uint8Array;
  append?: string;
}

/**
 * The spec for program bytes: a Linux kernel when `linux` is given, else an
 * ELF when the bytes have its magic, else a raw image at the start of RAM.
 * The program is parsed (and checked) here, once.
 */
export function programSpec(
  image: Uint8Array,
  options: {
    ramSize: number;
    disk?: Uint8Array;
    linux?: LinuxParts;
    executor?: 'interp' | 'jit';
    screen?: boolean;
    net?: { mac: string };
  },
): MachineSpec {
  const { ramSize, disk, linux, executor, screen, net } = options;
  if (linux)
    return { kind: 'linux', image, initrd: linux.initrd, append: linux.append, ramSize, disk, executor, screen, net };
  const spec: MachineSpec = { kind: programKind(image), image, ramSize, disk, executor, screen, net };
  parsedProgram(spec);
  return spec;
}

/** Programs already parsed, by their bytes and RAM size: building a machine again does not parse again. */
const parsed = new WeakMap<Uint8Array, Map<number, Program>>();

function parsedProgram(spec: MachineSpec): Program {
  let bySize = parsed.get(spec.image);
  if (!bySize) parsed.set(spec.image, (bySize = new Map()));
  const key = spec.kind === 'raw' ? -spec.ramSize : spec.ramSize;
  let program = bySize.get(key);
  if (!program) {
    const base = MemoryMap.ram.base;
    program = spec.kind === 'elf' ? parseElf(spec.image, base, spec.ramSize) : rawImage(spec.image, base, spec.ramSize);
    bySize.set(key, program);
  }
  return program;
}

/** Builds a machine at reset from its spec. */
export function buildMachine(spec: MachineSpec): Machine {
  if (spec.kind === 'linux') {
    const append = spec.append ?? (spec.screen ? SCREEN_LINUX_BOOTARGS : undefined);
    const boot = linuxBoot({ kernel: spec.image, initrd: spec.initrd, append, ramSize: spec.ramSize });
    return new Machine({ ...boot, disk: spec.disk, executor: spec.executor, screen: spec.screen, net: netOf(spec) });
  }
  return new Machine({
    program: parsedProgram(spec),
    ramSize: spec.ramSize,
    disk: spec.disk,
    executor: spec.executor,
    screen: spec.screen,
    net: netOf(spec),
  });
}

function netOf(spec: MachineSpec): { mac: number[] } | undefined {
  if (!spec.net) return undefined;
  const mac = parseMac(spec.net.mac);
  if (!mac) throw new RewindError('bad-argument', `${JSON.stringify(spec.net.mac)} is not a MAC (xx:xx:xx:xx:xx:xx)`);
  return { mac };
}

/** The spec's options as plain data for a .vmi's config (the program and disk travel separately). */
export function specOptions(spec: MachineSpec): Record<string, unknown> {
  const options: Record<string, unknown> = { kind: spec.kind };
  if (spec.append !== undefined) options['append'] = spec.append;
  if (spec.initrd !== undefined) options['initrd'] = spec.initrd;
  // Left out without them, so that such a recording's bytes are as before.
  const devices = [...(spec.screen ? SCREEN_DEVICES : []), ...(spec.net ? [NET_DEVICE] : [])];
  if (devices.length > 0) options['devices'] = devices;
  if (spec.net) options['mac'] = spec.net.mac;
  return options;
}

/** Rebuilds a spec from a .vmi's config and images. */
export function specFromOptions(
  options: Record<string, unknown>,
  image: Uint8Array | null,
  ramSize: number,
  disk?: Uint8Array,
): MachineSpec {
  const kind = options['kind'];
  if (kind !== 'elf' && kind !== 'raw' && kind !== 'linux')
    throw new RewindError('bad-vmi', `unknown program kind ${JSON.stringify(kind)} in the recording`);
  if (!image) throw new RewindError('bad-vmi', 'the recording has no program image');
  const spec: MachineSpec = { kind, image, ramSize, disk };
  const append = options['append'];
  const initrd = options['initrd'];
  const devices = options['devices'];
  if (devices !== undefined) {
    const list = Array.isArray(devices) ? [...(devices as unknown[])] : [];
    const net = list[list.length - 1] === NET_DEVICE;
    if (net) list.pop();
    const screen = list.length === SCREEN_DEVICES.length && SCREEN_DEVICES.every((d) => list.includes(d));
    if (!Array.isArray(devices) || (list.length > 0 && !screen) || (!net && !screen))
      throw new RewindError(
        'bad-vmi',
        `the recording's machine has devices this Rewind does not know: ${JSON.stringify(devices).slice(0, 200)}`,
      );
    if (screen) spec.screen = true;
    if (net) {
      const mac = options['mac'];
      if (typeof mac !== 'string' || !parseMac(mac))
        throw new RewindError('bad-vmi', "the recording's network device has no valid MAC");
      spec.net = { mac };
    }
  }
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
