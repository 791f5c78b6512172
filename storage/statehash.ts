/**
 * State hashes: one 128-bit digest of everything about a machine (CPU,
 * devices, RAM, disk), cheap enough to record at every checkpoint so that any
 * replay can prove it reached the same state.
 *
 * RAM and disk are hashed page by page; a {@link PageHashTable} keeps the
 * per-page digests and re-hashes only pages whose dirty flag is set. The dirty
 * flags are consumed in exactly one place ({@link PageHashTable.sync}), which
 * also remembers which pages changed since the last checkpoint, so the
 * checkpointer and the state hash share the flags without stealing them from
 * each other.
 */
import { DIRTY, type PageWriter, type PagedMemory } from '../core/paged.js';
import type { MachineState, Snapshotable } from '../core/snapshot.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../core/memmap.js';
import { canonicalBytes } from './canonical.js';
import {
  Hasher128,
  bytesToHash,
  hash128,
  hashPagePair,
  hashPageWords,
  hashToBytes,
  writeHashBytes,
  type Hash128,
} from './hash.js';
import { pagePairHasher, type PagePairHasher } from './pagehash.js';

/**
 * The digest of a 4 KiB page of zeros; zero pages are never stored. A constant (tests check it
 * against hash128): computing it cold costs a recording's start a millisecond or two.
 */
export const ZERO_PAGE_HASH: Hash128 = '9b8bbd84faccc440acd9b67b5e0ac426';

/** True when every byte of `page` is zero (word-wise when aligned). */
export function isZeroPage(page: Uint8Array): boolean {
  if ((page.byteOffset & 3) === 0 && (page.length & 3) === 0) {
    const w = new Int32Array(page.buffer, page.byteOffset, page.length >>> 2);
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < page.length; i++) if (page[i] !== 0) return false;
  return true;
}

/** The content digest of one page ({@link ZERO_PAGE_HASH} for a zero page, found without hashing). */
export function hashPage(page: Uint8Array): Hash128 {
  if (page.length !== PAGE_SIZE || (page.byteOffset & 3) !== 0)
    return isZeroPage(page) ? ZERO_PAGE_HASH : hash128(page);
  const w = new Int32Array(page.buffer, page.byteOffset, PAGE_SIZE >>> 2);
  return zeroWords(w, 0) ? ZERO_PAGE_HASH : hashPageWords(w, 0);
}

const pair: Hash128[] = ['', ''];

/** The 16 bytes of {@link ZERO_PAGE_HASH}. */
export const ZERO_PAGE_BYTES = hashToBytes(ZERO_PAGE_HASH);
const scratch = new Uint8Array(16);

/** Whether the 16 bytes of `a` at `ao` are those of `b` at `bo`. */
export function sameBytes16(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let k = 0; k < 16; k++) if (a[ao + k] !== b[bo + k]) return false;
  return true;
}

/** A table of `pages` zero pages' digests (16 bytes each). */
export function zeroTable(pages: number): Uint8Array {
  const t = new Uint8Array(pages * 16);
  if (pages === 0) return t;
  t.set(ZERO_PAGE_BYTES);
  for (let n = 16; n < t.length; n *= 2) t.copyWithin(n, 0, n);
  return t;
}

/** `bytes` as 32-bit words (copied when not aligned to them). */
export function words32(bytes: Uint8Array): Int32Array {
  const b = (bytes.byteOffset & 3) === 0 ? bytes : bytes.slice();
  return new Int32Array(b.buffer, b.byteOffset, b.length >>> 2);
}

/** True when the page at word `at` of `w` is all zeros. */
export function zeroWords(w: Int32Array, at: number): boolean {
  for (let k = at; k < at + (PAGE_SIZE >>> 2); k++) if (w[k] !== 0) return false;
  return true;
}

/**
 * Per-page digests of one {@link PagedMemory}, kept up to date from its dirty
 * flags. Creating one hashes every page and clears the dirty flags.
 */
export class PageHashTable {
  /**
   * The 16 bytes of each page's digest as of the last {@link sync}, in the order {@link digest}
   * hashes them. What the table holds: a page's digest as a string is made when asked for
   * ({@link hash}), as a busy guest changes thousands of pages between checkpoints and a string
   * for each cost its capture the making and the garbage collector the keeping.
   */
  readonly bytes: Uint8Array;
  /** Each page's digest as a string, once asked for since it last changed (else null). */
  private readonly strings: (Hash128 | null)[];
  /** One byte per page: 1 while its digest is the zero page's. */
  private readonly zero: Uint8Array;
  /** One byte per page: non-zero when its digest changed since the last {@link takeChanged}. */
  private readonly changed: Uint8Array;
  /** The pages marked in `changed`, in the order they changed; all pages while `allChanged`. */
  private readonly changedList: number[] = [];
  /** Whether every page counts as changed (a new table: see takeChanged). */
  private allChanged = true;
  /** Pages whose digest is not the zero page's. */
  private nonZeroPages = 0;
  /** Digest of each group of GROUP pages, or null when a page in it changed since. */
  private readonly groups: (Hash128 | null)[];
  /** Pages the last {@link rehash} found dirty with the digest they had. */
  private readonly quiet: number[] = [];
  /**
   * By page: the sync from which it has been quiet at every sync, or -1 (it changed at the last,
   * or was cleaned since). A page the CPU holds stays dirty, so it is seen at every sync.
   */
  private readonly quietSince: Int32Array;
  /** By page: the sync at which its digest last changed, and whether it changed at the sync before that one too. */
  private readonly changedAt: Int32Array;
  private readonly changedTwice: Uint8Array;
  private syncs = 0;
  /** Scratch: the pages the memory's writer caches write translations for. */
  private readonly held: Uint8Array;
  /** Hashes pages where they are in the memory's WebAssembly memory (null: in JS, by hashPagePair). */
  private readonly pairHasher: PagePairHasher | null;
  /** {@link bytes} as big-endian words: a digest computed as words is compared and kept there. */
  private readonly digestWords: DataView;
  /** Where digests hashed elsewhere arrive (see PagesHasher). */
  private offloaded = new Uint8Array(0);

  /**
   * Starts from the memory's dirty flags: clean pages are zero (see the
   * PagedMemory invariant), so only dirty ones are read — a fresh 64 MiB
   * machine is not touched page by page.
   */
  constructor(readonly memory: PagedMemory) {
    this.strings = new Array<Hash128 | null>(memory.pageCount).fill(ZERO_PAGE_HASH);
    this.zero = new Uint8Array(memory.pageCount).fill(1);
    this.changed = new Uint8Array(memory.pageCount);
    this.groups = new Array<Hash128 | null>(Math.ceil(memory.pageCount / GROUP)).fill(null);
    this.bytes = zeroTable(memory.pageCount);
    this.quietSince = new Int32Array(memory.pageCount).fill(-1);
    this.changedAt = new Int32Array(memory.pageCount).fill(-1);
    this.changedTwice = new Uint8Array(memory.pageCount);
    this.held = new Uint8Array(memory.pageCount);
    this.pairHasher = memory.wasm ? pagePairHasher(memory.wasm) : null;
    this.digestWords = new DataView(this.bytes.buffer);
    this.rehash();
  }

  /**
   * Re-hashes the dirty pages, clears the dirty flags it may (see clean),
   * and remembers which digests changed. Returns the number of pages
   * re-hashed.
   */
  sync(offload?: PagesHasher): number {
    return this.rehash(offload);
  }

  private rehash(offload?: PagesHasher): number {
    const m = this.memory;
    const pages = m.dirtyPages();
    this.quiet.length = 0;
    this.syncs++;
    if (offload === undefined || pages.length < OFFLOAD_PAGES || !this.hashElsewhere(pages, offload))
      this.hashHere(pages);
    if (m.writer === null) m.clean(pages);
    else this.clean(pages, m.writer);
    return pages.length;
  }

  /**
   * {@link sync}, with the dirty pages hashed by `later` while the caller goes on, when there are
   * more than BUSY_SYNC (or any, with `always`) and it takes them: their dirty flags are cleared
   * now, and the function returned records their digests as sync would have (call it before
   * anything else uses the table). Else syncs now (through `offload`) and returns null.
   */
  syncLater(later: PagesHasherLater, offload?: PagesHasher, always = false): (() => void) | null {
    const m = this.memory;
    const pages = m.dirtyPages();
    const finish = always || pages.length > BUSY_SYNC ? later(m.bytes, pages) : null;
    if (finish === null) {
      // Not through `offload` while the RAM's pages are being hashed there: it would wait for them.
      this.rehash(always ? undefined : offload);
      return null;
    }
    this.quiet.length = 0;
    const sync = ++this.syncs;
    if (m.writer === null) m.clean(pages);
    else {
      // As a busy sync cleans (see clean), but by what the syncs before found: this one's digests
      // are not known yet. Pages that changed at both stay dirty.
      const out = pages.filter((i) => this.changedAt[i] !== sync - 1 || this.changedTwice[i] === 0);
      for (const i of out) this.quietSince[i] = -1;
      m.clean(out, out);
    }
    return () => this.record(pages, finish());
  }

  /** Hashes `pages` through `offload`; false when it would not. */
  private hashElsewhere(pages: number[], offload: PagesHasher): boolean {
    if (this.offloaded.length < pages.length * 16) this.offloaded = new Uint8Array(pages.length * 32);
    const digests = this.offloaded;
    if (!offload(this.memory.bytes, pages, digests)) return false;
    this.record(pages, digests);
    return true;
  }

  /** Records the digests of `pages` found elsewhere, 16 bytes each in `digests`. */
  private record(pages: readonly number[], digests: Uint8Array): void {
    const got = new DataView(digests.buffer, digests.byteOffset, digests.length);
    const h = [0, 0, 0, 0];
    for (let k = 0; k < pages.length; k++) {
      const i = pages[k]!;
      if (sameBytes16(digests, 16 * k, ZERO_PAGE_BYTES, 0)) {
        this.updateZero(i);
        continue;
      }
      for (let w = 0; w < 4; w++) h[w] = got.getInt32(16 * k + 4 * w);
      this.updateWords(i, h, 0);
    }
  }

  /** Hashes `pages` on this thread. */
  private hashHere(pages: number[]): void {
    const m = this.memory;
    const words = m.words;
    const shift = PAGE_SHIFT - 2;
    // Non-zero pages are hashed in pairs (see hashPagePair); `unpaired` waits for its pair.
    let unpaired = -1;
    const hasher = this.pairHasher;
    const at = m.bytes.byteOffset;
    for (const i of pages) {
      if (zeroWords(words, i << shift)) this.updateZero(i);
      else if (unpaired < 0) unpaired = i;
      else if (hasher !== null) {
        const h = hasher(at + (unpaired << PAGE_SHIFT), at + (i << PAGE_SHIFT));
        this.updateWords(unpaired, h, 0);
        this.updateWords(i, h, 4);
        unpaired = -1;
      } else {
        hashPagePair(words, unpaired << shift, i << shift, pair);
        this.update(unpaired, pair[0]!);
        this.update(i, pair[1]!);
        unpaired = -1;
      }
    }
    if (unpaired >= 0) {
      if (hasher !== null) {
        const a = at + (unpaired << PAGE_SHIFT);
        this.updateWords(unpaired, hasher(a, a), 0);
      } else this.update(unpaired, hashPageWords(words, unpaired << shift));
    }
  }

  /**
   * Cleans those of the dirty `pages` the last {@link rehash} took that it may. A page the CPU
   * caches a write translation for, it stores into without marking it (PageWriter): cleaning
   * it means the CPU forgets the translation, and its next store there, in a compiled region,
   * takes a path V8 may never have seen taken, which throws the region away (a page written now
   * and then, a buffer or a deeper stack, would cost that at each sync). So such a page stays
   * dirty, and is hashed again at each sync, until quiet (unchanged) at QUIET_SYNCS syncs in a
   * row, or while more than HELD_QUIET quiet ones wait. A guest that changes more than
   * BUSY_SYNC pages between syncs (sweeping through a large buffer, or storing all over its
   * memory) has every page cleaned (hashing each changed page twice would cost it more, and
   * its stores have taken the slow path from the start), but those that changed at this sync
   * and the one before: a guest that rewrites all of its memory all the time would otherwise
   * take the slow path at its first store into every page after every sync, for nothing.
   */
  private clean(pages: number[], writer: PageWriter): void {
    const since = this.quietSince;
    let out: number[];
    let cached: number[];
    if (pages.length - this.quiet.length > BUSY_SYNC) {
      const at = this.changedAt;
      const twice = this.changedTwice;
      out = pages.filter((i) => at[i] !== this.syncs || twice[i] === 0);
      cached = out;
    } else {
      const held = this.held;
      writer.mark(held);
      let heldQuiet = 0;
      for (const i of this.quiet) heldQuiet += held[i]!;
      const all = heldQuiet > HELD_QUIET;
      out = [];
      cached = [];
      for (const i of pages) {
        if (held[i] === 0) out.push(i);
        else if (since[i]! >= 0 && (all || this.syncs - since[i]! + 1 >= QUIET_SYNCS)) {
          out.push(i);
          cached.push(i);
        }
      }
      held.fill(0);
    }
    for (const i of out) since[i] = -1;
    this.memory.clean(out, cached);
  }

  /** Records the digest whose words are h[at] to h[at + 3] (a page that is not zero's) for page i. */
  private updateWords(i: number, h: number[], at: number): void {
    const d = this.digestWords;
    const o = i * 16;
    if (
      this.zero[i] === 0 &&
      d.getInt32(o) === h[at] &&
      d.getInt32(o + 4) === h[at + 1] &&
      d.getInt32(o + 8) === h[at + 2] &&
      d.getInt32(o + 12) === h[at + 3]
    )
      return this.unchanged(i);
    for (let k = 0; k < 4; k++) d.setInt32(o + 4 * k, h[at + k]!);
    this.strings[i] = null;
    this.changedTo(i, 0);
  }

  /** Records that page i is a zero page. */
  private updateZero(i: number): void {
    if (this.zero[i] === 1) return this.unchanged(i);
    this.bytes.set(ZERO_PAGE_BYTES, i * 16);
    this.strings[i] = ZERO_PAGE_HASH;
    this.changedTo(i, 1);
  }

  /** Records digest `h` (found in JS) for page i. */
  private update(i: number, h: Hash128): void {
    if (this.setPage(i, h)) this.changedTo(i, h === ZERO_PAGE_HASH ? 1 : 0);
    else this.unchanged(i);
  }

  /** Page i's digest changed at this sync, to a zero page's or not (`zero`). */
  private changedTo(i: number, zero: number): void {
    this.nonZeroPages += this.zero[i]! - zero;
    this.zero[i] = zero;
    this.groups[Math.floor(i / GROUP)] = null;
    if (this.changed[i] === 0) {
      this.changed[i] = 1;
      this.changedList.push(i);
    }
    this.quietSince[i] = -1;
    this.changedTwice[i] = this.changedAt[i] === this.syncs - 1 ? 1 : 0;
    this.changedAt[i] = this.syncs;
  }

  /** Page i was dirty, and its digest is what it was. */
  private unchanged(i: number): void {
    this.quiet.push(i);
    if (this.quietSince[i]! < 0) this.quietSince[i] = this.syncs;
  }

  /**
   * Indices of pages whose digest changed since the previous call (call {@link sync} first), in
   * order (every page at the first call); resets the set. Found from a list kept as digests
   * change, not a pass over every page: a checkpoint of a quiet guest costs what changed.
   */
  takeChanged(): Uint32Array {
    let out: Uint32Array;
    if (this.allChanged) {
      out = new Uint32Array(this.zero.length);
      for (let i = 0; i < out.length; i++) out[i] = i;
    } else out = Uint32Array.from(this.changedList).sort();
    this.resetChanged();
    return out;
  }

  /** Forgets the changed set (after a restore made memory equal to a checkpoint). */
  resetChanged(): void {
    for (const i of this.changedList) this.changed[i] = 0;
    this.changedList.length = 0;
    this.allChanged = false;
  }

  /** How many pages changed since the last {@link takeChanged} (all of them before the first). */
  get changedCount(): number {
    return this.allChanged ? this.zero.length : this.changedList.length;
  }

  /** How many pages are not zero pages. */
  get nonZero(): number {
    return this.nonZeroPages;
  }

  /** The pages that are not zero pages, in order. */
  nonZeroList(): Uint32Array {
    const out = new Uint32Array(this.nonZeroPages);
    let n = 0;
    for (let i = 0; i < this.zero.length; i++) if (this.zero[i] === 0) out[n++] = i;
    return out;
  }

  /** Whether page i is a zero page. */
  isZero(i: number): boolean {
    return this.zero[i] === 1;
  }

  /** The digest of page i as of the last sync. */
  hash(i: number): Hash128 {
    return (this.strings[i] ??= bytesToHash(this.bytes.subarray(i * 16, i * 16 + 16)));
  }

  /** The digest of every page as of the last sync, by page. */
  allHashes(): Hash128[] {
    return Array.from({ length: this.zero.length }, (_, i) => this.hash(i));
  }

  /**
   * Brings the memory to the page digests `target` (a checkpoint's, 16 bytes a page) through
   * `write(pages)`, which writes those pages' contents behind the dirty
   * flags: the pages whose digest differs, and every dirty one, unhashed (it
   * changed since the last sync as likely as not, and hashing it costs a
   * third of writing it). The pages written are clean after. Returns them;
   * when `write` throws, they are left dirty, to be hashed at the next sync.
   */
  rewriteTo(target: Uint8Array, write: (pages: number[]) => void): number[] {
    const m = this.memory;
    const dirty = m.dirty;
    const pages: number[] = [];
    const now = new Int32Array(this.bytes.buffer);
    const to = words32(target);
    for (let i = 0; i < this.zero.length; i++) {
      const w = 4 * i;
      if (
        (dirty[i]! & DIRTY) !== 0 ||
        now[w] !== to[w] ||
        now[w + 1] !== to[w + 1] ||
        now[w + 2] !== to[w + 2] ||
        now[w + 3] !== to[w + 3]
      )
        pages.push(i);
    }
    try {
      write(pages);
    } catch (e) {
      for (const i of pages) m.markDirty(i * PAGE_SIZE, PAGE_SIZE);
      throw e;
    }
    for (const i of pages) {
      this.bytes.set(target.subarray(i * 16, i * 16 + 16), i * 16);
      const z = sameBytes16(this.bytes, i * 16, ZERO_PAGE_BYTES, 0) ? 1 : 0;
      this.nonZeroPages += this.zero[i]! - z;
      this.zero[i] = z;
      this.strings[i] = null;
      this.groups[Math.floor(i / GROUP)] = null;
      this.quietSince[i] = -1;
    }
    m.clean(pages);
    return pages;
  }

  /**
   * Records that page `index` now holds content with digest `hash`; returns whether its digest
   * changed.
   */
  private setPage(index: number, hash: Hash128): boolean {
    const o = index * 16;
    writeHashBytes(hash, scratch, 0);
    if (sameBytes16(this.bytes, o, scratch, 0)) return false;
    this.bytes.set(scratch, o);
    this.strings[index] = hash;
    return true;
  }

  /**
   * The packed page map (storage/wire.ts) of `pages` (ascending) with their digests as of the
   * last sync: their bytes copied from the table, not read from the digests' strings.
   */
  packed(pages: Uint32Array): { i: Uint8Array; h: Uint8Array } {
    const i = new Uint8Array(pages.length * 4);
    const dv = new DataView(i.buffer);
    const h = new Uint32Array(pages.length * 4);
    const from = new Uint32Array(this.bytes.buffer);
    for (let k = 0; k < pages.length; k++) {
      const p = pages[k]!;
      dv.setUint32(4 * k, p, true);
      for (let w = 0; w < 4; w++) h[4 * k + w] = from[4 * p + w]!;
    }
    return { i, h: new Uint8Array(h.buffer) };
  }

  /** One digest of the whole table; only groups with a changed page are hashed again. */
  digest(): Hash128 {
    const count = this.zero.length;
    for (let g = 0; g < this.groups.length; g++) {
      if (this.groups[g] !== null) continue;
      const to = Math.min(count, (g + 1) * GROUP);
      // Most of a machine's memory is zero pages: their groups share one digest, hashed once.
      this.groups[g] =
        to - g * GROUP === GROUP && this.zeroGroup(g)
          ? ZERO_GROUP_DIGEST
          : hash128(this.bytes.subarray(g * GROUP * 16, to * 16));
    }
    return combineGroups(count, this.groups as Hash128[]);
  }

  /** Whether every page of group g is a zero page. */
  private zeroGroup(g: number): boolean {
    for (let i = g * GROUP; i < (g + 1) * GROUP; i++) if (this.zero[i] === 0) return false;
    return true;
  }
}

/**
 * Hashes pages of a memory elsewhere too (another thread: see PageFile.hashPages): `pages` of
 * `memory` (indices of 4 KiB pages) into `digests` (aligned to 16 bytes), 16 bytes each as
 * {@link PageHashTable.bytes} holds them, a zero page's {@link ZERO_PAGE_BYTES}. False when it
 * hashes nothing.
 */
export type PagesHasher = (memory: Uint8Array, pages: readonly number[], digests: Uint8Array) => boolean;

/** {@link PagesHasher} begun: returns what waits for the digests and returns them, or null when it hashes nothing. */
export type PagesHasherLater = (memory: Uint8Array, pages: readonly number[]) => (() => Uint8Array) | null;

/** Dirty pages at a sync below which they are hashed here even where they could be elsewhere: handing them over costs more. */
const OFFLOAD_PAGES = 256;

/** Syncs that find a page unchanged before it is cleaned though the CPU caches a write translation for it (see PageHashTable.clean). */
const QUIET_SYNCS = 8;
/** Quiet pages with cached write translations, past which all are cleaned (4 MiB: see PageHashTable.clean). */
const HELD_QUIET = 1024;
/** Pages changed between two syncs, past which every dirty page is cleaned (8 MiB: see PageHashTable.clean). */
const BUSY_SYNC = 2048;

/** Pages per group of the table digest: a state hash re-reads only groups that changed. */
const GROUP = 256;
const groupBuf = new Uint8Array(16 * GROUP);

/**
 * The digest of a group of GROUP zero pages (see groupDigest): a constant, checked by the tests,
 * as computing it cold costs a recording's start some milliseconds.
 */
export const ZERO_GROUP_DIGEST: Hash128 = 'd5ca26663ccc7f21f5908048707d5bdb';

function groupDigest(hashes: readonly Hash128[], from: number): Hash128 {
  const n = Math.min(GROUP, hashes.length - from);
  for (let j = 0; j < n; j++) writeHashBytes(hashes[from + j]!, groupBuf, j * 16);
  return hash128(groupBuf.subarray(0, n * 16));
}

function combineGroups(count: number, groups: readonly Hash128[]): Hash128 {
  const h = new Hasher128().updateU32(count);
  const buf = new Uint8Array(16);
  for (const g of groups) {
    writeHashBytes(g, buf, 0);
    h.update(buf);
  }
  return h.digest();
}

/**
 * Digest of a page table: the page digests in groups of GROUP, each group
 * hashed, then the count and the group digests hashed together. A table is
 * a {@link PageHashTable}, the digests' bytes by page (16 each), or the
 * digests by page.
 */
function hashTable(hashes: readonly Hash128[] | Uint8Array | PageHashTable): Hash128 {
  if (hashes instanceof PageHashTable) return hashes.digest();
  const groups: Hash128[] = [];
  if (hashes instanceof Uint8Array) {
    for (let i = 0; i < hashes.length; i += GROUP * 16) groups.push(hash128(hashes.subarray(i, i + GROUP * 16)));
    return combineGroups(hashes.length >>> 4, groups);
  }
  for (let i = 0; i < hashes.length; i += GROUP) groups.push(groupDigest(hashes, i));
  return combineGroups(hashes.length, groups);
}

/**
 * The state hash of a machine: digest of the tag "rewind-state-1", the
 * canonical bytes of `state` (see canonical.ts: key order does not matter),
 * the RAM page table and the disk page table (or the tag "no-disk").
 */
export function computeStateHash(
  state: MachineState,
  ramHashes: readonly Hash128[] | Uint8Array | PageHashTable,
  diskHashes: readonly Hash128[] | Uint8Array | PageHashTable | null,
): Hash128 {
  const h = new Hasher128();
  h.updateString('rewind-state-1');
  const s = canonicalBytes(state);
  h.updateU32(s.length).update(s);
  h.update(hashToBytes(hashTable(ramHashes)));
  if (diskHashes === null) h.updateString('no-disk');
  else h.update(hashToBytes(hashTable(diskHashes)));
  return h.digest();
}

/** Keeps the page tables of a machine's RAM and disk and computes its state hash. */
export class StateHasher {
  readonly ram: PageHashTable;
  readonly disk: PageHashTable | null;

  /** Hashes every page of RAM and disk once (and clears their dirty flags). */
  constructor(readonly machine: Snapshotable) {
    this.ram = new PageHashTable(machine.ram);
    this.disk = machine.disk ? new PageHashTable(machine.disk) : null;
  }

  /** Re-hashes dirty pages of RAM and disk (through `offload` where it will); the only consumer of the dirty flags. */
  sync(offload?: PagesHasher): void {
    this.ram.sync(offload);
    this.disk?.sync(offload);
  }

  /**
   * {@link PageHashTable.syncLater} of RAM and disk: returns what finishes both, or null when
   * both synced now. Once RAM's pages are being hashed, the disk's join them, however few.
   */
  syncLater(later: PagesHasherLater, offload?: PagesHasher): (() => void) | null {
    const ram = this.ram.syncLater(later, offload);
    const disk = this.disk?.syncLater(later, offload, ram !== null) ?? null;
    if (ram === null && disk === null) return null;
    return () => {
      ram?.();
      disk?.();
    };
  }

  /** Syncs, then hashes `state` (default: `machine.saveState()`) with the page tables. */
  stateHash(state: MachineState = this.machine.saveState()): Hash128 {
    this.sync();
    return computeStateHash(state, this.ram, this.disk);
  }
}
