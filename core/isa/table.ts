/**
 * Instruction encodings as data (Spike's encoding.h in table form): one row per
 * instruction with the bits that identify it (mask/match), its extension and
 * the operand format the decoder extracts. The row's position is its op id.
 */

/** How the decoder fills a record's operand fields. */
export type Format = 'R' | 'I' | 'S' | 'B' | 'U' | 'J' | 'SHIFT' | 'CSR' | 'CSRI' | 'AMO' | 'NONE';

export interface Encoding {
  readonly name: string;
  readonly mask: number;
  readonly match: number;
  readonly ext: 'I' | 'M' | 'A' | 'Zicsr' | 'Zifencei' | 'priv';
  readonly format: Format;
}

const OPC = 0x7f;
const F3 = 0x707f;
const F7 = 0xfe00707f;
const AMO = 0xf800707f;

function row(name: string, mask: number, match: number, ext: Encoding['ext'], format: Format): Encoding {
  return { name, mask: mask >>> 0, match: match >>> 0, ext, format };
}

const r = (name: string, f7: number, f3: number, op: number, ext: Encoding['ext'] = 'I') =>
  row(name, F7, (f7 << 25) | (f3 << 12) | op, ext, 'R');
const i = (name: string, f3: number, op: number, format: Format = 'I', ext: Encoding['ext'] = 'I') =>
  row(name, F3, (f3 << 12) | op, ext, format);
const amo = (name: string, f5: number) => row(name, AMO, (f5 << 27) | (2 << 12) | 0x2f, 'A', 'AMO');

/** Index 0 is reserved for "not decoded yet"; index 1 is the illegal instruction. */
export const ENCODINGS: readonly Encoding[] = [
  row('<undecoded>', 0, 1, 'I', 'NONE'),
  row('illegal', 0, 1, 'I', 'NONE'),
  row('lui', OPC, 0x37, 'I', 'U'),
  row('auipc', OPC, 0x17, 'I', 'U'),
  row('jal', OPC, 0x6f, 'I', 'J'),
  i('jalr', 0, 0x67),
  i('beq', 0, 0x63, 'B'),
  i('bne', 1, 0x63, 'B'),
  i('blt', 4, 0x63, 'B'),
  i('bge', 5, 0x63, 'B'),
  i('bltu', 6, 0x63, 'B'),
  i('bgeu', 7, 0x63, 'B'),
  i('lb', 0, 0x03),
  i('lh', 1, 0x03),
  i('lw', 2, 0x03),
  i('lbu', 4, 0x03),
  i('lhu', 5, 0x03),
  i('sb', 0, 0x23, 'S'),
  i('sh', 1, 0x23, 'S'),
  i('sw', 2, 0x23, 'S'),
  i('addi', 0, 0x13),
  i('slti', 2, 0x13),
  i('sltiu', 3, 0x13),
  i('xori', 4, 0x13),
  i('ori', 6, 0x13),
  i('andi', 7, 0x13),
  row('slli', F7, (1 << 12) | 0x13, 'I', 'SHIFT'),
  row('srli', F7, (5 << 12) | 0x13, 'I', 'SHIFT'),
  row('srai', F7, (0x20 << 25) | (5 << 12) | 0x13, 'I', 'SHIFT'),
  r('add', 0, 0, 0x33),
  r('sub', 0x20, 0, 0x33),
  r('sll', 0, 1, 0x33),
  r('slt', 0, 2, 0x33),
  r('sltu', 0, 3, 0x33),
  r('xor', 0, 4, 0x33),
  r('srl', 0, 5, 0x33),
  r('sra', 0x20, 5, 0x33),
  r('or', 0, 6, 0x33),
  r('and', 0, 7, 0x33),
  // FENCE ignores its fm/pred/succ/rs1/rd fields (unprivileged spec, "Memory Ordering Instructions").
  row('fence', F3, 0x0f, 'I', 'NONE'),
  row('ecall', 0xffffffff, 0x00000073, 'priv', 'NONE'),
  row('ebreak', 0xffffffff, 0x00100073, 'priv', 'NONE'),
  r('mul', 1, 0, 0x33, 'M'),
  r('mulh', 1, 1, 0x33, 'M'),
  r('mulhsu', 1, 2, 0x33, 'M'),
  r('mulhu', 1, 3, 0x33, 'M'),
  r('div', 1, 4, 0x33, 'M'),
  r('divu', 1, 5, 0x33, 'M'),
  r('rem', 1, 6, 0x33, 'M'),
  r('remu', 1, 7, 0x33, 'M'),
  row('lr.w', 0xf9f0707f, (2 << 27) | (2 << 12) | 0x2f, 'A', 'AMO'),
  amo('sc.w', 3),
  amo('amoswap.w', 1),
  amo('amoadd.w', 0),
  amo('amoxor.w', 4),
  amo('amoand.w', 12),
  amo('amoor.w', 8),
  amo('amomin.w', 16),
  amo('amomax.w', 20),
  amo('amominu.w', 24),
  amo('amomaxu.w', 28),
  i('csrrw', 1, 0x73, 'CSR', 'Zicsr'),
  i('csrrs', 2, 0x73, 'CSR', 'Zicsr'),
  i('csrrc', 3, 0x73, 'CSR', 'Zicsr'),
  i('csrrwi', 5, 0x73, 'CSRI', 'Zicsr'),
  i('csrrsi', 6, 0x73, 'CSRI', 'Zicsr'),
  i('csrrci', 7, 0x73, 'CSRI', 'Zicsr'),
  row('fence.i', F3, (1 << 12) | 0x0f, 'Zifencei', 'NONE'),
  row('mret', 0xffffffff, 0x30200073, 'priv', 'NONE'),
  row('sret', 0xffffffff, 0x10200073, 'priv', 'NONE'),
  row('wfi', 0xffffffff, 0x10500073, 'priv', 'NONE'),
  row('sfence.vma', 0xfe007fff, 0x12000073, 'priv', 'R'),
];

/** Op ids by name, for the executor's switch. */
export const Op = Object.fromEntries(ENCODINGS.map((e, index) => [e.name, index])) as Record<string, number>;

/** Finds the row matching a 32-bit word; 1 (illegal) when none does. */
export function lookup(word: number): number {
  const w = word >>> 0;
  for (let k = 2; k < ENCODINGS.length; k++) {
    const e = ENCODINGS[k]!;
    if ((w & e.mask) >>> 0 === e.match) return k;
  }
  return 1;
}
