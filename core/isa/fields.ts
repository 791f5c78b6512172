/**
 * Field accessors of 32-bit RISC-V instruction words (unprivileged spec,
 * "Base Instruction Formats" and "Immediate Encoding Variants").
 * Every decoder goes through these; nothing else twiddles instruction bits.
 */
export const opcode = (w: number): number => w & 0x7f;
export const rd = (w: number): number => (w >>> 7) & 31;
export const funct3 = (w: number): number => (w >>> 12) & 7;
export const rs1 = (w: number): number => (w >>> 15) & 31;
export const rs2 = (w: number): number => (w >>> 20) & 31;
export const funct7 = (w: number): number => w >>> 25;
/** CSR number of a Zicsr instruction. */
export const csr = (w: number): number => w >>> 20;

export const iImm = (w: number): number => w >> 20;
export const sImm = (w: number): number => ((w >> 25) << 5) | ((w >>> 7) & 31);
export const bImm = (w: number): number =>
  ((w >> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 0xf) << 1);
export const uImm = (w: number): number => w & 0xfffff000;
export const jImm = (w: number): number =>
  ((w >> 31) << 20) | (w & 0xff000) | (((w >>> 20) & 1) << 11) | (((w >>> 21) & 0x3ff) << 1);
