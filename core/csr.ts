/**
 * Control and status registers (privileged spec, "CSR Listing" and the
 * machine/supervisor chapters): numbers, names, and the WARL rules applied
 * on reads and writes. The CPU owns the storage; this module owns the rules.
 */
import type { Cpu } from './cpu.js';

export const Priv = { U: 0, S: 1, M: 3 } as const;

/** mstatus fields. */
export const MSTATUS = {
  SIE: 1 << 1,
  MIE: 1 << 3,
  SPIE: 1 << 5,
  MPIE: 1 << 7,
  SPP: 1 << 8,
  MPP: 3 << 11,
  MPRV: 1 << 17,
  SUM: 1 << 18,
  MXR: 1 << 19,
  TVM: 1 << 20,
  TW: 1 << 21,
  TSR: 1 << 22,
} as const;
const MSTATUS_WRITABLE =
  MSTATUS.SIE |
  MSTATUS.MIE |
  MSTATUS.SPIE |
  MSTATUS.MPIE |
  MSTATUS.SPP |
  MSTATUS.MPP |
  MSTATUS.MPRV |
  MSTATUS.SUM |
  MSTATUS.MXR |
  MSTATUS.TVM |
  MSTATUS.TW |
  MSTATUS.TSR;
const SSTATUS_MASK = MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.SUM | MSTATUS.MXR;

/** Interrupt bits of mip/mie, by cause number. */
export const IRQ = {
  SSI: 1 << 1,
  MSI: 1 << 3,
  STI: 1 << 5,
  MTI: 1 << 7,
  SEI: 1 << 9,
  MEI: 1 << 11,
} as const;
const S_INTERRUPTS = IRQ.SSI | IRQ.STI | IRQ.SEI;
const M_INTERRUPTS = IRQ.MSI | IRQ.MTI | IRQ.MEI;
/** Bits of mip that software may write (the rest are wired to devices). */
const MIP_WRITABLE = S_INTERRUPTS;
/** Exceptions that medeleg may delegate: all but ecall from M (11), as QEMU. */
const MEDELEG_WRITABLE = 0xb3ff;

/** RV32 with A, C, I, M, S, U. */
export const MISA = 0x40141105;

export const CSR = {
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  satp: 0x180,
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mstatush: 0x310,
  menvcfgh: 0x31a,
  mcountinhibit: 0x320,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  pmpcfg0: 0x3a0,
  pmpaddr0: 0x3b0,
  tselect: 0x7a0,
  tdata1: 0x7a1,
  tdata2: 0x7a2,
  tdata3: 0x7a3,
  tinfo: 0x7a4,
  tcontrol: 0x7a5,
  mcycle: 0xb00,
  minstret: 0xb02,
  mcycleh: 0xb80,
  minstreth: 0xb82,
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  cycleh: 0xc80,
  timeh: 0xc81,
  instreth: 0xc82,
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
} as const;

/** Names of every CSR we implement, by number (for debuggers and state dumps). */
export const CSR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(CSR).map(([name, num]) => [num, name] as [number, string]),
);

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
const M64 = (1n << 64n) - 1n;

/** Counter index for mcountinhibit / counteren bits. */
const CY = 0;
const TM = 1;
const IR = 2;

/** A 64-bit value kept as (lo, hi) at index 2k, 2k+1 of a Uint32Array. */
const pairGet = (a: Uint32Array, k: number): bigint => (BigInt(a[2 * k + 1]!) << 32n) | BigInt(a[2 * k]!);
function pairSet(a: Uint32Array, k: number, v: bigint): void {
  a[2 * k] = lo32(v);
  a[2 * k + 1] = hi32(v);
}

function rawCounter(cpu: Cpu, which: number): bigint {
  return BigInt(which === CY ? cpu.cycles() : which === TM ? cpu.time() : cpu.retired());
}

/** A counter's 64-bit value: the raw count plus what the guest's writes added, modulo 2^64. */
function counterValue(cpu: Cpu, which: number): bigint {
  if (which === TM) return rawCounter(cpu, TM);
  if ((cpu.mcountinhibit >>> which) & 1) return pairGet(cpu.counterFrozen, which);
  return (rawCounter(cpu, which) + pairGet(cpu.counterOffset, which)) & M64;
}

function setCounter(cpu: Cpu, which: number, value: bigint): void {
  if ((cpu.mcountinhibit >>> which) & 1) pairSet(cpu.counterFrozen, which, value & M64);
  else pairSet(cpu.counterOffset, which, (value - rawCounter(cpu, which)) & M64);
}

/**
 * Writes one half of mcycle or minstret. For a retiring instruction the
 * counter first takes that instruction's increment (a carry into the other
 * half included), then the half is replaced, and the counter is set so that
 * it reads the result once the step is counted. An inhibited counter does
 * not count the step.
 */
function writeCounterHalf(cpu: Cpu, which: number, high: boolean, v: number, retiring: boolean): void {
  const step = retiring && ((cpu.mcountinhibit >>> which) & 1) === 0 ? 1n : 0n;
  const now = (counterValue(cpu, which) + step) & M64;
  const next = high ? (BigInt(v) << 32n) | (now & 0xffffffffn) : (now & ~0xffffffffn) | BigInt(v);
  setCounter(cpu, which, next - step);
}

function setCountInhibit(cpu: Cpu, value: number): void {
  for (const which of [CY, IR]) {
    const was = (cpu.mcountinhibit >>> which) & 1;
    const now = (value >>> which) & 1;
    if (was === now) continue;
    const current = counterValue(cpu, which);
    cpu.mcountinhibit ^= 1 << which;
    if (now) pairSet(cpu.counterFrozen, which, current);
    else setCounter(cpu, which, current);
  }
}

/**
 * Whether privilege `priv` may read counter `index` (0..31) through the
 * user-level cycle/time/instret/hpmcounter CSRs (mcounteren, scounteren).
 */
function counterAllowed(cpu: Cpu, index: number, priv: number): boolean {
  if (priv === Priv.M) return true;
  if (((cpu.mcounteren >>> index) & 1) === 0) return false;
  return priv === Priv.S || ((cpu.scounteren >>> index) & 1) !== 0;
}

/** Lowest privilege allowed to access a CSR is encoded in bits 9:8 of its number. */
export const csrPrivilege = (num: number): number => (num >>> 8) & 3;
/** CSRs whose bits 11:10 are 0b11 are read-only. */
export const csrReadOnly = (num: number): boolean => num >>> 10 === 3;

/**
 * Reads a CSR for the CPU at its current privilege; returns undefined when
 * the access is illegal (unknown CSR, too little privilege, TVM, counters
 * not enabled).
 */
export function readCsr(cpu: Cpu, num: number): number | undefined {
  return readCsrAs(cpu, num, cpu.priv);
}

/**
 * Reads a CSR as M-mode would, whatever the hart's privilege, without
 * changing anything (cpu.priv included): for debuggers and state dumps.
 * Undefined for a CSR that does not exist.
 */
export function peekCsr(cpu: Cpu, num: number): number | undefined {
  return readCsrAs(cpu, num, Priv.M);
}

/** Every CSR that exists, by name, as peekCsr reads it (unsigned). */
export function peekAllCsrs(cpu: Cpu): Record<string, number> {
  const csr: Record<string, number> = {};
  for (const [num, name] of CSR_NAMES) {
    const v = readCsrAs(cpu, num, Priv.M);
    if (v !== undefined) csr[name] = v >>> 0;
  }
  return csr;
}

/** Reads a CSR as privilege `priv` would (no read has side effects); undefined when that is illegal. */
function readCsrAs(cpu: Cpu, num: number, priv: number): number | undefined {
  if (csrPrivilege(num) > priv) return undefined;
  switch (num) {
    case CSR.sstatus:
      return cpu.mstatus & SSTATUS_MASK;
    case CSR.sie:
      return cpu.mie & cpu.mideleg;
    case CSR.stvec:
      return cpu.stvec;
    case CSR.scounteren:
      return cpu.scounteren;
    case CSR.senvcfg:
      return cpu.senvcfg;
    case CSR.sscratch:
      return cpu.sscratch;
    case CSR.sepc:
      return cpu.sepc;
    case CSR.scause:
      return cpu.scause;
    case CSR.stval:
      return cpu.stval;
    case CSR.sip:
      return cpu.mip() & cpu.mideleg;
    case CSR.satp:
      if (priv === Priv.S && cpu.mstatus & MSTATUS.TVM) return undefined;
      return cpu.satp;
    case CSR.mstatus:
      return cpu.mstatus;
    case CSR.misa:
      return MISA;
    case CSR.medeleg:
      return cpu.medeleg;
    case CSR.mideleg:
      return cpu.mideleg;
    case CSR.mie:
      return cpu.mie;
    case CSR.mtvec:
      return cpu.mtvec;
    case CSR.mcounteren:
      return cpu.mcounteren;
    case CSR.menvcfg:
      return cpu.menvcfg;
    case CSR.mstatush:
      return 0;
    case CSR.menvcfgh:
      return 0;
    case CSR.mcountinhibit:
      return cpu.mcountinhibit;
    case CSR.mscratch:
      return cpu.mscratch;
    case CSR.mepc:
      return cpu.mepc;
    case CSR.mcause:
      return cpu.mcause;
    case CSR.mtval:
      return cpu.mtval;
    case CSR.mip:
      return cpu.mip();
    case CSR.mcycle:
      return lo32(counterValue(cpu, CY));
    case CSR.mcycleh:
      return hi32(counterValue(cpu, CY));
    case CSR.minstret:
      return lo32(counterValue(cpu, IR));
    case CSR.minstreth:
      return hi32(counterValue(cpu, IR));
    case CSR.mvendorid:
    case CSR.marchid:
    case CSR.mimpid:
    case CSR.mhartid:
    case CSR.mconfigptr:
      return 0;
  }
  if (num >= CSR.tselect && num <= CSR.tcontrol) return cpu.triggers.read(num);
  if (num >= CSR.pmpcfg0 && num < CSR.pmpcfg0 + 4) {
    const base = (num - CSR.pmpcfg0) * 4;
    const c = cpu.pmpcfg;
    return (c[base]! | (c[base + 1]! << 8) | (c[base + 2]! << 16) | (c[base + 3]! << 24)) >>> 0;
  }
  if (num >= CSR.pmpaddr0 && num < CSR.pmpaddr0 + 16) return cpu.pmpaddr[num - CSR.pmpaddr0]!;
  // hpm counters and their events exist and read zero (mhpmcounter3..31, mhpmevent3..31).
  if ((num >= 0xb03 && num <= 0xb1f) || (num >= 0xb83 && num <= 0xb9f) || (num >= 0x323 && num <= 0x33f)) return 0;
  if ((num >= 0xc00 && num <= 0xc1f) || (num >= 0xc80 && num <= 0xc9f)) {
    const index = num & 31;
    if (!counterAllowed(cpu, index, priv)) return undefined;
    const high = num >= 0xc80;
    if (index > IR) return 0;
    const v = counterValue(cpu, index);
    return high ? hi32(v) : lo32(v);
  }
  return undefined;
}

/**
 * Writes a CSR; the caller has checked privilege and read-only-ness via
 * readCsr and csrReadOnly, and flushes its TLB afterwards. `retiring`: the
 * write is made by an instruction that is retiring, whose own increment of
 * mcycle and minstret comes first (Zicsr, "CSR Instructions": the value
 * written is the one the next instruction reads); a debugger's write has none.
 */
export function writeCsr(cpu: Cpu, num: number, value: number, retiring = false): void {
  const v = value >>> 0;
  switch (num) {
    case CSR.sstatus:
      cpu.mstatus = ((cpu.mstatus & ~SSTATUS_MASK) | (v & SSTATUS_MASK)) >>> 0;
      return;
    case CSR.sie:
      cpu.mie = ((cpu.mie & ~cpu.mideleg) | (v & cpu.mideleg)) >>> 0;
      return;
    case CSR.stvec:
      if ((v & 3) < 2) cpu.stvec = v;
      return;
    case CSR.scounteren:
      cpu.scounteren = v;
      return;
    case CSR.senvcfg:
      cpu.senvcfg = v & 1;
      return;
    case CSR.sscratch:
      cpu.sscratch = v;
      return;
    case CSR.sepc:
      cpu.sepc = (v & ~1) >>> 0;
      return;
    case CSR.scause:
      cpu.scause = v;
      return;
    case CSR.stval:
      cpu.stval = v;
      return;
    case CSR.sip: {
      // Only SSIP is writable through sip, and only when delegated.
      const mask = IRQ.SSI & cpu.mideleg;
      cpu.mipSw = ((cpu.mipSw & ~mask) | (v & mask)) >>> 0;
      return;
    }
    case CSR.satp:
      cpu.satp = v;
      return;
    case CSR.mstatus: {
      let next = ((cpu.mstatus & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE)) >>> 0;
      // MPP is WARL: the reserved value 2 keeps the old field (as QEMU does).
      if ((next & MSTATUS.MPP) >>> 11 === 2) next = ((next & ~MSTATUS.MPP) | (cpu.mstatus & MSTATUS.MPP)) >>> 0;
      cpu.mstatus = next;
      return;
    }
    case CSR.misa:
      return;
    case CSR.medeleg:
      cpu.medeleg = v & MEDELEG_WRITABLE;
      return;
    case CSR.mideleg:
      cpu.mideleg = v & S_INTERRUPTS;
      return;
    case CSR.mie:
      cpu.mie = v & (S_INTERRUPTS | M_INTERRUPTS);
      return;
    case CSR.mtvec:
      // Modes 2 and 3 are reserved: QEMU ignores such a write entirely.
      if ((v & 3) < 2) cpu.mtvec = v;
      return;
    case CSR.mcounteren:
      cpu.mcounteren = v;
      return;
    case CSR.menvcfg:
      cpu.menvcfg = v & 1;
      return;
    case CSR.mstatush:
    case CSR.menvcfgh:
      return;
    case CSR.mcountinhibit:
      setCountInhibit(cpu, v & 0b101);
      return;
    case CSR.mscratch:
      cpu.mscratch = v;
      return;
    case CSR.mepc:
      cpu.mepc = (v & ~1) >>> 0;
      return;
    case CSR.mcause:
      cpu.mcause = v;
      return;
    case CSR.mtval:
      cpu.mtval = v;
      return;
    case CSR.mip:
      cpu.mipSw = ((cpu.mipSw & ~MIP_WRITABLE) | (v & MIP_WRITABLE)) >>> 0;
      return;
    case CSR.mcycle:
      return writeCounterHalf(cpu, CY, false, v, retiring);
    case CSR.mcycleh:
      return writeCounterHalf(cpu, CY, true, v, retiring);
    case CSR.minstret:
      return writeCounterHalf(cpu, IR, false, v, retiring);
    case CSR.minstreth:
      return writeCounterHalf(cpu, IR, true, v, retiring);
  }
  if (cpu.writeTrigger(num, v)) return;
  if (num >= CSR.pmpcfg0 && num < CSR.pmpcfg0 + 4) {
    const base = (num - CSR.pmpcfg0) * 4;
    for (let k = 0; k < 4; k++) {
      const i = base + k;
      if (cpu.pmpcfg[i]! & 0x80) continue; // locked
      let cfg = (v >>> (8 * k)) & 0x9f;
      // R=0, W=1 is reserved: QEMU drops W in that case.
      if ((cfg & 3) === 2) cfg &= ~2;
      cpu.pmpcfg[i] = cfg;
    }
    cpu.pmpChanged();
    return;
  }
  if (num >= CSR.pmpaddr0 && num < CSR.pmpaddr0 + 16) {
    const i = num - CSR.pmpaddr0;
    if (cpu.pmpcfg[i]! & 0x80) return;
    // A locked TOR entry also locks the address below it.
    if (i < 15 && cpu.pmpcfg[i + 1]! & 0x80 && ((cpu.pmpcfg[i + 1]! >>> 3) & 3) === 1) return;
    cpu.pmpaddr[i] = v;
    cpu.pmpChanged();
    return;
  }
}
