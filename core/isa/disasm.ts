/** Disassembly of decoded records, for debuggers and the web app's code view. */
import { type DecodedRecord, X0_SINK, decodeInto, lengthOf, opOf, rdOf, rs1Of, rs2Of } from './decode.js';
import { CSR_NAMES } from '../csr.js';
import { ENCODINGS, Op } from './table.js';

/** ABI register names, x0..x31. */
export const REG_NAMES = [
  'zero',
  'ra',
  'sp',
  'gp',
  'tp',
  't0',
  't1',
  't2',
  's0',
  's1',
  'a0',
  'a1',
  'a2',
  'a3',
  'a4',
  'a5',
  'a6',
  'a7',
  's2',
  's3',
  's4',
  's5',
  's6',
  's7',
  's8',
  's9',
  's10',
  's11',
  't3',
  't4',
  't5',
  't6',
] as const;

const reg = (r: number): string => REG_NAMES[r === X0_SINK ? 0 : r]!;
const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

export interface Disassembly {
  text: string;
  /** 2 or 4. */
  length: number;
  /** Branch or jump target, when the instruction has a fixed one. */
  target?: number;
}

/**
 * Disassembles the instruction whose bits are given (16-bit parcel or
 * 32-bit word) at address `pc`. Compressed instructions are shown as
 * their 32-bit expansion.
 */
export function disassemble(bits: number, pc: number): Disassembly {
  const rec: DecodedRecord = { fields: 0, imm: 0 };
  decodeInto(bits, rec);
  const op = opOf(rec.fields);
  const length = lengthOf(rec.fields);
  const e = ENCODINGS[op]!;
  const rd = rdOf(rec.fields);
  const rs1 = rs1Of(rec.fields);
  const rs2 = rs2Of(rec.fields);
  const imm = rec.imm;
  const name = e.name;
  if (op === Op.ILLEGAL) return { text: `illegal ${hex(imm)}`, length };
  switch (e.format) {
    case 'R':
      if (op === Op.SFENCE_VMA) return { text: `${name} ${reg(rs1)}, ${reg(rs2)}`, length };
      return { text: `${name} ${reg(rd)}, ${reg(rs1)}, ${reg(rs2)}`, length };
    case 'I':
      if (e.kind === 'load' || op === Op.JALR) {
        return { text: `${name} ${reg(rd)}, ${imm}(${reg(rs1)})`, length };
      }
      return { text: `${name} ${reg(rd)}, ${reg(rs1)}, ${imm}`, length };
    case 'SHIFT':
      return { text: `${name} ${reg(rd)}, ${reg(rs1)}, ${imm}`, length };
    case 'S':
      return { text: `${name} ${reg(rs2)}, ${imm}(${reg(rs1)})`, length };
    case 'B': {
      const target = (pc + imm) >>> 0;
      return { text: `${name} ${reg(rs1)}, ${reg(rs2)}, ${hex(target)}`, length, target };
    }
    case 'U':
      return { text: `${name} ${reg(rd)}, ${hex(imm >>> 12)}`, length };
    case 'J': {
      const target = (pc + imm) >>> 0;
      return { text: `${name} ${reg(rd)}, ${hex(target)}`, length, target };
    }
    case 'CSR':
    case 'CSRI': {
      const csr = CSR_NAMES.get(imm) ?? hex(imm);
      const src = e.format === 'CSR' ? reg(rs1) : String(rs1);
      return { text: `${name} ${reg(rd)}, ${csr}, ${src}`, length };
    }
    case 'AMO':
      if (op === Op.LR_W) return { text: `${name} ${reg(rd)}, (${reg(rs1)})`, length };
      return { text: `${name} ${reg(rd)}, ${reg(rs2)}, (${reg(rs1)})`, length };
    case 'NONE':
      return { text: name, length };
  }
}
