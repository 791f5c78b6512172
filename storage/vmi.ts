/**
 * The `.vmi` file: one machine (config, base images, branches, events,
 * checkpoints, pages) in one self-checking file. Byte-level specification:
 * docs/vmi.md. Layout (v1):
 *
 *   header (28 bytes) | manifest (msgpack, maybe deflated) | chunks | hash (16 bytes)
 *
 * {@link readVmi} validates everything before returning and turns every
 * problem into RewindError('bad-vmi', one line); {@link writeVmi} is
 * deterministic (same recording, same bytes).
 */
import { deflateSync } from 'fflate';
import { PAGE_SIZE } from '../core/memmap.js';
import { RewindError } from '../core/errors.js';
import { canonicalBytes } from './canonical.js';
import type { Checkpoint, PageMap } from './checkpoint.js';
import { packPlain, unpack, unpackPlain } from './codec.js';
import { bytesToHash, hash128, hashToBytes, type Hash128 } from './hash.js';
import { ENCODING_DEFLATE, ENCODING_RAW, compressChunk, decompressChunk } from './pagestore.js';
import { ZERO_PAGE_HASH, hashPage } from './statehash.js';
import { foldTimelineLog, type Branch, type InputEvent, type TimelineLogEntry, type TimelineTree } from './timeline.js';
import {
  bytes,
  checkpointFromWire,
  checkpointToWire,
  fail as failWith,
  isObject,
  natural,
  pageMapFromWire,
  pageMapToWire,
  str,
} from './wire.js';

/** The 8 magic bytes at the start of every `.vmi` file. */
export const VMI_MAGIC = 'REWINDVM';
/** The format version this code writes (and the newest it reads). */
export const VMI_VERSION = 1;
/** Header size of format version 1. */
export const VMI_HEADER_SIZE = 28;
/** Size of the integrity hash at the end. */
export const VMI_TRAILER_SIZE = 16;
/** Header flag: the manifest is raw-deflate compressed. */
export const VMI_FLAG_MANIFEST_DEFLATED = 1;

/** Limits a reader enforces before allocating or trusting anything. */
export const VMI_LIMITS = Object.freeze({
  maxRamBytes: 2 * 1024 * 1024 * 1024,
  // As large as a disk image file the CLI reads (src/node/files.ts): the machine holds the disk in memory.
  maxDiskBytes: 2 * 1024 * 1024 * 1024,
  maxManifestBytes: 256 * 1024 * 1024,
  maxKernelBytes: 256 * 1024 * 1024,
  maxChunks: 1 << 21,
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
  pages: ReadonlyMap<Hash128, Uint8Array>;
  /** The console output known per branch (derived data: a replay writes the same), or null. */
  console?: ConsoleLog | null;
}

/**
 * The console output of each branch, as far as it is known: the bytes, the
 * position that wrote each (ascending), and the stretches [from, to) whose
 * output is all there. Output is deterministic, so this only saves a replay.
 */
export type ConsoleLog = Record<string, { at: number[]; bytes: Uint8Array; known: [number, number][] }>;

const CHUNK_PAGE = 0;
const CHUNK_BLOB = 1;
const encoder = new TextEncoder();

function bad(message: string): never {
  throw new RewindError('bad-vmi', message);
}

/** Serialises a recording into `.vmi` bytes (deterministic). Throws RewindError('bad-argument') when a named page is missing. */
export function writeVmi(rec: Recording): Uint8Array {
  const { config } = rec;
  // Pages named anywhere, deduplicated, in digest order.
  const needed = new Set<Hash128>();
  const need = (m: PageMap | null) => {
    if (m) for (const h of m.values()) if (h !== ZERO_PAGE_HASH) needed.add(h);
  };
  need(rec.disk);
  for (const cp of rec.checkpoints) {
    need(cp.ram);
    need(cp.disk);
  }
  const chunkRows: Array<[Uint8Array, number, number, number, number]> = [];
  const datas: Uint8Array[] = [];
  let kernelId: Hash128 | null = null;
  if (rec.kernel) {
    kernelId = hash128(rec.kernel);
    const [enc, data] = compressChunk(rec.kernel);
    chunkRows.push([hashToBytes(kernelId), CHUNK_BLOB, enc, data.length, rec.kernel.length]);
    datas.push(data);
  }
  for (const h of [...needed].sort()) {
    const r = rec.pages.get(h);
    if (!r || r.length < 1) throw new RewindError('bad-argument', `cannot export: page ${h} is not in the page store`);
    chunkRows.push([hashToBytes(h), CHUNK_PAGE, r[0]!, r.length - 1, PAGE_SIZE]);
    datas.push(r.subarray(1));
  }
  const branches = Object.values(rec.timeline.branches).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const manifest = {
    config: { ramSize: config.ramSize, diskSize: config.diskSize, machine: config.machine },
    kernel: kernelId,
    disk: rec.disk ? pageMapToWire(rec.disk) : null,
    timeline: { nextId: rec.timeline.nextId, branches },
    // Position order (then id), so that the same recording always gives the same bytes.
    checkpoints: [...rec.checkpoints]
      .sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(checkpointToWire),
    log: rec.timelineLog,
    chunks: chunkRows,
    // Derived data, kept when it fits the limit a reader enforces.
    ...(rec.console && consoleBytes(rec.console) <= VMI_LIMITS.maxConsoleBytes
      ? { console: consoleToWire(rec.console) }
      : {}),
  };
  const raw = packPlain(manifest);
  if (raw.length > VMI_LIMITS.maxManifestBytes)
    throw new RewindError('bad-argument', `cannot export: manifest of ${raw.length} bytes is over the limit`);
  const z = deflateSync(raw, { level: 6 });
  const deflated = z.length < raw.length;
  const m = deflated ? z : raw;
  let dataLen = 0;
  for (const d of datas) dataLen += d.length;
  const total = VMI_HEADER_SIZE + m.length + dataLen + VMI_TRAILER_SIZE;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(encoder.encode(VMI_MAGIC), 0);
  dv.setUint16(8, VMI_VERSION, true);
  dv.setUint16(10, deflated ? VMI_FLAG_MANIFEST_DEFLATED : 0, true);
  dv.setUint32(12, total % 2 ** 32, true);
  dv.setUint32(16, Math.floor(total / 2 ** 32), true);
  dv.setUint32(20, m.length, true);
  dv.setUint32(24, raw.length, true);
  out.set(m, VMI_HEADER_SIZE);
  let p = VMI_HEADER_SIZE + m.length;
  for (const d of datas) {
    out.set(d, p);
    p += d.length;
  }
  out.set(hashToBytes(hash128(out.subarray(0, p))), p);
  return out;
}

/** The header fields common to every version. */
interface Header {
  version: number;
  flags: number;
}

type VersionReader = (bytes: Uint8Array, header: Header) => Recording;

/** Readers by format version: a new version adds a row, old rows stay. */
const READERS: Record<number, VersionReader> = { 1: readV1 };

/**
 * Parses and validates `.vmi` bytes. Every problem (wrong magic, newer
 * version, corrupt or truncated file, absurd sizes, decompression bombs,
 * dangling references) throws RewindError('bad-vmi', one line).
 */
export function readVmi(data: Uint8Array): Recording {
  try {
    if (!(data instanceof Uint8Array)) bad('not a byte array');
    if (data.length < 12) bad(`file is ${data.length} bytes, too short to be a VM image`);
    for (let i = 0; i < 8; i++) {
      if (data[i] !== VMI_MAGIC.charCodeAt(i)) bad('not a Rewind VM image (bad magic bytes)');
    }
    const dv = new DataView(data.buffer, data.byteOffset, data.length);
    const version = dv.getUint16(8, true);
    const flags = dv.getUint16(10, true);
    const reader = Object.hasOwn(READERS, version) ? READERS[version] : undefined;
    if (!reader) {
      if (version > VMI_VERSION)
        bad(`format version ${version} is newer than this Rewind reads (up to ${VMI_VERSION}); update Rewind`);
      bad(`unknown format version ${version}`);
    }
    return reader(data, { version, flags });
  } catch (e) {
    if (e instanceof RewindError && e.code === 'bad-vmi') throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new RewindError('bad-vmi', `unreadable VM image (${msg.split('\n')[0]})`);
  }
}

function readV1(data: Uint8Array, header: Header): Recording {
  const L = VMI_LIMITS;
  if (header.flags & ~VMI_FLAG_MANIFEST_DEFLATED) bad(`unknown header flags 0x${header.flags.toString(16)}`);
  if (data.length < VMI_HEADER_SIZE + VMI_TRAILER_SIZE)
    bad(`file is truncated: ${data.length} bytes, shorter than header and hash`);
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const declared = dv.getUint32(12, true) + dv.getUint32(16, true) * 2 ** 32;
  if (data.length < declared) bad(`file is truncated: ${data.length} of ${declared} bytes`);
  if (data.length > declared) bad(`file has ${data.length - declared} unexpected bytes after its end`);
  const mStored = dv.getUint32(20, true);
  const mRaw = dv.getUint32(24, true);
  if (mStored > data.length - VMI_HEADER_SIZE - VMI_TRAILER_SIZE)
    bad(`manifest claims ${mStored} bytes, more than the file holds`);
  if (mRaw > L.maxManifestBytes) bad(`manifest claims ${mRaw} bytes, over the ${L.maxManifestBytes} limit`);
  const body = data.subarray(0, data.length - VMI_TRAILER_SIZE);
  if (bytesToHash(data.subarray(body.length)) !== hash128(body)) bad('integrity hash mismatch: the file is corrupt');

  const mBytes = data.subarray(VMI_HEADER_SIZE, VMI_HEADER_SIZE + mStored);
  const manifestBytes =
    header.flags & VMI_FLAG_MANIFEST_DEFLATED
      ? decompressChunk(ENCODING_DEFLATE, mBytes, mRaw, 'bad-vmi', 'manifest')
      : decompressChunk(ENCODING_RAW, mBytes, mRaw, 'bad-vmi', 'manifest');
  let manifest: unknown;
  try {
    manifest = unpackPlain(manifestBytes);
  } catch (e) {
    bad(`manifest is not valid msgpack (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(manifest)) bad('manifest is not a map');
  const code = 'bad-vmi';

  // Config.
  const cfg = manifest['config'];
  if (!isObject(cfg)) bad('manifest has no config');
  const ramSize = natural(cfg['ramSize'], code, 'RAM size', L.maxRamBytes);
  if (ramSize === 0 || ramSize % PAGE_SIZE !== 0) bad(`RAM size ${ramSize} is not a positive multiple of ${PAGE_SIZE}`);
  const diskSize = cfg['diskSize'] === null ? null : natural(cfg['diskSize'], code, 'disk size', L.maxDiskBytes);
  if (diskSize !== null && diskSize % PAGE_SIZE !== 0) bad(`disk size ${diskSize} is not a multiple of ${PAGE_SIZE}`);
  const machine = cfg['machine'] ?? {};
  if (!isObject(machine)) bad('config.machine is not a map');
  const ramPages = ramSize / PAGE_SIZE;
  const diskPages = diskSize === null ? null : diskSize / PAGE_SIZE;

  // Chunks: contiguous after the manifest, filling the data section exactly.
  const rows = manifest['chunks'];
  if (!Array.isArray(rows)) bad('manifest has no chunk table');
  if (rows.length > L.maxChunks) bad(`chunk table lists ${rows.length} chunks, over the ${L.maxChunks} limit`);
  const dataStart = VMI_HEADER_SIZE + mStored;
  const dataLen = body.length - dataStart;
  let offset = 0;
  const pages = new Map<Hash128, Uint8Array>();
  const blobs = new Map<Hash128, Uint8Array>();
  for (let n = 0; n < rows.length; n++) {
    const row = rows[n];
    if (!Array.isArray(row) || row.length !== 5) bad(`chunk ${n} is not a 5-item row`);
    const id = bytesToHash(bytes(row[0], code, `chunk ${n} id`, 16));
    if ((row[0] as Uint8Array).length !== 16) bad(`chunk ${n} id is not 16 bytes`);
    const kind = row[1];
    const enc = row[2];
    if (kind !== CHUNK_PAGE && kind !== CHUNK_BLOB) bad(`chunk ${id} has unknown kind ${String(kind)}`);
    if (enc !== ENCODING_RAW && enc !== ENCODING_DEFLATE) bad(`chunk ${id} has unknown encoding ${String(enc)}`);
    const stored = natural(row[3], code, `chunk ${id} stored size`, dataLen - offset);
    const rawSize = natural(
      row[4],
      code,
      `chunk ${id} size`,
      kind === CHUNK_PAGE ? PAGE_SIZE : Math.min(L.maxKernelBytes, ramSize),
    );
    if (kind === CHUNK_PAGE && rawSize !== PAGE_SIZE) bad(`page ${id} claims ${rawSize} bytes instead of ${PAGE_SIZE}`);
    if ((kind === CHUNK_PAGE ? pages : blobs).has(id)) bad(`chunk ${id} appears twice`);
    const slice = data.subarray(dataStart + offset, dataStart + offset + stored);
    offset += stored;
    const what = kind === CHUNK_PAGE ? `page ${id}` : `image ${id}`;
    const content = decompressChunk(enc, slice, rawSize, code, what);
    if ((kind === CHUNK_PAGE ? hashPage(content) : hash128(content)) !== id)
      bad(`${what}: content does not match its hash`);
    if (kind === CHUNK_PAGE) {
      const r = new Uint8Array(1 + slice.length);
      r[0] = enc;
      r.set(slice, 1);
      pages.set(id, r);
    } else blobs.set(id, content);
  }
  if (offset !== dataLen) bad(`chunks cover ${offset} bytes but the data section holds ${dataLen}`);
  const pageKnown = (h: Hash128) => h === ZERO_PAGE_HASH || pages.has(h);

  // Kernel and base disk.
  let kernel: Uint8Array | null = null;
  if (manifest['kernel'] !== null && manifest['kernel'] !== undefined) {
    const k = str(manifest['kernel'], code, 'kernel id', 32);
    kernel = blobs.get(k) ?? bad(`kernel image ${k} is not among the chunks`);
  }
  let disk: PageMap | null = null;
  if (diskPages === null) {
    if (manifest['disk'] !== null && manifest['disk'] !== undefined)
      bad('disk image given but the machine has no disk');
  } else {
    // A machine with a disk but no disk image starts from a zero disk.
    disk =
      manifest['disk'] === null || manifest['disk'] === undefined
        ? new Map()
        : pageMapFromWire(manifest['disk'], diskPages, code, 'disk image');
    for (const h of disk.values()) if (!pageKnown(h)) bad(`disk image names page ${h}, which is not in the file`);
  }

  // Checkpoints.
  const cpRows = manifest['checkpoints'];
  if (!Array.isArray(cpRows)) bad('manifest has no checkpoint list');
  if (cpRows.length > L.maxCheckpoints) bad(`${cpRows.length} checkpoints, over the ${L.maxCheckpoints} limit`);
  const checkpoints: Checkpoint[] = [];
  const cpById = new Map<string, Checkpoint>();
  for (let n = 0; n < cpRows.length; n++) {
    const cp = checkpointFromWire(
      cpRows[n],
      ramPages,
      diskPages,
      { code, maxStateBytes: L.maxStateBytes },
      `checkpoint #${n}`,
    );
    if (cpById.has(cp.id)) bad(`checkpoint ${cp.id} appears twice`);
    cp.state = cp.state.slice();
    cpById.set(cp.id, cp);
    checkpoints.push(cp);
  }
  for (const cp of checkpoints) {
    if (cp.parent !== null) {
      const parent =
        cpById.get(cp.parent) ?? bad(`checkpoint ${cp.id} names parent ${cp.parent}, which does not exist`);
      // Depth strictly decreasing along delta chains rules out cycles and bounds restores.
      if (!cp.full && cp.depth !== parent.depth + 1)
        bad(`checkpoint ${cp.id} has depth ${cp.depth} but its parent has ${parent.depth}`);
    }
    for (const h of cp.ram.values())
      if (!pageKnown(h)) bad(`checkpoint ${cp.id} names RAM page ${h}, which is not in the file`);
    if (cp.disk)
      for (const h of cp.disk.values())
        if (!pageKnown(h)) bad(`checkpoint ${cp.id} names disk page ${h}, which is not in the file`);
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

  // Timeline.
  const timeline = readTimeline(manifest['timeline'], cpById);
  for (const cp of checkpoints) {
    if (!Object.hasOwn(timeline.branches, cp.branch))
      bad(`checkpoint ${cp.id} is on branch ${cp.branch}, which does not exist`);
  }

  // Optional log: must fold to the same tree.
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

  const consoleLog =
    manifest['console'] === undefined || manifest['console'] === null
      ? null
      : consoleFromWire(manifest['console'], timeline);
  return {
    config: { ramSize, diskSize, machine },
    kernel,
    disk,
    timeline,
    timelineLog,
    checkpoints,
    pages,
    console: consoleLog,
  };
}

function consoleBytes(log: ConsoleLog): number {
  return Object.values(log).reduce((n, b) => n + b.bytes.length, 0);
}

/** On the wire, positions are deltas (small numbers that msgpack and deflate keep short) and stretches a flat list. */
function consoleToWire(log: ConsoleLog): Record<string, { at: number[]; bytes: Uint8Array; known: number[] }> {
  const out: Record<string, { at: number[]; bytes: Uint8Array; known: number[] }> = {};
  for (const id of Object.keys(log).sort()) {
    const b = log[id]!;
    out[id] = { at: b.at.map((p, i) => (i === 0 ? p : p - b.at[i - 1]!)), bytes: b.bytes, known: b.known.flat() };
  }
  return out;
}

function consoleFromWire(v: unknown, timeline: TimelineTree): ConsoleLog {
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

function readTimeline(v: unknown, cps: ReadonlyMap<string, Checkpoint>): TimelineTree {
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

function readPayload(p: unknown, what: string): InputEvent['payload'] {
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
