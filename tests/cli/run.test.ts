/** `rewind run`: the console contract, exit statuses and bad input. */
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expected, guest, rewind, tempDir } from '../support/cli.js';

describe('rewind run', () => {
  it('prints the guest output byte for byte and exits 0 on pass', () => {
    const r = rewind(['run', guest('hello')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(expected('hello.out'), 'latin1'));
    expect(r.stderr).toBe('');
  });

  it('runs a raw image at 0x80000000', () => {
    const r = rewind(['run', guest('hello').replace(/\.elf$/, '.bin')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(expected('hello.out'), 'latin1'));
  });

  it('takes piped stdin and --input-file alike', () => {
    const input = readFileSync(expected('echo.in'));
    const piped = rewind(['run', guest('echo')], input);
    const file = rewind(['run', guest('echo'), '--input-file', expected('echo.in')]);
    expect(piped.stdout).toBe(readFileSync(expected('echo.out'), 'latin1'));
    expect(file.stdout).toBe(piped.stdout);
    expect(file.status).toBe(0);
  });

  it("exits with the guest's fail code", () => {
    const r = rewind(['run', guest('default'), '--input-file', expected('default-crash.in')]);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('*** crash: mcause=0x00000005');
  });

  it('exits 124 when --max-instructions runs out, and --stats reports on stderr', () => {
    const r = rewind(['run', guest('bench-short'), '--max-instructions', '100000', '--stats']);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/instructions: \d+/);
    expect(r.stderr).toMatch(/MIPS: [\d.]+/);
  });

  it('exits 125 when the guest waits for input that has ended', () => {
    const r = rewind(['run', guest('irqecho')], 'abc');
    expect(r.stdout).toContain('ABC');
    expect(r.status).toBe(125);
  });

  it('exits 125 when the guest polls the UART for input that has ended', () => {
    const r = rewind(['run', guest('echo')], 'echo hi\n');
    expect(r.stdout).toContain('hi');
    expect(r.status).toBe(125);
  });

  it('works on a copy of the disk unless --write-disk is given', () => {
    const dir = tempDir();
    const disk = join(dir, 'disk.img');
    copyFileSync(join(guest('virtio'), '../../virtio/disk.img'), disk);
    const before = readFileSync(disk);
    expect(rewind(['run', guest('virtio'), '--disk', disk]).status).toBe(0);
    expect(readFileSync(disk).equals(before)).toBe(true);
    expect(rewind(['run', guest('virtio'), '--disk', disk, '--write-disk']).status).toBe(0);
    expect(readFileSync(disk).equals(before)).toBe(false);
  });

  describe('bad input: one line on stderr, exit 2, no stack trace', () => {
    const dir = tempDir();
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello');
    const truncated = join(dir, 'trunc.elf');
    writeFileSync(truncated, readFileSync(guest('hello')).subarray(0, 200));
    const elf64 = join(dir, 'x64.elf');
    const b = Buffer.from(readFileSync(guest('hello')));
    b[4] = 2;
    writeFileSync(elf64, b);
    const arm = join(dir, 'arm.elf');
    const c = Buffer.from(readFileSync(guest('hello')));
    c.writeUInt16LE(40, 18);
    writeFileSync(arm, c);
    const cases: [string, string[], RegExp][] = [
      ['missing file', ['run', join(dir, 'nope.elf')], /cannot open program .*no such file/],
      ['not an ELF', ['run', text], /not an ELF/],
      ['truncated ELF', ['run', truncated], /truncated/],
      ['64-bit ELF', ['run', elf64], /not a 32-bit ELF/],
      ['other machine', ['run', arm], /not a RISC-V ELF/],
      ['segments outside RAM', ['run', guest('hello'), '--ram', '1'], /outside RAM|device tree/],
      ['unknown flag', ['run', guest('hello'), '--frobnicate'], /unknown option --frobnicate/],
      ['bad number', ['run', guest('hello'), '--max-instructions', 'lots'], /whole number/],
      ['no program', ['run'], /usage/],
    ];
    it.each(cases)('%s', (_name, args, message) => {
      const r = rewind(args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    });
  });
});
