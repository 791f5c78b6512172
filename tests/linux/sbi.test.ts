/**
 * The built-in SBI firmware (core/firmware/sbi.ts) and the Linux boot
 * layout (core/boot/linux.ts), on small hand-assembled programs: these need
 * no kernel.
 */
import { describe, expect, it } from 'vitest';
import { linuxBoot, parseImageHeader } from '../../core/boot/linux.js';
import { IRQ, MSTATUS, Priv } from '../../core/csr.js';
import { RewindError } from '../../core/errors.js';
import { MEDELEG, MIDELEG, SBI_SPEC_VERSION, SbiError, SbiExt, sbiFirmware } from '../../core/firmware/sbi.js';
import { Machine } from '../../core/machine.js';

const MiB = 1024 * 1024;
const KERNEL = 0x80400000;

// A few RV32I encodings, enough for the test programs.
const addi = (rd: number, rs1: number, imm: number): number =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13) >>> 0;
const lui = (rd: number, imm20: number): number => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37) >>> 0;
const ECALL = 0x00000073;
const jal = (rd: number, off: number): number =>
  ((((off >> 20) & 1) << 31) |
    (((off >> 1) & 0x3ff) << 21) |
    (((off >> 11) & 1) << 20) |
    (((off >> 12) & 0xff) << 12) |
    (rd << 7) |
    0x6f) >>>
  0;
const blt = (rs1: number, rs2: number, off: number): number =>
  ((((off >> 12) & 1) << 31) |
    (((off >> 5) & 0x3f) << 25) |
    (rs2 << 20) |
    (rs1 << 15) |
    (4 << 12) |
    (((off >> 1) & 0xf) << 8) |
    (((off >> 11) & 1) << 7) |
    0x63) >>>
  0;
const A0 = 10;
const A1 = 11;
const A6 = 16;
const A7 = 17;

function program(words: number[]): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const v = new DataView(bytes.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, w, true));
  return bytes;
}

function machineWith(words: number[]): { machine: Machine; out: number[] } {
  const machine = new Machine({
    program: { entry: KERNEL, segments: [{ addr: KERNEL, bytes: program(words), zero: 0 }], symbols: new Map() },
    ramSize: 16 * MiB,
    firmware: sbiFirmware,
  });
  const out: number[] = [];
  machine.onOutput = (b) => out.push(b);
  return { machine, out };
}

/** Performs one SBI call through the firmware hook, as an ecall from S-mode at the entry would. */
function call(machine: Machine, eid: number, fid: number, ...args: number[]): { error: number; value: number } {
  const cpu = machine.cpu;
  cpu.x[A7] = eid;
  cpu.x[A6] = fid;
  args.forEach((a, i) => (cpu.x[A0 + i] = a | 0));
  const pc = cpu.pc;
  expect(cpu.firmware!(9, false, 0, pc)).toBe(true);
  expect(cpu.pc >>> 0).toBe((pc + 4) >>> 0);
  cpu.pc = pc;
  return { error: cpu.x[A0]!, value: cpu.x[A1]! };
}

const LOOP = jal(0, 0);

describe('built-in SBI firmware', () => {
  it('starts the kernel in S-mode with delegation, counters and PMP set up', () => {
    const { machine } = machineWith([LOOP]);
    const cpu = machine.cpu;
    expect(cpu.priv).toBe(Priv.S);
    expect(cpu.pc >>> 0).toBe(KERNEL);
    expect(cpu.x[A0]).toBe(0);
    expect(cpu.x[A1]! >>> 0).toBe(machine.dtbAddress);
    expect(cpu.medeleg).toBe(MEDELEG & 0xb3ff);
    expect(cpu.mideleg).toBe(MIDELEG);
    expect(cpu.mcounteren).toBe(7);
    expect(cpu.mstatus & MSTATUS.SIE).toBe(0);
    // S-mode can read time: run rdtime (csrrs a0, time, x0) and no trap is taken.
    const m2 = machineWith([0xc0102573, LOOP]).machine;
    m2.run(5);
    expect(m2.cpu.pc >>> 0).toBe(KERNEL + 4);
    expect(m2.cpu.traps).toBe(0);
  });

  it('answers the base extension', () => {
    const { machine } = machineWith([LOOP]);
    expect(call(machine, SbiExt.BASE, 0)).toEqual({ error: 0, value: SBI_SPEC_VERSION });
    for (const ext of [SbiExt.TIME, SbiExt.IPI, SbiExt.RFENCE, SbiExt.HSM, SbiExt.SRST, SbiExt.LEGACY_PUTCHAR]) {
      expect(call(machine, SbiExt.BASE, 3, ext).value).toBe(1);
    }
    expect(call(machine, SbiExt.BASE, 3, 0x12345678).value).toBe(0);
    expect(call(machine, 0x12345678, 0).error).toBe(SbiError.NOT_SUPPORTED);
    expect(call(machine, SbiExt.BASE, 99).error).toBe(SbiError.NOT_SUPPORTED);
  });

  it('writes the console with the legacy putchar and DBCN', () => {
    const { machine, out } = machineWith([LOOP]);
    call(machine, SbiExt.LEGACY_PUTCHAR, 0, 0x41);
    call(machine, SbiExt.DBCN, 2, 0x42);
    expect(String.fromCharCode(...out)).toBe('AB');
  });

  it('echoes typed input with legacy getchar/putchar, losing nothing typed early', () => {
    // loop: a7 = 2; ecall; if a0 < 0 goto loop; a7 = 1; ecall; goto loop
    const { machine, out } = machineWith([addi(A7, 0, 2), ECALL, blt(A0, 0, -8), addi(A7, 0, 1), ECALL, jal(0, -20)]);
    machine.type(new TextEncoder().encode('hello'));
    machine.run(10_000);
    expect(String.fromCharCode(...out)).toBe('hello');
    expect(machine.pendingInput).toBe(0);
  });

  it('forwards the machine timer to S-mode as STIP until the next set_timer', () => {
    const { machine } = machineWith([LOOP]);
    const cpu = machine.cpu;
    const now = cpu.time();
    call(machine, SbiExt.TIME, 0, now + 1000, 0);
    expect(cpu.mie & IRQ.MTI).toBe(IRQ.MTI);
    expect(cpu.mip() & IRQ.STI).toBe(0);
    machine.run(500);
    expect(cpu.mip() & IRQ.STI).toBe(0);
    machine.run(1000);
    expect(cpu.mip() & IRQ.STI).toBe(IRQ.STI);
    expect(cpu.mie & IRQ.MTI).toBe(0);
    expect(cpu.priv).toBe(Priv.S);
    // The next set_timer clears STIP; a deadline far away keeps it clear.
    call(machine, SbiExt.LEGACY_SET_TIMER, 0, 0xffffffff, 0xffffffff);
    machine.run(100);
    expect(cpu.mip() & IRQ.STI).toBe(0);
  });

  it('delivers the forwarded timer to the S-mode handler and wakes a sleeping hart', () => {
    // S-mode: stvec = handler, sie.STIE, sstatus.SIE, set_timer(now + 5000), wfi; handler: a0 = 0x77, loop.
    const handler = KERNEL + 4 * 12;
    const { machine } = machineWith([
      lui(5, (handler >>> 12) + (handler & 0x800 ? 1 : 0)),
      addi(5, 5, handler & 0xfff), // t0 = handler
      0x10529073, // csrw stvec, t0
      addi(5, 0, 0x20),
      0x10429073, // csrw sie, t0 (STIE)
      0x10016073, // csrsi sstatus, SIE (2)
      0xc0102573, // rdtime a0
      addi(A0, A0, 2000),
      addi(A1, 0, 0),
      addi(A7, 0, 0),
      ECALL, // legacy set_timer(now + 2000)
      0x10500073, // wfi
      addi(A0, 0, 0x77),
      LOOP,
    ]);
    const r = machine.run(100_000);
    expect(r.reason).toBe('limit');
    expect(machine.cpu.x[A0]).toBe(0x77);
    expect(machine.cpu.scause >>> 0).toBe(0x80000005);
  });

  it('powers off, fails and resets through SRST and the legacy shutdown', () => {
    let { machine } = machineWith([LOOP]);
    call(machine, SbiExt.SRST, 0, 0, 0);
    expect(machine.power).toEqual({ kind: 'pass' });
    ({ machine } = machineWith([LOOP]));
    call(machine, SbiExt.SRST, 0, 0, 1);
    expect(machine.power?.kind).toBe('fail');
    ({ machine } = machineWith([LOOP]));
    call(machine, SbiExt.SRST, 0, 1, 0);
    expect(machine.power).toEqual({ kind: 'reset' });
    ({ machine } = machineWith([LOOP]));
    expect(call(machine, SbiExt.SRST, 0, 7, 0).error).toBe(SbiError.INVALID_PARAM);
    expect(machine.power).toBeNull();
    ({ machine } = machineWith([addi(A7, 0, 8), ECALL, LOOP]));
    expect(machine.run(100).reason).toBe('power');
    expect(machine.power).toEqual({ kind: 'pass' });
  });

  it('reports one started hart through HSM', () => {
    const { machine } = machineWith([LOOP]);
    expect(call(machine, SbiExt.HSM, 2, 0)).toEqual({ error: 0, value: 0 });
    expect(call(machine, SbiExt.HSM, 2, 1).error).toBe(SbiError.INVALID_PARAM);
    expect(call(machine, SbiExt.HSM, 0, 0, 0, 0).error).toBe(SbiError.ALREADY_AVAILABLE);
  });

  it('sends an IPI to itself as SSIP and clears it with the legacy clear_ipi', () => {
    const { machine } = machineWith([LOOP]);
    call(machine, SbiExt.IPI, 0, 1, 0);
    expect(machine.cpu.mip() & IRQ.SSI).toBe(IRQ.SSI);
    call(machine, SbiExt.LEGACY_CLEAR_IPI, 0);
    expect(machine.cpu.mip() & IRQ.SSI).toBe(0);
    expect(call(machine, SbiExt.RFENCE, 1, 1, 0, 0, 0).error).toBe(0);
  });

  it('redirects an exception the kernel did not delegate to its S-mode handler', () => {
    const { machine } = machineWith([LOOP]);
    const cpu = machine.cpu;
    cpu.stvec = 0x80401000;
    cpu.mstatus |= MSTATUS.SIE;
    expect(cpu.firmware!(2, false, 0x1234, KERNEL)).toBe(true);
    expect(cpu.pc >>> 0).toBe(0x80401000);
    expect(cpu.scause).toBe(2);
    expect(cpu.sepc >>> 0).toBe(KERNEL);
    expect(cpu.stval).toBe(0x1234);
    expect(cpu.mstatus & MSTATUS.SPP).toBe(MSTATUS.SPP);
    expect(cpu.mstatus & MSTATUS.SPIE).toBe(MSTATUS.SPIE);
    expect(cpu.mstatus & MSTATUS.SIE).toBe(0);
  });

  it('installs itself again after a reset', () => {
    const { machine } = machineWith([
      addi(A7, 0, 0x10),
      lui(A7, 0x53525),
      addi(A7, A7, 0x354),
      addi(A6, 0, 0),
      addi(A0, 0, 1),
      addi(A1, 0, 0),
      ECALL,
      LOOP,
    ]);
    machine.run(20); // SRST cold reboot: the machine resets and runs on
    expect(machine.cpu.priv).toBe(Priv.S);
    expect(machine.cpu.firmware).not.toBeNull();
  });
});

function fakeImage(size: number, imageSize = size): Uint8Array {
  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, 0x0000006f, true); // j . (code0)
  v.setUint32(8, 0x400000, true); // text_offset
  v.setUint32(16, imageSize, true);
  bytes.set(new TextEncoder().encode('RISCV\0\0\0'), 0x30);
  v.setUint32(0x38, 0x05435352, true);
  return bytes;
}

describe('linuxBoot', () => {
  it('puts the kernel at RAM + 4 MiB and the initrd page-aligned below the device tree', () => {
    const initrd = new Uint8Array(300_000).fill(7);
    const config = linuxBoot({ kernel: fakeImage(1 * MiB, 3 * MiB), initrd, ramSize: 64 * MiB });
    expect(config.program.entry).toBe(KERNEL);
    expect(config.program.segments[0]!.addr).toBe(KERNEL);
    expect(config.bootargs).toBe('console=ttyS0 earlycon=sbi');
    const machine = new Machine(config);
    const { start, end } = config.initrd!;
    expect(start % 4096).toBe(0);
    expect(end - start).toBe(initrd.length);
    expect(end).toBeLessThanOrEqual(machine.dtbAddress);
    expect(start).toBeGreaterThan(KERNEL + 3 * MiB);
    expect(machine.ram.bytes[start - 0x80000000]).toBe(7);
    expect(machine.cpu.priv).toBe(Priv.S);
    expect(machine.cpu.pc >>> 0).toBe(KERNEL);
  });

  it('reads the Image header', () => {
    expect(parseImageHeader(fakeImage(4096, 123456))).toEqual({ textOffset: 0x400000, imageSize: 123456, version: 0 });
    expect(parseImageHeader(new Uint8Array(4096))).toBeNull();
  });

  it('rejects what is not a kernel Image, and kernels or initrds that do not fit', () => {
    expect(() => linuxBoot({ kernel: new Uint8Array(4096), ramSize: 64 * MiB })).toThrow(
      /not a RISC-V Linux kernel Image/,
    );
    expect(() => linuxBoot({ kernel: new Uint8Array(4096), ramSize: 64 * MiB })).toThrow(RewindError);
    expect(() => linuxBoot({ kernel: fakeImage(4096, 40 * MiB), ramSize: 32 * MiB })).toThrow(/does not fit/);
    expect(() =>
      linuxBoot({ kernel: fakeImage(4096, 4 * MiB), initrd: new Uint8Array(30 * MiB), ramSize: 32 * MiB }),
    ).toThrow(/initrd/);
    expect(() => linuxBoot({ kernel: fakeImage(4096), initrd: new Uint8Array(0) })).toThrow(/empty/);
    expect(() => linuxBoot({ kernel: fakeImage(4096), ramSize: 3 * MiB })).toThrow(/RAM/);
  });

  it('takes a command line', () => {
    expect(linuxBoot({ kernel: fakeImage(4096), append: 'console=hvc0' }).bootargs).toBe('console=hvc0');
  });
});
