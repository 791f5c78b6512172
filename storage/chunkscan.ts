/**
 * The chunk table's checks (vmi-indexed.ts, RowCheck) as one WebAssembly loop over columns in
 * the hash window (pagehash.ts), for `rewind info`. A fresh process runs the JS loop in V8's
 * lower tiers for most of a large table (640 k rows: ~100 ms of the 300 that info may take);
 * WebAssembly is compiled before its first call. It only says whether rows pass: where one does
 * not, the JS checks run over the table again to say what is wrong.
 */
import { Body, F64, I32, W, moduleOver } from '../core/wasm-binary.js';
import { PAGE_SIZE } from '../core/memmap.js';
import { hashWindow, HASH_WINDOW } from './pagehash.js';

/** Where the scan keeps what one run of rows leaves for the next, in the window: the last 64 bytes. */
const STATE = HASH_WINDOW - 64;
// Offsets in the state: the last digest's bytes, whether there is one, its kind, the largest
// blob, where the last chunk ended and what all took, where the chunks' part ends and starts.
const S_HAS = 16;
const S_KIND = 20;
const S_MAX_BLOB = 24;
const S_AT = 32;
const S_TOTAL = 40;
const S_END = 48;
const S_START = 56;

/** Params and locals of `scan`. */
const enum L {
  ids,
  kinds,
  encodings,
  stored,
  raw,
  places,
  n,
  k,
  kind,
  last,
  prev,
  id,
  a,
  b,
  has,
  at,
  total,
  end,
  length,
}

/** i32 at the top of the stack, its bytes reversed: digests are compared as big-endian words. */
function byteSwap(f: Body): void {
  f.set(L.a);
  f.get(L.a).const(8).op(W.i32Rotl).const(0x00ff00ff).op(W.i32And);
  f.get(L.a)
    .const(24)
    .op(W.i32Rotl)
    .const(0xff00ff00 | 0)
    .op(W.i32And);
  f.op(W.i32Or);
}

/** `scan(ids, kinds, encodings, stored, raw, places, n)`: 1 when the n rows pass (the state then follows them), else 0. */
function scanBody(): Body {
  const f = new Body();
  f.code
    .u32(2)
    .u32(L.at - L.k)
    .byte(I32)
    .u32(L.length - L.at + 1)
    .byte(F64);
  const state = (offset: number, op: W): Body => f.const(STATE).mem(op, op === W.f64Load ? 3 : 2, offset);
  state(S_HAS, W.i32Load).set(L.has);
  state(S_KIND, W.i32Load).set(L.last);
  state(S_AT, W.f64Load).set(L.at);
  state(S_TOTAL, W.f64Load).set(L.total);
  state(S_END, W.f64Load).set(L.end);
  f.const(STATE).set(L.prev);
  f.open(W.block, 'fail');
  f.open(W.block, 'done');
  f.open(W.loop, 'rows');
  f.get(L.k).get(L.n).op(W.i32GeU).brIf('done');
  f.get(L.kinds).get(L.k).op(W.i32Add).mem(W.i32Load8U, 0, 0).set(L.kind);
  // A page: any encoding, 4 KiB; a blob: raw or deflated, no larger than the largest.
  f.get(L.kind).op(W.i32Eqz).open(W.if, '');
  f.get(L.encodings).get(L.k).op(W.i32Add).mem(W.i32Load8U, 0, 0).const(2).op(W.i32GtU);
  f.get(L.raw).get(L.k).const(2).op(W.i32Shl).op(W.i32Add).mem(W.i32Load, 0, 0).const(PAGE_SIZE).op(W.i32Ne);
  f.op(W.i32Or).brIf('fail');
  f.else();
  f.get(L.kind).const(1).op(W.i32Ne);
  f.get(L.encodings).get(L.k).op(W.i32Add).mem(W.i32Load8U, 0, 0).const(2).op(W.i32GeU).op(W.i32Or);
  f.get(L.raw).get(L.k).const(2).op(W.i32Shl).op(W.i32Add).mem(W.i32Load, 0, 0);
  f.const(STATE).mem(W.i32Load, 2, S_MAX_BLOB).op(W.i32GtU).op(W.i32Or).brIf('fail');
  f.end();
  // Digests ascend, then kinds: the first word that differs decides.
  f.get(L.ids).get(L.k).const(4).op(W.i32Shl).op(W.i32Add).set(L.id);
  f.get(L.has).open(W.if, '');
  f.open(W.block, 'ordered');
  for (let w = 0; w < 4; w++) {
    f.get(L.prev)
      .mem(W.i32Load, 0, 4 * w)
      .set(L.a);
    f.get(L.id)
      .mem(W.i32Load, 0, 4 * w)
      .set(L.b);
    f.get(L.a).get(L.b).op(W.i32Ne).open(W.if, '');
    f.get(L.b);
    byteSwap(f);
    f.set(L.b);
    f.get(L.prev).mem(W.i32Load, 0, 4 * w);
    byteSwap(f);
    f.get(L.b).op(W.i32GtU).brIf('fail');
    f.br('ordered');
    f.end();
  }
  f.get(L.kind).get(L.last).op(W.i32LeS).brIf('fail');
  f.end();
  f.end();
  f.const(1).set(L.has);
  f.get(L.kind).set(L.last);
  f.get(L.id).set(L.prev);
  // Where it lies: from its offset (version 3) or where the one before ended, inside the chunks' part.
  f.get(L.places).const(-1).op(W.i32Ne).open(W.if, '');
  f.get(L.places).get(L.k).const(3).op(W.i32Shl).op(W.i32Add).set(L.a);
  f.get(L.a).mem(W.i32Load, 0, 0).op(W.f64ConvertI32U);
  f.get(L.a)
    .mem(W.i32Load, 0, 4)
    .op(W.f64ConvertI32U)
    .constF64(2 ** 32)
    .op(W.f64Mul);
  f.op(W.f64Add).set(L.at);
  f.end();
  f.get(L.stored).get(L.k).const(2).op(W.i32Shl).op(W.i32Add).mem(W.i32Load, 0, 0).op(W.f64ConvertI32U).set(L.length);
  f.get(L.at).const(STATE).mem(W.f64Load, 3, S_START).op(W.f64Lt);
  f.get(L.at).get(L.length).op(W.f64Add).get(L.end).op(W.f64Gt).op(W.i32Or).brIf('fail');
  f.get(L.at).get(L.length).op(W.f64Add).set(L.at);
  f.get(L.total).get(L.length).op(W.f64Add).set(L.total);
  f.get(L.k).const(1).op(W.i32Add).set(L.k);
  f.br('rows');
  f.end();
  f.end();
  for (let w = 0; w < 4; w++)
    f.const(STATE)
      .get(L.prev)
      .mem(W.i32Load, 0, 4 * w)
      .mem(W.i32Store, 2, 4 * w);
  f.const(STATE).get(L.has).mem(W.i32Store, 2, S_HAS);
  f.const(STATE).get(L.last).mem(W.i32Store, 2, S_KIND);
  f.const(STATE).get(L.at).mem(W.f64Store, 3, S_AT);
  f.const(STATE).get(L.total).mem(W.f64Store, 3, S_TOTAL);
  f.const(1).op(W.return);
  f.end();
  f.const(0);
  return f.end();
}

/** Scans runs of the chunk table's rows whose columns lie in the hash window (offsets into it; `places` -1 in version 2). */
export interface ChunkScan {
  scan(ids: number, kinds: number, encodings: number, stored: number, raw: number, places: number, n: number): boolean;
  /** Stored bytes of the rows scanned. */
  readonly total: number;
}

/** The scan's function over the hash window, once made (null: the host cannot compile WebAssembly). */
let made: ((...args: number[]) => number) | null | undefined;

/**
 * A scan from the table's first row, for chunks between `start` and `end` and blobs of up to
 * `maxBlob` bytes; null where the host cannot compile WebAssembly (the JS checks then).
 */
export function chunkScan(maxBlob: number, start: number, end: number): ChunkScan | null {
  const window = hashWindow();
  if (made === undefined)
    try {
      made = new WebAssembly.Instance(
        new WebAssembly.Module(moduleOver('h', 'm', [{ name: 'scan', params: 7, results: 1, body: scanBody() }])),
        { h: { m: window.memory } },
      ).exports['scan'] as (...args: number[]) => number;
    } catch {
      made = null;
    }
  const scan = made;
  if (!scan) return null;
  const state = new DataView(window.memory.buffer, STATE, 64);
  for (let i = 0; i < 16; i++) state.setUint8(i, 0);
  state.setInt32(S_HAS, 0, true);
  state.setInt32(S_KIND, 0, true);
  state.setUint32(S_MAX_BLOB, maxBlob, true);
  state.setFloat64(S_AT, start, true);
  state.setFloat64(S_TOTAL, 0, true);
  state.setFloat64(S_END, end, true);
  state.setFloat64(S_START, start, true);
  return {
    scan: (...args) => scan(...args) === 1,
    get total() {
      return state.getFloat64(S_TOTAL, true);
    },
  };
}
