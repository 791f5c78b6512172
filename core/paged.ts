import { PAGE_SHIFT, PAGE_SIZE } from './memmap.js';

/** Bits of a page's flag in {@link PagedMemory.dirty}. */
export const DIRTY = 1;
export const HAS_CODE = 2;

/**
 * Something that stores into a {@link PagedMemory} through cached
 * translations of its dirty pages, without marking them (the CPU's store
 * fast path, interpreted and compiled): a page it caches one for must stay
 * dirty, or it must forget the translation before the page is cleaned.
 */
export interface PageWriter {
  /** Sets `mark[p]` to 1 for each page p it caches a write translation for. */
  mark(mark: Uint8Array): void;
  /** Forgets its translations of `pages`: its next store to each marks it again. */
  forget(pages: readonly number[]): void;
}

/**
 * A byte array tracked in 4 KiB pages with a dirty flag per page, set by
 * every write to a clean page (a {@link PageWriter} writes into dirty pages
 * unmarked). RAM and the disk are both PagedMemory, so a checkpoint copies
 * only the pages that changed.
 *
 * Invariant: a page whose flag is clear holds what the last observer that
 * cleared the flags saw, or zeros when none has (new memory is zero and
 * every write marks its page). So a state hasher starting on a memory whose
 * flags were never cleared need only read the dirty pages.
 */
export class PagedMemory {
  readonly bytes: Uint8Array;
  /** Little-endian word view of `bytes` (the hosts we run on are little-endian). */
  readonly words: Int32Array;
  readonly halves: Uint16Array;
  /**
   * One byte per page. Bit 0 (DIRTY): the page was written since it was last
   * cleaned (`clean`), or may be. Bit 1 (HAS_CODE): the CPU holds decoded instructions of it,
   * so a store must go through `Cpu.touch`; clearing the dirty bit keeps it.
   */
  readonly dirty: Uint8Array;
  readonly pageCount: number;
  /** The CPU, for RAM (see {@link PageWriter}); null for memory nothing caches (the disk). */
  writer: PageWriter | null = null;
  /**
   * The WebAssembly memory these bytes live in, after `lead` bytes that the CPU keeps its
   * registers and TLBs in (see Cpu): code compiled to WebAssembly (core/jit/wasm.ts) reads all
   * of them there. Null when not asked for, or when the host has no WebAssembly.
   */
  readonly wasm: WebAssembly.Memory | null = null;

  /**
   * `lead`: where the memory lives in a WebAssembly memory, when it should: `bytes` before it,
   * and the dirty flags among them from DIRTY on (compiled code sets them too). RAM takes the
   * CPU's layout (core/cpu.ts's LEAD).
   */
  constructor(
    readonly size: number,
    lead?: { readonly bytes: number; readonly DIRTY: number },
  ) {
    if (size % PAGE_SIZE !== 0) throw new RangeError(`memory size ${size} is not a multiple of ${PAGE_SIZE}`);
    this.pageCount = size >>> PAGE_SHIFT;
    this.wasm = lead === undefined ? null : wasmMemory(lead.bytes + size);
    if (this.wasm !== null && lead !== undefined) {
      const buffer = this.wasm.buffer;
      this.bytes = new Uint8Array(buffer, lead.bytes, size);
      this.words = new Int32Array(buffer, lead.bytes, size >>> 2);
      this.halves = new Uint16Array(buffer, lead.bytes, size >>> 1);
      this.dirty = new Uint8Array(buffer, lead.DIRTY, this.pageCount);
    } else {
      const buffer = new ArrayBuffer(size);
      this.bytes = new Uint8Array(buffer);
      this.words = new Int32Array(buffer);
      this.halves = new Uint16Array(buffer);
      this.dirty = new Uint8Array(this.pageCount);
    }
  }

  /** A view (not a copy) of page `index`. */
  page(index: number): Uint8Array {
    return this.bytes.subarray(index << PAGE_SHIFT, (index + 1) << PAGE_SHIFT);
  }

  /** Copies `src` in at `offset` and marks the pages it touches dirty. */
  write(offset: number, src: Uint8Array): void {
    this.bytes.set(src, offset);
    this.markDirty(offset, src.length);
  }

  markDirty(offset: number, length: number): void {
    if (length <= 0) return;
    const last = (offset + length - 1) >>> PAGE_SHIFT;
    for (let p = offset >>> PAGE_SHIFT; p <= last; p++) this.dirty[p] |= DIRTY;
  }

  /** How many pages are dirty. */
  dirtyCount(): number {
    let n = 0;
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) if ((d[i]! & DIRTY) !== 0) n++;
    return n;
  }

  /** Indices of dirty pages, in order. */
  dirtyPages(): number[] {
    const out: number[] = [];
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) if ((d[i]! & DIRTY) !== 0) out.push(i);
    return out;
  }

  /** Indices of dirty pages, in order, whose dirty bits it clears (the code bits stay). */
  takeDirtyPages(): number[] {
    const pages = this.dirtyPages();
    this.clean(pages);
    return pages;
  }

  /**
   * Clears the dirty bits of `pages` (the code bits stay), once the writer has forgotten its
   * translations of those it may cache one for (`cached`: all of them unless the caller asked
   * it, PageWriter.mark).
   */
  clean(pages: readonly number[], cached: readonly number[] = pages): void {
    if (cached.length > 0) this.writer?.forget(cached);
    for (const i of pages) this.dirty[i]! &= HAS_CODE;
  }

  clearDirty(): void {
    this.takeDirtyPages();
  }
}

/** A WebAssembly memory of at least `bytes` (zeroed, as a new buffer is), or null where the host has none or refuses one that large. */
function wasmMemory(bytes: number): WebAssembly.Memory | null {
  if (typeof WebAssembly !== 'object') return null;
  try {
    return new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
  } catch {
    return null;
  }
}
