/**
 * Linux (32-bit, Sv32 MMU) boots on Rewind to our shell, and answers typed
 * commands; the same kernel gives the same answers on QEMU's virt machine.
 * Needs the guest built by `npm run build:linux` (cached in .cache/linux/);
 * skipped with the reason otherwise.
 */
import { describe, expect, it } from 'vitest';
import { PROMPT, bootLinux, commandOutputs, linuxFile, linuxMissing, qemuAvailable, runOnQemu } from './linux-run.js';
import { existsSync } from 'node:fs';

const missing = linuxMissing();
const BOOT_BUDGET = 400_000_000;
const COMMAND_BUDGET = 200_000_000;

/** Types a line and runs until the prompt after its output; returns the output (\r\n as \n). */
function command(session: ReturnType<typeof bootLinux>, line: string): string {
  const from = session.output().length;
  session.machine.type(new TextEncoder().encode(line + '\n'));
  const r = session.runUntil(PROMPT, COMMAND_BUDGET, from);
  expect(r.found, `no prompt after "${line}"; output:\n${session.output().slice(from)}`).toBe(true);
  const text = session.output().slice(from, r.index).replace(/\r\n/g, '\n');
  expect(text.startsWith(line + '\n'), `the tty did not echo "${line}": ${JSON.stringify(text)}`).toBe(true);
  return text.slice(line.length + 1);
}

describe.skipIf(missing !== null)(`Linux on Rewind${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('boots to the shell prompt and runs typed commands', () => {
    const session = bootLinux();
    const boot = session.runUntil(PROMPT, BOOT_BUDGET);
    expect(boot.found, `no prompt; output:\n${session.output()}`).toBe(true);
    const out = session.output();
    expect(out).toContain('SBI specification v2.0 detected');
    expect(out).toContain('ttyS0 at MMIO 0x10000000');
    expect(out).toContain('Welcome to Linux on Rewind');
    expect(command(session, 'echo hello from the shell')).toBe('hello from the shell\n');
    expect(command(session, 'cat /mnt/hello.txt')).toMatch(/No such file/);
    expect(command(session, 'mount /dev/vda /mnt')).toBe('mounted /dev/vda on /mnt (ext2)\n');
    expect(command(session, 'cat /mnt/hello.txt')).toBe('Hello from an ext2 file system on a virtio disk!\n');
    expect(command(session, 'ls /mnt')).toContain('README.txt');
    expect(command(session, 'ps')).toMatch(/\s1\s+0 S init\n/);
    expect(command(session, 'uptime')).toMatch(/^up \d+\.\d+ seconds/);
    // A program that dies of a segfault; the kernel reports it and the shell lives on.
    const crash = command(session, 'crash');
    expect(crash).toContain('unhandled signal 11');
    expect(crash).toContain('Segmentation fault\n');
    // Writing to the disk, reading it back.
    expect(command(session, 'echo written by Linux > /mnt/new.txt')).toBe('');
    expect(command(session, 'cat /mnt/new.txt')).toBe('written by Linux\n');
    expect(command(session, 'primes 30')).toMatch(/^2 3 5 7 11 13 17 19 23 29 \n10 primes below 30/);
    // poweroff goes through SBI system reset.
    session.machine.type(new TextEncoder().encode('poweroff\n'));
    session.runUntil('Power down', COMMAND_BUDGET);
    session.machine.run(10_000_000);
    expect(session.machine.power).toEqual({ kind: 'pass' });
  });

  it('keeps what is typed before the UART driver starts', () => {
    const session = bootLinux();
    session.machine.type(new TextEncoder().encode('echo typed-before-boot\n'));
    const boot = session.runUntil(PROMPT, BOOT_BUDGET);
    expect(boot.found).toBe(true);
    const r = session.runUntil(`${PROMPT}`, COMMAND_BUDGET, boot.index + PROMPT.length);
    expect(r.found, session.output()).toBe(true);
    expect(session.output().replace(/\r\n/g, '\n')).toContain(`${PROMPT}typed-before-boot\n`);
    expect(session.machine.pendingInput).toBe(0);
  });

  it('is deterministic: two boots print the same bytes at the same positions', () => {
    const a = bootLinux();
    const b = bootLinux();
    const ra = a.runUntil(PROMPT, BOOT_BUDGET);
    const rb = b.runUntil(PROMPT, BOOT_BUDGET);
    expect(rb.steps).toBe(ra.steps);
    expect(b.output()).toBe(a.output());
    expect(b.machine.position).toBe(a.machine.position);
  });
});

const COMPARED = [
  'echo same on both',
  'ls /',
  'mount /dev/vda /mnt',
  'ls /mnt',
  'cat /mnt/hello.txt',
  'cat /mnt/notes/fox.txt',
  'uname -a',
];
const noQemu = !qemuAvailable()
  ? 'qemu-system-riscv32 is not installed'
  : !existsSync(linuxFile('sbi-shim.bin'))
    ? 'sbi-shim.bin is not built'
    : null;

describe.skipIf(missing !== null || noQemu !== null)(
  `the same kernel on QEMU${(missing ?? noQemu) ? ` (skipped: ${missing ?? noQemu})` : ''}`,
  () => {
    it('gives the same command outputs as on Rewind', async () => {
      const qemu = await runOnQemu(COMPARED, { timeoutMs: 90_000 });
      const session = bootLinux();
      expect(session.runUntil(PROMPT, BOOT_BUDGET).found).toBe(true);
      const rewind = COMPARED.map((c) => command(session, c));
      const onQemu = commandOutputs(qemu, COMPARED);
      expect(onQemu).toHaveLength(COMPARED.length);
      expect(rewind).toEqual(onQemu);
    }, 120_000);
  },
);
