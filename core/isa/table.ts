/**
 * Instruction encodings as data (Spike's encoding.h in table form): one row per
 * instruction with the bits that identify it (mask/match), its extension and
 * the operand format the decoder extracts. The row's position is its op id.
 */

/** How the decoder fills a record's operand fields. */
export type Format = 'R' | 'I' | 'S' | 'B' | 'U' | 'J' | 'SHIFT' | 'CSR' | 'CSRI' | 'AMO' | 'NONE';

/**
 * What an instruction does, as its major opcode says (unprivileged spec,
 * "RISC-V base opcode map"): the groups the executors treat alike. 'none'
 * is the two rows that are no instruction (not decoded yet, illegal).
 */
export type Kind =
  'none' | 'upper' | 'jump' | 'branch' | 'load' | 'store' | 'alu' | 'fence' | 'atomic' | 'csr' | 'system';

export interface Encoding<N extends string = string> {
  readonly name: N;
  readonly mask: number;
  readonly match: number;
  readonly ext: 'I' | 'M' | 'A' | 'Zicsr' | 'Zifencei' | 'priv';
  readonly format: Format;
  readonly kind: Kind;
}

const OPC = 0x7f;
const F3 = 0x707f;
const F7 = 0xfe00707f;
const AMO = 0xf800707f;

const KINDS: Readonly<Record<number, Kind>> = {
  0x37: 'upper',
  0x17: 'upper',
  0x6f: 'jump',
  0x67: 'jump',
  0x63: 'branch',
  0x03: 'load',
  0x23: 'store',
  0x13: 'alu',
  0x33: 'alu',
  0x0f: 'fence',
  0x2f: 'atomic',
};

function kindOf(mask: number, match: number, format: Format): Kind {
  if (mask === 0) return 'none';
  if ((match & OPC) === 0x73) return format === 'CSR' || format === 'CSRI' ? 'csr' : 'system';
  return KINDS[match & OPC]!;
}

function row<const N extends string>(
  name: N,
  mask: number,
  match: number,
  ext: Encoding['ext'],
  format: Format,
): Encoding<N> {
  return { name, mask: mask >>> 0, match: match >>> 0, ext, format, kind: kindOf(mask, match, format) };
}

const r = <const N extends string>(name: N, f7: number, f3: number, op: number, ext: Encoding['ext'] = 'I') =>
  row(name, F7, (f7 << 25) | (f3 << 12) | op, ext, 'R');
const i = <const N extends string>(name: N, f3: number, op: number, format: Format = 'I', ext: Encoding['ext'] = 'I') =>
  row(name, F3, (f3 << 12) | op, ext, format);
const amo = <const N extends string>(name: N, f5: number) => row(name, AMO, (f5 << 27) | (2 << 12) | 0x2f, 'A', 'AMO');

/** Index 0 is reserved for "not decoded yet"; index 1 is the illegal instruction. */
export const ENCODINGS = [
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
] as const satisfies readonly Encoding[];

/** An op's key in `Op`: its name in capitals with '.' as '_' ("fence.i" is FENCE_I, "<undecoded>" UNDECODED). */
type OpKey<S extends string> = S extends `<${infer A}>`
  ? OpKey<A>
  : S extends `${infer A}.${infer B}`
    ? OpKey<`${A}_${B}`>
    : Uppercase<S>;
type Rows = typeof ENCODINGS;
export type OpName = OpKey<Rows[number]['name']>;
/** Each op's id as a literal type, so that the type checker can hold a literal label to its name (see Op). */
export type OpIds = {
  readonly [K in keyof Rows & `${number}` as OpKey<Rows[K]['name']>]: K extends `${infer N extends number}` ? N : never;
};

const opKey = (name: string): string => name.replace(/[<>]/g, '').replace(/\./g, '_').toUpperCase();

/**
 * Op ids (rows of ENCODINGS) by name, made from the table: `op === Op.JALR`,
 * `case Op.ECALL:`.
 *
 * Speed: V8 compiles a switch to a jump table only when its labels are
 * number literals; with `case Op.ADDI:` labels it tests them one by one
 * (the interpreter's loop then ran 19 % more host instructions per guest
 * instruction, measured with cachegrind on guests/bench-short). The
 * interpreter's hot switch therefore writes the number, held to the name by
 * the type checker: `case 20 satisfies typeof Op.ADDI:` (a test checks that
 * every literal label there says which op it is).
 */
export const Op = Object.freeze(Object.fromEntries(ENCODINGS.map((e, index) => [opKey(e.name), index]))) as OpIds;

/** Finds the row matching a 32-bit word; Op.ILLEGAL when none does. */
export function lookup(word: number): number {
  const w = word | 0;
  // Rows 0 and 1 match nothing (mask 0, match 1). Compared as signed 32-bit numbers, which V8
  // keeps small integers whatever the top bit.
  for (let k = 0; k < ENCODINGS.length; k++) {
    const e = ENCODINGS[k]!;
    if ((w & e.mask) === (e.match | 0)) return k;
  }
  return Op.ILLEGAL;
}
