/**
 * The digests of RAM's pages, computed in WebAssembly where RAM lives in a
 * WebAssembly memory (core/paged.ts): {@link hashPagePair}'s MurmurHash3
 * x86_128 of two 4 KiB pages at once, read in place. V8 compiles the module
 * in one pass before its first call, so the first checkpoint of a recording
 * hashes at full speed. The same loop in JS ran in V8's lower tiers through a
 * recording's first large checkpoints (12 k pages: 76 ms against 20 ms later),
 * and at its best hashes 48 MiB in 16 ms against this one's 10 ms.
 */

import { Body, Bytes, I32, W, moduleOf } from '../core/wasm-binary.js';

/** Hashes the pages at byte offsets `a` and `b` of the memory: h1 to h4 of `a`'s digest, then of `b`'s. */
export type PagePairHasher = (a: number, b: number) => number[];

const C = [0x239b961b, 0xab0e9789 | 0, 0x38b34ae5, 0xa1e38b93 | 0];
/** Rotations of each lane's block word and of its state word, and what each lane's step adds. */
const ROTATE_K = [15, 16, 17, 18];
const ROTATE_H = [19, 17, 15, 13];
const STEP = [0x561ccd1b, 0x0bcaa747, 0x96cd1c35 | 0, 0x32ac3b17];
const PAGE_BYTES = 4096;

/** Params 0 and 1 are the pages' offsets (they advance through them); local 2 is where `a` ends; 3–6 and 7–10 the states. */
const h = (page: number, lane: number): number => 3 + 4 * page + lane;

/** The function: the reference's block loop over both pages, lane by lane, then its finalization of each. */
function body(): Body {
  const f = new Body();
  // Locals past the params: the end and both states (zero to start: the seed).
  f.code.u32(1).u32(9).byte(I32);
  f.get(0).const(PAGE_BYTES).op(W.i32Add).set(2);
  f.open(W.loop, 'blocks');
  for (let lane = 0; lane < 4; lane++)
    for (let page = 0; page < 2; page++) {
      // h ^= rotl(k · C[lane], r) · C[lane + 1]; h = (rotl(h, r') + next) · 5 + step
      f.get(h(page, lane))
        .get(page)
        .mem(W.i32Load, 2, 4 * lane);
      f.const(C[lane]!).op(W.i32Mul).const(ROTATE_K[lane]!).op(W.i32Rotl);
      f.const(C[(lane + 1) & 3]!)
        .op(W.i32Mul)
        .op(W.i32Xor);
      f.const(ROTATE_H[lane]!)
        .op(W.i32Rotl)
        .get(h(page, (lane + 1) & 3))
        .op(W.i32Add);
      f.const(5).op(W.i32Mul).const(STEP[lane]!).op(W.i32Add).set(h(page, lane));
    }
  for (let page = 0; page < 2; page++) f.get(page).const(16).op(W.i32Add).set(page);
  f.get(0).get(2).op(W.i32Ne).brIf('blocks').end();
  const spread = (page: number): void => {
    f.get(h(page, 0)).get(h(page, 1)).op(W.i32Add).get(h(page, 2)).op(W.i32Add).get(h(page, 3)).op(W.i32Add);
    f.set(h(page, 0));
    for (let lane = 1; lane < 4; lane++) f.get(h(page, lane)).get(h(page, 0)).op(W.i32Add).set(h(page, lane));
  };
  for (let page = 0; page < 2; page++) {
    for (let lane = 0; lane < 4; lane++) f.get(h(page, lane)).const(PAGE_BYTES).op(W.i32Xor).set(h(page, lane));
    spread(page);
    for (let lane = 0; lane < 4; lane++) {
      const l = h(page, lane);
      f.get(l).get(l).const(16).op(W.i32ShrU).op(W.i32Xor).const(0x85ebca6b).op(W.i32Mul).tee(l);
      f.get(l).const(13).op(W.i32ShrU).op(W.i32Xor).const(0xc2b2ae35).op(W.i32Mul).tee(l);
      f.get(l).const(16).op(W.i32ShrU).op(W.i32Xor).set(l);
    }
    spread(page);
  }
  for (let page = 0; page < 2; page++) for (let lane = 0; lane < 4; lane++) f.get(h(page, lane));
  return f.end();
}

/** The module: `pair(a, b)` over the memory it imports as "h"."m". */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const types = new Bytes().u32(1).byte(0x60).u32(2).byte(I32).byte(I32).u32(8);
  for (let k = 0; k < 8; k++) types.byte(I32);
  const imports = new Bytes().u32(1).name('h').name('m').byte(0x02).byte(0x00).u32(0);
  const functions = new Bytes().u32(1).u32(0);
  const exports = new Bytes().u32(1).name('pair').byte(0x00).u32(0);
  const code = body().code;
  const codes = new Bytes().u32(1).u32(code.length).bytes(code.view());
  return moduleOf([
    [1, types],
    [2, imports],
    [3, functions],
    [7, exports],
    [10, codes],
  ]);
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
