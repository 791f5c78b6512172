/**
 * High halves of 32×32-bit products (unprivileged spec, "Multiplication
 * Operations"). One operand is split into 16-bit halves, so that both
 * partial products are exact in a double (below 2⁴⁸); the high word is then
 * floor((a·hi + floor(a·lo / 2¹⁶)) / 2¹⁶), every step exact. Shared by the
 * interpreter (the functions) and the JIT (the same expressions as source,
 * inlined into compiled code: a call there costs more than the product).
 */

/** 2⁻¹⁶: multiplying by it is exact, and cheaper than dividing by 2¹⁶. */
const SCALE = 1 / 65536;

export function mulh(a: number, b: number): number {
  return Math.floor((a * (b >> 16) + Math.floor(a * (b & 0xffff) * SCALE)) * SCALE) | 0;
}

export function mulhsu(a: number, b: number): number {
  return Math.floor((a * (b >>> 16) + Math.floor(a * (b & 0xffff) * SCALE)) * SCALE) | 0;
}

export function mulhu(a: number, b: number): number {
  const u = a >>> 0;
  return Math.floor((u * (b >>> 16) + Math.floor(u * (b & 0xffff) * SCALE)) * SCALE) | 0;
}

/** The JIT's source for each function above, on int32 operand expressions `a` and `b` (plain locals). */
export const MULTIPLY_HIGH_SOURCE = {
  mulh: (a: string, b: string): string =>
    `Math.floor((${a} * (${b} >> 16) + Math.floor(${a} * (${b} & 0xffff) * ${SCALE})) * ${SCALE}) | 0`,
  mulhsu: (a: string, b: string): string =>
    `Math.floor((${a} * (${b} >>> 16) + Math.floor(${a} * (${b} & 0xffff) * ${SCALE})) * ${SCALE}) | 0`,
  mulhu: (a: string, b: string): string =>
    `Math.floor(((${a} >>> 0) * (${b} >>> 16) + Math.floor((${a} >>> 0) * (${b} & 0xffff) * ${SCALE})) * ${SCALE}) | 0`,
};
