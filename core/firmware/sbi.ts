/**
 * The built-in M-mode firmware: a RISC-V Supervisor Binary Interface
 * (SBI spec v2.0) for one hart, written in TypeScript so that an S-mode
 * kernel such as Linux starts with no third-party firmware blob.
 *
 * It sets the hart up the way OpenSBI leaves it for the kernel (delegation,
 * counters, PMP, S-mode at the entry point with a0 = hart id and a1 = the
 * device tree), then takes every trap that would enter M-mode from S or U:
 *
 * - ecall from S: the SBI calls (base, TIME, IPI, RFENCE, HSM, SRST, DBCN
 *   and the legacy v0.1 calls Linux still uses: set_timer, console
 *   putchar/getchar, clear_ipi, send_ipi, remote fences, shutdown);
 * - the machine timer interrupt: forwarded to S-mode as STIP, with MTIE
 *   masked until the next set_timer (privileged spec, "Machine Timer
 *   Registers"; SBI TIME extension);
 * - anything else (an exception the kernel did not delegate): redirected to
 *   the S-mode trap handler as if it had been delegated.
 */
import { IRQ, MSTATUS, Priv } from '../csr.js';
import {
  MSIP as CLINT_MSIP,
  MTIMECMP_HI as CLINT_MTIMECMP_HI,
  MTIMECMP_LO as CLINT_MTIMECMP_LO,
} from '../devices/clint.js';
import type { Machine } from '../machine.js';

/** SBI error codes (SBI spec, "Standard SBI Errors"). */
export const SbiError = {
  SUCCESS: 0,
  FAILED: -1,
  NOT_SUPPORTED: -2,
  INVALID_PARAM: -3,
  DENIED: -4,
  INVALID_ADDRESS: -5,
  ALREADY_AVAILABLE: -6,
} as const;

/** Extension ids (SBI spec, chapters 3–10). */
export const SbiExt = {
  LEGACY_SET_TIMER: 0x00,
  LEGACY_PUTCHAR: 0x01,
  LEGACY_GETCHAR: 0x02,
  LEGACY_CLEAR_IPI: 0x03,
  LEGACY_SEND_IPI: 0x04,
  LEGACY_REMOTE_FENCE_I: 0x05,
  LEGACY_REMOTE_SFENCE_VMA: 0x06,
  LEGACY_REMOTE_SFENCE_VMA_ASID: 0x07,
  LEGACY_SHUTDOWN: 0x08,
  BASE: 0x10,
  TIME: 0x54494d45,
  IPI: 0x735049,
  RFENCE: 0x52464e43,
  HSM: 0x48534d,
  SRST: 0x53525354,
  DBCN: 0x4442434e,
} as const;

/** SBI spec version 2.0 (major in bits 30:24, minor in 23:0). */
export const SBI_SPEC_VERSION = (2 << 24) | 0;
/** Implementation id: unassigned ids are free for experimental use; this one spells "RWND". */
export const SBI_IMPL_ID = 0x52574e44;
export const SBI_IMPL_VERSION = 1;

const SUPPORTED = new Set<number>([
  SbiExt.BASE,
  SbiExt.TIME,
  SbiExt.IPI,
  SbiExt.RFENCE,
  SbiExt.HSM,
  SbiExt.SRST,
  SbiExt.DBCN,
  SbiExt.LEGACY_SET_TIMER,
  SbiExt.LEGACY_PUTCHAR,
  SbiExt.LEGACY_GETCHAR,
  SbiExt.LEGACY_CLEAR_IPI,
  SbiExt.LEGACY_SEND_IPI,
  SbiExt.LEGACY_REMOTE_FENCE_I,
  SbiExt.LEGACY_REMOTE_SFENCE_VMA,
  SbiExt.LEGACY_REMOTE_SFENCE_VMA_ASID,
  SbiExt.LEGACY_SHUTDOWN,
]);

const ECALL_S = 9;
const INT_MSI = 3;
const INT_MTI = 7;
const INT_MEI = 11;
const UART_RBR = 0;
const UART_LSR = 5;
const LSR_DR = 1;

/**
 * Exceptions handed straight to S-mode, as OpenSBI delegates them plus the
 * ones it would only redirect: misaligned fetch (0), fetch/load/store access
 * faults (1, 5, 7), illegal instruction (2), breakpoint (3), misaligned
 * load/store (4, 6), ecall from U (8), page faults (12, 13, 15).
 */
export const MEDELEG =
  (1 << 0) |
  (1 << 1) |
  (1 << 2) |
  (1 << 3) |
  (1 << 4) |
  (1 << 5) |
  (1 << 6) |
  (1 << 7) |
  (1 << 8) |
  (1 << 12) |
  (1 << 13) |
  (1 << 15);
/** Supervisor software, timer and external interrupts belong to S-mode. */
export const MIDELEG = IRQ.SSI | IRQ.STI | IRQ.SEI;

/**
 * Installs the SBI on a freshly reset machine: called by the machine after
 * every reset (MachineConfig.firmware), with pc at the kernel's entry,
 * a0 = hart id and a1 = the device tree.
 */
export function sbiFirmware(machine: Machine): void {
  const cpu = machine.cpu;
  cpu.medeleg = MEDELEG;
  cpu.mideleg = MIDELEG;
  cpu.mie = 0;
  // S and U may read cycle, time and instret.
  cpu.mcounteren = 7;
  // PMP entry 0: RWX for S and U over the whole 34-bit physical address
  // space, as top-of-range (0 up to pmpaddr0 * 4): the same as OpenSBI's
  // NAPOT entry but cheaper to check on every translation.
  cpu.pmpaddr[0] = 0xffffffff;
  cpu.pmpcfg[0] = 0x0f;
  cpu.pmpChanged();
  // As after an mret to S with interrupts off: MPP = S, MPIE = 1, SIE = 0.
  cpu.mstatus =
    ((cpu.mstatus & ~(MSTATUS.MPP | MSTATUS.MIE | MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.MPRV)) |
      (Priv.S << 11) |
      MSTATUS.MPIE) >>>
    0;
  cpu.satp = 0;
  cpu.mtvec = 0;
  cpu.priv = Priv.S;
  cpu.flushTlb();
  cpu.firmware = (cause, interrupt, tval, pc) => {
    if (interrupt) return interruptEntry(machine, cause);
    if (cause === ECALL_S && cpu.priv === Priv.S) {
      sbiCall(machine);
      cpu.pc = (pc + 4) | 0;
      return true;
    }
    redirectToS(machine, cause, tval, pc);
    return true;
  };
}

function interruptEntry(machine: Machine, cause: number): boolean {
  const cpu = machine.cpu;
  switch (cause) {
    case INT_MTI:
      // Forward to S-mode and mask until the kernel asks for its next tick.
      cpu.mipSw = (cpu.mipSw | IRQ.STI) >>> 0;
      cpu.mie = (cpu.mie & ~IRQ.MTI) >>> 0;
      return true;
    case INT_MSI:
      machine.clint.write(CLINT_MSIP, 0, 4);
      cpu.mipSw = (cpu.mipSw | IRQ.SSI) >>> 0;
      return true;
    case INT_MEI:
      // Nothing routes external interrupts to M-mode's PLIC context; mask it.
      cpu.mie = (cpu.mie & ~IRQ.MEI) >>> 0;
      return true;
    default:
      return false;
  }
}

/** Takes an exception the kernel did not delegate as if it had been (OpenSBI's sbi_trap_redirect). */
function redirectToS(machine: Machine, cause: number, tval: number, pc: number): void {
  const cpu = machine.cpu;
  const s = cpu.mstatus;
  cpu.scause = cause >>> 0;
  cpu.sepc = pc >>> 0;
  cpu.stval = tval >>> 0;
  let next = s & ~(MSTATUS.SPIE | MSTATUS.SIE | MSTATUS.SPP);
  if (s & MSTATUS.SIE) next |= MSTATUS.SPIE;
  if (cpu.priv === Priv.S) next |= MSTATUS.SPP;
  cpu.mstatus = next >>> 0;
  cpu.priv = Priv.S;
  cpu.pc = (cpu.stvec & ~3) | 0;
}

function setTimer(machine: Machine, lo: number, hi: number): void {
  const cpu = machine.cpu;
  cpu.mipSw = (cpu.mipSw & ~IRQ.STI) >>> 0;
  machine.clint.write(CLINT_MTIMECMP_HI, 0xffffffff, 4);
  machine.clint.write(CLINT_MTIMECMP_LO, lo >>> 0, 4);
  machine.clint.write(CLINT_MTIMECMP_HI, hi >>> 0, 4);
  cpu.mie = (cpu.mie | IRQ.MTI) >>> 0;
}

function putchar(machine: Machine, byte: number): void {
  machine.onOutput(byte & 0xff);
}

/** A byte from the UART's receive FIFO, or -1; reads LSR like a polling driver so that typed input flows in. */
function getchar(machine: Machine): number {
  if ((machine.uart.read(UART_LSR, 1) & LSR_DR) === 0) return -1;
  return machine.uart.read(UART_RBR, 1) & 0xff;
}

function power(machine: Machine, type: number, reason: number): number {
  switch (type) {
    case 0: // shutdown
      machine.power = reason === 1 ? { kind: 'fail', code: 1 } : { kind: 'pass' };
      return SbiError.SUCCESS;
    case 1: // cold reboot
    case 2: // warm reboot
      machine.power = { kind: 'reset' };
      return SbiError.SUCCESS;
    default:
      return SbiError.INVALID_PARAM;
  }
}

/** Reads a byte of physical memory for DBCN; -1 outside RAM. */
function physByte(machine: Machine, addr: number): number {
  const off = addr - machine.ramBase;
  if (off < 0 || off >= machine.ram.size) return -1;
  return machine.ram.bytes[off]!;
}

/** Performs the call in a7 (extension), a6 (function), a0..a5 and writes a0 (error) and a1 (value). */
function sbiCall(machine: Machine): void {
  const cpu = machine.cpu;
  const x = cpu.x;
  const eid = x[17]! >>> 0;
  const fid = x[16]! >>> 0;
  const a0 = x[10]! >>> 0;
  const a1 = x[11]! >>> 0;
  const a2 = x[12]! >>> 0;
  // Legacy (v0.1) calls return one value in a0 and leave a1 alone.
  if (eid <= SbiExt.LEGACY_SHUTDOWN) {
    let ret = 0;
    switch (eid) {
      case SbiExt.LEGACY_SET_TIMER:
        setTimer(machine, a0, a1);
        break;
      case SbiExt.LEGACY_PUTCHAR:
        putchar(machine, a0);
        break;
      case SbiExt.LEGACY_GETCHAR:
        ret = getchar(machine);
        break;
      case SbiExt.LEGACY_CLEAR_IPI:
        cpu.mipSw = (cpu.mipSw & ~IRQ.SSI) >>> 0;
        break;
      case SbiExt.LEGACY_SEND_IPI:
        cpu.mipSw = (cpu.mipSw | IRQ.SSI) >>> 0;
        break; // one hart: only itself
      case SbiExt.LEGACY_REMOTE_FENCE_I:
        break;
      case SbiExt.LEGACY_REMOTE_SFENCE_VMA:
      case SbiExt.LEGACY_REMOTE_SFENCE_VMA_ASID:
        cpu.flushTlb();
        break;
      case SbiExt.LEGACY_SHUTDOWN:
        power(machine, 0, 0);
        break;
    }
    x[10] = ret;
    return;
  }
  let error: number = SbiError.SUCCESS;
  let value = 0;
  switch (eid) {
    case SbiExt.BASE:
      switch (fid) {
        case 0:
          value = SBI_SPEC_VERSION;
          break;
        case 1:
          value = SBI_IMPL_ID;
          break;
        case 2:
          value = SBI_IMPL_VERSION;
          break;
        case 3:
          value = SUPPORTED.has(a0) ? 1 : 0;
          break;
        case 4:
        case 5:
        case 6:
          value = 0;
          break; // mvendorid, marchid, mimpid
        default:
          error = SbiError.NOT_SUPPORTED;
      }
      break;
    case SbiExt.TIME:
      if (fid === 0) setTimer(machine, a0, a1);
      else error = SbiError.NOT_SUPPORTED;
      break;
    case SbiExt.IPI:
      // send_ipi(hart_mask, hart_mask_base): hart 0 is the only hart.
      if (fid === 0) {
        const all = a1 === 0xffffffff;
        if (all || (a1 === 0 && (a0 & 1) !== 0)) cpu.mipSw = (cpu.mipSw | IRQ.SSI) >>> 0;
        else if (!all && (a1 > 0 || a0 >>> 1 !== 0)) error = SbiError.INVALID_PARAM;
      } else error = SbiError.NOT_SUPPORTED;
      break;
    case SbiExt.RFENCE:
      // One hart: every remote fence is a local one. fence.i needs nothing (stores drop decoded code).
      if (fid === 0) break;
      if (fid <= 2) cpu.flushTlb();
      else error = SbiError.NOT_SUPPORTED; // hypervisor fences
      break;
    case SbiExt.HSM:
      switch (fid) {
        case 0:
          error = a0 === 0 ? SbiError.ALREADY_AVAILABLE : SbiError.INVALID_PARAM;
          break; // hart_start
        case 1:
          error = SbiError.DENIED;
          break; // hart_stop: the last hart may not stop
        case 2:
          if (a0 === 0) value = 0;
          else error = SbiError.INVALID_PARAM;
          break; // STARTED
        case 3: // hart_suspend: a default retentive suspend behaves as wfi
          if (a0 === 0) {
            if ((cpu.mip() & cpu.mie) === 0) cpu.waiting = true;
          } else error = SbiError.NOT_SUPPORTED;
          break;
        default:
          error = SbiError.NOT_SUPPORTED;
      }
      break;
    case SbiExt.SRST:
      if (fid === 0) error = a0 <= 2 && a1 <= 1 ? power(machine, a0, a1) : SbiError.INVALID_PARAM;
      else error = SbiError.NOT_SUPPORTED;
      break;
    case SbiExt.DBCN:
      switch (fid) {
        case 0: {
          // console_write(num_bytes, base_lo, base_hi)
          if (a2 !== 0) {
            error = SbiError.INVALID_PARAM;
            break;
          }
          let n = 0;
          for (; n < a0; n++) {
            const b = physByte(machine, a1 + n);
            if (b < 0) break;
            putchar(machine, b);
          }
          if (n === 0 && a0 > 0) error = SbiError.INVALID_PARAM;
          value = n;
          break;
        }
        case 1: {
          // console_read(num_bytes, base_lo, base_hi)
          if (a2 !== 0) {
            error = SbiError.INVALID_PARAM;
            break;
          }
          let n = 0;
          while (n < a0) {
            const off = a1 + n - machine.ramBase;
            if (off < 0 || off >= machine.ram.size) break;
            const c = getchar(machine);
            if (c < 0) break;
            machine.ram.write(off, Uint8Array.of(c));
            cpu.invalidateRange(off, 1);
            n++;
          }
          value = n;
          break;
        }
        case 2:
          putchar(machine, a0);
          break; // console_write_byte
        default:
          error = SbiError.NOT_SUPPORTED;
      }
      break;
    default:
      error = SbiError.NOT_SUPPORTED;
  }
  x[10] = error;
  x[11] = value | 0;
}
