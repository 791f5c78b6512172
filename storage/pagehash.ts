/**
 * The digests of RAM's pages, computed in WebAssembly where RAM lives in a
 * WebAssembly memory (core/paged.ts): {@link hashPagePair}'s MurmurHash3
 * x86_128 of two 4 KiB pages at once, read in place. V8 compiles the module
 * in one pass before its first call, so the first checkpoint of a recording
 * hashes at full speed. The same loop in JS ran in V8's lower tiers through a
 * recording's first large checkpoints (12 k pages: 76 ms against 20 ms later),
 * and at its best hashes 48 MiB in 16 ms against this one's 10 ms.
 */

/** Hashes the pages at byte offsets `a` and `b` of the memory: h1 to h4 of `a`'s digest, then of `b`'s. */
export type PagePairHasher = (a: number, b: number) => number[];

const C = [0x239b961b, 0xab0e9789 | 0, 0x38b34ae5, 0xa1e38b93 | 0];
/** Rotations of each lane's block word and of its state word, and what each lane's step adds. */
const ROTATE_K = [15, 16, 17, 18];
const ROTATE_H = [19, 17, 15, 13];
const STEP = [0x561ccd1b, 0x0bcaa747, 0x96cd1c35 | 0, 0x32ac3b17];
const PAGE_BYTES = 4096;

// Opcodes (WebAssembly core spec, 5.4).
const enum W {
  loop = 0x03,
  end = 0x0b,
  brIf = 0x0d,
  localGet = 0x20,
  localSet = 0x21,
  localTee = 0x22,
  i32Load = 0x28,
  i32Const = 0x41,
  i32Ne = 0x47,
  i32Add = 0x6a,
  i32Mul = 0x6c,
  i32Xor = 0x73,
  i32ShrU = 0x76,
  i32Rotl = 0x77,
}
const I32 = 0x7f;

/** Bytes of the module, written with LEB128 integers (5.2.2). */
class Code {
  readonly out: number[] = [];
  u(n: number): this {
    do {
      const b = n & 0x7f;
      n >>>= 7;
      this.out.push(n !== 0 ? b | 0x80 : b);
    } while (n !== 0);
    return this;
  }
  s(n: number): this {
    n |= 0;
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
        this.out.push(b);
        return this;
      }
      this.out.push(b | 0x80);
    }
  }
  op(...ops: number[]): this {
    this.out.push(...ops);
    return this;
  }
  get(l: number): this {
    return this.op(W.localGet).u(l);
  }
  set(l: number): this {
    return this.op(W.localSet).u(l);
  }
  c(v: number): this {
    return this.op(W.i32Const).s(v);
  }
  /** A section or a function body: its length, then it. */
  sized(id: number | null, body: number[]): this {
    if (id !== null) this.out.push(id);
    return this.u(body.length).op(...body);
  }
}

/** Params 0 and 1 are the pages' offsets (they advance through them); 2 is where `a` ends; 3–6 and 7–10 the states. */
const h = (page: number, lane: number): number => 3 + 4 * page + lane;

/** The function: the reference's block loop over both pages, lane by lane, then its finalization of each. */
function body(): number[] {
  const f = new Code();
  f.get(0).c(PAGE_BYTES).op(W.i32Add).set(2);
  f.op(W.loop, 0x40);
  for (let lane = 0; lane < 4; lane++)
    for (let page = 0; page < 2; page++) {
      // h ^= rotl(k · C[lane], r) · C[lane + 1]; h = (rotl(h, r') + next) · 5 + step
      f.get(h(page, lane))
        .get(page)
        .op(W.i32Load, 2)
        .u(4 * lane);
      f.c(C[lane]!)
        .op(W.i32Mul)
        .c(ROTATE_K[lane]!)
        .op(W.i32Rotl)
        .c(C[(lane + 1) & 3]!)
        .op(W.i32Mul, W.i32Xor);
      f.c(ROTATE_H[lane]!)
        .op(W.i32Rotl)
        .get(h(page, (lane + 1) & 3))
        .op(W.i32Add);
      f.c(5).op(W.i32Mul).c(STEP[lane]!).op(W.i32Add).set(h(page, lane));
    }
  for (let page = 0; page < 2; page++) f.get(page).c(16).op(W.i32Add).set(page);
  f.get(0).get(2).op(W.i32Ne, W.brIf, 0, W.end);
  const spread = (page: number): void => {
    f.get(h(page, 0)).get(h(page, 1)).op(W.i32Add).get(h(page, 2)).op(W.i32Add).get(h(page, 3)).op(W.i32Add);
    f.set(h(page, 0));
    for (let lane = 1; lane < 4; lane++) f.get(h(page, lane)).get(h(page, 0)).op(W.i32Add).set(h(page, lane));
  };
  for (let page = 0; page < 2; page++) {
    for (let lane = 0; lane < 4; lane++) f.get(h(page, lane)).c(PAGE_BYTES).op(W.i32Xor).set(h(page, lane));
    spread(page);
    for (let lane = 0; lane < 4; lane++) {
      const l = h(page, lane);
      f.get(l).get(l).c(16).op(W.i32ShrU, W.i32Xor).c(0x85ebca6b).op(W.i32Mul, W.localTee).u(l);
      f.get(l).c(13).op(W.i32ShrU, W.i32Xor).c(0xc2b2ae35).op(W.i32Mul, W.localTee).u(l);
      f.get(l).c(16).op(W.i32ShrU, W.i32Xor).set(l);
    }
    spread(page);
  }
  for (let page = 0; page < 2; page++) for (let lane = 0; lane < 4; lane++) f.get(h(page, lane));
  f.op(W.end);
  // Locals past the params: the end and both states (zero to start: the seed).
  return [...new Code().u(1).u(9).op(I32).out, ...f.out];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const name = (s: string): number[] => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const m = new Code().op(0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
  m.sized(1, [1, 0x60, 2, I32, I32, 8, ...new Array<number>(8).fill(I32)]);
  // Imports memory "h"."m" of at least 0 pages.
  m.sized(2, [1, ...name('h'), ...name('m'), 0x02, 0x00, 0x00]);
  m.sized(3, [1, 0]);
  m.sized(7, [1, ...name('pair'), 0x00, 0]);
  m.sized(10, new Code().u(1).sized(null, body()).out);
  return new Uint8Array(m.out);
}

let compiled: WebAssembly.Module | null | undefined;

/** The hashers made, by the buffer of the memory they hash in. */
const byBuffer = new WeakMap<ArrayBufferLike, PagePairHasher>();

/**
 * The hasher of pages in `memory`, or null where the host cannot compile
 * WebAssembly (a content security policy, say): hash in JS then.
 */
export function pagePairHasher(memory: WebAssembly.Memory): PagePairHasher | null {
  const made = byBuffer.get(memory.buffer);
  if (made !== undefined || compiled === null) return made ?? null;
  try {
    compiled ??= new WebAssembly.Module(moduleBytes());
    const pair = new WebAssembly.Instance(compiled, { h: { m: memory } }).exports.pair as PagePairHasher;
    byBuffer.set(memory.buffer, pair);
    return pair;
  } catch {
    compiled = null;
    return null;
  }
}

/**
 * The hasher made for the memory `page` lies in (RAM's, once its page table
 * is made), or null: a restore checks the pages it writes into RAM there,
 * two at a time.
 */
export function pagePairHasherOf(page: Uint8Array): PagePairHasher | null {
  return byBuffer.get(page.buffer) ?? null;
}
