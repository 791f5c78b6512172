/** The options every booting command shares: a program, or a Linux kernel (--kernel/--linux). */
import { RewindError } from '../../core/errors.js';
import { DEFAULT_MAC } from '../../core/virtio/net.js';
import { builtLinux, type BootOptions } from '../node/boot.js';
import { numberFlag, stringFlag, type ParsedArgs } from './args.js';

export const BOOT_USAGE = '<prog.elf|image.bin> | --kernel Image [--initrd F] [--append CMDLINE] | --linux';

/** Reads the program (the one positional argument) or the kernel options, and the disk and RAM. */
export function bootOptions(args: ParsedArgs, usage: string): BootOptions {
  const linux = args.flags.has('linux') ? builtLinux() : {};
  const kernel = stringFlag(args, 'kernel') ?? linux.kernel;
  const executor = stringFlag(args, 'executor') ?? 'jit';
  if (executor !== 'interp' && executor !== 'jit')
    throw new RewindError('bad-argument', `--executor must be interp or jit, not "${executor}"`);
  const wanted = kernel ? 0 : 1;
  if (args.positional.length !== wanted)
    throw new RewindError('bad-argument', `usage: ${usage.replace(/\s*\n\s*/g, ' ')}`);
  return {
    program: args.positional[0],
    kernel,
    initrd: stringFlag(args, 'initrd') ?? linux.initrd,
    append: stringFlag(args, 'append'),
    disk: stringFlag(args, 'disk') ?? linux.disk,
    ramMiB: numberFlag(args, 'ram'),
    raw: args.flags.has('raw'),
    executor,
    screen: args.flags.has('screen'),
    mac: args.flags.has('net') ? DEFAULT_MAC : undefined,
  };
}
