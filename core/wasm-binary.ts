/**
 * The WebAssembly binary format (core spec, 5), as much of it as Rewind's modules use: the
 * opcodes, a growable byte buffer with the format's integer encodings, and a function body
 * whose branches name the block they leave. The JIT's regions (core/jit/wasm.ts) and the page
 * hasher (storage/pagehash.ts) are written with them.
 */
/** Value types and the empty block type. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const VOID = 0x40;

// Opcodes (WebAssembly core spec, 5.4).
export const enum W {
  unreachable = 0x00,
  block = 0x02,
  loop = 0x03,
  if = 0x04,
  else = 0x05,
  end = 0x0b,
  br = 0x0c,
  brIf = 0x0d,
  brTable = 0x0e,
  return = 0x0f,
  call = 0x10,
  localGet = 0x20,
  localSet = 0x21,
  localTee = 0x22,
  i32Load = 0x28,
  i32Load8S = 0x2c,
  i32Load8U = 0x2d,
  i32Load16S = 0x2e,
  i32Load16U = 0x2f,
  f64Load = 0x2b,
  i32Store = 0x36,
  i32Store8 = 0x3a,
  i32Store16 = 0x3b,
  f64Store = 0x39,
  i32Const = 0x41,
  f64Const = 0x44,
  i32Eqz = 0x45,
  i32Eq = 0x46,
  i32Ne = 0x47,
  i32LtS = 0x48,
  i32LtU = 0x49,
  i32GtS = 0x4a,
  i32GtU = 0x4b,
  i32LeS = 0x4c,
  i32GeS = 0x4e,
  i32GeU = 0x4f,
  i32Add = 0x6a,
  i32Sub = 0x6b,
  i32Mul = 0x6c,
  i32DivS = 0x6d,
  i32DivU = 0x6e,
  i32RemS = 0x6f,
  i32RemU = 0x70,
  i32And = 0x71,
  i32Or = 0x72,
  i32Xor = 0x73,
  i32Shl = 0x74,
  i32ShrS = 0x75,
  i32ShrU = 0x76,
  i32Rotl = 0x77,
  i64Mul = 0x7e,
  i64ShrS = 0x87,
  i64ShrU = 0x88,
  i32WrapI64 = 0xa7,
  i64ExtendI32S = 0xac,
  i64ExtendI32U = 0xad,
  f64Lt = 0x63,
  f64Gt = 0x64,
  f64Add = 0xa0,
  f64Mul = 0xa2,
  f64ConvertI32U = 0xb8,
}

/** Bytes of a module under construction, with the encodings of the binary format (5.2). */
export class Bytes {
  buf = new Uint8Array(4096);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = b;
    return this;
  }

  bytes(b: Uint8Array): this {
    for (let i = 0; i < b.length; i++) this.byte(b[i]!);
    return this;
  }

  /** Unsigned LEB128. */
  u32(n: number): this {
    n >>>= 0;
    do {
      const b = n & 0x7f;
      n >>>= 7;
      this.byte(n !== 0 ? b | 0x80 : b);
    } while (n !== 0);
    return this;
  }

  /** Signed LEB128 of a 32-bit value. */
  s32(n: number): this {
    n |= 0;
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  name(s: string): this {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
    return this;
  }

  /** A section: its id, then its contents' length and the contents. */
  section(id: number, contents: Bytes): this {
    return this.byte(id).u32(contents.length).bytes(contents.view());
  }

  view(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * A function body: instructions, with its labels kept on a stack, so that a branch names the
 * block it leaves (or the loop it goes round) and the depth is worked out.
 */
export class Body {
  readonly code = new Bytes();
  private readonly labels: string[] = [];

  get(l: number): this {
    this.code.byte(W.localGet).u32(l);
    return this;
  }

  set(l: number): this {
    this.code.byte(W.localSet).u32(l);
    return this;
  }

  const(n: number): this {
    this.code.byte(W.i32Const).s32(n);
    return this;
  }

  constF64(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    this.code.byte(W.f64Const).bytes(b);
    return this;
  }

  op(op: W): this {
    this.code.byte(op);
    return this;
  }

  /** A memory access at the address on the stack plus `offset`. */
  mem(op: W, align: number, offset: number): this {
    this.code.byte(op).u32(align).u32(offset);
    return this;
  }

  open(kind: W.block | W.loop | W.if, label: string, type = VOID): this {
    this.code.byte(kind).byte(type);
    this.labels.push(label);
    return this;
  }

  else(): this {
    this.code.byte(W.else);
    return this;
  }

  end(): this {
    this.code.byte(W.end);
    this.labels.pop();
    return this;
  }

  tee(l: number): this {
    this.code.byte(W.localTee).u32(l);
    return this;
  }

  br(label: string): this {
    this.code.byte(W.br).u32(this.depth(label));
    return this;
  }

  brIf(label: string): this {
    this.code.byte(W.brIf).u32(this.depth(label));
    return this;
  }

  /** How many blocks out the one labelled `label` is. */
  private depth(label: string): number {
    const at = this.labels.lastIndexOf(label);
    if (at < 0) throw new Error(`wasm: no label ${label} open`);
    return this.labels.length - 1 - at;
  }

  call(index: number): this {
    this.code.byte(W.call).u32(index);
    return this;
  }
}

/** A module: the magic and version, then `sections` ([id, contents]) in order. */
export function moduleOf(sections: readonly (readonly [number, Bytes])[]): Uint8Array<ArrayBuffer> {
  const out = new Bytes();
  for (const b of [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) out.byte(b);
  for (const [id, contents] of sections) out.section(id, contents);
  return out.view().slice();
}

/** A function of a module made by {@link moduleOver}: its export name, how many i32 params and results, its body. */
export interface ExportedFunction {
  readonly name: string;
  readonly params: number;
  readonly results: number;
  readonly body: Body;
}

/**
 * A module of functions (i32 params and results only) over one memory it imports as `module`.`name`, each exported;
 * a shared memory (of at most 4 GiB) when `shared`.
 */
export function moduleOver(
  module: string,
  name: string,
  fns: readonly ExportedFunction[],
  shared = false,
): Uint8Array<ArrayBuffer> {
  const types = new Bytes().u32(fns.length);
  const functions = new Bytes().u32(fns.length);
  const exports = new Bytes().u32(fns.length);
  const codes = new Bytes().u32(fns.length);
  fns.forEach((f, i) => {
    types.byte(0x60).u32(f.params);
    for (let k = 0; k < f.params; k++) types.byte(I32);
    types.u32(f.results);
    for (let k = 0; k < f.results; k++) types.byte(I32);
    functions.u32(i);
    exports.name(f.name).byte(0x00).u32(i);
    codes.u32(f.body.code.length).bytes(f.body.code.view());
  });
  const imports = new Bytes().u32(1).name(module).name(name).byte(0x02);
  // Limits: a minimum of 0 pages; a shared memory must declare its maximum.
  if (shared) imports.byte(0x03).u32(0).u32(65536);
  else imports.byte(0x00).u32(0);
  return moduleOf([
    [1, types],
    [2, imports],
    [3, functions],
    [7, exports],
    [10, codes],
  ]);
}
