/**
 * Running a guest to completion the way the differential tests need: on
 * Rewind in-process and on QEMU as a subprocess, with the same input, and
 * the console output and exit status of each.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseElf } from '../../core/loader.js';
import { Machine } from '../../core/machine.js';
import { MemoryMap } from '../../core/memmap.js';

export interface GuestRun {
  output: string;
  status: number;
}

export interface GuestOptions {
  input?: Uint8Array;
  disk?: string;
  ramMiB?: number;
  maxSteps?: number;
}

export const QEMU = 'qemu-system-riscv32';

export function qemuAvailable(): boolean {
  return spawnSync(QEMU, ['--version']).status === 0;
}

/** Exit status for a run that hit the step limit, as the CLI reports it. */
export const LIMIT_STATUS = 124;
export const STUCK_STATUS = 125;

export function runOnRewind(elfPath: string, options: GuestOptions = {}): GuestRun {
  const ramSize = (options.ramMiB ?? 64) * 1024 * 1024;
  const program = parseElf(new Uint8Array(readFileSync(elfPath)), MemoryMap.ram.base, ramSize);
  const disk = options.disk ? new Uint8Array(readFileSync(options.disk)) : undefined;
  const machine = new Machine({ program, ramSize, disk });
  const out: number[] = [];
  machine.onOutput = (b) => out.push(b);
  if (options.input) machine.type(options.input);
  const max = options.maxSteps ?? 2_000_000_000;
  let status = LIMIT_STATUS;
  while (machine.position < max) {
    const r = machine.run(Math.min(10_000_000, max - machine.position));
    if (r.reason === 'power') {
      status = machine.power!.kind === 'fail' ? (machine.power as { code: number }).code & 0xff : 0;
      break;
    }
    if (r.reason === 'idle') {
      status = STUCK_STATUS;
      break;
    }
  }
  return { output: Buffer.from(out).toString('latin1'), status };
}

export function runOnQemu(elfPath: string, options: GuestOptions = {}, timeoutMs = 30_000): GuestRun {
  const args = [
    '-machine',
    'virt',
    '-bios',
    'none',
    '-kernel',
    elfPath,
    '-m',
    `${options.ramMiB ?? 64}M`,
    '-cpu',
    'rv32,f=off,d=off,h=off,sstc=off',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
  ];
  if (options.disk) {
    if (!existsSync(options.disk)) throw new Error(`missing disk image ${options.disk}`);
    args.push(
      '-global',
      'virtio-mmio.force-legacy=false',
      '-drive',
      `file=${options.disk},if=none,format=raw,id=hd0,snapshot=on`,
      '-device',
      'virtio-blk-device,drive=hd0',
    );
  }
  const r = spawnSync(QEMU, args, {
    input: options.input ?? new Uint8Array(0),
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  return { output: r.stdout.toString('latin1'), status: r.status ?? -1 };
}
