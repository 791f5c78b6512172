/**
 * Flattened device tree (DTB) writing and reading, per the Devicetree
 * Specification v0.4, chapter 5: a 40-byte header, an empty memory
 * reservation block, the structure block and a deduplicated strings block,
 * all big-endian.
 */

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const VERSION = 17;
const LAST_COMP_VERSION = 16;
const HEADER_SIZE = 40;
/** One terminating all-zero entry (address and size, 8 bytes each). */
const RSVMAP_SIZE = 16;

/** A property value: numbers are u32 cells, strings are NUL-terminated, `null` is an empty property. */
export type FdtValue = number | number[] | string | string[] | Uint8Array | null;

/** Builds a DTB node by node, in order: `beginNode`, `prop`s, children, `endNode`; then `finish`. */
export class FdtBuilder {
  private struct: number[] = [];
  private strings: number[] = [];
  private stringOffsets = new Map<string, number>();
  private depth = 0;

  /** Opens a node; the root node's name is "". */
  beginNode(name: string): void {
    this.u32(FDT_BEGIN_NODE);
    this.bytes(utf8z(name));
    this.depth++;
  }

  endNode(): void {
    if (this.depth === 0) throw new Error('fdt: endNode without beginNode');
    this.u32(FDT_END_NODE);
    this.depth--;
  }

  prop(name: string, value: FdtValue): void {
    this.rawProp(name, encode(value));
  }

  /** A property of 64-bit cells (two u32 cells each, high first). Values must be below 2^53. */
  propU64(name: string, values: number[]): void {
    this.prop(
      name,
      values.flatMap((v) => [Math.floor(v / 0x1_0000_0000), v >>> 0]),
    );
  }

  finish(): Uint8Array {
    if (this.depth !== 0) throw new Error(`fdt: ${this.depth} node(s) left open`);
    this.u32(FDT_END);
    const structOff = HEADER_SIZE + RSVMAP_SIZE;
    const stringsOff = structOff + this.struct.length;
    const total = stringsOff + this.strings.length;
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    const header = [
      FDT_MAGIC,
      total,
      structOff,
      stringsOff,
      HEADER_SIZE,
      VERSION,
      LAST_COMP_VERSION,
      0,
      this.strings.length,
      this.struct.length,
    ];
    header.forEach((v, i) => view.setUint32(i * 4, v));
    out.set(this.struct, structOff);
    out.set(this.strings, stringsOff);
    return out;
  }

  private rawProp(name: string, data: Uint8Array): void {
    this.u32(FDT_PROP);
    this.u32(data.length);
    this.u32(this.nameOffset(name));
    this.bytes(data);
  }

  private nameOffset(name: string): number {
    let off = this.stringOffsets.get(name);
    if (off === undefined) {
      off = this.strings.length;
      this.stringOffsets.set(name, off);
      this.strings.push(...utf8z(name));
    }
    return off;
  }

  private u32(v: number): void {
    this.struct.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }

  /** Appends bytes padded with zeros to a 4-byte boundary. */
  private bytes(data: Uint8Array): void {
    this.struct.push(...data);
    while (this.struct.length % 4 !== 0) this.struct.push(0);
  }
}

function utf8z(s: string): Uint8Array {
  const body = new TextEncoder().encode(s);
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  return out;
}

function encode(value: FdtValue): Uint8Array {
  if (value === null) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return utf8z(value);
  if (typeof value === 'number') return encode([value]);
  if (value.every((v) => typeof v === 'string')) {
    const parts = (value as string[]).map(utf8z);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  const out = new Uint8Array(value.length * 4);
  const view = new DataView(out.buffer);
  (value as number[]).forEach((v, i) => view.setUint32(i * 4, v >>> 0));
  return out;
}

/** A node read back from a DTB: raw property bytes by name, children in order. */
export interface FdtNode {
  name: string;
  props: Map<string, Uint8Array>;
  children: FdtNode[];
}

/** A parsed DTB: the root node and the header fields a test may check. */
export interface ParsedFdt {
  version: number;
  lastCompVersion: number;
  root: FdtNode;
}

/** Parses a DTB (for tests and tools). Throws an Error on a malformed blob. */
export function parseFdt(blob: Uint8Array): ParsedFdt {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < HEADER_SIZE || view.getUint32(0) !== FDT_MAGIC) throw new Error('fdt: bad magic');
  if (view.getUint32(4) !== blob.length) throw new Error('fdt: totalsize does not match the blob');
  const structOff = view.getUint32(8);
  const stringsOff = view.getUint32(12);
  const decoder = new TextDecoder();
  const cString = (at: number): [string, number] => {
    const end = blob.indexOf(0, at);
    if (end < 0) throw new Error('fdt: unterminated string');
    return [decoder.decode(blob.subarray(at, end)), end + 1];
  };
  const align = (n: number): number => (n + 3) & ~3;

  let at = structOff;
  const stack: FdtNode[] = [];
  let root: FdtNode | null = null;
  for (;;) {
    if (at + 4 > blob.length) throw new Error('fdt: structure block runs past the end');
    const token = view.getUint32(at);
    at += 4;
    if (token === FDT_BEGIN_NODE) {
      const [name, next] = cString(at);
      at = align(next);
      const node: FdtNode = { name, props: new Map(), children: [] };
      if (stack.length > 0) stack[stack.length - 1].children.push(node);
      else if (root === null) root = node;
      else throw new Error('fdt: more than one root node');
      stack.push(node);
    } else if (token === FDT_END_NODE) {
      if (stack.pop() === undefined) throw new Error('fdt: unbalanced END_NODE');
    } else if (token === FDT_PROP) {
      const len = view.getUint32(at);
      const [name] = cString(stringsOff + view.getUint32(at + 4));
      const node = stack[stack.length - 1];
      if (node === undefined) throw new Error('fdt: property outside a node');
      node.props.set(name, blob.slice(at + 8, at + 8 + len));
      at = align(at + 8 + len);
    } else if (token === FDT_END) {
      break;
    } else if (token !== FDT_NOP) {
      throw new Error(`fdt: unknown token ${token}`);
    }
  }
  if (root === null || stack.length !== 0) throw new Error('fdt: unbalanced nodes');
  return { version: view.getUint32(20), lastCompVersion: view.getUint32(24), root };
}
