/**
 * What every `.vmi` version shares: the limits a reader enforces, the types
 * of what a file holds, and the checks of the manifest sections whose form
 * did not change between versions (config, timeline, log, console).
 */
import { PAGE_SIZE } from '../core/memmap.js';
import { RewindError } from '../core/errors.js';
import { canonicalBytes } from './canonical.js';
import type { Checkpoint, PageMap } from './checkpoint.js';
import { unpack, unpackPlain } from './codec.js';
import { ENCODING_DEFLATE, decompressChunk } from './pagestore.js';
import type { Hash128 } from './hash.js';
import { ZERO_PAGE_HASH } from './statehash.js';
import { foldTimelineLog, type Branch, type InputEvent, type TimelineLogEntry, type TimelineTree } from './timeline.js';
import { bytes, fail as failWith, isObject, natural, str } from './wire.js';

/** The 8 magic bytes at the start of every `.vmi` file. */
export const VMI_MAGIC = 'REWINDVM';
/** The format version this code writes (and the newest it reads). */
export const VMI_VERSION = 3;
/** Header flag: the manifest (v1) or index (v2, v3) is raw-deflate compressed. */
export const VMI_FLAG_MANIFEST_DEFLATED = 1;

/** Limits a reader enforces before allocating or trusting anything. */
export const VMI_LIMITS = Object.freeze({
  maxRamBytes: 2 * 1024 * 1024 * 1024,
  // As large as a disk image file the CLI reads (src/node/files.ts): the machine holds the disk in memory.
  maxDiskBytes: 2 * 1024 * 1024 * 1024,
  maxManifestBytes: 256 * 1024 * 1024,
  maxKernelBytes: 256 * 1024 * 1024,
  maxChunks: 1 << 24,
  maxBranches: 1 << 16,
  maxCheckpoints: 1 << 20,
  maxEvents: 1 << 26,
  maxBookmarks: 1 << 16,
  maxLogEntries: 1 << 24,
  maxStateBytes: 16 * 1024 * 1024,
  maxPayloadBytes: 1 << 20,
  maxConsoleBytes: 16 * 1024 * 1024,
});

/** Machine configuration recorded in a `.vmi`. */
export interface VmiConfig {
  /** RAM size in bytes (multiple of 4096, at most 2 GiB). */
  ramSize: number;
  /** Disk size in bytes (multiple of 4096, at most 2 GiB), or null when the machine has no disk. */
  diskSize: number | null;
  /** Other machine options (plain msgpack-able data), for the machine to interpret. */
  machine: Record<string, unknown>;
}

/** Everything a `.vmi` holds. */
export interface Recording {
  config: VmiConfig;
  /** The boot image (ELF or raw) as loaded, or null. */
  kernel: Uint8Array | null;
  /** The disk image at reset, as pages (absent pages are zero); null without a disk (read back as an empty map when the machine has one). */
  disk: PageMap | null;
  timeline: TimelineTree;
  /** The timeline's patch log, when kept; folding it must give `timeline`. */
  timelineLog: TimelineLogEntry[] | null;
  checkpoints: Checkpoint[];
  /**
   * Page records by digest (a page store's encoding: byte 0 = 0 raw / 1
   * deflate, then data). Must hold every non-zero page the disk map and the
   * checkpoints name; others are not written.
   */
  pages: PageRecords;
  /** The console output known per branch (derived data: a replay writes the same), or null. */
  console?: ConsoleLog | null;
  /** When read from a version 2 or 3 file: what its chunks hold, from its index alone. */
  stored?: StoredChunks;
}

/** What a recording holds, from its header and index alone: what `rewind info` says of it. */
export interface VmiSummary {
  config: VmiConfig;
  timeline: TimelineTree;
  checkpoints: number;
  /** Distinct pages. */
  pages: number;
  /** Size of the boot image (0 without one). */
  kernelBytes: number;
}

/** What a file's chunks hold, as its index says. */
export interface StoredChunks {
  /** Distinct pages. */
  pages: number;
  /** Bytes of all chunks as stored (compressed). */
  bytes: number;
  /** Size of the boot image, or null. */
  kernelBytes: number | null;
}

/**
 * Page records by digest, looked up one at a time (a file's chunks are read
 * only when asked for). A record is a page store's encoding: byte 0 = 0 raw /
 * 1 deflate, then the data.
 */
export interface PageRecords {
  has(hash: Hash128): boolean;
  /** The record of a page; a file's reader checks it against its digest first. */
  get(hash: Hash128): Uint8Array | undefined;
  /** The page's bytes, checked against its digest (saves decoding twice when the source has to decode to check). */
  page?(hash: Hash128): Uint8Array | undefined;
  /**
   * {@link page} of each of `hashes` written into the `outs` at the same
   * index (4 KiB each: pages of RAM), with chunks that lie near each other
   * in a file read together. Returns the indices of the pages it does not
   * hold. A page that fails its check throws, and the outs then hold what
   * was decoded so far.
   */
  pagesInto?(hashes: readonly Hash128[], outs: readonly Uint8Array[]): number[];
}

/**
 * The console output of each branch, as far as it is known: the bytes, the
 * position that wrote each (ascending), and the stretches [from, to) whose
 * output is all there. Output is deterministic, so this only saves a replay.
 */
export type ConsoleLog = Record<string, { at: number[]; bytes: Uint8Array; known: [number, number][] }>;

/** Chunk kinds. */
export const CHUNK_PAGE = 0;
export const CHUNK_BLOB = 1;

/** Throws RewindError('bad-vmi', message). */
export function bad(message: string): never {
  throw new RewindError('bad-vmi', message);
}

export function consoleBytes(log: ConsoleLog): number {
  return Object.values(log).reduce((n, b) => n + b.bytes.length, 0);
}

/** On the wire, positions are deltas (small numbers that msgpack and deflate keep short) and stretches a flat list. */
export function consoleToWire(log: ConsoleLog): Record<string, { at: number[]; bytes: Uint8Array; known: number[] }> {
  const out: Record<string, { at: number[]; bytes: Uint8Array; known: number[] }> = {};
  for (const id of Object.keys(log).sort()) {
    const b = log[id]!;
    out[id] = { at: b.at.map((p, i) => (i === 0 ? p : p - b.at[i - 1]!)), bytes: b.bytes, known: b.known.flat() };
  }
  return out;
}

export function consoleFromWire(v: unknown, timeline: TimelineTree): ConsoleLog {
  const code = 'bad-vmi';
  if (!isObject(v)) bad('console log is not a map');
  const out: ConsoleLog = {};
  let total = 0;
  for (const [id, entry] of Object.entries(v)) {
    if (!Object.hasOwn(timeline.branches, id)) bad(`console log names branch ${id}, which does not exist`);
    if (!isObject(entry)) bad(`console log of branch ${id} is not a map`);
    const data = bytes(entry['bytes'], code, `console bytes of branch ${id}`, VMI_LIMITS.maxConsoleBytes - total);
    total += data.length;
    const deltas = entry['at'];
    const known = entry['known'];
    if (!Array.isArray(deltas) || deltas.length !== data.length)
      bad(`console log of branch ${id} has no position for every byte`);
    if (!Array.isArray(known) || known.length % 2 !== 0 || known.length > 2 * VMI_LIMITS.maxEvents)
      bad(`console log of branch ${id} has a bad list of stretches`);
    const at: number[] = [];
    let p = 0;
    for (let i = 0; i < deltas.length; i++) {
      p += natural(deltas[i], code, `console position of branch ${id}`);
      if (!Number.isSafeInteger(p)) bad(`console position of branch ${id} is out of range`);
      at.push(p);
    }
    const stretches: [number, number][] = [];
    for (let i = 0; i < known.length; i += 2) {
      const from = natural(known[i], code, `console stretch of branch ${id}`);
      const to = natural(known[i + 1], code, `console stretch of branch ${id}`);
      if (to <= from || (stretches.length > 0 && from <= stretches[stretches.length - 1]![1]))
        bad(`console stretches of branch ${id} are not sorted and apart`);
      stretches.push([from, to]);
    }
    out[id] = { at, bytes: data.slice(), known: stretches };
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export function readTimeline(v: unknown, cps: ReadonlyMap<string, Checkpoint>): TimelineTree {
  const L = VMI_LIMITS;
  const code = 'bad-vmi';
  if (!isObject(v)) bad('manifest has no timeline');
  const nextId = natural(v['nextId'], code, 'timeline nextId');
  const list = v['branches'];
  if (!Array.isArray(list)) bad('timeline has no branch list');
  if (list.length > L.maxBranches) bad(`${list.length} branches, over the ${L.maxBranches} limit`);
  const branches: Record<string, Branch> = Object.create(null) as Record<string, Branch>;
  let events = 0;
  for (let n = 0; n < list.length; n++) {
    const b = list[n];
    if (!isObject(b)) bad(`branch #${n} is not a map`);
    const id = str(b['id'], code, `branch #${n} id`, 64);
    if (!ID_RE.test(id) || id === '__proto__') bad(`branch id "${id}" is not a valid id`);
    if (branches[id]) bad(`branch ${id} appears twice`);
    const w = `branch ${id}`;
    const forkPosition = natural(b['forkPosition'], code, `${w} fork position`);
    const evs = b['events'];
    if (!Array.isArray(evs)) bad(`${w} has no event list`);
    events += evs.length;
    if (events > L.maxEvents) bad(`more than ${L.maxEvents} events`);
    const outEvents: InputEvent[] = [];
    let last = forkPosition;
    for (let i = 0; i < evs.length; i++) {
      const e = evs[i];
      if (!isObject(e)) bad(`${w} event ${i} is not a map`);
      const position = natural(e['position'], code, `${w} event ${i} position`);
      if (position < last) bad(`${w} event ${i} at ${position} is out of order`);
      last = position;
      const time = natural(e['time'], code, `${w} event ${i} time`);
      const device = str(e['device'], code, `${w} event ${i} device`, 64);
      outEvents.push({ position, time, device, payload: readPayload(e['payload'], `${w} event ${i}`) });
    }
    const cpl = b['checkpoints'];
    if (!Array.isArray(cpl)) bad(`${w} has no checkpoint list`);
    if (cpl.length > L.maxCheckpoints) bad(`${w} lists too many checkpoints`);
    const refs = cpl.map((c, i) => {
      if (!isObject(c)) bad(`${w} checkpoint ${i} is not a map`);
      const cid = str(c['id'], code, `${w} checkpoint ${i} id`, 128);
      const position = natural(c['position'], code, `${w} checkpoint ${i} position`);
      const cp = cps.get(cid) ?? bad(`${w} names checkpoint ${cid}, which does not exist`);
      if (cp.position !== position || cp.branch !== id)
        bad(`${w} names checkpoint ${cid} at ${position}, but it is at ${cp.position} on ${cp.branch}`);
      return { id: cid, position };
    });
    const bms = b['bookmarks'];
    if (!Array.isArray(bms)) bad(`${w} has no bookmark list`);
    if (bms.length > L.maxBookmarks) bad(`${w} has too many bookmarks`);
    const bookmarks = bms.map((m, i) => {
      if (!isObject(m)) bad(`${w} bookmark ${i} is not a map`);
      return {
        name: str(m['name'], code, `${w} bookmark ${i} name`),
        position: natural(m['position'], code, `${w} bookmark ${i} position`),
      };
    });
    branches[id] = {
      id,
      name: str(b['name'], code, `${w} name`),
      parent: b['parent'] === null ? null : str(b['parent'], code, `${w} parent`, 64),
      forkPosition,
      events: outEvents,
      checkpoints: refs,
      bookmarks,
      length: natural(b['length'], code, `${w} length`),
    };
  }
  const all = Object.values(branches);
  if (all.length > 0 && all.filter((b) => b.parent === null).length !== 1)
    bad('timeline must have exactly one root branch');
  for (const b of all) {
    let cur: Branch = b;
    for (let steps = 0; cur.parent !== null; steps++) {
      if (steps > all.length) bad(`branch parents form a cycle through ${b.id}`);
      const p: Branch =
        branches[cur.parent] ?? bad(`branch ${cur.id} names parent ${cur.parent}, which does not exist`);
      if (cur.forkPosition < p.forkPosition)
        bad(`branch ${cur.id} forks at ${cur.forkPosition}, before its parent ${p.id} begins`);
      cur = p;
    }
  }
  // A plain object again (Object.create(null) was only for building safely).
  const plain: Record<string, Branch> = {};
  for (const id of Object.keys(branches).sort()) plain[id] = branches[id]!;
  return { branches: plain, nextId };
}

export function readPayload(p: unknown, what: string): InputEvent['payload'] {
  const max = VMI_LIMITS.maxPayloadBytes;
  if (p instanceof Uint8Array) return bytes(p, 'bad-vmi', `${what} payload`, max).slice();
  if (typeof p === 'number') {
    if (!Number.isFinite(p)) bad(`${what} payload is not a finite number`);
    return p;
  }
  if (typeof p === 'string') return str(p, 'bad-vmi', `${what} payload`, max);
  if (Array.isArray(p)) {
    if (p.length > max) bad(`${what} payload is too long`);
    for (const x of p) if (typeof x !== 'number' || !Number.isFinite(x)) bad(`${what} payload holds a non-number`);
    return p as number[];
  }
  return failWith('bad-vmi', `${what} payload has an unsupported type`);
}

/** What {@link recordingFrom} gathers a recording from. */
export interface RecordingSources {
  config: VmiConfig;
  kernel: Uint8Array | null;
  disk: PageMap | null;
  timeline: TimelineTree;
  /** Include to keep the patch log in the file. */
  timelineLog?: readonly TimelineLogEntry[] | null;
  checkpoints: Iterable<Checkpoint>;
  /** Anything that yields page records by digest (a PageStore). */
  pages: { getRecord(hash: Hash128): Uint8Array | undefined };
}

/**
 * Gathers a {@link Recording} from live stores: the checkpoints (in the
 * given order) and the records of exactly the pages they and the disk image
 * name. Throws RewindError('not-found') when a page is missing.
 */
export function recordingFrom(src: RecordingSources): Recording {
  const checkpoints = [...src.checkpoints];
  const pages = new Map<Hash128, Uint8Array>();
  const take = (m: PageMap | null) => {
    if (!m) return;
    for (const h of m.values()) {
      if (h === ZERO_PAGE_HASH || pages.has(h)) continue;
      const r = src.pages.getRecord(h);
      if (!r) throw new RewindError('not-found', `page ${h} is not in the page store`);
      pages.set(h, r);
    }
  };
  take(src.disk);
  for (const cp of checkpoints) {
    take(cp.ram);
    take(cp.disk);
  }
  return {
    config: src.config,
    kernel: src.kernel,
    disk: src.disk,
    timeline: src.timeline,
    timelineLog: src.timelineLog ? src.timelineLog.slice() : null,
    checkpoints,
    pages,
  };
}

/** The config section, checked; with the page counts it implies. */
export function readConfig(manifest: Record<string, unknown>): {
  config: VmiConfig;
  ramPages: number;
  diskPages: number | null;
} {
  const L = VMI_LIMITS;
  const code = 'bad-vmi';
  const cfg = manifest['config'];
  if (!isObject(cfg)) bad('manifest has no config');
  const ramSize = natural(cfg['ramSize'], code, 'RAM size', L.maxRamBytes);
  if (ramSize === 0 || ramSize % PAGE_SIZE !== 0) bad(`RAM size ${ramSize} is not a positive multiple of ${PAGE_SIZE}`);
  const diskSize = cfg['diskSize'] === null ? null : natural(cfg['diskSize'], code, 'disk size', L.maxDiskBytes);
  if (diskSize !== null && diskSize % PAGE_SIZE !== 0) bad(`disk size ${diskSize} is not a multiple of ${PAGE_SIZE}`);
  const machine = cfg['machine'] ?? {};
  if (!isObject(machine)) bad('config.machine is not a map');
  return {
    config: { ramSize, diskSize, machine },
    ramPages: ramSize / PAGE_SIZE,
    diskPages: diskSize === null ? null : diskSize / PAGE_SIZE,
  };
}

/**
 * Checks what ties checkpoints together and what a restore reads without
 * looking: unique ids, parents that exist with consistent depths (which rules
 * out cycles and bounds restores), and a state with CPU, device and machine
 * parts. Returns them by id.
 */
export function checkCheckpoints(checkpoints: readonly Checkpoint[]): Map<string, Checkpoint> {
  const byId = new Map<string, Checkpoint>();
  for (const cp of checkpoints) {
    if (byId.has(cp.id)) bad(`checkpoint ${cp.id} appears twice`);
    byId.set(cp.id, cp);
  }
  for (const cp of checkpoints) {
    if (cp.parent !== null) {
      const parent = byId.get(cp.parent) ?? bad(`checkpoint ${cp.id} names parent ${cp.parent}, which does not exist`);
      if (!cp.full && cp.depth !== parent.depth + 1)
        bad(`checkpoint ${cp.id} has depth ${cp.depth} but its parent has ${parent.depth}`);
    }
    let st: unknown;
    try {
      st = unpack(cp.state);
    } catch {
      bad(`checkpoint ${cp.id}: state does not decode`);
    }
    if (!isObject(st)) bad(`checkpoint ${cp.id}: state is not a map`);
    // The machine reads these without looking (core/machine.ts loadState); field by field, it checks.
    for (const part of ['cpu', 'devices', 'machine']) {
      if (!isObject(st[part]))
        bad(`checkpoint ${cp.id} at position ${cp.position} has no ${part === 'cpu' ? 'CPU' : part} state`);
    }
  }
  return byId;
}

/** The timeline, its optional log (which must fold to it) and the optional console section, checked. */
export function readHistory(
  manifest: Record<string, unknown>,
  checkpoints: readonly Checkpoint[],
  byId: ReadonlyMap<string, Checkpoint>,
): { timeline: TimelineTree; timelineLog: TimelineLogEntry[] | null; console: ConsoleLog | null } {
  const L = VMI_LIMITS;
  const timeline = readTimeline(manifest['timeline'], byId);
  for (const cp of checkpoints) {
    if (!Object.hasOwn(timeline.branches, cp.branch))
      bad(`checkpoint ${cp.id} is on branch ${cp.branch}, which does not exist`);
  }
  let timelineLog: TimelineLogEntry[] | null = null;
  const log = manifest['log'];
  if (log !== null && log !== undefined) {
    if (!Array.isArray(log)) bad('timeline log is not a list');
    if (log.length > L.maxLogEntries) bad(`timeline log has ${log.length} entries, over the limit`);
    for (let i = 0; i < log.length; i++)
      if (!Array.isArray(log[i])) bad(`timeline log entry ${i} is not a list of patches`);
    timelineLog = log as TimelineLogEntry[];
    let folded: TimelineTree;
    try {
      folded = foldTimelineLog(timelineLog);
    } catch (e) {
      bad(`timeline log does not apply (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!sameBytes(canonicalBytes(folded), canonicalBytes(timeline)))
      bad('timeline log does not fold to the recorded branches');
  }
  const c = manifest['console'];
  return { timeline, timelineLog, console: c === undefined || c === null ? null : consoleFromWire(c, timeline) };
}

/** Every non-zero page digest the disk image and the checkpoints name, once each. */
export function pagesNamed(disk: PageMap | null, checkpoints: Iterable<Checkpoint>): Set<Hash128> {
  const needed = new Set<Hash128>();
  eachPageMap(disk, checkpoints, (m) => {
    for (const h of m.values()) if (h !== ZERO_PAGE_HASH) needed.add(h);
  });
  return needed;
}

/** Calls `visit` with the disk image's page map and each checkpoint's (RAM, then disk), where there is one. */
export function eachPageMap(
  disk: PageMap | null,
  checkpoints: Iterable<Checkpoint>,
  visit: (map: PageMap) => void,
): void {
  if (disk) visit(disk);
  for (const cp of checkpoints) {
    visit(cp.ram);
    if (cp.disk) visit(cp.disk);
  }
}

/**
 * The manifest (v1) or index (v2, v3) from its stored bytes: inflated when the
 * header's flag says so (to exactly `raw` bytes), decoded, and a map.
 */
export function readManifest(stored: Uint8Array, flags: number, raw: number, what: string): Record<string, unknown> {
  // Stored raw (a large index), it is used where it lies: no copy of many megabytes.
  if (!(flags & VMI_FLAG_MANIFEST_DEFLATED) && stored.length !== raw)
    bad(`${what} is ${stored.length} bytes instead of ${raw}`);
  const plain =
    flags & VMI_FLAG_MANIFEST_DEFLATED ? decompressChunk(ENCODING_DEFLATE, stored, raw, 'bad-vmi', what) : stored;
  let manifest: unknown;
  try {
    manifest = unpackPlain(plain);
  } catch (e) {
    bad(`${what} is not valid msgpack (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(manifest)) bad(`${what} is not a map`);
  return manifest;
}
