/**
 * Side-effect-free address translation for debuggers.
 *
 * The hart's own walk (Cpu.walk) sets the A and D bits of the PTEs it uses
 * and raises page faults; a debugger looking at memory must do neither, or
 * looking would change the machine (and the recording). This walk reads
 * the page tables through `Cpu.readPhysical`, never writes, never traps,
 * and answers "no translation" instead of faulting.
 *
 * It translates as a data access of the hart would now: M-mode is bare
 * unless mstatus.MPRV makes loads and stores use mstatus.MPP; S and U use
 * Sv32 when satp.MODE is set, honouring SUM and MXR (privileged spec,
 * "Virtual Address Translation Process"). PMP is not checked: the debugger
 * may look at memory the current mode may not.
 */
import type { Cpu } from './cpu.js';
import { MSTATUS, Priv } from './csr.js';

/** What the debugger means to do at the address. */
export type DebugAccess = 'read' | 'write' | 'exec';

const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;

/** The privilege a data access uses now (MPRV makes M-mode loads and stores use MPP). */
export function dataPrivilege(cpu: Cpu): number {
  return cpu.priv === Priv.M && (cpu.mstatus & MSTATUS.MPRV) !== 0 ? (cpu.mstatus & MSTATUS.MPP) >>> 11 : cpu.priv;
}

/**
 * The physical address of virtual address `va` as the hart would access it
 * now, or -1 when the access would fault. Reads PTEs without changing them.
 * With `access` 'read' (the default) the debugger wants to see memory: a
 * mapping that is valid for any access kind in the current mode is
 * accepted, so that gdb can read code pages that are execute-only.
 */
export function debugTranslate(cpu: Cpu, va: number, access: DebugAccess = 'read'): number {
  const v = va >>> 0;
  const priv = access === 'exec' ? cpu.priv : dataPrivilege(cpu);
  if (priv === Priv.M || cpu.satp >>> 31 === 0) return v;
  let table = (cpu.satp & 0x3fffff) * 4096;
  let level = 1;
  let pte = 0;
  for (;;) {
    const index = level === 1 ? v >>> 22 : (v >>> 12) & 0x3ff;
    const entry = cpu.readPhysical(table + index * 4, 4);
    if (entry === undefined) return -1;
    pte = entry >>> 0;
    if ((pte & PTE_V) === 0 || ((pte & PTE_R) === 0 && (pte & PTE_W) !== 0)) return -1;
    if (pte & (PTE_R | PTE_X)) break;
    if (level === 0) return -1;
    level = 0;
    table = (pte >>> 10) * 4096;
  }
  const ppn = pte >>> 10;
  // A misaligned superpage (privileged spec, step 6 of the walk).
  if (level === 1 && (ppn & 0x3ff) !== 0) return -1;
  const user = (pte & PTE_U) !== 0;
  if (access === 'exec') {
    if ((pte & PTE_X) === 0) return -1;
    if (priv === Priv.U ? !user : user) return -1;
  } else {
    if (priv === Priv.U && !user) return -1;
    if (priv === Priv.S && user && (cpu.mstatus & MSTATUS.SUM) === 0) return -1;
    const readable = (pte & PTE_R) !== 0 || ((cpu.mstatus & MSTATUS.MXR) !== 0 && (pte & PTE_X) !== 0);
    if (access === 'write' && (pte & PTE_W) === 0) return -1;
    if (access === 'read' && !readable && (pte & PTE_X) === 0) return -1;
  }
  return level === 1 ? (ppn >>> 10) * 0x400000 + (v & 0x3fffff) : ppn * 4096 + (v & 0xfff);
}

/**
 * Reads `length` bytes of virtual memory as the debugger sees it, page by
 * page; stops at the first byte that has no translation or is not RAM
 * (device registers are never read: reading them has side effects).
 */
export function debugReadVirtual(cpu: Cpu, va: number, length: number): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const pa = debugTranslate(cpu, (va + i) >>> 0, 'read');
    if (pa < 0) break;
    const b = cpu.readPhysical(pa, 1);
    if (b === undefined) break;
    out.push(b);
  }
  return Uint8Array.from(out);
}
