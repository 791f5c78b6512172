/**
 * High halves of 32×32-bit products (unprivileged spec, "Multiplication
 * Operations"), in 16-bit pieces so every partial product is exact (below
 * 2³², integer arithmetic to V8). Shared by the interpreter (the functions)
 * and the JIT (the same arithmetic as source, inlined into compiled code: a
 * call there costs more than the product, and V8 stops inlining calls in a
 * big region).
 */
export function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lo = a0 * b0;
  const m1 = a0 * b1;
  const m2 = a1 * b0;
  const carry = ((lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff)) >>> 16;
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + carry) | 0;
}

export function mulh(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

export function mulhsu(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0)) | 0;
}

/** mulhu as one expression on operand expressions `a` and `b` (plain locals: each appears several times). */
function mulhuSource(a: string, b: string): string {
  const a0 = `(${a} & 0xffff)`;
  const a1 = `(${a} >>> 16)`;
  const b0 = `(${b} & 0xffff)`;
  const b1 = `(${b} >>> 16)`;
  const m1 = `(${a0} * ${b1})`;
  const m2 = `(${a1} * ${b0})`;
  const carry = `((((${a0} * ${b0}) >>> 16) + (${m1} & 0xffff) + (${m2} & 0xffff)) >>> 16)`;
  return `(${a1} * ${b1} + (${m1} >>> 16) + (${m2} >>> 16) + ${carry})`;
}

/** The JIT's source for each function above, on int32 operand expressions `a` and `b` (plain locals). */
export const MULTIPLY_HIGH_SOURCE = {
  mulh: (a: string, b: string): string => `(${mulhuSource(a, b)} - (${a} < 0 ? ${b} : 0) - (${b} < 0 ? ${a} : 0)) | 0`,
  mulhsu: (a: string, b: string): string => `(${mulhuSource(a, b)} - (${a} < 0 ? ${b} : 0)) | 0`,
  mulhu: (a: string, b: string): string => `${mulhuSource(a, b)} | 0`,
};
