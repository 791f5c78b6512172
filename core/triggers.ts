/**
 * Debug triggers (Sdtrig, RISC-V Debug Specification 1.0, "Trigger Module"),
 * as M-mode software sees them: two `mcontrol6` triggers that match the
 * address of an instruction, a load or a store and raise a breakpoint
 * exception (cause 3, tval = the address) before it executes.
 *
 * What is implemented, per field of mcontrol6 (tdata1 type 6); every other
 * value of a WARL field reads back as the legal value named here:
 * - dmode 0 (no debug mode), vs/vu 0 (no H), uncertain/uncertainen 0,
 *   select 0 (address, not data), size 0 (any access), chain 0, action 0
 *   (breakpoint exception);
 * - match 0 (equal), 1 (napot), 2 (≥), 3 (<); others read as 0;
 * - m, s, u, execute, store, load as written; hit1:hit0 set to 01 when the
 *   trigger fires (before the instruction retires), writable by software.
 * A write of any type but 6 leaves the trigger disabled: type 15 with no
 * other bit set. tinfo says types 6 and 15 are supported, version 1.
 *
 * tcontrol (mte, mpte) keeps triggers with action 0 from firing in M-mode
 * unless mte is set; a trap into M-mode saves mte in mpte and clears it,
 * mret restores it (so an M-mode handler is not re-triggered by itself).
 * The privilege compared is the hart's (not MPRV's effective one).
 *
 * This module holds the rules; the CPU holds the state (Triggers) and calls
 * the match functions from its slow paths, which it arms only while some
 * trigger is enabled (armedKinds).
 */
import { CSR, Priv } from './csr.js';

/** Number of triggers (tselect 0 and 1). */
export const TRIGGER_COUNT = 2;

/** tdata1.type values. */
const TYPE_MCONTROL6 = 6;
const TYPE_DISABLED = 15;
/** A trigger that exists and is disabled: the reset value of tdata1. */
export const TDATA1_DISABLED = (TYPE_DISABLED << 28) >>> 0;
/** tinfo: version 1 (Sdtrig 1.0) in bits 31:24, supported types 6 and 15 as a bit mask. */
const TINFO = ((1 << 24) | (1 << TYPE_MCONTROL6) | (1 << TYPE_DISABLED)) >>> 0;

/** mcontrol6 fields (RV32 layout). */
const HIT1 = 1 << 25;
const HIT0 = 1 << 22;
const MATCH_SHIFT = 7;
const M = 1 << 6;
const S = 1 << 4;
const U = 1 << 3;
/** The access kinds, as mcontrol6 bits: also the bits of Cpu's armed mask. */
export const EXECUTE = 1 << 2;
export const STORE = 1 << 1;
export const LOAD = 1 << 0;
/** Bits kept from a write of an mcontrol6 value (match is legalized apart). */
const WRITABLE = HIT1 | HIT0 | M | S | U | EXECUTE | STORE | LOAD;

const MATCH_EQUAL = 0;
const MATCH_NAPOT = 1;
const MATCH_GE = 2;
const MATCH_LT = 3;

/** tcontrol fields. */
const MTE = 1 << 3;
const MPTE = 1 << 7;

/** The trigger module's state: machine state, saved with the CPU. */
export class Triggers {
  tselect = 0;
  tcontrol = 0;
  readonly tdata1 = new Uint32Array(TRIGGER_COUNT).fill(TDATA1_DISABLED);
  readonly tdata2 = new Uint32Array(TRIGGER_COUNT);

  /** Whether everything is as after reset (then the CPU's saved state leaves triggers out, as before they existed). */
  atReset(): boolean {
    return (
      this.tselect === 0 &&
      this.tcontrol === 0 &&
      this.tdata1.every((v) => v === TDATA1_DISABLED) &&
      this.tdata2.every((v) => v === 0)
    );
  }

  reset(): void {
    this.tselect = 0;
    this.tcontrol = 0;
    this.tdata1.fill(TDATA1_DISABLED);
    this.tdata2.fill(0);
  }

  /** EXECUTE | STORE | LOAD for the kinds of access some trigger may match: the CPU's slow paths run only for these. */
  armedKinds(): number {
    let kinds = 0;
    for (const t1 of this.tdata1) if (t1 >>> 28 === TYPE_MCONTROL6) kinds |= t1 & (EXECUTE | STORE | LOAD);
    return kinds;
  }

  /** A trigger CSR's value, or undefined when `num` is not one. */
  read(num: number): number | undefined {
    const i = this.tselect;
    switch (num) {
      case CSR.tselect:
        return i;
      case CSR.tdata1:
        return this.tdata1[i]!;
      case CSR.tdata2:
        return this.tdata2[i]!;
      case CSR.tdata3:
        // textra32 with every field 0: no extra match conditions.
        return 0;
      case CSR.tinfo:
        return TINFO;
      case CSR.tcontrol:
        return this.tcontrol;
    }
    return undefined;
  }

  /** Writes a trigger CSR (WARL rules above); false when `num` is not one. */
  write(num: number, value: number): boolean {
    const v = value >>> 0;
    const i = this.tselect;
    switch (num) {
      case CSR.tselect:
        // WARL: a value that is not a trigger's index leaves tselect as it was (as QEMU does).
        if (v < TRIGGER_COUNT) this.tselect = v;
        return true;
      case CSR.tdata1:
        this.tdata1[i] = legalTdata1(v);
        return true;
      case CSR.tdata2:
        this.tdata2[i] = v;
        return true;
      case CSR.tdata3:
      case CSR.tinfo:
        return true;
      case CSR.tcontrol:
        this.tcontrol = v & (MTE | MPTE);
        return true;
    }
    return false;
  }

  /**
   * The first trigger that fires for an access of `kind` at `address` by a
   * hart at privilege `priv`, or -1. Sets its hit bits when it fires.
   */
  fire(kind: number, address: number, priv: number): number {
    if (priv === Priv.M && (this.tcontrol & MTE) === 0) return -1;
    const mode = priv === Priv.M ? M : priv === Priv.S ? S : U;
    const a = address >>> 0;
    for (let i = 0; i < TRIGGER_COUNT; i++) {
      const t1 = this.tdata1[i]!;
      if (t1 >>> 28 !== TYPE_MCONTROL6 || (t1 & kind) === 0 || (t1 & mode) === 0) continue;
      if (!matches((t1 >>> MATCH_SHIFT) & 15, this.tdata2[i]!, a)) continue;
      this.tdata1[i] = ((t1 & ~(HIT1 | HIT0)) | HIT0) >>> 0;
      return i;
    }
    return -1;
  }

  /** A trap into M-mode: mpte ← mte, mte ← 0. */
  trapToM(): void {
    const t = this.tcontrol;
    this.tcontrol = (t & MTE ? MPTE : 0) >>> 0;
  }

  /** mret: mte ← mpte. */
  mret(): void {
    const t = this.tcontrol;
    this.tcontrol = ((t & ~MTE) | (t & MPTE ? MTE : 0)) >>> 0;
  }
}

function legalTdata1(v: number): number {
  if (v >>> 28 !== TYPE_MCONTROL6) return TDATA1_DISABLED;
  let match = (v >>> MATCH_SHIFT) & 15;
  if (match > MATCH_LT) match = MATCH_EQUAL;
  return ((TYPE_MCONTROL6 << 28) | (v & WRITABLE) | (match << MATCH_SHIFT)) >>> 0;
}

/** mcontrol6 match conditions on an address (tdata2 as the compare value). */
function matches(match: number, tdata2: number, a: number): boolean {
  switch (match) {
    case MATCH_EQUAL:
      return a === tdata2;
    case MATCH_NAPOT: {
      // The trailing ones of tdata2 and the zero above them are don't-care bits.
      let t = 0;
      while (t < 31 && ((tdata2 >>> t) & 1) === 1) t++;
      const care = t + 1 >= 32 ? 0 : (~0 << (t + 1)) >>> 0;
      return (a & care) >>> 0 === (tdata2 & care) >>> 0;
    }
    case MATCH_GE:
      return a >= tdata2;
    default:
      return a < tdata2;
  }
}
