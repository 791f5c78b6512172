/**
 * The digests of RAM's pages, computed in WebAssembly where RAM lives in a
 * WebAssembly memory (core/paged.ts): {@link hashPagePair}'s MurmurHash3
 * x86_128 of two 4 KiB pages at once, read in place. V8 compiles the module
 * in one pass before its first call, so the first checkpoint of a recording
 * hashes at full speed. The same loop in JS ran in V8's lower tiers through a
 * recording's first large checkpoints (12 k pages: 76 ms against 20 ms later),
 * and at its best hashes 48 MiB in 16 ms against this one's 10 ms.
 */

import { Body, I32, W, moduleOver } from '../core/wasm-binary.js';
import { Hasher128, type Hash128 } from './hash.js';

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

/**
 * One lane of the reference's block step on the state in locals `state(0..3)`, with the block at
 * the address in local `at`: h ^= rotl(k · C[lane], r) · C[lane + 1]; h = (rotl(h, r') + next) · 5 + step.
 */
function mixLane(f: Body, state: (lane: number) => number, at: number, lane: number): void {
  f.get(state(lane))
    .get(at)
    .mem(W.i32Load, 2, 4 * lane);
  f.const(C[lane]!).op(W.i32Mul).const(ROTATE_K[lane]!).op(W.i32Rotl);
  f.const(C[(lane + 1) & 3]!)
    .op(W.i32Mul)
    .op(W.i32Xor);
  f.const(ROTATE_H[lane]!)
    .op(W.i32Rotl)
    .get(state((lane + 1) & 3))
    .op(W.i32Add);
  f.const(5).op(W.i32Mul).const(STEP[lane]!).op(W.i32Add).set(state(lane));
}

/** `pair(a, b)`: the reference's block loop over both pages, lane by lane, then its finalization of each. */
function pairBody(): Body {
  const f = new Body();
  // Locals past the params: the end and both states (zero to start: the seed).
  f.code.u32(1).u32(9).byte(I32);
  f.get(0).const(PAGE_BYTES).op(W.i32Add).set(2);
  f.open(W.loop, 'blocks');
  for (let lane = 0; lane < 4; lane++) for (let page = 0; page < 2; page++) mixLane(f, (l) => h(page, l), page, lane);
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

/**
 * `blocks(at, end, h1, h2, h3, h4)`: the reference's block loop over the 16-byte blocks from `at`
 * to `end`, from the state h1 to h4; returns the state after them (the caller finishes the digest).
 */
function blocksBody(): Body {
  const f = new Body();
  f.code.u32(0);
  const state = (lane: number): number => 2 + lane;
  f.open(W.block, 'done');
  f.get(0).get(1).op(W.i32GeU).brIf('done');
  f.open(W.loop, 'blocks');
  for (let lane = 0; lane < 4; lane++) mixLane(f, state, 0, lane);
  f.get(0).const(16).op(W.i32Add).tee(0).get(1).op(W.i32LtU).brIf('blocks');
  f.end().end();
  for (let lane = 0; lane < 4; lane++) f.get(state(lane));
  return f.end();
}

/** The module: `pair(a, b)` and `blocks(at, end, h1, h2, h3, h4)` over the memory it imports as "h"."m" (shared or not). */
const moduleBytes = (shared: boolean): Uint8Array<ArrayBuffer> =>
  moduleOver(
    'h',
    'm',
    [
      { name: 'pair', params: 2, results: 8, body: pairBody() },
      { name: 'blocks', params: 6, results: 4, body: blocksBody() },
    ],
    shared,
  );

/** The module over a memory that is not shared, and over one that is (a page file's ring: see pagering.ts). */
const compiled: [WebAssembly.Module | null | undefined, WebAssembly.Module | null | undefined] = [undefined, undefined];

/** The module's exports over `memory`, or null where the host cannot compile WebAssembly (a content security policy, say). */
function instance(memory: WebAssembly.Memory): WebAssembly.Exports | null {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer ? 1 : 0;
  if (compiled[shared] === null) return null;
  try {
    compiled[shared] ??= new WebAssembly.Module(moduleBytes(shared === 1));
    return new WebAssembly.Instance(compiled[shared], { h: { m: memory } }).exports;
  } catch {
    compiled[shared] = null;
    return null;
  }
}

/** The hashers made, by the buffer of the memory they hash in. */
const byBuffer = new WeakMap<ArrayBufferLike, PagePairHasher>();

/** The hasher of pages in `memory`, or null where the host cannot compile WebAssembly: hash in JS then. */
export function pagePairHasher(memory: WebAssembly.Memory): PagePairHasher | null {
  const made = byBuffer.get(memory.buffer);
  if (made !== undefined) return made;
  const pair = (instance(memory)?.['pair'] as PagePairHasher | undefined) ?? null;
  if (pair) byBuffer.set(memory.buffer, pair);
  return pair;
}

/**
 * A window of memory whose bytes hash at WebAssembly's speed: a file's bytes are read into
 * `bytes` a window at a time, and `feed(hasher, at, end)` feeds bytes `at` to `end` of it into a
 * {@link Hasher128} (whole blocks in WebAssembly, a block's start or end in JS). A long
 * recording's index (tens of MB) is hashed this way by `rewind info`: through a window rather
 * than in a copy of the whole, as the first writes to that much fresh memory cost several times
 * what the hashing does (~3 ms a MB on a virtual machine).
 */
export interface HashWindow {
  readonly memory: WebAssembly.Memory;
  readonly bytes: Uint8Array;
  feed(hasher: Hasher128, at: number, end: number): void;
}

/** Bytes of a {@link HashWindow}. */
export const HASH_WINDOW = 1 << 20;

let madeWindow: HashWindow | undefined;

/** The hash window (one, made on first use): in JS where the host cannot compile WebAssembly. */
export function hashWindow(): HashWindow {
  if (madeWindow !== undefined) return madeWindow;
  const memory = new WebAssembly.Memory({ initial: HASH_WINDOW >>> 16 });
  const bytes = new Uint8Array(memory.buffer, 0, HASH_WINDOW);
  const blocks = instance(memory)?.['blocks'] as
    ((at: number, end: number, h1: number, h2: number, h3: number, h4: number) => number[]) | undefined;
  madeWindow = {
    memory,
    bytes,
    feed(hasher, at, end) {
      if (!blocks) {
        hasher.update(bytes.subarray(at, end));
        return;
      }
      const head = Math.min(end - at, (16 - hasher.pending) & 15);
      if (head > 0) hasher.update(bytes.subarray(at, (at += head)));
      const whole = (end - at) & ~15;
      if (whole > 0) {
        const from = at;
        hasher.mixBlocks(whole, (h) => blocks(from, from + whole, h[0]!, h[1]!, h[2]!, h[3]!));
        at += whole;
      }
      if (at < end) hasher.update(bytes.subarray(at, end));
    },
  };
  return madeWindow;
}

/**
 * Feeds `bytes` into `hasher` through the hash window, copied in a part at a time: a recording's
 * index (tens of MB, written as a recording ends and read whole when a session opens it) hashed
 * in JS at ~400 MB/s, against several times that here.
 */
export function feedInWindow(hasher: Hasher128, bytes: Uint8Array): Hasher128 {
  const window = hashWindow();
  // Half the window: the chunk scan keeps its state at the window's end between its runs.
  const part = HASH_WINDOW >>> 1;
  for (let at = 0; at < bytes.length; at += part) {
    const n = Math.min(part, bytes.length - at);
    window.bytes.set(bytes.subarray(at, at + n));
    window.feed(hasher, 0, n);
  }
  return hasher;
}

/** hash128 of `bytes`, through the hash window (see feedInWindow). */
export function digestInWindow(bytes: Uint8Array): Hash128 {
  return feedInWindow(new Hasher128(), bytes).digest();
}

/**
 * The hasher made for the memory `page` lies in (RAM's, once its page table
 * is made), or null: a restore checks the pages it writes into RAM there,
 * two at a time.
 */
export function pagePairHasherOf(page: Uint8Array): PagePairHasher | null {
  return byBuffer.get(page.buffer) ?? null;
}
