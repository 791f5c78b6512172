import * as F from './fields.js';
import { expandCompressed } from './rv32c.js';
import { ENCODINGS, Op, lookup } from './table.js';

/**
 * A decoded instruction is two numbers, interleaved in one Int32Array per
 * page so that a page of them allocates nothing per instruction:
 * - fields: op | rd << 7 | rs1 << 13 | rs2 << 18 | compressed << 23, where
 *   op is the row of ENCODINGS (Op.UNDECODED = 0, not decoded yet; Op.ILLEGAL) and rd = 0
 *   is stored as 32 (a scratch register) so that x0 is never written;
 * - imm: the immediate, shift amount or CSR number; the instruction bits for
 *   an illegal instruction (they become mtval).
 */
export const FIELD_RD_SHIFT = 7;
export const FIELD_RS1_SHIFT = 13;
export const FIELD_RS2_SHIFT = 18;
export const FIELD_COMPRESSED = 1 << 23;
/** Register index that absorbs writes to x0. */
export const X0_SINK = 32;

/**
 * Op.ILLEGAL as a constant of this module. The interpreter's loop calls the
 * decoder (V8 may inline it there): with `Op.ILLEGAL` read from the imported
 * object in decodeInto, cold as that path is, the loop ran 5-7 % slower on
 * guests/bench (thread CPU time, best of 5, interleaved runs).
 */
const ILLEGAL = Op.ILLEGAL;

/**
 * Decoded instructions of one 4 KiB page: for the instruction at byte offset
 * o (even), fields at [o] and imm at [o + 1].
 */
export type DecodedPage = Int32Array;
export const newDecodedPage = (): DecodedPage => new Int32Array(4096);

export interface DecodedRecord {
  fields: number;
  imm: number;
}

/**
 * Decodes one instruction. `bits` is the whole 32-bit word, or the 16-bit
 * parcel when its low two bits are not 0b11.
 */
export function decodeInto(bits: number, out: DecodedRecord): void {
  const compressed = (bits & 3) !== 3;
  const word = compressed ? expandCompressed(bits & 0xffff) : bits;
  const op = word === 0 ? ILLEGAL : lookup(word);
  const flag = compressed ? FIELD_COMPRESSED : 0;
  if (op === ILLEGAL) {
    out.fields = ILLEGAL | flag;
    out.imm = compressed ? bits & 0xffff : bits;
    return;
  }
  const rd = F.rd(word) || X0_SINK;
  const fields =
    op | (rd << FIELD_RD_SHIFT) | (F.rs1(word) << FIELD_RS1_SHIFT) | (F.rs2(word) << FIELD_RS2_SHIFT) | flag;
  let imm = 0;
  switch (ENCODINGS[op]!.format) {
    case 'I':
      imm = F.iImm(word);
      break;
    case 'S':
      imm = F.sImm(word);
      break;
    case 'B':
      imm = F.bImm(word);
      break;
    case 'U':
      imm = F.uImm(word);
      break;
    case 'J':
      imm = F.jImm(word);
      break;
    case 'SHIFT':
      imm = F.rs2(word);
      break;
    case 'CSR':
    case 'CSRI':
      imm = F.csr(word);
      break;
    case 'R':
    case 'AMO':
    case 'NONE':
      break;
  }
  out.fields = fields;
  out.imm = imm;
}

export const opOf = (fields: number): number => fields & 127;
export const rdOf = (fields: number): number => (fields >>> FIELD_RD_SHIFT) & 63;
export const rs1Of = (fields: number): number => (fields >>> FIELD_RS1_SHIFT) & 31;
export const rs2Of = (fields: number): number => (fields >>> FIELD_RS2_SHIFT) & 31;
/** Instruction length in bytes of a decoded record's fields. */
export const lengthOf = (fields: number): number => ((fields & FIELD_COMPRESSED) !== 0 ? 2 : 4);
