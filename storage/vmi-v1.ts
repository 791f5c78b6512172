/**
 * Reading format version 1 (read only: Rewind writes version 3). Layout:
 *
 *   header (28 bytes) | manifest (msgpack, maybe deflated) | chunks | hash (16 bytes)
 *
 * The whole file is read and checked at once; the trailing hash covers it all.
 */
import { PAGE_SIZE } from '../core/memmap.js';
import type { ByteSource } from './bytes.js';
import type { Checkpoint, PageMap } from './checkpoint.js';
import { bytesToHash, hash128, type Hash128 } from './hash.js';
import { ENCODING_DEFLATE, ENCODING_RAW, decompressChunk } from './pagestore.js';
import { ZERO_PAGE_HASH, hashPage } from './statehash.js';
import {
  CHUNK_BLOB,
  CHUNK_PAGE,
  VMI_FLAG_MANIFEST_DEFLATED,
  VMI_LIMITS,
  bad,
  checkCheckpoints,
  readConfig,
  readHistory,
  readManifest,
  type Recording,
} from './vmi-common.js';
import { bytes, checkpointFromWire, natural, pageMapFromWire, str } from './wire.js';

const HEADER_SIZE = 28;
const TRAILER_SIZE = 16;

export function readV1(source: ByteSource, flags: number): Recording {
  const L = VMI_LIMITS;
  if (flags & ~VMI_FLAG_MANIFEST_DEFLATED) bad(`unknown header flags 0x${flags.toString(16)}`);
  if (source.size < HEADER_SIZE + TRAILER_SIZE)
    bad(`file is truncated: ${source.size} bytes, shorter than header and hash`);
  if (source.size > L.maxManifestBytes + 2 * L.maxRamBytes)
    bad(`a version 1 file of ${source.size} bytes is too large to read whole; later versions have no such limit`);
  const data = source.read(0, source.size);
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const declared = dv.getUint32(12, true) + dv.getUint32(16, true) * 2 ** 32;
  if (data.length < declared) bad(`file is truncated: ${data.length} of ${declared} bytes`);
  if (data.length > declared) bad(`file has ${data.length - declared} unexpected bytes after its end`);
  const mStored = dv.getUint32(20, true);
  const mRaw = dv.getUint32(24, true);
  if (mStored > data.length - HEADER_SIZE - TRAILER_SIZE)
    bad(`manifest claims ${mStored} bytes, more than the file holds`);
  if (mRaw > L.maxManifestBytes) bad(`manifest claims ${mRaw} bytes, over the ${L.maxManifestBytes} limit`);
  const body = data.subarray(0, data.length - TRAILER_SIZE);
  if (bytesToHash(data.subarray(body.length)) !== hash128(body)) bad('integrity hash mismatch: the file is corrupt');

  const manifest = readManifest(data.subarray(HEADER_SIZE, HEADER_SIZE + mStored), flags, mRaw, 'manifest');
  const code = 'bad-vmi';
  const { config, ramPages, diskPages } = readConfig(manifest);

  // Chunks: contiguous after the manifest, filling the data section exactly.
  const rows = manifest['chunks'];
  if (!Array.isArray(rows)) bad('manifest has no chunk table');
  if (rows.length > L.maxChunks) bad(`chunk table lists ${rows.length} chunks, over the ${L.maxChunks} limit`);
  const dataStart = HEADER_SIZE + mStored;
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
      kind === CHUNK_PAGE ? PAGE_SIZE : Math.min(L.maxKernelBytes, config.ramSize),
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

  const cpRows = manifest['checkpoints'];
  if (!Array.isArray(cpRows)) bad('manifest has no checkpoint list');
  if (cpRows.length > L.maxCheckpoints) bad(`${cpRows.length} checkpoints, over the ${L.maxCheckpoints} limit`);
  const checkpoints: Checkpoint[] = cpRows.map((row, n) => {
    const cp = checkpointFromWire(
      row,
      ramPages,
      diskPages,
      { code, maxStateBytes: L.maxStateBytes },
      `checkpoint #${n}`,
    );
    cp.state = cp.state.slice();
    return cp;
  });
  const byId = checkCheckpoints(checkpoints);
  for (const cp of checkpoints) {
    for (const h of cp.ram.values())
      if (!pageKnown(h)) bad(`checkpoint ${cp.id} names RAM page ${h}, which is not in the file`);
    if (cp.disk)
      for (const h of cp.disk.values())
        if (!pageKnown(h)) bad(`checkpoint ${cp.id} names disk page ${h}, which is not in the file`);
  }
  return { config, kernel, disk, checkpoints, pages, ...readHistory(manifest, checkpoints, byId) };
}
