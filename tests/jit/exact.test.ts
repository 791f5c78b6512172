/**
 * The JIT's exactness where it matters beyond plain runs: self-modifying
 * code, stopping at exact positions, watchpoints and breakpoints, seek and
 * step back (a checkpoint restore drops the compiled code of the pages it rewrites), and the fallback when
 * code generation is forbidden.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Cpu, LEAD } from '../../core/cpu.js';
import { attachJit, detachJit, probeCodegen } from '../../core/jit/index.js';
import { Jit, type JitOptions } from '../../core/jit/jit.js';
import { DIRTY, HAS_CODE, PagedMemory } from '../../core/paged.js';
import { Session } from '../../session/session.js';
import { buildMachine, type MachineSpec } from '../../session/spec.js';
import { Checkpointer } from '../../storage/index.js';
import { PageHashTable, hashPage } from '../../storage/statehash.js';
import { stepUntil } from '../support/bounded.js';
import { expected, guest } from '../support/cli.js';
import type { Executor } from './support.js';

const RAM = 0x8000_0000;
const encI = (op: number, f3: number, rd: number, rs1: number, imm: number): number =>
  ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
const encR = (f7: number, f3: number, rd: number, rs1: number, rs2: number): number =>
  (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33;
const encS = (f3: number, rs1: number, rs2: number, imm: number): number =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | 0x23;
const encB = (f3: number, rs1: number, rs2: number, imm: number): number =>
  (((imm >> 12) & 1) << 31) |
  (((imm >> 5) & 0x3f) << 25) |
  (rs2 << 20) |
  (rs1 << 15) |
  (f3 << 12) |
  (((imm >> 1) & 0xf) << 8) |
  (((imm >> 11) & 1) << 7) |
  0x63;

const ADDI = (rd: number, rs1: number, imm: number) => encI(0x13, 0, rd, rs1, imm);
const ADD = (rd: number, rs1: number, rs2: number) => encR(0, 0, rd, rs1, rs2);
const LW = (rd: number, rs1: number, imm: number) => encI(0x03, 2, rd, rs1, imm);
const SW = (rs1: number, rs2: number, imm: number) => encS(2, rs1, rs2, imm);
const BNE = (rs1: number, rs2: number, imm: number) => encB(1, rs1, rs2, imm);
const LUI = (rd: number, imm20: number) => (imm20 << 12) | (rd << 7) | 0x37;
const EBREAK = 0x00100073;
const JAL = (rd: number, imm: number): number =>
  (((imm >> 20) & 1) << 31) |
  (((imm >> 1) & 0x3ff) << 21) |
  (((imm >> 11) & 1) << 20) |
  (((imm >> 12) & 0xff) << 12) |
  (rd << 7) |
  0x6f;
const JALR = (rd: number, rs1: number, imm: number) => encI(0x67, 0, rd, rs1, imm);
const ANDI = (rd: number, rs1: number, imm: number) => encI(0x13, 7, rd, rs1, imm);

/**
 * A loop that patches the immediate of an `addi` it is about to run, in
 * the same basic block, 100 times: x5 = 1 + 2 + ... + 100.
 */
function selfModifying(): number[] {
  return [
    ADDI(5, 0, 0), // 0x00 sum
    ADDI(6, 0, 100), // 0x04 count
    LUI(9, 0x100), // 0x08 x9 = 1 << 20: +1 in an I-type immediate
    ADDI(18, 0, 0), // 0x0c
    LUI(18, 0x80000), // 0x10 x18 = code base
    // loop (0x14):
    LW(8, 18, 0x20), // 0x14 the addi below
    ADD(8, 8, 9), // 0x18
    SW(18, 8, 0x20), // 0x1c
    ADDI(7, 0, 0), // 0x20 patched before it runs
    ADD(5, 5, 7), // 0x24
    ADDI(6, 6, -1), // 0x28
    BNE(6, 0, 0x14 - 0x2c), // 0x2c
    EBREAK, // 0x30
  ];
}

function bare(words: number[], executor: Executor, lead = true): Cpu {
  // As a Machine's RAM (see core/cpu.ts's LEAD), so that regions compile to WebAssembly.
  const mem = lead ? new PagedMemory(1 << 16, LEAD) : new PagedMemory(1 << 16);
  words.forEach((w, i) => (mem.words[i] = w | 0));
  const cpu = new Cpu(mem, { read: () => undefined, write: () => false });
  cpu.mtvec = (RAM + 0x30) >>> 0; // the ebreak: a trap loop that still advances the position
  if (executor === 'jit') attachJit(cpu, { hot: 1 });
  return cpu;
}

describe('self-modifying code', () => {
  it('runs the patched instruction, as the interpreter does', () => {
    const results = (['interp', 'jit'] as const).map((e) => {
      const cpu = bare(selfModifying(), e);
      stepUntil(
        () => cpu.mcause === 3,
        () => cpu.run(1000),
        `${e}: the ebreak at the end`,
      );
      return { x5: cpu.x[5], position: cpu.position, jit: cpu.jit as Jit | undefined };
    });
    expect(results[0]!.x5).toBe(5050);
    expect(results[1]!.x5).toBe(5050);
    expect(results[1]!.position).toBe(results[0]!.position);
    expect(results[1]!.jit!.stats.compiled).toBeGreaterThan(0);
    expect(results[1]!.jit!.stats.invalidated).toBeGreaterThan(0);
  });

  it('runs the patched instruction when checkpoints clear the dirty bits as it runs', () => {
    const results = (['interp', 'jit'] as const).map((e) => {
      const cpu = bare(selfModifying(), e);
      let clears = 0;
      stepUntil(
        () => cpu.mcause === 3,
        () => {
          cpu.run(7);
          // What a state hasher's sync does: the dirty bit goes, the page's code bit stays.
          cpu.ram.clearDirty();
          clears++;
        },
        `${e}: the ebreak at the end`,
      );
      return { x5: cpu.x[5], position: cpu.position, clears, dirty: cpu.ram.dirty[0] };
    });
    expect(results[1]!.clears).toBeGreaterThan(50);
    expect(results.map((r) => [r.x5, r.position])).toEqual([
      [5050, results[0]!.position],
      [5050, results[0]!.position],
    ]);
    // The code page keeps its code bit through every clear, so a store into it still drops what it overwrote.
    expect(results[1]!.dirty).toBe(HAS_CODE);
  });

  it("seeks give the interpreter's states: restored code pages run as restored, the others stay compiled", () => {
    // Page 0 patches its own addi forever and calls a function on page 1, which nothing writes.
    const words = new Array<number>(0x1000 / 4 + 2).fill(0);
    const loop = selfModifying().slice(0, 9); // up to the addi patched at 0x20
    loop.push(JAL(1, 0x1000 - 0x24), ADD(5, 5, 7), JAL(0, 0x14 - 0x2c));
    loop.forEach((w, i) => (words[i] = w));
    words[0x1000 / 4] = ADD(10, 10, 5);
    words[0x1000 / 4 + 1] = JALR(0, 1, 0);
    const image = new Uint8Array(Int32Array.from(words).buffer);
    const spec: MachineSpec = { kind: 'raw', image, ramSize: 8 << 20 };
    const session = Session.create({ ...spec, executor: 'jit' }, { interval: 1000 });
    detachJit(session.machine.cpu);
    attachJit(session.machine.cpu, { hot: 2 });
    const jit = session.machine.cpu.jit as Jit;
    session.run(30_000);
    const linear = (n: number) => {
      const m = buildMachine({ ...spec, executor: 'interp' });
      const hasher = new Checkpointer(m);
      while (m.position < n) m.run(n - m.position);
      return hasher.stateHash();
    };
    const [patched, called] = [jit.pages[0], jit.pages[1]];
    expect(called?.list.length).toBeGreaterThan(0);
    for (const n of [29_000, 4_321, 17_777, 17_100, 29_999, 1_003, 12_000]) {
      session.seek({ position: n });
      expect(session.stateHash()).toBe(linear(n));
      session.run(777);
      expect(session.stateHash()).toBe(linear(n + 777));
    }
    // Page 0 was rewritten by restores, and compiled again; page 1's blocks were kept all along.
    expect(jit.pages[0]).not.toBe(patched);
    expect(jit.pages[1]).toBe(called);
    expect(called!.list.every((b) => !b.dead)).toBe(true);
  });

  it('stops at every exact position inside a compiled loop', () => {
    const ref = bare(selfModifying(), 'interp');
    const jit = bare(selfModifying(), 'jit');
    for (let k = 0; k < 60; k++) {
      const limit = 1 + ((k * 7) % 13);
      const n = ref.run(limit);
      let m = 0;
      while (m < n) m += jit.run(n - m);
      expect(m).toBe(n);
      expect([jit.pc, jit.position, ...jit.x.subarray(0, 32)]).toEqual([
        ref.pc,
        ref.position,
        ...ref.x.subarray(0, 32),
      ]);
    }
  });
});

/**
 * Runs `ref` slice after slice (`slice(k)` steps) until `done()`, and `jit` as many steps
 * each time, checking after each that both harts are in the same state.
 */
function inLockstep(ref: Cpu, jit: Cpu, done: () => boolean, slice: (k: number) => number): void {
  for (let k = 0; !done(); k++) {
    const n = ref.run(slice(k));
    let m = 0;
    while (m < n) m += jit.run(n - m);
    expect([jit.pc, jit.position, ...jit.x.subarray(0, 32)]).toEqual([ref.pc, ref.position, ...ref.x.subarray(0, 32)]);
  }
}

/**
 * A loop that calls a function in the same page 50 times: the return (a
 * jalr) lands back inside the compiled region. x5 = 50 + 49 + ... + 1.
 */
function callReturn(): number[] {
  return [
    ADDI(5, 0, 0), // 0x00 sum
    ADDI(6, 0, 50), // 0x04 count
    JAL(1, 0x20 - 0x08), // 0x08 call f
    ADDI(6, 6, -1), // 0x0c
    BNE(6, 0, 0x08 - 0x10), // 0x10
    JAL(0, 0x30 - 0x14), // 0x14 to the ebreak
    ADDI(0, 0, 0), // 0x18
    ADDI(0, 0, 0), // 0x1c
    ADD(5, 5, 6), // 0x20 f:
    JALR(0, 1, 0), // 0x24 return
    ADDI(0, 0, 0), // 0x28
    ADDI(0, 0, 0), // 0x2c
    EBREAK, // 0x30
  ];
}

describe('calls and returns inside a region', () => {
  it("give the interpreter's result and stop at every exact position", () => {
    const ref = bare(callReturn(), 'interp');
    const jit = bare(callReturn(), 'jit');
    inLockstep(
      ref,
      jit,
      () => ref.mcause === 3,
      (k) => 1 + ((k * 5) % 11),
    );
    expect(jit.x[5]).toBe(1275);
    expect((jit.jit as Jit).stats.compiled).toBeGreaterThan(0);
  });
});

/**
 * A loop of 12 basic blocks (each an add and a branch never taken), 6,000 times: more than a
 * first region holds, so it hands the hart to a second region at every turn until it grows.
 * x5 = 12 × 6,000.
 */
function longLoop(): number[] {
  const words = [ADDI(5, 0, 0), ADDI(6, 0, 2000), ADDI(6, 6, 2000), ADDI(6, 6, 2000)];
  const top = words.length * 4;
  for (let i = 0; i < 12; i++) words.push(ADDI(5, 5, 1), BNE(0, 0, 8));
  words.push(ADDI(6, 6, -1), BNE(6, 0, top - words.length * 4 - 4));
  while (words.length < 0x30 / 4 + 60) words.push(ADDI(0, 0, 0));
  words.push(JAL(0, 0));
  return words;
}

/** Where longLoop ends (its jump to itself). */
const LONG_LOOP_END = (RAM + (0x30 / 4 + 60) * 4) >>> 0;

/** longLoop on the JIT in slices of 1 to 500 steps, against the interpreter in lockstep; returns the JIT's hart. */
function longLoopInSlices(): Cpu {
  const ref = bare(longLoop(), 'interp');
  const jit = bare(longLoop(), 'jit');
  inLockstep(
    ref,
    jit,
    () => ref.pc >>> 0 === LONG_LOOP_END,
    (k) => 1 + ((k * 37) % 500),
  );
  expect(jit.x[5]).toBe(72000);
  return jit;
}

describe('a loop longer than a region', () => {
  it("grows the region it starts in, and gives the interpreter's result at every exact position", () => {
    expect((longLoopInSlices().jit as Jit).stats.grown).toBeGreaterThan(0);
  });
});

/**
 * A loop that calls a function of its page 3,000 times: the function's path is 16 basic blocks
 * (more than a first region holds), and the loop's head has a side path of 10 basic blocks that
 * ran in the first turn only. x5 = 10 + 16 × 3,000.
 */
function callLongPath(): number[] {
  const words = [ADDI(5, 0, 0), ADDI(6, 0, 1500), ADDI(6, 6, 1500), ADDI(7, 0, 1)];
  const top = words.length * 4;
  // Past the side path when x7 is 0 (BEQ x7, x0).
  const beq = words.length;
  words.push(0);
  for (let i = 0; i < 10; i++) words.push(ADDI(5, 5, 1), BNE(0, 0, 8));
  words.push(ADDI(7, 0, 0));
  words[beq] = encB(0, 7, 0, (words.length - beq) * 4);
  const call = words.length;
  words.push(0, ADDI(6, 6, -1), BNE(6, 0, top - (words.length + 2) * 4));
  const end = words.length;
  words.push(JAL(0, 0));
  words[call] = JAL(1, (words.length - call) * 4);
  for (let i = 0; i < 16; i++) words.push(ADDI(5, 5, 1), BNE(0, 0, 8));
  words.push(JALR(0, 1, 0));
  return Object.assign(words, { end: (RAM + end * 4) >>> 0 });
}

/**
 * Runs a program to its end (an address it spins at) on the interpreter, and on a JIT (by
 * default one that compiles after 16 runs and grows after 64 exits).
 */
function toEnd(
  program: number[] & { end: number },
  options: JitOptions = { warm: 0, hot: 16, growAfter: 64 },
): { ref: Cpu; jit: Cpu } {
  const [ref, jit] = (['interp', 'jit'] as const).map((executor) => {
    const cpu = bare(program, 'interp');
    if (executor === 'jit') attachJit(cpu, options);
    stepUntil(
      () => cpu.pc >>> 0 === program.end,
      () => cpu.run(10_000),
      `${executor}: the loop's end`,
    );
    return cpu;
  });
  return { ref: ref!, jit: jit! };
}

describe('what regions compile to', () => {
  /** Runs callLongPath's loop to its end on a JIT (growing after 64 exits); returns its result, position and stats. */
  const runTo = (options: JitOptions, lead: boolean): { x5: number; position: number; stats: Jit['stats'] } => {
    const program = callLongPath() as number[] & { end: number };
    const cpu = bare(program, 'interp', lead);
    attachJit(cpu, { warm: 0, hot: 16, growAfter: 64, ...options });
    stepUntil(
      () => cpu.pc >>> 0 === program.end,
      () => cpu.run(10_000),
      "the loop's end",
    );
    return { x5: cpu.x[5]!, position: cpu.position, stats: (cpu.jit as Jit).stats };
  };

  it('is WebAssembly where RAM lives in a WebAssembly memory, else JS, with the same results', () => {
    const wasm = runTo({}, true);
    const js = runTo({ target: 'js' }, true);
    const plain = runTo({}, false);
    expect(wasm.x5).toBe(10 + 16 * 3000);
    expect([js.x5, js.position]).toEqual([wasm.x5, wasm.position]);
    expect([plain.x5, plain.position]).toEqual([wasm.x5, wasm.position]);
    expect(wasm.stats.compiled).toBeGreaterThan(0);
    expect(wasm.stats.wasm).toBe(wasm.stats.compiled);
    expect(js.stats.wasm).toBe(0);
    expect(plain.stats.wasm).toBe(0);
  });

  it('is JS from then on when the host refuses a module (a policy without wasm-unsafe-eval)', () => {
    let attempts = 0;
    const Refused = function (): never {
      attempts++;
      throw new WebAssembly.CompileError('WebAssembly.Module(): Refused to compile or instantiate WebAssembly module');
    };
    // Compiling (and instantiating: an earlier test may have compiled these modules) is refused.
    vi.stubGlobal(
      'WebAssembly',
      Object.assign(Object.create(WebAssembly) as object, { Module: Refused, Instance: Refused }),
    );
    try {
      const refused = runTo({}, true);
      expect(refused.x5).toBe(10 + 16 * 3000);
      expect(refused.stats.compiled).toBeGreaterThan(1);
      expect(refused.stats.wasm).toBe(0);
      expect(attempts).toBe(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('a call whose path is longer than a region', () => {
  it("joins the region when it grows, ahead of cold paths, and gives the interpreter's result", () => {
    // The default heat, so that the side path counts as run once and the loop as run often.
    const { ref, jit } = toEnd(callLongPath() as number[] & { end: number }, { warm: 0, growAfter: 64 });
    expect(jit.x[5]).toBe(10 + 16 * 3000);
    expect([jit.x[5], jit.position]).toEqual([ref.x[5], ref.position]);
    const stats = (jit.jit as Jit).stats;
    expect(stats.grown).toBeGreaterThan(0);
    // Once grown, a turn (call, function, return) stays in the region: before, the function's
    // far half was left out for the side path's blocks, and each turn left the region twice.
    expect(stats.calls).toBeLessThan(500);
  });
});

/**
 * A bytecode interpreter's loop: 3,000 turns, each dispatching on x6 & 3 through a jump table of
 * four cases (`jalr x0`), each case adding 1 to 4 to x5 and jumping back to the loop's tail.
 * x5 = 750 × (1 + 2 + 3 + 4).
 */
function jumpTableLoop(): number[] & { end: number } {
  const words = [ADDI(5, 0, 0), ADDI(6, 0, 1500), ADDI(6, 6, 1500), LUI(7, RAM >>> 12), 0, JAL(0, 0)];
  const tableAt = words.length - 2;
  const jumpToDispatch = words.length - 1;
  // The loop's tail: one turn less, to the end when none is left.
  const tail = words.length;
  words.push(ADDI(6, 6, -1), 0);
  const toEnd = words.length - 1;
  const dispatch = words.length;
  words[jumpToDispatch] = JAL(0, (dispatch - jumpToDispatch) * 4);
  words.push(ANDI(8, 6, 3), ADD(8, 8, 8), ADD(8, 8, 8), ADD(8, 8, 7), LW(9, 8, 0), JALR(0, 9, 0));
  const cases: number[] = [];
  for (let k = 1; k <= 4; k++) {
    cases.push(words.length);
    words.push(ADDI(5, 5, k));
    words.push(JAL(0, (tail - words.length) * 4));
  }
  const end = words.length;
  words.push(JAL(0, 0));
  words[toEnd] = encB(0, 6, 0, (end - toEnd) * 4);
  const table = words.length;
  words[tableAt] = ADDI(7, 7, table * 4);
  for (const c of cases) words.push((RAM + c * 4) | 0);
  return Object.assign(words, { end: (RAM + end * 4) >>> 0 });
}

describe('a switch through a jump table', () => {
  it("takes its cases into the dispatch's region, and gives the interpreter's result", () => {
    const { ref, jit } = toEnd(jumpTableLoop());
    expect(jit.x[5]).toBe(750 * 10);
    expect([jit.x[5], jit.position]).toEqual([ref.x[5], ref.position]);
    // Each turn would leave a region twice, for its case and back: once the cases are in the
    // dispatch's region, the turns stay in it.
    const stats = (jit.jit as Jit).stats;
    expect(stats.grown).toBeGreaterThan(0);
    expect(stats.calls).toBeLessThan(300);
  });
});

/**
 * Calls through a pointer, 3,000 turns: x11 is one of two small leaf functions by the parity of
 * the count x6, called with `jalr ra`; the first adds x6 to x5, the second 7 or 1 by x6 & 2.
 */
function pointerCalls(): number[] & { end: number } {
  const loop = 6;
  const end = 13;
  const first = 14;
  const second = 16;
  const words = [
    ADDI(5, 0, 0),
    ADDI(6, 0, 1500),
    ADDI(6, 6, 1500),
    LUI(7, RAM >>> 12),
    ADDI(12, 7, first * 4),
    ADDI(13, 7, second * 4),
    ANDI(8, 6, 1),
    ADD(11, 12, 0),
    encB(0, 8, 0, 8),
    ADD(11, 13, 0),
    JALR(1, 11, 0),
    ADDI(6, 6, -1),
    BNE(6, 0, (loop - 12) * 4),
    JAL(0, 0),
    ADD(5, 5, 6),
    JALR(0, 1, 0),
    ANDI(9, 6, 2),
    BNE(9, 0, 12),
    ADDI(5, 5, 1),
    JALR(0, 1, 0),
    ADDI(5, 5, 7),
    JALR(0, 1, 0),
  ];
  return Object.assign(words, { end: (RAM + end * 4) >>> 0 });
}

describe('small functions called through a pointer', () => {
  it("are taken into the caller's region, and give the interpreter's result", () => {
    const { ref, jit } = toEnd(pointerCalls());
    let sum = 0;
    for (let n = 3000; n > 0; n--) sum += n % 2 === 0 ? n : (n & 2) !== 0 ? 7 : 1;
    expect(jit.x[5]).toBe(sum);
    expect([jit.x[5], jit.position]).toEqual([ref.x[5], ref.position]);
    // Each turn would leave a region twice, for the call and for the return: with the functions
    // in the loop's region, the turns stay in it.
    const stats = (jit.jit as Jit).stats;
    expect(stats.grown).toBeGreaterThan(0);
    expect(stats.calls).toBeLessThan(300);
  });
});

describe('checkpoints clear the dirty bits as the machine runs', () => {
  it('every slice that stores to a page marks it, compiled as interpreted', () => {
    // x6 counts down from 3000, stored each turn into page 1 (data, no code).
    const program = [
      ADDI(6, 0, 2000),
      ADDI(6, 6, 1000),
      LUI(18, 0x80001),
      SW(18, 6, 0),
      ADDI(6, 6, -1),
      BNE(6, 0, -8),
      EBREAK,
    ];
    for (const executor of ['interp', 'jit'] as const) {
      const cpu = bare(program, executor);
      let slices = 0;
      let unmarked = 0;
      stepUntil(
        () => cpu.mcause === 3,
        () => {
          const from = cpu.position;
          cpu.run(50);
          // What a state hasher's sync at a checkpoint does.
          const dirty = cpu.ram.takeDirtyPages();
          if (cpu.mcause !== 3 && cpu.position - from >= 3 * 4) {
            slices++;
            if (!dirty.includes(1)) unmarked++;
          }
        },
        `${executor}: the ebreak at the end`,
      );
      expect(cpu.ram.words[0x1000 / 4]).toBe(1);
      expect(slices).toBeGreaterThan(100);
      expect(unmarked, executor).toBe(0);
      if (executor === 'jit') expect((cpu.jit as Jit).stats.calls).toBeGreaterThan(100);
    }
  });
});

describe("a checkpoint's state hasher and the CPU's cached write translations", () => {
  it('sees every store: a page written all the time stays dirty, a quiet one is cleaned and marked again', () => {
    // x6 counts down from 3000; each turn stores it into page 1, and one turn in 512 into page 2.
    const program = [
      ADDI(6, 0, 2000),
      ADDI(6, 6, 1000),
      LUI(18, 0x80001),
      LUI(19, 0x80002),
      SW(18, 6, 0), // 0x10: loop
      ANDI(7, 6, 511),
      BNE(7, 0, 8),
      SW(19, 6, 0),
      ADDI(6, 6, -1),
      BNE(6, 0, 0x10 - 0x24),
      EBREAK,
    ];
    for (const executor of ['interp', 'jit'] as const) {
      const cpu = bare(program, executor);
      const table = new PageHashTable(cpu.ram);
      let page1Cleaned = 0;
      let page2Cleaned = 0;
      stepUntil(
        () => cpu.mcause === 3,
        () => {
          cpu.run(50);
          table.sync();
          // What the table holds is what RAM holds, whichever pages the sync left dirty.
          for (const i of [1, 2]) expect(table.hash(i), `${executor}: page ${i}`).toBe(hashPage(cpu.ram.page(i)));
          if (cpu.ram.words[0x1000 / 4] !== 0 && (cpu.ram.dirty[1]! & DIRTY) === 0) page1Cleaned++;
          if (cpu.ram.words[0x2000 / 4] !== 0 && (cpu.ram.dirty[2]! & DIRTY) === 0) page2Cleaned++;
        },
        `${executor}: the ebreak at the end`,
      );
      expect(cpu.ram.words[0x1000 / 4]).toBe(1);
      expect(cpu.ram.words[0x2000 / 4]).toBe(512);
      // Page 1 changes at every sync: it keeps its bit, and the hart its translation.
      expect(page1Cleaned, executor).toBe(0);
      // Page 2 is quiet between its stores: cleaned, and each store after marked it again (above).
      expect(page2Cleaned, executor).toBeGreaterThan(10);
      if (executor === 'jit') expect((cpu.jit as Jit).stats.calls).toBeGreaterThan(100);
    }
  });
});

describe('a slice that ends inside a region', () => {
  it('resumes in that region: slices of any length compile no more regions than one run', () => {
    const whole = bare(longLoop(), 'jit');
    stepUntil(
      () => whole.pc >>> 0 === LONG_LOOP_END,
      () => whole.run(1_000_000),
      "the long loop's end",
    );
    // Not a region made at every place a slice ended (one run makes one at its second step, where
    // the dispatcher first looks; slices may not).
    expect((longLoopInSlices().jit as Jit).stats.compiled).toBeLessThanOrEqual((whole.jit as Jit).stats.compiled);
  });
});

interface Case {
  name: string;
  spec: MachineSpec;
  input: Uint8Array;
}

const cases: Case[] = [
  ['default', 'default.in'],
  ['irqecho', 'irqecho.in'],
  ['timer', 'timer.in'],
  ['sv32', 'sv32.in'],
].map(([name, input]) => ({
  name: name!,
  spec: { kind: 'elf', image: new Uint8Array(readFileSync(guest(name!))), ramSize: 8 << 20 },
  input: new Uint8Array(readFileSync(expected(input!))),
}));

function record(c: Case, executor: Executor, interval = 4000): { session: Session; output: string } {
  const session = Session.create({ ...c.spec, executor }, { interval });
  if (executor === 'jit') {
    // Compiled early, so that short guests run mostly compiled code.
    detachJit(session.machine.cpu);
    attachJit(session.machine.cpu, { hot: 2 });
  }
  let output = '';
  session.onOutput = (b) => (output += String.fromCharCode(b));
  session.type(c.input);
  for (;;) if (session.run(1_000_000).reason !== 'limit') break;
  session.checkpointHere();
  return { session, output };
}

/** The state hash of a fresh machine run from reset to n by the interpreter. */
function linear(c: Case, n: number): string {
  const m = buildMachine({ ...c.spec, executor: 'interp' });
  const hasher = new Checkpointer(m);
  m.type(c.input);
  while (m.position < n) if (m.run(n - m.position).reason !== 'limit') break;
  return hasher.stateHash();
}

describe.each(cases)('time travel on $name under the JIT', (c) => {
  const interp = record(c, 'interp');
  const jit = record(c, 'jit');
  const end = interp.session.position;

  it('records what the interpreter records', () => {
    expect(jit.output).toBe(interp.output);
    expect(jit.session.position).toBe(end);
    expect(jit.session.stateHash()).toBe(interp.session.stateHash());
    expect((jit.session.machine.cpu.jit as Jit).stats.compiled).toBeGreaterThan(0);
  });

  it("seek and step back give the interpreter's states", () => {
    for (let i = 1; i <= 6; i++) {
      const n = Math.floor((end * i * 37) / 233) % end;
      jit.session.seek({ position: n });
      expect(jit.session.position).toBe(n);
      expect(jit.session.stateHash()).toBe(linear(c, n));
      jit.session.seek({ position: n + 5 });
      for (let k = 0; k < 3; k++) jit.session.stepBack();
      expect(jit.session.position).toBe(n + 2);
      expect(jit.session.stateHash()).toBe(linear(c, n + 2));
    }
  });

  it('stops at the same watchpoints and breakpoints', () => {
    for (const s of [interp.session, jit.session]) s.seek({ position: Math.floor(end / 3) });
    // Watch the page the guest last wrote below its stack top, and the pc where it is now.
    const sp = interp.session.machine.cpu.x[2]! >>> 0;
    const pc = interp.session.machine.cpu.pc >>> 0;
    const stops = { watchpoints: [{ address: (sp - 64) >>> 0, length: 128 }] };
    for (const s of [interp.session, jit.session]) s.setStops(stops);
    for (let k = 0; k < 4; k++) {
      const a = interp.session.run(200_000);
      reasons.push(a.reason);
      const b = jit.session.run(200_000);
      expect(b).toEqual(a);
      expect(jit.session.position).toBe(interp.session.position);
    }
    for (const s of [interp.session, jit.session]) s.setStops({ breakpoints: [pc] });
    for (let k = 0; k < 3; k++) {
      const a = interp.session.run(200_000);
      reasons.push(a.reason);
      const b = jit.session.run(200_000);
      expect(b).toEqual(a);
      expect(jit.session.position).toBe(interp.session.position);
    }
    expect(jit.session.stateHash()).toBe(interp.session.stateHash());
  });
});

const reasons: string[] = [];
describe('debugger stops', () => {
  it('were exercised: both kinds stopped somewhere', () => {
    expect(reasons).toContain('watchpoint');
    expect(reasons).toContain('breakpoint');
  });
});

describe('hosts that forbid code generation', () => {
  it('fall back to the interpreter and say so', () => {
    const csp = (): never => {
      throw new EvalError("Refused to evaluate a string as JavaScript because 'unsafe-eval' is not an allowed source");
    };
    const support = probeCodegen(csp);
    expect(support.ok).toBe(false);
    expect(support.reason).toMatch(/not allowed.*unsafe-eval.*using the interpreter/);
    const cpu = bare(selfModifying(), 'interp');
    expect(attachJit(cpu, { probe: () => probeCodegen(csp) })).toEqual(support);
    expect(cpu.jit).toBeUndefined();
    stepUntil(
      () => cpu.mcause === 3,
      () => cpu.run(1000),
      'the ebreak at the end',
    );
    expect(cpu.x[5]).toBe(5050);
    expect(attachJit(cpu).ok).toBe(true);
    expect(cpu.jit).toBeInstanceOf(Jit);
    detachJit(cpu);
    expect(cpu.jit).toBeUndefined();
  });

  it('are found out once, and a machine asked for the JIT runs on the interpreter and says why', async () => {
    // A fresh copy of the modules, so that no earlier probe is cached.
    vi.resetModules();
    const { Machine } = await import('../../core/machine.js');
    const { parseElf } = await import('../../core/loader.js');
    let attempts = 0;
    // What a page whose content security policy lacks 'unsafe-eval' does to `new Function`.
    const Forbidden = function (): never {
      attempts++;
      throw new EvalError(
        "Refused to evaluate a string as JavaScript because 'unsafe-eval' is not an allowed source of script",
      );
    };
    vi.stubGlobal('Function', Forbidden);
    try {
      const program = () => parseElf(new Uint8Array(readFileSync(guest('hello'))), RAM, 8 << 20);
      const machines = [
        new Machine({ program: program(), ramSize: 8 << 20, executor: 'jit' }),
        new Machine({ program: program(), ramSize: 8 << 20, executor: 'jit' }),
      ];
      for (const m of machines) {
        expect(m.cpu.jit).toBeUndefined();
        expect(m.executorNote).toMatch(/not allowed.*unsafe-eval.*using the interpreter/);
        let out = '';
        m.onOutput = (b) => (out += String.fromCharCode(b));
        stepUntil(
          () => m.power !== null,
          () => m.run(1_000_000),
          "hello's power-off",
        );
        expect(out).toBe(readFileSync(expected('hello.out'), 'latin1'));
      }
      expect(attempts).toBe(1);
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});

/**
 * Divisions and remainders of the same operands, in both orders, signed and unsigned, which the
 * compiler computes from one quotient; divisors 0 and -1 with a dividend of -2³¹ among them, and
 * pairs broken by a write to an operand in between. x20 accumulates every result, 200 rounds.
 */
function quotients(): number[] {
  const DIV = (rd: number, a: number, b: number) => encR(1, 4, rd, a, b);
  const DIVU = (rd: number, a: number, b: number) => encR(1, 5, rd, a, b);
  const REM = (rd: number, a: number, b: number) => encR(1, 6, rd, a, b);
  const REMU = (rd: number, a: number, b: number) => encR(1, 7, rd, a, b);
  const acc = (r: number) => ADD(20, 20, r);
  const words = [ADDI(20, 0, 0), ADDI(21, 0, 200), LUI(6, 0x80000), ADDI(7, 0, -1)];
  const top = words.length * 4;
  words.push(
    ADDI(5, 21, -100), // dividend: -99 .. 100 over the rounds
    ADDI(8, 21, -3), // divisor: -2 .. 197, 0 once
    REMU(10, 5, 8),
    ADDI(9, 0, 1),
    DIVU(11, 5, 8),
    DIV(12, 5, 8),
    REM(13, 5, 8),
    REM(14, 6, 7), // -2³¹ rem -1 = 0
    DIV(15, 6, 7), // -2³¹ / -1 = -2³¹
    DIVU(16, 5, 0), // by zero: all ones
    REMU(17, 5, 0), // by zero: the dividend
    REM(5, 5, 8), // writes its own dividend: the division after it reads the new value
    DIV(18, 5, 8),
    acc(10),
    acc(11),
    acc(12),
    acc(13),
    acc(14),
    acc(15),
    acc(16),
    acc(17),
    acc(18),
    ADDI(21, 21, -1),
  );
  words.push(BNE(21, 0, top - words.length * 4));
  while (words.length < 0x30 / 4 + 40) words.push(ADDI(0, 0, 0));
  words.push(JAL(0, 0));
  return words;
}

describe('a division and a remainder of the same operands', () => {
  it("share a quotient and give the interpreter's results, by zero and overflowing too", () => {
    const ref = bare(quotients(), 'interp');
    const jit = bare(quotients(), 'jit');
    const end = (RAM + (0x30 / 4 + 40) * 4) >>> 0;
    inLockstep(
      ref,
      jit,
      () => ref.pc >>> 0 === end,
      (k) => 1 + ((k * 29) % 300),
    );
    expect((jit.jit as Jit).stats.compiled).toBeGreaterThan(0);
    expect(jit.x[20]).toBe(ref.x[20]);
  });
});

/**
 * A loop in page 0 that calls a function in page 1 at every turn: the function is about a fifth
 * of the steps. x5 = 8 × 20,000, x7 = 2 × 20,000.
 */
function callAcrossPages(): number[] {
  const words = [ADDI(5, 0, 0), ADDI(7, 0, 0), LUI(6, 5), ADDI(6, 6, -480)]; // x6 = 20,000
  const loop = words.length * 4;
  for (let i = 0; i < 8; i++) words.push(ADDI(5, 5, 1));
  words.push(JAL(1, 0x1000 - words.length * 4));
  words.push(ADDI(6, 6, -1));
  words.push(BNE(6, 0, loop - words.length * 4));
  words.push(JAL(0, 0));
  while (words.length < 0x1000 / 4) words.push(ADDI(0, 0, 0));
  words.push(ADDI(7, 7, 1), ADDI(7, 7, 1), JALR(0, 1, 0));
  return words;
}

describe('the heat of a page', () => {
  it('decays with the steps the interpreter runs, so a callee that is a fifth of the steps gets compiled in short slices', () => {
    const cpu = bare(callAcrossPages(), 'interp');
    // Thresholds scaled down a hundredfold; slices as long as a decay period, as a session's.
    attachJit(cpu, { hot: 16, warm: 10_000, decay: 20_000 });
    const end = (RAM + 15 * 4) >>> 0;
    stepUntil(
      () => cpu.pc >>> 0 === end,
      () => cpu.run(20_000),
      "the loop's end",
    );
    expect([cpu.x[5], cpu.x[7]]).toEqual([160_000, 40_000]);
    // Page 1 got warm (its block starts are counted).
    const starts = (cpu.jit as Jit).pages[1]?.starts;
    expect(starts).toBeDefined();
    // A compiled region begins at its first instruction (the interpreter counts it down from 0 on).
    expect(starts![0]).toBeLessThanOrEqual(0);
  });
});
