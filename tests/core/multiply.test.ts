/**
 * The high halves of 32×32-bit products, against BigInt arithmetic: the interpreter's functions
 * and the source the JIT inlines, on the edges (0, ±1, ±2¹⁵, ±2¹⁶, ±2³¹, all ones) and on
 * random operands.
 */
import { describe, expect, it } from 'vitest';
import { MULTIPLY_HIGH_SOURCE, mulh, mulhsu, mulhu } from '../../core/isa/multiply.js';

const signed = (v: number): bigint => BigInt(v | 0);
const unsigned = (v: number): bigint => BigInt(v >>> 0);
const high = (p: bigint): number => Number(BigInt.asIntN(32, p >> 32n));

const REFERENCE = {
  mulh: (a: number, b: number) => high(signed(a) * signed(b)),
  mulhsu: (a: number, b: number) => high(signed(a) * unsigned(b)),
  mulhu: (a: number, b: number) => high(unsigned(a) * unsigned(b)),
};
const FUNCTIONS = { mulh, mulhsu, mulhu };

const EDGES = [
  0, 1, -1, 2, -2, 0x7fff, 0x8000, -0x8000, 0xffff, 0x10000, -0x10000, 0x7fffffff, -0x80000000, 0x12345678, -0x1234567,
];

function operands(): [number, number][] {
  const pairs: [number, number][] = [];
  for (const a of EDGES) for (const b of EDGES) pairs.push([a | 0, b | 0]);
  let s = 0x9e3779b9;
  for (let i = 0; i < 20_000; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    const a = s;
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    pairs.push([a, s]);
  }
  return pairs;
}

describe('high halves of products', () => {
  for (const name of ['mulh', 'mulhsu', 'mulhu'] as const) {
    it(`${name}: the function and the JIT's source give BigInt's high word`, () => {
      const inlined = new Function('a', 'b', `return ${MULTIPLY_HIGH_SOURCE[name]('a', 'b')};`) as (
        a: number,
        b: number,
      ) => number;
      const wrong: string[] = [];
      for (const [a, b] of operands()) {
        const want = REFERENCE[name](a, b);
        if (FUNCTIONS[name](a, b) !== want || inlined(a, b) !== want) wrong.push(`${a}, ${b}`);
      }
      expect(wrong.slice(0, 5)).toEqual([]);
    });
  }
});
