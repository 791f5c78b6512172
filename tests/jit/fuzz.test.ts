/**
 * Differential fuzzer: random instruction sequences (valid and invalid
 * encodings, compressed parcels, branches and jumps, loads and stores in
 * RAM, into the code itself, to MMIO and to nothing, misaligned accesses,
 * CSR writes, atomics, xRET, ecall/ebreak, wfi, fences) run on two harts
 * from the same state, one with the interpreter alone and one with the JIT.
 * A trap handler returns 2 bytes past the trapping instruction, inside
 * the random code. The interpreter runs slices of random length, with interrupt lines
 * toggled between slices; the JIT runs to the same position (it may end a
 * slice earlier, never later) and both must then agree: steps, pc,
 * registers, CSRs, RAM, dirty flags and device accesses. Each memory's page
 * digests are kept as a recording keeps them, and must stay those of RAM.
 */
import { describe, expect, it } from 'vitest';
import { Cpu, LEAD, type PhysicalBus } from '../../core/cpu.js';
import { IRQ } from '../../core/csr.js';
import { attachJit } from '../../core/jit/index.js';
import { PagedMemory } from '../../core/paged.js';
import { PageHashTable, hashPage } from '../../storage/statehash.js';

const RAM = 0x8000_0000;
const RAM_SIZE = 1 << 20;

/** What the JIT compiles regions to: both are checked against the interpreter. */
type Target = 'wasm' | 'js';
const TARGETS: Target[] = ['wasm', 'js'];
const CODE = RAM;
const CODE_BYTES = 0x2000;
const DATA = RAM + 0x1_0000;
const MMIO = 0x1000_0000;
const HANDLER = RAM + 0x3000;

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A device at MMIO that answers reads from a counter and logs writes. */
class FakeBus implements PhysicalBus {
  readonly log: number[] = [];
  private count = 0;
  read(addr: number, size: number): number | undefined {
    if (addr < MMIO || addr >= MMIO + 0x1000) return undefined;
    this.log.push(0, addr, size);
    return (this.count++ * 2654435761 + addr) & (size === 4 ? -1 : (1 << (8 * size)) - 1);
  }
  write(addr: number, value: number, size: number): boolean {
    if (addr < MMIO || addr >= MMIO + 0x1000) return false;
    this.log.push(1, addr, value, size);
    return true;
  }
}

const encR = (f7: number, f3: number, rd: number, rs1: number, rs2: number, op = 0x33): number =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const encI = (op: number, f3: number, rd: number, rs1: number, imm: number): number =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const encS = (f3: number, rs1: number, rs2: number, imm: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | 0x23) >>> 0;
const encB = (f3: number, rs1: number, rs2: number, imm: number): number =>
  ((((imm >> 12) & 1) << 31) |
    (((imm >> 5) & 0x3f) << 25) |
    (rs2 << 20) |
    (rs1 << 15) |
    (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) |
    (((imm >> 11) & 1) << 7) |
    0x63) >>>
  0;
const encJ = (rd: number, imm: number): number =>
  ((((imm >> 20) & 1) << 31) |
    (((imm >> 1) & 0x3ff) << 21) |
    (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) |
    (rd << 7) |
    0x6f) >>>
  0;

/** Writes a random program of halfwords into the code area. */
function program(mem: PagedMemory, r: () => number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const reg = (): number => (r() < 0.1 ? 0 : 1 + Math.floor(r() * 15));
  // Bases the random code never writes (it writes x1..x15): data, code, MMIO, a page end, nothing.
  const base = (): number => pick([16, 16, 17, 18, 22, 19, 20, 21, reg()]);
  const csrs = [0x340, 0x341, 0x342, 0x343, 0x300, 0x304, 0x344, 0x180, 0xc00, 0xc02, 0xb00, 0x3a0, 0x3b0, 0x7c0];
  const words: number[] = [];
  let bytes = 0;
  const put32 = (w: number): void => {
    words.push(w & 0xffff, w >>> 16);
    bytes += 4;
  };
  while (bytes < CODE_BYTES) {
    const k = r();
    if (k < 0.28) {
      const f = pick([
        [0, 0],
        [0x20, 0],
        [0, 1],
        [0, 2],
        [0, 3],
        [0, 4],
        [0, 5],
        [0x20, 5],
        [0, 6],
        [0, 7],
        [1, 0],
        [1, 1],
        [1, 2],
        [1, 3],
        [1, 4],
        [1, 5],
        [1, 6],
        [1, 7],
      ]);
      put32(encR(f[0]!, f[1]!, reg(), reg(), reg()));
    } else if (k < 0.42) {
      const f3 = pick([0, 2, 3, 4, 6, 7, 1, 5]);
      const imm =
        f3 === 1
          ? Math.floor(r() * 32)
          : f3 === 5
            ? Math.floor(r() * 32) | (r() < 0.5 ? 0x400 : 0)
            : Math.floor(r() * 4096) - 2048;
      put32(encI(0x13, f3, reg(), reg(), imm));
    } else if (k < 0.55) {
      put32(encI(0x03, pick([0, 1, 2, 4, 5]), reg(), base(), Math.floor(r() * 64) - 16));
    } else if (k < 0.66) {
      put32(encS(pick([0, 1, 2]), base(), reg(), Math.floor(r() * 64) - 16));
    } else if (k < 0.77) {
      const off = (Math.floor(r() * 48) - 32) * 2;
      put32(encB(pick([0, 1, 4, 5, 6, 7]), reg(), reg(), off === 0 ? 8 : off));
    } else if (k < 0.8) {
      put32(encJ(pick([0, 1, 5]), (Math.floor(r() * 64) - 40) * 2 || 4));
    } else if (k < 0.82) {
      put32(encI(0x67, 0, pick([0, 1]), pick([1, 10, 5]), Math.floor(r() * 256) * 2));
    } else if (k < 0.86) {
      const h = Math.floor(r() * 0x10000);
      words.push((h & 3) === 3 ? h & ~1 : h);
      bytes += 2;
    } else if (k < 0.89) {
      const csr = pick(csrs);
      put32(encI(0x73, pick([1, 2, 3, 5, 6, 7]), reg(), r() < 0.5 ? 0 : reg(), csr));
    } else if (k < 0.91) {
      put32(pick([0x00000073, 0x00100073, 0x30200073, 0x10200073, 0x10500073, 0x0000100f, 0x0ff0000f, 0x12000073]));
    } else if (k < 0.93) {
      const f5 = pick([2, 3, 1, 0, 4, 12, 8, 16, 20, 24, 28]);
      put32(((f5 << 27) | (reg() << 20) | (base() << 15) | (2 << 12) | (reg() << 7) | 0x2f) >>> 0);
    } else if (k < 0.95) {
      put32(Math.floor(r() * 2 ** 32));
    } else {
      put32(((Math.floor(r() * 0x100000) << 12) | (reg() << 7) | pick([0x37, 0x17])) >>> 0);
    }
  }
  for (let i = 0; i < words.length && i * 2 < CODE_BYTES; i++) mem.halves[((CODE - RAM) >>> 1) + i] = words[i]!;
  // After the random code: back to its start. The trap handler skips 2 bytes past mepc and returns.
  const w32 = (addr: number, w: number): void => void (mem.words[(addr - RAM) >>> 2] = w | 0);
  w32(CODE + CODE_BYTES, encJ(0, -CODE_BYTES));
  // mepc = CODE + ((mepc + 2) & 0x1ffe): back into the random code whatever trapped.
  const handler = [
    encI(0x73, 2, 31, 0, 0x341),
    encI(0x13, 0, 31, 31, 2),
    encI(0x13, 1, 31, 31, 19),
    encI(0x13, 5, 31, 31, 19),
    encI(0x13, 7, 31, 31, -2),
    (0x80000 << 12) | (30 << 7) | 0x37,
    encR(0, 6, 31, 31, 30),
    encI(0x73, 1, 0, 31, 0x341),
    0x30200073,
  ];
  handler.forEach((w, i) => w32(HANDLER + 4 * i, w));
}

function hart(mem: PagedMemory, bus: FakeBus, regs: Int32Array): Cpu {
  const cpu = new Cpu(mem, bus);
  cpu.x.set(regs);
  cpu.pc = CODE | 0;
  cpu.mtvec = HANDLER >>> 0;
  return cpu;
}

function snapshot(cpu: Cpu, mem: PagedMemory, bus: FakeBus): unknown {
  return {
    state: cpu.saveState(),
    waiting: cpu.waiting,
    code: Buffer.from(mem.bytes.subarray(0, 0x4000)).toString('base64'),
    data: Buffer.from(mem.bytes.subarray(DATA - RAM, DATA - RAM + 0x2000)).toString('base64'),
    dirty: Array.from(mem.dirty.subarray(0, 32)).map((d) => (d === 0 ? 0 : 1)),
    log: bus.log.join(','),
  };
}

/** Pages whose digest in `table` is not that of what `mem` holds. */
function staleDigests(table: PageHashTable, mem: PagedMemory): number[] {
  const stale: number[] = [];
  for (let i = 0; i < mem.pageCount; i++) if (table.hash(i) !== hashPage(mem.page(i))) stale.push(i);
  return stale;
}

function fuzzOne(target: Target, seed: number, hot: number, steps: number, warm?: number): void {
  const r = rng(seed);
  const memA = new PagedMemory(RAM_SIZE);
  program(memA, r);
  for (let i = 0; i < 0x800; i++) memA.words[((DATA - RAM) >>> 2) + i] = Math.floor(r() * 2 ** 32) | 0;
  // The JIT's RAM in a WebAssembly memory with the CPU's lead, as a Machine's, for regions in WebAssembly.
  const memB = target === 'wasm' ? new PagedMemory(RAM_SIZE, LEAD) : new PagedMemory(RAM_SIZE);
  memB.bytes.set(memA.bytes);
  const regs = new Int32Array(32);
  for (let i = 1; i < 32; i++) regs[i] = Math.floor(r() * 2 ** 32) | 0;
  regs[10] = (CODE + 0x40) | 0;
  regs[16] = DATA | 0;
  regs[17] = (DATA + 0x7fe) | 0;
  regs[18] = (CODE + 0x40) | 0;
  regs[19] = MMIO;
  regs[20] = (CODE + 0xffe) | 0;
  regs[21] = 0x4000_0000;
  regs[22] = (CODE + Math.floor(r() * CODE_BYTES)) & ~3;
  const busA = new FakeBus();
  const busB = new FakeBus();
  const a = hart(memA, busA, regs);
  const b = hart(memB, busB, regs);
  expect(attachJit(b, warm === undefined ? { hot, target } : { hot, warm, target }).ok).toBe(true);
  // Each memory is hashed as a recording's checkpoints hash it, after every slice (from all pages
  // dirty, as the program was written behind the flags): whichever pages a sync leaves dirty, the
  // table must hold what RAM holds.
  memA.markDirty(0, RAM_SIZE);
  memB.markDirty(0, RAM_SIZE);
  const tableA = new PageHashTable(memA);
  const tableB = new PageHashTable(memB);
  let done = 0;
  let slice = 0;
  while (done < steps) {
    const limit = 1 + Math.floor(r() ** 3 * 400);
    if (r() < 0.05) {
      const bit = [IRQ.MTI, IRQ.MSI, IRQ.MEI, IRQ.SEI][Math.floor(r() * 4)]!;
      const level = r() < 0.5;
      a.setInterruptLine(bit, level);
      b.setInterruptLine(bit, level);
    }
    const pcBefore = a.pc >>> 0;
    const na = a.run(limit);
    // The JIT may end a slice earlier (at any exact position); it then runs on to the same position.
    let nb = 0;
    while (nb < na) {
      const r = b.run(na - nb);
      if (r === 0) break;
      nb += r;
    }
    const at = (p: number): string =>
      (p >= RAM && p < RAM + RAM_SIZE
        ? (memA.halves[(p - RAM) >>> 1]! | (memA.halves[((p - RAM) >>> 1) + 1]! << 16)) >>> 0
        : 0
      ).toString(16);
    const where = `seed ${seed}, slice ${slice}, position ${a.position}, limit ${limit}, pc ${pcBefore.toString(16)} [${at(pcBefore)}] -> a ${(a.pc >>> 0).toString(16)} [${at(a.pc >>> 0)}] b ${(b.pc >>> 0).toString(16)}`;
    expect(nb, where).toBe(na);
    expect([b.pc, b.position, ...b.x.subarray(0, 32)], where).toEqual([a.pc, a.position, ...a.x.subarray(0, 32)]);
    tableA.sync();
    tableB.sync();
    const last = done + na >= steps;
    if (slice % 16 === 0 || last) expect(snapshot(b, memB, busB), where).toEqual(snapshot(a, memA, busA));
    if (slice % 256 === 0 || last) {
      expect(staleDigests(tableB, memB), where).toEqual([]);
      expect(staleDigests(tableA, memA), where).toEqual([]);
    }
    if (na === 0) {
      // Asleep in wfi with nothing pending: wake both with a software interrupt line.
      a.setInterruptLine(IRQ.MSI, true);
      b.setInterruptLine(IRQ.MSI, true);
      a.mie |= IRQ.MSI;
      b.mie |= IRQ.MSI;
    }
    done += Math.max(na, 1);
    slice++;
  }
  if (process.env.JIT_FUZZ_DEBUG)
    console.log(
      seed,
      slice,
      a.traps,
      a.priv,
      (a.pc >>> 0).toString(16),
      a.mcause,
      (b.jit as unknown as { stats: unknown }).stats,
    );
}

describe.each(TARGETS)('JIT (regions in %s) vs interpreter on random code', (target) => {
  const seeds = Number(process.env.JIT_FUZZ_SEEDS ?? 60);
  // Two minutes for every 60 programs, so that more seeds do not time out.
  const timeout = 120_000 * Math.max(1, Math.ceil(seeds / 60));
  it(
    `agrees slice by slice on ${seeds} random programs (compiled at once)`,
    () => {
      for (let s = 1; s <= seeds; s++) fuzzOne(target, s, 1, 20_000);
    },
    timeout,
  );
  it(
    `agrees slice by slice on ${seeds} random programs (compiled when hot)`,
    () => {
      for (let s = 1; s <= seeds; s++) fuzzOne(target, 1000 + s, 4, 20_000);
    },
    timeout,
  );
  // Cold pages: long interpreter runs that stop on entering a warm page (see WARM in jit.ts).
  it(
    `agrees slice by slice on ${seeds} random programs (pages warm after some steps)`,
    () => {
      for (let s = 1; s <= seeds; s++) fuzzOne(target, 2000 + s, 2, 20_000, 50 + (s % 4) * 500);
    },
    timeout,
  );
});
