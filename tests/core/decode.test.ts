import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as F from '../../core/isa/fields.js';
import { decodeInto } from '../../core/isa/decode.js';
import { disassemble } from '../../core/isa/disasm.js';
import { encode } from '../../core/isa/encode.js';
import { expandCompressed } from '../../core/isa/rv32c.js';
import { ENCODINGS, Op, lookup } from '../../core/isa/table.js';

describe('field accessors', () => {
  // Encodings checked against the GNU assembler's output.
  it('extracts I, S, B, U and J immediates', () => {
    expect(F.iImm(0xfff10093)).toBe(-1); // addi ra, sp, -1
    expect(F.rd(0xfff10093)).toBe(1);
    expect(F.rs1(0xfff10093)).toBe(2);
    expect(F.sImm(0xfee62e23)).toBe(-4); // sw a4, -4(a2)
    expect(F.rs2(0xfee62e23)).toBe(14);
    expect(F.bImm(0xfd169ce3)).toBe(-40); // bne a3, a7, -40
    expect(F.uImm(0x811ca7b7) >>> 0).toBe(0x811ca000); // lui a5, 0x811ca
    expect(F.jImm(0x0080006f)).toBe(8); // jal x0, +8
    expect(F.jImm(0xff9ff0ef)).toBe(-8); // jal ra, -8
    expect(F.csr(0x30002573)).toBe(0x300); // csrr a0, mstatus
  });
});

describe('compressed expansion', () => {
  const cases: [number, number, string][] = [
    [0x1e7d, 0x80000000, 'addi t3, t3, -1'],
    [0x8676, 0x80000000, 'add a2, zero, t4'],
    [0x972a, 0x80000000, 'add a4, a4, a0'],
    [0x0611, 0x80000000, 'addi a2, a2, 4'],
    [0x4681, 0x80000000, 'addi a3, zero, 0'],
    [0xc31c, 0x80000000, 'sw a5, 0(a4)'],
    [0x6e15, 0x80000000, 'lui t3, 0x5'],
    [0x5571, 0x80000000, 'addi a0, zero, -4'],
    [0x8b3d, 0x80000000, 'andi a4, a4, 15'],
    [0x8f0d, 0x80000000, 'sub a4, a4, a1'],
    [0x8fb9, 0x80000000, 'xor a5, a5, a4'],
    [0xdf65, 0x80000086, 'beq a4, zero, 0x8000007e'],
    [0xa001, 0x800000b2, 'jal zero, 0x800000b2'],
    [0x420c, 0x80000000, 'lw a1, 0(a2)'],
    [0x9002, 0x80000000, 'ebreak'],
    [0x8082, 0x80000000, 'jalr zero, 0(ra)'],
  ];
  it.each(cases)('%s expands as the assembler meant', (half, pc, text) => {
    expect(disassemble(half, pc).text).toBe(text);
    expect(disassemble(half, pc).length).toBe(2);
  });

  it('rejects reserved encodings', () => {
    expect(expandCompressed(0x0000)).toBe(0); // all zero: illegal
    expect(expandCompressed(0x4002)).toBe(0); // c.lwsp with rd = 0
    expect(expandCompressed(0x8002)).toBe(0); // c.jr with rs1 = 0
    expect(expandCompressed(0x6181 & ~0x107c)).toBe(0); // c.addi16sp with imm 0
    expect(expandCompressed(0x9c01 | 0x1000)).toBe(0); // c.subw is RV64
    expect(expandCompressed(0x2000)).toBe(0); // c.fld
  });
});

describe('encoding table', () => {
  it('finds every row by its own match bits, and the zero word is illegal', () => {
    for (let k = 2; k < ENCODINGS.length; k++)
      expect(ENCODINGS[lookup(ENCODINGS[k]!.match)]!.name).toBe(ENCODINGS[k]!.name);
    expect(lookup(0)).toBe(1);
    expect(lookup(0xffffffff)).toBe(1);
  });

  it('names every row in Op, by its index', () => {
    expect(Object.keys(Op)).toHaveLength(ENCODINGS.length);
    ENCODINGS.forEach((e, index) => {
      const key = e.name.replace(/[<>]/g, '').replace(/\./g, '_').toUpperCase();
      expect(Op[key as keyof typeof Op]).toBe(index);
    });
    expect([Op.UNDECODED, Op.ILLEGAL, Op.ADDI, Op.FENCE_I, Op.SFENCE_VMA]).toEqual([0, 1, 20, 67, 71]);
  });

  it('groups the rows by major opcode', () => {
    const of = (kind: string) => ENCODINGS.filter((e) => e.kind === kind).map((e) => e.name);
    expect(of('load')).toEqual(['lb', 'lh', 'lw', 'lbu', 'lhu']);
    expect(of('store')).toEqual(['sb', 'sh', 'sw']);
    expect(of('jump')).toEqual(['jal', 'jalr']);
    expect(of('csr')).toEqual(['csrrw', 'csrrs', 'csrrc', 'csrrwi', 'csrrsi', 'csrrci']);
    expect(of('system')).toEqual(['ecall', 'ebreak', 'mret', 'sret', 'wfi', 'sfence.vma']);
    expect(of('fence')).toEqual(['fence', 'fence.i']);
    expect(of('none')).toEqual(['<undecoded>', 'illegal']);
    expect(of('alu')).toHaveLength(9 + 10 + 8);
  });

  it('the executors and the disassembler switch on named op ids; a literal label says which op it is', () => {
    for (const file of [
      'core/cpu.ts',
      'core/jit/jit.ts',
      'core/jit/compile.ts',
      'core/isa/disasm.ts',
      'src/web/peek.ts',
    ]) {
      const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      // Literal labels (the interpreter's jump table) only as `case 20 satisfies typeof Op.ADDI:`.
      const literal = [...source.matchAll(/case (\d+)( satisfies typeof Op\.([A-Z_]+))?:/g)];
      for (const [label, id, named, name] of literal) {
        expect([file, label, named !== undefined && Op[name as keyof typeof Op] === Number(id)]).toEqual([
          file,
          label,
          true,
        ]);
      }
    }
  });
});

describe('encode', () => {
  it('makes, for every row and format, the word the decoder reads back with the same operands', () => {
    const rec = { fields: 0, imm: 0 };
    const immFor: Record<string, number> = {
      I: -3,
      CSR: 0x340,
      SHIFT: 13,
      S: -20,
      B: -4092,
      U: 0x12345000,
      J: -524286,
    };
    let checked = 0;
    ENCODINGS.forEach(({ kind, format }, op) => {
      if (kind === 'none') return;
      const imm = immFor[format] ?? 0;
      // Operands the row keeps (others are fixed bits of its match).
      const word = encode(op, 5, 6, 7, imm);
      decodeInto(word | 0, rec);
      expect(rec.fields & 127, ENCODINGS[op]!.name).toBe(op);
      // Formats with an immediate (a CSR's number is its immediate).
      if (format in immFor) expect(rec.imm, ENCODINGS[op]!.name).toBe(imm);
      // A register the row fixes (sfence.vma's rd) reads back as the row has it: x0, kept as 32.
      const fixed = (shift: number, v: number): number => ((ENCODINGS[op]!.mask >>> shift) & 31 ? 0 : v) || 32;
      if (format === 'R')
        expect([(rec.fields >>> 7) & 63, (rec.fields >>> 13) & 31, (rec.fields >>> 18) & 31]).toEqual([
          fixed(7, 5),
          fixed(15, 6) & 31,
          fixed(20, 7) & 31,
        ]);
      checked++;
    });
    expect(checked).toBeGreaterThan(60);
  });
});
