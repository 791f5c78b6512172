/**
 * Booting the Linux guest built by guests/linux/build.sh (cached in
 * .cache/linux/) on Rewind in-process, and on QEMU with our SBI shim, for
 * the tests and for measuring boot figures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linuxBoot } from '../../core/boot/linux.js';
import { Machine } from '../../core/machine.js';
import type { MachineSpec } from '../../session/spec.js';

const BUILT_DIR =
  process.env.REWIND_LINUX_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../.cache/linux');
/** A local build when there is one, else the committed guests/linux/build/. */
export const LINUX_DIR = existsSync(join(BUILT_DIR, 'Image'))
  ? BUILT_DIR
  : resolve(dirname(fileURLToPath(import.meta.url)), '../../guests/linux/build');
export const linuxFile = (name: string): string => join(LINUX_DIR, name);
export const PROMPT = 'rewind:/# ';

/** The Linux guest as a session's machine spec: kernel, initramfs, disk and 64 MiB of RAM. */
export function linuxSpec(extra: Partial<MachineSpec> = {}): MachineSpec {
  return {
    kind: 'linux',
    image: new Uint8Array(readFileSync(linuxFile('Image'))),
    initrd: new Uint8Array(readFileSync(linuxFile('initramfs.cpio'))),
    disk: new Uint8Array(readFileSync(linuxFile('disk.img'))),
    ramSize: 64 * 1024 * 1024,
    ...extra,
  };
}

/** Why the Linux tests cannot run here, or null when the built guest is there. */
export function linuxMissing(): string | null {
  for (const f of ['Image', 'initramfs.cpio', 'disk.img']) {
    if (!existsSync(linuxFile(f)))
      return `the Linux guest is not built (${linuxFile(f)} missing): run npm run build:linux`;
  }
  return null;
}

export interface LinuxSession {
  machine: Machine;
  /** Everything the console printed so far. */
  output(): string;
  /** Runs until `text` appears in the output after `from` (a string index), or the step budget runs out. */
  runUntil(text: string, maxSteps: number, from?: number): { found: boolean; steps: number; index: number };
}

export function bootLinux(opts: { append?: string; disk?: boolean; ramMiB?: number } = {}): LinuxSession {
  const config = linuxBoot({
    kernel: new Uint8Array(readFileSync(linuxFile('Image'))),
    initrd: new Uint8Array(readFileSync(linuxFile('initramfs.cpio'))),
    append: opts.append,
    ramSize: (opts.ramMiB ?? 64) * 1024 * 1024,
  });
  const disk = opts.disk === false ? undefined : new Uint8Array(readFileSync(linuxFile('disk.img')));
  const machine = new Machine({ ...config, disk });
  const bytes: number[] = [];
  let text = '';
  let decoded = 0;
  machine.onOutput = (b) => bytes.push(b);
  const output = (): string => {
    if (decoded < bytes.length) {
      text += Buffer.from(bytes.slice(decoded)).toString('latin1');
      decoded = bytes.length;
    }
    return text;
  };
  return {
    machine,
    output,
    runUntil(wanted, maxSteps, from = 0) {
      let steps = 0;
      for (;;) {
        const index = output().indexOf(wanted, from);
        if (index >= 0) return { found: true, steps, index };
        if (steps >= maxSteps || machine.power) return { found: false, steps, index: -1 };
        const r = machine.run(Math.min(2_000_000, maxSteps - steps));
        steps += r.steps;
        if (r.reason === 'idle' && machine.pendingInput === 0) {
          // Asleep waiting for input that will not come.
          const again = output().indexOf(wanted, from);
          return { found: again >= 0, steps, index: again };
        }
      }
    },
  };
}

export function qemuAvailable(): boolean {
  return spawnSync('qemu-system-riscv32', ['--version']).status === 0;
}

/**
 * Boots the same kernel on QEMU's virt machine with our SBI shim as -bios,
 * types each command after the prompt appears, and returns the console output.
 */
export async function runOnQemu(
  commands: string[],
  opts: { append?: string; timeoutMs?: number } = {},
): Promise<string> {
  const args = [
    '-machine',
    'virt',
    '-cpu',
    'rv32,sstc=off,f=off,d=off,h=off',
    '-m',
    '64M',
    '-smp',
    '1',
    '-bios',
    linuxFile('sbi-shim.bin'),
    '-kernel',
    linuxFile('Image'),
    '-initrd',
    linuxFile('initramfs.cpio'),
    '-append',
    opts.append ?? 'console=ttyS0 earlycon=sbi',
    '-drive',
    `file=${linuxFile('disk.img')},if=none,format=raw,id=hd0,snapshot=on`,
    '-device',
    'virtio-blk-device,drive=hd0',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
  ];
  const child = spawn('qemu-system-riscv32', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let next = 0;
  let searchFrom = 0;
  return await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`QEMU timed out; output so far:\n${out}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('latin1');
      const at = out.indexOf(PROMPT, searchFrom);
      if (at >= 0) {
        searchFrom = at + PROMPT.length;
        if (next < commands.length) {
          child.stdin.write(commands[next++] + '\n');
        } else {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolvePromise(out);
        }
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolvePromise(out);
    });
  });
}

/** The output of each command: the text between the command's echo and the next prompt, with \r\n as \n. */
export function commandOutputs(console: string, commands: string[]): string[] {
  const text = console.replace(/\r\n/g, '\n');
  const results: string[] = [];
  let at = text.indexOf(PROMPT);
  for (const cmd of commands) {
    if (at < 0) break;
    const start = text.indexOf(cmd + '\n', at);
    if (start < 0) break;
    const end = text.indexOf(PROMPT, start);
    results.push(text.slice(start + cmd.length + 1, end < 0 ? undefined : end));
    at = end;
  }
  return results;
}
