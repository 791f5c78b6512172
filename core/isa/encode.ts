/**
 * The other way round from the decoder: an instruction word from its row of the table (its op)
 * and operands, the immediate placed as the row's format says (unprivileged spec, "Base
 * Instruction Formats" and "Immediate Encoding Variants"). For programs the emulator makes itself,
 * and for the compressed instructions' expansions (rv32c.ts).
 */
import { ENCODINGS, type Format } from './table.js';

/**
 * The instruction `op` with these operands, its immediate placed as its row's format says.
 * Operands its format has no field for are left out (a U-type's rs1 and rs2 bits are immediate),
 * and so are bits the row fixes (lr.w's rs2). A signed 32-bit number, as the fetch gives it.
 */
export function encode(op: number, rd: number, rs1: number, rs2: number, imm = 0): number {
  const { match, mask, format } = ENCODINGS[op]!;
  return match | (operands(format, rd, rs1, rs2, imm) & ~mask);
}

function operands(format: Format, rd: number, rs1: number, rs2: number, imm: number): number {
  const d = rd << 7;
  const s1 = rs1 << 15;
  const s2 = rs2 << 20;
  switch (format) {
    case 'R':
    case 'AMO':
      return d | s1 | s2;
    case 'I':
    case 'CSR':
    case 'CSRI':
      return d | s1 | ((imm & 0xfff) << 20);
    case 'SHIFT':
      return d | s1 | ((imm & 31) << 20);
    case 'S':
      return s1 | s2 | (((imm >> 5) & 0x7f) << 25) | ((imm & 31) << 7);
    case 'B':
      return (
        s1 |
        s2 |
        (((imm >> 12) & 1) << 31) |
        (((imm >> 5) & 0x3f) << 25) |
        (((imm >> 1) & 15) << 8) |
        (((imm >> 11) & 1) << 7)
      );
    case 'U':
      return d | (imm & 0xfffff000);
    case 'J':
      return (
        d |
        (((imm >> 20) & 1) << 31) |
        (((imm >> 1) & 0x3ff) << 21) |
        (((imm >> 11) & 1) << 20) |
        (((imm >> 12) & 0xff) << 12)
      );
    case 'NONE':
      return 0;
  }
}
