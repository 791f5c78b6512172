/**
 * Gives V8 type feedback for every instruction the executors run before a guest does.
 *
 * V8 optimizes the interpreter's loop (Cpu.run) once it has run a while, with feedback for the
 * instruction kinds seen so far. The first instruction kind the guest uses after that (a
 * `bltu`, a `remu`) throws the optimized code away ("insufficient type feedback"), and the loop
 * runs at about 14 MIPS until V8 optimizes it again, half a million to a million steps later:
 * 35 to 70 ms each time, several times in a guest's first 10⁸ instructions. So once per host,
 * before the first machine runs, a scratch hart runs a program made from the instruction
 * table: every compiled instruction kind once (each branch taken and not, each division by
 * zero and overflowing), the atomics, loads and stores that miss the TLB and hit it; first on the
 * interpreter alone, then on the JIT, whose dispatcher and region calls get the same start.
 */
import { CSR, IRQ, MSTATUS, writeCsr } from './csr.js';
import { CLINT_DEVICE, MTIMECMP_LO } from './devices/clint.js';
import { UART0_DEVICE } from './devices/uart16550.js';
import { decodeInto } from './isa/decode.js';
import { encode } from './isa/encode.js';
import { ENCODINGS, Op } from './isa/table.js';
import { attachJit, detachJit } from './jit/jit.js';
import type { Program } from './loader.js';
import type { Machine } from './machine.js';
import { MemoryMap } from './memmap.js';

const RAM = MemoryMap.ram.base;
/** Where the pieces of the program sit (page 0 code, page 1 a return and a straddling instruction's upper half, page 2 data). */
const JIT_LOOP = 0x800;
const FAULTS = 0xf00;
const STRADDLE = 0xffe;
const FAR = 0x1100;
/** A page without code, for loads and stores (a page with code takes another store path). */
const DATA = 0x2000;
const UART = UART0_DEVICE.base;
/** The timer's compare register (its low half; the high half follows). */
const MTIMECMP = CLINT_DEVICE.base + MTIMECMP_LO;
/** V8 allocates a function's feedback after some calls (8 in Node 20): runs before then teach it nothing. */
const ROUNDS = 12;
/** Steps of each round on the JIT. */
const JIT_ROUND = 4000;

/** A store of x7 into the data page (x8). */
const dataStore = (op: number): number => encode(op, 0, 8, 7, 12);

/**
 * For the interpreter: every compiled instruction kind, then a round again while x12 counts
 * down. Registers: x6 and x7 operands, x8 the data page, x9 = 1, x10 = -2³¹, x11 = -1, x16
 * the page of the far return, x17 the UART, x19 the timer's compare register; results go to x5.
 */
function kinds(): number[] {
  const out: number[] = [];
  ENCODINGS.forEach(({ kind, format }, op) => {
    if (kind === 'alu' && format === 'R') {
      // Plain operands, a zero divisor, the one overflowing division, and -2³¹ by 1 (a remainder of -0 to JS).
      out.push(encode(op, 5, 6, 7), encode(op, 5, 6, 0), encode(op, 5, 10, 11), encode(op, 5, 10, 9));
    } else if (kind === 'alu') out.push(encode(op, 5, 6, 0, format === 'SHIFT' ? 3 : -3));
    else if (kind === 'load') out.push(encode(op, 5, 8, 0, 8));
    // Twice: the first after a TLB flush misses, the second hits.
    else if (kind === 'store') out.push(dataStore(op), dataStore(op));
    else if (kind === 'upper') out.push(encode(op, 5, 0, 0, 0x12345000));
    // lr.w first: the reservation then holds an address past 2³¹, as in any guest.
    else if (kind === 'atomic') out.push(encode(op, 5, 8, 7));
    else if (kind === 'fence') out.push(encode(op, 0, 0, 0));
    else if (kind === 'branch') {
      // Taken and not, whichever the comparison: equal, less and greater operands.
      out.push(encode(op, 0, 0, 0, 4), encode(op, 0, 0, 9, 4), encode(op, 0, 9, 0, 4));
    }
  });
  // A store into a page with code (x16: where the far return is), past its code.
  out.push(encode(Op.SW, 0, 16, 7, 0x100));
  // Two compressed instructions, c.addi x5, 1 and c.nop, in one word.
  out.push(0x0001_0285);
  // Every CSR instruction on a scratch register, then a read (the interpreter's path for system
  // instructions; each ends a run).
  for (const op of [Op.CSRRW, Op.CSRRS, Op.CSRRC, Op.CSRRWI, Op.CSRRSI, Op.CSRRCI])
    out.push(encode(op, 0, 6, 0, CSR.mscratch));
  out.push(encode(Op.CSRRS, 5, 0, 0, CSR.mscratch));
  // A call and a return: x1 = this jal's address + 4, then jalr to 4 past it.
  out.push(encode(Op.JAL, 1, 0, 0, 4), encode(Op.JALR, 0, 1, 0, 4));
  // A call into the next page, which returns at once (the page changes twice).
  out.push(encode(Op.JAL, 13, 0, 0, FAR - 4 * out.length));
  out.push(encode(Op.ADDI, 12, 12, 0, -1));
  out.push(encode(Op.BNE, 0, 12, 0, -4 * out.length));
  return out;
}

/**
 * For the JIT's dispatcher, at JIT_LOOP, forever: loads and stores, a branch taken every fourth
 * round only (after the region is compiled: it leaves there, and grows), an inner loop longer
 * than a call's budget, a call into the next page, and a system instruction.
 */
function dispatch(): number[] {
  const out = [
    encode(Op.LW, 5, 8, 0, 8),
    dataStore(Op.SW),
    encode(Op.SW, 0, 16, 7, 0x100),
    encode(Op.ADDI, 12, 12, 0, 1),
    encode(Op.ANDI, 15, 12, 0, 3),
    encode(Op.BEQ, 0, 15, 0, 8),
    encode(Op.ADDI, 5, 5, 0, 1),
    encode(Op.ADDI, 14, 0, 0, 40),
    encode(Op.ADDI, 14, 14, 0, -1),
    encode(Op.BNE, 0, 14, 0, -4),
  ];
  out.push(encode(Op.JAL, 13, 0, 0, FAR - JIT_LOOP - 4 * out.length));
  // The return lands in the region (a call's return site is compiled with it): the interpreter,
  // which ran the far page, stops there on entering this page.
  out.push(encode(Op.ADDI, 5, 5, 0, 1));
  out.push(encode(Op.CSRRS, 5, 0, 0, CSR.mscratch));
  out.push(encode(Op.JAL, 0, 0, 0, -4 * out.length));
  return out;
}

let warm = false;

/**
 * Runs the program once per host (see above), on a machine `make` builds (with a few MiB of RAM and
 * the interpreter; so that V8 sees the very steps a guest's machine takes); about 15 ms.
 */
export function warmUp(make: (program: Program) => Machine): void {
  if (warm) return;
  warm = true;
  const code = kinds();
  const image = new Uint8Array(3 * 4096);
  const words = new Int32Array(image.buffer);
  const put = (at: number, program: number[]): void => program.forEach((w, i) => (words[(at >>> 2) + i] = w | 0));
  put(0, code);
  put(JIT_LOOP, dispatch());
  // Each load and store once more, faulting (nothing at address 0), run one step each: the trap
  // ends the run; then a device's (the UART's line status, scratch and transmit registers, x17),
  // which ends it too.
  const faulting = ENCODINGS.flatMap(({ kind }, op) =>
    kind === 'load' ? [encode(op, 5, 0, 0)] : kind === 'store' ? [encode(op, 0, 0, 5)] : [],
  );
  faulting.push(encode(Op.LBU, 5, 17, 0, 5), encode(Op.SB, 0, 17, 0, 7), encode(Op.SB, 0, 17, 0, 0));
  // And the timer's compare register (x19), with a time past 2³¹, as a guest's timer soon writes.
  faulting.push(encode(Op.SW, 0, 19, 11, 0), encode(Op.SW, 0, 19, 11, 4));
  put(FAULTS, faulting);
  put(FAR, [encode(Op.JALR, 0, 13, 0)]);
  // And an instruction straddling the page end (its upper half is fetched apart).
  const straddling = encode(Op.ADDI, 5, 6, 0, 1);
  const halves = new Uint16Array(image.buffer);
  halves[STRADDLE >>> 1] = straddling & 0xffff;
  halves[(STRADDLE >>> 1) + 1] = straddling >>> 16;
  const machine = make({ entry: RAM, segments: [{ addr: RAM, bytes: image, zero: 0 }], symbols: new Map() });
  const cpu = machine.cpu;
  const ram = machine.ram;
  // A hart's fields start as small integers, which V8 stores as such; the first guest that writes
  // an address at or above 2³¹ (RAM is at 0x80000000) to one of these makes V8 change how every
  // hart stores it, and throw away the code optimized for the old layout. Done here, before any.
  for (const csr of [
    CSR.mtvec,
    CSR.mepc,
    CSR.mtval,
    CSR.mcause,
    CSR.mscratch,
    CSR.stvec,
    CSR.sepc,
    CSR.stval,
    CSR.scause,
    CSR.sscratch,
    CSR.satp,
  ]) {
    writeCsr(cpu, csr, 0x8000_0004);
    writeCsr(cpu, csr, 0);
  }
  const start = (at: number, loops: number): void => {
    cpu.pc = (RAM + at) | 0;
    cpu.x.fill(0);
    cpu.x.set([0, 0, 0, 0, 0, 0, 0x1234_5678, 77, RAM + DATA, 1, -(2 ** 31), -1, loops], 0);
    cpu.x[16] = RAM + FAR;
    cpu.x[17] = UART;
    cpu.x[19] = MTIMECMP;
    cpu.flushTlb();
    // Clean again, so that the first store marks it.
    ram.clean([DATA >>> 12]);
  };
  // The decoder (V8 inlines it into the interpreter's loop) on a spread of compressed parcels, every
  // quadrant and funct3 with several middle bits, and each row's encoding with its top bit set too.
  const record = { fields: 0, imm: 0 };
  // A word no row matches.
  decodeInto(-1, record);
  for (let i = 0; i < 3; i++) {
    for (let f3 = 0; f3 < 8; f3++)
      for (const middle of [0, 0x7ff, 0x555, 0x2aa, 0x400, 0x3ff, 0x1f, 0x3e0, 0x420, 0x41f, 0x18, 0x318])
        for (let quadrant = 0; quadrant < 3; quadrant++) decodeInto((f3 << 13) | (middle << 2) | quadrant, record);
    for (const { match } of ENCODINGS) {
      // As the fetch gives them: signed 32-bit numbers.
      decodeInto(match | 0, record);
      decodeInto(match | 0x8000_0000, record);
    }
  }
  // Fields that hosts set after a machine is built (a session's stops, the console's output) and
  // that the interpreter's loop reads: once V8 has seen them set, it compiles the loop for fields
  // that change, rather than for values it would take as fixed and then throw the code away when
  // the first session sets them.
  cpu.setBreakpoints([RAM + DATA]);
  cpu.setBreakpoints(null);
  cpu.setWatchpoints([{ address: RAM + DATA, length: 4 }]);
  cpu.setWatchpoints(null);
  const output = machine.onOutput;
  machine.onOutput = () => {};
  machine.onOutput = output;
  // Input, and an interrupt line raised and lowered (interrupts are off), as a guest's devices do.
  machine.type(new Uint8Array([10]));
  cpu.setInterruptLine(IRQ.MEI, true);
  cpu.setInterruptLine(IRQ.MEI, false);
  // The JIT first: attaching one changes a field of the hart that the interpreter reads, which
  // would throw away an optimization of its loop begun in the rounds on the interpreter alone.
  if (attachJit(cpu, { hot: 2, warm: 64, callBudget: 64, growAfter: 24, decay: 256 }).ok) {
    for (let i = 0; i < ROUNDS; i++) {
      start(JIT_LOOP, 0);
      machine.run(JIT_ROUND);
    }
  }
  detachJit(cpu);
  for (let i = 0; i < ROUNDS; i++) {
    start(0, 1);
    // The far return is a step more.
    machine.run(code.length + 1);
    for (let i = 0; i <= faulting.length; i++) {
      cpu.pc = (RAM + (i < faulting.length ? FAULTS + 4 * i : STRADDLE)) | 0;
      machine.run(1);
    }
    // An interrupt taken (a guest's timer or device): the run is the trap.
    cpu.mie = IRQ.MEI;
    cpu.mstatus |= MSTATUS.MIE;
    cpu.setInterruptLine(IRQ.MEI, true);
    machine.run(1);
    cpu.setInterruptLine(IRQ.MEI, false);
    cpu.mie = 0;
    cpu.mstatus &= ~MSTATUS.MIE;
  }
}
