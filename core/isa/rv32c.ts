/**
 * The C extension as expansion to 32-bit instructions (unprivileged spec,
 * chapter "C" Standard Extension, RVC instruction set listings). Decoding a
 * compressed instruction is expanding it and decoding the expansion.
 * Returns 0 (an illegal word) for reserved and unsupported encodings.
 */
import { encode } from './encode.js';
import { Op } from './table.js';

const bit = (h: number, n: number): number => (h >>> n) & 1;
const bits = (h: number, hi: number, lo: number): number => (h >>> lo) & ((1 << (hi - lo + 1)) - 1);
/** A register of the 3-bit "popular" set x8..x15. */
const rp = (h: number, lo: number): number => 8 + bits(h, lo + 2, lo);
const sext = (v: number, width: number): number => (v << (32 - width)) >> (32 - width);

const ADDI = (rd: number, rs1: number, imm: number) => encode(Op.ADDI, rd, rs1, 0, imm);
const JALR = (rd: number, rs1: number) => encode(Op.JALR, rd, rs1, 0, 0);
const LW = (rd: number, rs1: number, imm: number) => encode(Op.LW, rd, rs1, 0, imm);
const SW = (rs1: number, rs2: number, imm: number) => encode(Op.SW, 0, rs1, rs2, imm);

/** c.j / c.jal offset: imm[11|4|9:8|10|6|7|3:1|5] in bits 12..2. */
function cjImm(h: number): number {
  const v =
    (bit(h, 12) << 11) |
    (bit(h, 11) << 4) |
    (bits(h, 10, 9) << 8) |
    (bit(h, 8) << 10) |
    (bit(h, 7) << 6) |
    (bit(h, 6) << 7) |
    (bits(h, 5, 3) << 1) |
    (bit(h, 2) << 5);
  return sext(v, 12);
}

/** c.beqz / c.bnez offset: imm[8|4:3] in 12..10, imm[7:6|2:1|5] in 6..2. */
function cbImm(h: number): number {
  const v = (bit(h, 12) << 8) | (bits(h, 11, 10) << 3) | (bits(h, 6, 5) << 6) | (bits(h, 4, 3) << 1) | (bit(h, 2) << 5);
  return sext(v, 9);
}

/** The 6-bit signed immediate of c.addi, c.li, c.andi: imm[5] in 12, imm[4:0] in 6..2. */
const ciImm = (h: number): number => sext((bit(h, 12) << 5) | bits(h, 6, 2), 6);
/** c.lw / c.sw offset: uimm[5:3] in 12..10, uimm[2] in 6, uimm[6] in 5. */
const clImm = (h: number): number => (bits(h, 12, 10) << 3) | (bit(h, 6) << 2) | (bit(h, 5) << 6);

function quadrant0(h: number): number {
  switch (bits(h, 15, 13)) {
    case 0: {
      const imm = (bits(h, 12, 11) << 4) | (bits(h, 10, 7) << 6) | (bit(h, 6) << 2) | (bit(h, 5) << 3);
      return imm === 0 ? 0 : ADDI(rp(h, 2), 2, imm); // c.addi4spn; imm 0 is reserved (and covers the all-zero word)
    }
    case 2:
      return LW(rp(h, 2), rp(h, 7), clImm(h));
    case 6:
      return SW(rp(h, 7), rp(h, 2), clImm(h));
    default:
      return 0; // c.fld/c.flw/c.fsd/c.fsw need F/D; funct3 4 is reserved
  }
}

function quadrant1(h: number): number {
  const rd = bits(h, 11, 7);
  switch (bits(h, 15, 13)) {
    case 0:
      return ADDI(rd, rd, ciImm(h)); // c.addi (c.nop when rd = 0)
    case 1:
      return encode(Op.JAL, 1, 0, 0, cjImm(h)); // c.jal (RV32 only)
    case 2:
      return ADDI(rd, 0, ciImm(h)); // c.li
    case 3: {
      if (rd === 2) {
        const v = (bit(h, 12) << 9) | (bit(h, 6) << 4) | (bit(h, 5) << 6) | (bits(h, 4, 3) << 7) | (bit(h, 2) << 5);
        return v === 0 ? 0 : ADDI(2, 2, sext(v, 10)); // c.addi16sp
      }
      const imm = sext((bit(h, 12) << 17) | (bits(h, 6, 2) << 12), 18);
      return imm === 0 ? 0 : encode(Op.LUI, rd, 0, 0, imm); // c.lui
    }
    case 4: {
      const r = rp(h, 7);
      switch (bits(h, 11, 10)) {
        case 0:
          return bit(h, 12) ? 0 : encode(Op.SRLI, r, r, 0, bits(h, 6, 2)); // c.srli; shamt[5]=1 is reserved on RV32
        case 1:
          return bit(h, 12) ? 0 : encode(Op.SRAI, r, r, 0, bits(h, 6, 2)); // c.srai
        case 2:
          return encode(Op.ANDI, r, r, 0, ciImm(h)); // c.andi
        default: {
          if (bit(h, 12)) return 0; // c.subw/c.addw are RV64
          const rs2 = rp(h, 2);
          const f = bits(h, 6, 5);
          return encode(f === 0 ? Op.SUB : f === 1 ? Op.XOR : f === 2 ? Op.OR : Op.AND, r, r, rs2);
        }
      }
    }
    case 5:
      return encode(Op.JAL, 0, 0, 0, cjImm(h)); // c.j
    case 6:
      return encode(Op.BEQ, 0, rp(h, 7), 0, cbImm(h)); // c.beqz
    default:
      return encode(Op.BNE, 0, rp(h, 7), 0, cbImm(h)); // c.bnez
  }
}

function quadrant2(h: number): number {
  const rd = bits(h, 11, 7);
  const rs2 = bits(h, 6, 2);
  switch (bits(h, 15, 13)) {
    case 0:
      return bit(h, 12) ? 0 : encode(Op.SLLI, rd, rd, 0, rs2); // c.slli
    case 2: {
      if (rd === 0) return 0; // c.lwsp with rd = 0 is reserved
      return LW(rd, 2, (bit(h, 12) << 5) | (bits(h, 6, 4) << 2) | (bits(h, 3, 2) << 6));
    }
    case 4:
      if (bit(h, 12) === 0) {
        if (rs2 === 0) return rd === 0 ? 0 : JALR(0, rd); // c.jr; rs1 = 0 is reserved
        return encode(Op.ADD, rd, 0, rs2); // c.mv
      }
      if (rs2 === 0) return rd === 0 ? encode(Op.EBREAK, 0, 0, 0) : JALR(1, rd); // c.ebreak, c.jalr
      return encode(Op.ADD, rd, rd, rs2); // c.add
    case 6:
      return SW(2, rs2, (bits(h, 12, 9) << 2) | (bits(h, 8, 7) << 6));
    default:
      return 0; // c.fldsp/c.flwsp/c.fsdsp/c.fswsp need F/D
  }
}

/** Expands a 16-bit instruction to its 32-bit equivalent, or 0 when it is illegal. */
export function expandCompressed(half: number): number {
  switch (half & 3) {
    case 0:
      return quadrant0(half);
    case 1:
      return quadrant1(half);
    case 2:
      return quadrant2(half);
    default:
      return 0;
  }
}
