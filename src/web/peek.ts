/**
 * Side-effect-free looks into a machine for the debugger views: RAM bytes
 * by physical or virtual address, and disassembly around an address.
 * Virtual addresses are translated by core/debug.ts's walk, the one the gdb
 * stub uses (a data access of the hart now: MPRV, SUM, MXR; no A/D bits set,
 * no fault taken). Device registers are never read: reads have side effects
 * (a UART read pops its FIFO).
 */
import { debugTranslate } from '../../core/debug.js';
import { disassemble } from '../../core/isa/disasm.js';
import type { Machine } from '../../core/machine.js';
import type { DisasmLine, MemoryBlock } from './protocol.js';

/** The physical address that virtual `va` maps to for a data access now, or null when unmapped. */
export function translate(machine: Machine, va: number): number | null {
  const pa = debugTranslate(machine.cpu, va);
  return pa < 0 ? null : pa;
}

/** RAM offset of physical address `pa` for `size` bytes, or -1 outside RAM. */
function ramOffset(machine: Machine, pa: number, size: number): number {
  const off = pa - machine.ramBase;
  return off >= 0 && off + size <= machine.ram.size ? off : -1;
}

/** Reads a byte at a physical or virtual address, or null when it cannot be read. */
export function peekByte(machine: Machine, address: number, virtual: boolean): number | null {
  const pa = virtual ? translate(machine, address) : address >>> 0;
  if (pa === null) return null;
  const off = ramOffset(machine, pa, 1);
  return off < 0 ? null : machine.ram.bytes[off]!;
}

/** Reads `length` bytes (at most 64 KiB) from `address`. */
export function readMemory(machine: Machine, address: number, length: number, virtual: boolean): MemoryBlock {
  const n = Math.max(0, Math.min(length | 0, 65536));
  const bytes = new Uint8Array(n);
  const readable = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = peekByte(machine, (address + i) >>> 0, virtual);
    if (v !== null) {
      bytes[i] = v;
      readable[i] = 1;
    }
  }
  return { address: address >>> 0, bytes, readable };
}

function peekHalf(machine: Machine, va: number): number | null {
  const lo = peekByte(machine, va, true);
  const hi = peekByte(machine, (va + 1) >>> 0, true);
  return lo === null || hi === null ? null : lo | (hi << 8);
}

/** The instruction at virtual address `va`, or null when it cannot be read. */
export function instructionAt(machine: Machine, va: number, symbols?: ReadonlyMap<number, string>): DisasmLine | null {
  const lo = peekHalf(machine, va);
  if (lo === null) return null;
  let bits = lo;
  if ((lo & 3) === 3) {
    const hi = peekHalf(machine, (va + 2) >>> 0);
    if (hi === null) return null;
    bits = (lo | (hi << 16)) >>> 0;
  }
  const d = disassemble(bits, va | 0);
  const line: DisasmLine = { address: va >>> 0, bits, length: d.length, text: d.text };
  const symbol = symbols?.get(va >>> 0);
  if (symbol !== undefined) line.symbol = symbol;
  return line;
}

/** `count` instructions from `va` onwards (stopping at unreadable memory). */
function forward(machine: Machine, va: number, count: number, symbols?: ReadonlyMap<number, string>): DisasmLine[] {
  const out: DisasmLine[] = [];
  let a = va >>> 0;
  for (let i = 0; i < count; i++) {
    const line = instructionAt(machine, a, symbols);
    if (!line) break;
    out.push(line);
    a = (a + line.length) >>> 0;
  }
  return out;
}

/**
 * Disassembly around `va`: up to `before` instructions that end exactly at
 * `va` (variable-length code is decoded forward from the furthest start
 * that lands on `va`), then `after` instructions from `va`.
 */
export function disassembleAround(
  machine: Machine,
  va: number,
  before: number,
  after: number,
  symbols?: ReadonlyMap<number, string>,
): DisasmLine[] {
  const target = va >>> 0;
  let lead: DisasmLine[] = [];
  for (let back = before * 4; back >= 2 && lead.length === 0; back -= 2) {
    const start = (target - back) >>> 0;
    if (start > target) continue;
    const lines: DisasmLine[] = [];
    let a = start;
    while (a < target) {
      const line = instructionAt(machine, a, symbols);
      if (!line) break;
      lines.push(line);
      a = (a + line.length) >>> 0;
    }
    if (a === target && lines.length >= Math.min(before, back / 4)) lead = lines.slice(-before);
  }
  return [...lead, ...forward(machine, target, after, symbols)];
}
