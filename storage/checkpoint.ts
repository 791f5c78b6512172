/**
 * Checkpoints: CPU and device state plus the RAM and disk pages, each page
 * stored once in a {@link PageStore}. A checkpoint is a delta over its parent
 * (the pages whose content differs from the parent's) or a full map (every
 * non-zero page); a full map is written whenever the chain of deltas would
 * reach `fullEvery`, so a restore walks at most `fullEvery - 1` deltas, and
 * wherever a delta would name half the pages a full map does (a restore
 * then reads one map, not a chain of maps as large).
 *
 * A checkpoint at position p holds the machine as it is when its position is
 * p and before any input event at p is applied (see timeline.ts).
 */
import type { MachineState, Snapshotable } from '../core/snapshot.js';
import type { PagedMemory } from '../core/paged.js';
import { PAGE_SIZE } from '../core/memmap.js';
import { RewindError } from '../core/errors.js';
import { DigestTable } from './digests.js';
import { Hasher128, bytesToHash, type Hash128 } from './hash.js';
import { PageStore } from './pagestore.js';
import {
  StateHasher,
  ZERO_PAGE_BYTES,
  ZERO_PAGE_HASH,
  computeStateHash,
  sameBytes16,
  words32,
  zeroTable,
  type PageHashTable,
  type PagesHasher,
  type PagesHasherLater,
} from './statehash.js';
import { packSorted, unpack } from './codec.js';
import { pagesNamed } from './vmi-common.js';
import { PackedMap, packPageMap, rememberPacked } from './wire.js';

/**
 * Page index → page digest. In a full map, a page that is absent is a zero page. A `Map` is one;
 * a capture, or a file's index, makes a {@link PackedMap}. Never changed once made (a thinning
 * makes new ones).
 */
export interface PageMap extends Iterable<[number, Hash128]> {
  readonly size: number;
  get(page: number): Hash128 | undefined;
  has(page: number): boolean;
  keys(): Iterable<number>;
  values(): Iterable<Hash128>;
  entries(): Iterable<[number, Hash128]>;
}

/** One checkpoint. */
export interface Checkpoint {
  /** Digest of (branch, position, stateHash, parent): deterministic, so replays name checkpoints alike. */
  id: string;
  branch: string;
  /** Steps since reset. */
  position: number;
  /** {@link computeStateHash} of the machine at this checkpoint. */
  stateHash: Hash128;
  /** msgpack bytes of the {@link MachineState} (keys sorted). */
  state: Uint8Array;
  /** RAM pages: all non-zero pages (full) or the pages that differ from the parent (delta). */
  ram: PageMap;
  /** Same for the disk; null when the machine has no disk. */
  disk: PageMap | null;
  /** The checkpoint this one is a delta over (also set on full ones, for history); null for the first. */
  parent: string | null;
  full: boolean;
  /** Deltas between this checkpoint and the full one it rests on (0 when full). */
  depth: number;
}

/**
 * The pages that checkpoints name, counted: how many page maps name each
 * (the zero page left out), and the bytes of those named, kept as maps are
 * added and released. A thinning drops checkpoints round after round and
 * needs what the rest name after each: counting as they go costs a fraction
 * of a new set of every page named after each round, and the counts are
 * kept off the JS heap (see digests.ts). A page's size is looked up when
 * {@link bytes} is next read, not as it is named: a checkpoint's new pages
 * may still be on their way to the store then.
 */
export class PageRefs {
  /** The pages ever counted, numbered. */
  private readonly pages: DigestTable;
  /** Page maps naming each page, by its number (0 once all that named it are released). */
  private counts: Uint32Array;
  /** Bytes of each page named, by its number, once counted in `sized` (0 before). */
  private sizes: Uint32Array;
  /** Pages named since {@link bytes} was last read, to size then, by number. */
  private unsized: number[] = [];
  /** Bytes of the pages named whose size is known, each counted once. */
  private sized = 0;
  /** Number of distinct pages named. */
  count = 0;

  /** Counts with room for `capacity` pages before its tables grow. */
  constructor(
    private readonly size: (hash: Hash128) => number,
    capacity = 1024,
  ) {
    this.pages = new DigestTable(capacity);
    this.counts = new Uint32Array(Math.max(16, capacity));
    this.sizes = new Uint32Array(this.counts.length);
  }

  /** Bytes of the pages named, each counted once. */
  get bytes(): number {
    for (const n of this.unsized) {
      if (this.counts[n]! > 0 && this.sizes[n] === 0) {
        this.sizes[n] = this.size(this.pages.digestAt(n));
        this.sized += this.sizes[n]!;
      }
    }
    this.unsized = [];
    return this.sized;
  }

  /** True when a page map counted names `hash`. */
  has(hash: Hash128): boolean {
    const n = this.pages.indexOf(hash);
    return n >= 0 && this.counts[n]! > 0;
  }

  /** Counts the pages `map` names (read from its packed form: no string a page). */
  add(map: PageMap | null): void {
    if (!map) return;
    const { h } = packPageMap(map);
    for (let at = 0; at < h.length; at += 16) {
      if (sameBytes16(h, at, ZERO_PAGE_BYTES, 0)) continue;
      const n = this.pages.addBytes(h, at);
      if (n === this.counts.length) {
        const counts = new Uint32Array(n * 2);
        counts.set(this.counts);
        this.counts = counts;
        const sizes = new Uint32Array(n * 2);
        sizes.set(this.sizes);
        this.sizes = sizes;
      }
      if (this.counts[n]!++ === 0) {
        this.count++;
        this.unsized.push(n);
      }
    }
  }

  /** Takes back what {@link add} counted for `map`. */
  release(map: PageMap | null): void {
    if (!map) return;
    const { h } = packPageMap(map);
    for (let at = 0; at < h.length; at += 16) {
      if (sameBytes16(h, at, ZERO_PAGE_BYTES, 0)) continue;
      const n = this.pages.indexOfBytes(h, at);
      if (n < 0 || this.counts[n] === 0)
        throw new RewindError(
          'bad-state',
          `page ${bytesToHash(h.subarray(at, at + 16))} released more often than it was named`,
        );
      if (--this.counts[n]! === 0) {
        this.count--;
        this.sized -= this.sizes[n]!;
        this.sizes[n] = 0;
      }
    }
  }
}

/** Full page tables of RAM and disk: each page's digest, its 16 bytes at 16 × the page's index. */
export interface PageTables {
  ram: Uint8Array;
  disk: Uint8Array | null;
}

/** Options of a {@link Checkpointer}. */
export interface CheckpointerOptions {
  /** Page store to use (default: a new one). */
  pages?: PageStore;
  /** Write a full map when the delta chain would reach this length (default 16). */
  fullEvery?: number;
}

/**
 * The id of a checkpoint, from what identifies it: its branch, position and parent, and its CPU and
 * devices' state (the `state` bytes). Memory follows from those in a deterministic machine, and
 * leaving it out names a checkpoint before its pages are hashed.
 */
export function checkpointId(branch: string, position: number, state: Uint8Array, parent: string | null): string {
  return new Hasher128()
    .updateString('rewind-checkpoint-2')
    .updateString(branch)
    .updateString(String(position))
    .updateU32(state.length)
    .update(state)
    .updateString(parent ?? '')
    .digest();
}

/** The fields of a checkpoint that {@link Checkpointer.capture} may fill in later. */
const PENDING_FIELDS = ['stateHash', 'ram', 'disk', 'full', 'depth'] as const;

/** Decodes the `state` bytes of a checkpoint. */
export function decodeState(bytes: Uint8Array): MachineState {
  try {
    return unpack(bytes) as MachineState;
  } catch (e) {
    throw new RewindError(
      'bad-state',
      `checkpoint state does not decode (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

/**
 * Captures and restores checkpoints of one machine. Owns the machine's
 * {@link StateHasher}: from its creation on, nothing else may clear the
 * machine's dirty flags.
 */
export class Checkpointer {
  private stateHasher: StateHasher | null = null;
  readonly pages: PageStore;
  readonly fullEvery: number;
  private captured: { id: string; changedPages: number } | null = null;
  private readonly checkpoints = new Map<string, Checkpoint>();
  /** The checkpoint whose memory the machine held after the last capture/restore, and its page tables. */
  private base: { id: string; tables: PageTables } | null = null;
  /** What the checkpoints name, counted from the first {@link pageRefs} on, as they come and go. */
  private refs: PageRefs | null = null;
  private readonly offload: PagesHasher = (memory, pages, digests) => this.pages.hashPages(memory, pages, digests);
  private readonly hashLater: PagesHasherLater = (memory, pages) =>
    this.pages.hashPagesLater(memory, pages, () => this.complete());
  /** The capture whose pages are being hashed, and what finishes their hashing (see complete). */
  private pending: { cp: Checkpoint; state: MachineState; finish: () => void; entries: number } | null = null;

  constructor(
    readonly machine: Snapshotable,
    options: CheckpointerOptions = {},
  ) {
    this.pages = options.pages ?? new PageStore();
    this.fullEvery = Math.max(1, options.fullEvery ?? 16);
  }

  /** The machine's state hasher, made on first use: a run that takes no checkpoint never hashes its memory. */
  get hasher(): StateHasher {
    this.complete();
    this.stateHasher ??= new StateHasher(this.machine);
    return this.stateHasher;
  }

  /** The checkpoint with this id; throws RewindError('not-found'). */
  get(id: string): Checkpoint {
    const cp = this.checkpoints.get(id);
    if (!cp) throw new RewindError('not-found', `no checkpoint ${id}`);
    return cp;
  }

  has(id: string): boolean {
    return this.checkpoints.has(id);
  }

  /** The last checkpoint captured, and how many pages (RAM and disk) differ from its parent's (all non-zero ones without a parent). */
  get lastCapture(): { readonly id: string; readonly changedPages: number } | null {
    return this.captured;
  }

  /**
   * What the checkpoints take in an index, from above, at `perCheckpoint` bytes each, their state's
   * and `perEntry` for each entry of their page maps: exact but for a capture whose pages are being
   * hashed (its maps counted as every page they could name), which it does not wait for.
   */
  indexBytes(perCheckpoint: number, perEntry: number): number {
    let n = 0;
    for (const cp of this.checkpoints.values()) {
      const entries = cp === this.pending?.cp ? this.pending.entries : cp.ram.size + (cp.disk?.size ?? 0);
      n += perCheckpoint + cp.state.length + perEntry * entries;
    }
    return n;
  }

  /** How many checkpoints are held. */
  get size(): number {
    return this.checkpoints.size;
  }

  /** All checkpoints held, in insertion order. */
  all(): IterableIterator<Checkpoint> {
    this.complete();
    return this.checkpoints.values();
  }

  /**
   * Adds a checkpoint read from storage, in any order (its pages must be in
   * the page store; a missing parent shows up when it is restored).
   */
  add(cp: Checkpoint): void {
    this.complete();
    const old = this.checkpoints.get(cp.id);
    this.refs?.release(old?.ram ?? null);
    this.refs?.release(old?.disk ?? null);
    this.checkpoints.set(cp.id, cp);
    this.refs?.add(cp.ram);
    this.refs?.add(cp.disk);
  }

  /**
   * Forgets checkpoint `id` (thinning a recording). The checkpoints that are
   * deltas over it take over its pages (and become full when it was full),
   * and those resting on it through a parent link point past it, so that
   * every other checkpoint restores exactly as before. The counts of
   * {@link pageRefs} follow the page maps as they change.
   */
  drop(id: string): void {
    this.complete();
    const refs = this.refs;
    const cp = this.get(id);
    const children = [...this.checkpoints.values()].filter((c) => c.parent === id);
    for (const child of children) {
      child.parent = cp.parent;
      if (child.full) continue;
      const ram = overlay(cp.ram, child.ram, cp.full);
      refs?.add(ram);
      refs?.release(child.ram);
      child.ram = ram;
      if (child.disk && cp.disk) {
        const disk = overlay(cp.disk, child.disk, cp.full);
        refs?.add(disk);
        refs?.release(child.disk);
        child.disk = disk;
      }
      child.full = cp.full;
      this.lowerDepths(child, cp.depth);
    }
    refs?.release(cp.ram);
    refs?.release(cp.disk);
    this.checkpoints.delete(id);
    if (this.base?.id === id) this.base = null;
  }

  /** Sets a delta chain's depths from `cp` (now at `depth`) down. */
  private lowerDepths(cp: Checkpoint, depth: number): void {
    cp.depth = depth;
    for (const c of this.checkpoints.values()) if (c.parent === cp.id && !c.full) this.lowerDepths(c, depth + 1);
  }

  /** Every page digest the checkpoints name (what a sweep must keep). */
  pagesNamed(): Set<Hash128> {
    this.complete();
    return pagesNamed(null, this.checkpoints.values());
  }

  /**
   * How many page maps of the checkpoints name each page, and what those pages take (`size` of
   * each): counted once, then kept up to date as checkpoints are captured, added and dropped.
   */
  pageRefs(size: (hash: Hash128) => number): PageRefs {
    this.complete();
    if (this.refs) return this.refs;
    let entries = 0;
    for (const cp of this.checkpoints.values()) entries += cp.ram.size + (cp.disk?.size ?? 0);
    const refs = new PageRefs(size, entries);
    for (const cp of this.checkpoints.values()) {
      refs.add(cp.ram);
      refs.add(cp.disk);
    }
    this.refs = refs;
    return refs;
  }

  /** Current state hash of the machine. */
  stateHash(): Hash128 {
    return this.hasher.stateHash();
  }

  /**
   * Captures the machine as a checkpoint on `branch`, as a delta over
   * `parent` (or full: when parent is null, the chain would reach
   * `fullEvery`, or most pages changed). Stores the pages it needs in the
   * page store.
   */
  capture(parent: string | null, branch: string): Checkpoint {
    this.complete();
    const m = this.machine;
    const dirty = m.ram.dirtyCount() + (m.disk?.dirtyCount() ?? 0);
    // Hashed with the page store's thread, where it has one: the pages it lacks are then stored
    // from the copies it hashed. A busy guest's are hashed while it runs on (see complete).
    let later = this.hasher.syncLater(this.hashLater, this.offload);
    try {
      const state = m.saveState();
      const stateBytes = packSorted(state);
      const id = checkpointId(branch, m.position, stateBytes, parent);
      if (later !== null && !this.checkpoints.has(id)) {
        const cp = this.pendingCheckpoint(id, branch, m.position, stateBytes, parent);
        // Its maps name pages not zero, or changed since its parent: no more than were not zero at
        // the last sync, changed since the last capture, or are being hashed.
        const tables = [this.stateHasher!.ram, this.stateHasher!.disk];
        let entries = dirty;
        for (const t of tables) entries += t ? t.nonZero + t.changedCount : 0;
        this.pending = { cp, state, finish: later, entries };
        this.captured = { id, changedPages: dirty };
        this.checkpoints.set(id, cp);
        later = null;
        return cp;
      }
      const finish = later;
      later = null;
      finish?.();
      return this.captureSynced(id, parent, branch, state, stateBytes);
    } finally {
      // Pages being hashed for a capture that failed are finished all the same.
      if (later !== null) later();
      if (this.pending === null) this.pages.forgetCopies();
    }
  }

  /**
   * Finishes the capture whose pages are being hashed, if one is: records their digests, and
   * fills in the checkpoint's maps and state hash. Whatever needs them calls this first: they
   * are known by the next capture's time, and a busy guest has run on meanwhile.
   */
  private complete(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    try {
      p.finish();
      // Captured again, in place of the one handed out: the same id, now with its pages.
      this.checkpoints.delete(p.cp.id);
      const cp = this.captureSynced(p.cp.id, p.cp.parent, p.cp.branch, p.state, p.cp.state);
      for (const key of PENDING_FIELDS)
        Object.defineProperty(p.cp, key, { value: cp[key], writable: true, enumerable: true, configurable: true });
      this.checkpoints.set(cp.id, p.cp);
    } catch (e) {
      this.checkpoints.delete(p.cp.id);
      throw e;
    } finally {
      this.pages.forgetCopies();
    }
  }

  /** A checkpoint whose maps, state hash and place in its chain are filled in by {@link complete}, which reading them calls. */
  private pendingCheckpoint(
    id: string,
    branch: string,
    position: number,
    state: Uint8Array,
    parent: string | null,
  ): Checkpoint {
    const cp = { id, branch, position, state, parent } as Checkpoint;
    for (const key of PENDING_FIELDS)
      Object.defineProperty(cp, key, {
        enumerable: true,
        configurable: true,
        get: () => {
          this.complete();
          if (Object.getOwnPropertyDescriptor(cp, key)?.get)
            throw new RewindError('bad-state', `checkpoint ${id} could not be completed`);
          return cp[key];
        },
      });
    return cp;
  }

  /** Captures the machine, its tables synced, as checkpoint `id` (see capture). */
  private captureSynced(
    id: string,
    parent: string | null,
    branch: string,
    state: MachineState,
    stateBytes: Uint8Array,
  ): Checkpoint {
    const m = this.machine;
    const changedRam = this.hasher.ram.takeChanged();
    const changedDisk = this.hasher.disk ? this.hasher.disk.takeChanged() : new Uint32Array(0);
    const parentCp = parent === null ? null : this.get(parent);
    let full = parentCp === null || parentCp.depth + 1 >= this.fullEvery;
    const ramTable = this.hasher.ram;
    const diskTable = this.hasher.disk;
    const stateHash = computeStateHash(state, ramTable, diskTable);

    const nonZeroNow = ramTable.nonZero + (diskTable?.nonZero ?? 0);
    let changedPages = nonZeroNow;
    // The machine's memory was the parent's at its capture, but for the pages that changed since.
    const useBase = this.base !== null && this.base.id === parent;
    let ramPages: Uint32Array | null = null;
    let diskPages: Uint32Array | null = null;
    if (!full) {
      const parentTables = useBase ? this.base!.tables : this.resolve(parent!);
      if (diskTable && !parentTables.disk)
        throw new RewindError('bad-state', 'parent checkpoint has no disk but the machine has one');
      // The pages that differ are found first, and a delta's maps built only when it is one: a
      // guest that rewrites most of its memory makes full checkpoints only.
      const ramDelta = changedFrom(ramTable.bytes, parentTables.ram, useBase ? changedRam : null);
      const diskDelta = diskTable
        ? changedFrom(diskTable.bytes, parentTables.disk!, useBase ? changedDisk : null)
        : null;
      changedPages = ramDelta.length + (diskDelta?.length ?? 0);
      full = 2 * changedPages >= nonZeroNow;
      if (!full) {
        ramPages = ramDelta;
        diskPages = diskDelta;
      }
    }
    if (full) {
      ramPages = ramTable.nonZeroList();
      diskPages = diskTable ? diskTable.nonZeroList() : null;
    }
    // Of a full map over the memory's last checkpoint, only the pages that changed since can be
    // new to the store.
    const ram = storeMapped(this.pages, m.ram, ramPages!, ramTable, full && useBase ? changedRam : null);
    const disk =
      diskTable && m.disk
        ? storeMapped(this.pages, m.disk, diskPages!, diskTable, full && useBase ? changedDisk : null)
        : null;

    const cp: Checkpoint = {
      id,
      branch,
      position: m.position,
      stateHash,
      state: stateBytes,
      ram,
      disk,
      parent,
      full,
      depth: full ? 0 : parentCp!.depth + 1,
    };
    this.captured = { id: cp.id, changedPages };
    const existing = this.checkpoints.get(cp.id);
    // The tables become the new base's: the parent's, brought up to date where pages changed (a
    // copy of 16 k digests at every capture was a third of its cost), or a copy.
    if (useBase) {
      const tables = this.base!.tables;
      copyDigests(ramTable.bytes, tables.ram, changedRam);
      if (tables.disk && diskTable) copyDigests(diskTable.bytes, tables.disk, changedDisk);
      this.base = { id: cp.id, tables };
    } else this.base = { id: cp.id, tables: { ram: ramTable.bytes.slice(), disk: diskTable?.bytes.slice() ?? null } };
    if (existing) return existing;
    this.checkpoints.set(cp.id, cp);
    this.refs?.add(cp.ram);
    this.refs?.add(cp.disk);
    return cp;
  }

  /** Pages that differ between checkpoints `a` and `b` (fetch the bytes with `pages.get`). */
  diff(a: string, b: string): PageDiff {
    return diffTables(this.resolve(a), this.resolve(b));
  }

  /** Full page tables at checkpoint `id`, walking at most `fullEvery - 1` deltas back to a full map. */
  resolve(id: string): PageTables {
    this.complete();
    if (this.base && this.base.id === id) return this.base.tables;
    const chain: Checkpoint[] = [];
    let cp = this.get(id);
    for (;;) {
      chain.push(cp);
      if (cp.full) break;
      if (cp.parent === null) throw new RewindError('bad-state', `delta checkpoint ${cp.id} has no parent`);
      if (chain.length > this.fullEvery + 1024)
        throw new RewindError('bad-state', `checkpoint chain from ${id} does not end in a full checkpoint`);
      cp = this.get(cp.parent);
    }
    const ram = zeroTable(this.machine.ram.pageCount);
    const disk = chain[0]!.disk ? zeroTable(this.machine.disk ? this.machine.disk.pageCount : 0) : null;
    for (let i = chain.length - 1; i >= 0; i--) {
      const c = chain[i]!;
      applyMap(ram, c.ram, 'RAM', c.id);
      if (disk && c.disk) applyMap(disk, c.disk, 'disk', c.id);
    }
    return { ram, disk };
  }

  /**
   * Restores the machine to checkpoint `id`: rewrites only the RAM and disk
   * pages whose digest differs from what the machine holds, then calls
   * `loadState` and `invalidateCaches`, and checks that the machine now has
   * the checkpoint's state hash: a file whose integrity hash is valid can
   * still hold a checkpoint that is wrong, and a restore must never hand
   * that out. Throws RewindError('bad-vmi') when the checkpoint is wrong.
   */
  restore(id: string): Checkpoint {
    this.complete();
    const cp = this.get(id);
    const tables = this.resolve(id);
    const m = this.machine;
    if ((tables.disk === null) !== (m.disk === null)) {
      throw new RewindError('bad-state', `checkpoint ${id} and the machine disagree on having a disk`);
    }
    // Until the restore is complete and checked, memory matches no checkpoint.
    this.base = null;
    // Which RAM pages were rewritten; unknown (all, for the CPU's caches) when a page fails.
    let rewritten: number[] | undefined;
    try {
      rewritten = rewritePages(this.pages, m.ram, this.hasher.ram, tables.ram);
      if (m.disk && tables.disk) rewritePages(this.pages, m.disk, this.hasher.disk!, tables.disk);
      this.hasher.ram.resetChanged();
      this.hasher.disk?.resetChanged();
      try {
        m.loadState(decodeState(cp.state));
      } catch (e) {
        throw new RewindError(
          'bad-vmi',
          `checkpoint ${id} at position ${cp.position}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    } finally {
      m.invalidateCaches(rewritten);
    }
    if (this.hasher.stateHash() !== cp.stateHash) throw mismatch(cp);
    this.base = { id, tables: { ram: tables.ram.slice(), disk: tables.disk?.slice() ?? null } };
    return cp;
  }

  /**
   * Checks every checkpoint held against its state hash, from its stored
   * pages and state alone (the machine is not touched), and reads every page
   * it names (a file's reader checks each against its digest). `progress` gets
   * (checked, total) after each and stops the check when it returns false.
   * Returns the first bad checkpoint in position order, with a
   * RewindError('bad-vmi') that says what is wrong, or null when all are
   * good (or the check was stopped).
   */
  verifyStored(
    progress?: (done: number, total: number) => boolean | void,
  ): { checkpoint: Checkpoint; error: RewindError } | null {
    this.complete();
    const all = [...this.checkpoints.values()].sort(
      (a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    const read = new Set<Hash128>();
    for (let n = 0; n < all.length; n++) {
      const cp = all[n]!;
      try {
        const tables = this.resolve(cp.id);
        if (computeStateHash(decodeState(cp.state), tables.ram, tables.disk) !== cp.stateHash) throw mismatch(cp);
        for (const map of [cp.ram, cp.disk])
          for (const h of map?.values() ?? [])
            if (!read.has(h)) {
              this.pages.get(h);
              read.add(h);
            }
      } catch (e) {
        const error =
          e instanceof RewindError && e.code === 'bad-vmi'
            ? e
            : new RewindError(
                'bad-vmi',
                `checkpoint ${cp.id} at position ${cp.position}: ${e instanceof Error ? e.message : String(e)}`,
              );
        return { checkpoint: cp, error };
      }
      if (progress?.(n + 1, all.length) === false) break;
    }
    return null;
  }
}

function mismatch(cp: Checkpoint): RewindError {
  return new RewindError('bad-vmi', `checkpoint ${cp.id} at position ${cp.position} does not match its state hash`);
}

/** Pages that differ between two points (for the diff view). */
export interface PageDiff {
  ram: number[];
  disk: number[];
}

/** Indices of pages whose digests differ between two page tables (of the same machine). */
export function diffTables(a: PageTables, b: PageTables): PageDiff {
  return {
    ram: Array.from(changedFrom(a.ram, b.ram, null)),
    disk: a.disk && b.disk ? Array.from(changedFrom(a.disk, b.disk, null)) : [],
  };
}

/** Copies the digests of `pages` from table `from` to table `to`. */
function copyDigests(from: Uint8Array, to: Uint8Array, pages: Uint32Array): void {
  const f = words32(from);
  const t = new Int32Array(to.buffer, to.byteOffset, to.length >>> 2);
  for (let k = 0; k < pages.length; k++) {
    const w = 4 * pages[k]!;
    t[w] = f[w]!;
    t[w + 1] = f[w + 1]!;
    t[w + 2] = f[w + 2]!;
    t[w + 3] = f[w + 3]!;
  }
}

/** `top` laid over `under`; a full result leaves out zero pages, as full maps do. */
function overlay(under: PageMap, top: PageMap, full: boolean): PageMap {
  const map = new Map(under);
  for (const [i, h] of top) map.set(i, h);
  if (full) for (const [i, h] of map) if (h === ZERO_PAGE_HASH) map.delete(i);
  return map;
}

/** Indices whose digest in table `now` differs from table `parent`'s, in order, among `candidates` (all when null). */
function changedFrom(now: Uint8Array, parent: Uint8Array, candidates: Uint32Array | null): Uint32Array {
  const a = words32(now);
  const b = words32(parent);
  const pages = now.length >>> 4;
  const out = new Uint32Array(candidates ? candidates.length : pages);
  let n = 0;
  const differs = (i: number) =>
    a[4 * i] !== b[4 * i] ||
    a[4 * i + 1] !== b[4 * i + 1] ||
    a[4 * i + 2] !== b[4 * i + 2] ||
    a[4 * i + 3] !== b[4 * i + 3];
  if (candidates) {
    for (const i of candidates) if (differs(i)) out[n++] = i;
  } else {
    for (let i = 0; i < pages; i++) if (differs(i)) out[n++] = i;
  }
  return out.subarray(0, n);
}

/**
 * The page map of `pages` with their digests in `table`, packed (see rememberPacked), after
 * storing the pages of `mem` it names: those in `fresh` only, when given (the others are held
 * already).
 */
function storeMapped(
  store: PageStore,
  mem: PagedMemory,
  pages: Uint32Array,
  table: PageHashTable,
  fresh: Uint32Array | null,
): PackedMap {
  const packed = table.packed(pages);
  const map = new PackedMap(pages, packed.h);
  rememberPacked(map, packed);
  // Most of a full map new (a busy guest's): looked up in the store as they are, not packed twice.
  if (fresh === null || 2 * fresh.length >= pages.length) store.putPages(mem.bytes, pages, packed.h);
  else {
    const stored = new Uint32Array(fresh.length);
    let n = 0;
    for (const i of fresh) if (!table.isZero(i)) stored[n++] = i;
    store.putPages(mem.bytes, stored.subarray(0, n), table.packed(stored.subarray(0, n)).h);
  }
  return map;
}

function applyMap(table: Uint8Array, map: PageMap, what: string, id: string): void {
  const pages = table.length >>> 4;
  const { i, h } = packPageMap(map);
  const dv = new DataView(i.buffer, i.byteOffset, i.length);
  for (let k = 0; k < i.length >>> 2; k++) {
    const page = dv.getUint32(4 * k, true);
    if (page >= pages)
      throw new RewindError('bad-state', `checkpoint ${id} names ${what} page ${page}, beyond the machine's ${pages}`);
    table.set(h.subarray(16 * k, 16 * k + 16), 16 * page);
  }
}

/** Writes into `mem` the pages whose digest differs from `target`'s, and its dirty ones; returns their indices. */
function rewritePages(store: PageStore, mem: PagedMemory, table: PageHashTable, target: Uint8Array): number[] {
  return table.rewriteTo(target, (pages) =>
    store.getInto(
      pages.map((i) => bytesToHash(target.subarray(i * 16, i * 16 + 16))),
      pages.map((i) => mem.bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)),
    ),
  );
}
