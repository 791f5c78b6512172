/**
 * A whole session as a link, with no server: what the machine was built
 * from, named by content hash (the site's own guests are found by it; a
 * user's own file is asked for and checked against it), and the input
 * events of the current branch's lineage up to the point shared. Opening the
 * link builds the same machine and replays the same events, so it reaches
 * the same state hash (the machine is a pure function of its image and its
 * input, docs/determinism.md).
 *
 * The link's fragment (`#share=…`) never reaches a server. It is msgpack,
 * deflated, in base64url; events are columns of deltas (position, virtual
 * time) and one string of payload bytes, so a few typed commands take a few
 * hundred characters.
 */
import { Inflate, deflateSync } from 'fflate';
import { Packr } from 'msgpackr';
import { RewindError } from '../../core/errors.js';
import { concatBytes, type InputEvent } from '../../storage/index.js';

/** The fragment key of a share link. */
export const SHARE_KEY = 'share';
const VERSION = 1;
/** Bytes of a SHA-256 digest a link keeps: 128 bits name a file well enough, and keep the link short. */
const HASH_BYTES = 16;
/** The longest fragment taken, and what it may inflate to (a link is not a place for megabytes). */
const MAX_FRAGMENT = 256 * 1024;
const MAX_INFLATED = 8 * 1024 * 1024;

/** The parts a machine is built from that a link names by hash. */
export type SharedPart = 'program' | 'initrd' | 'disk';

/** A session as a link carries it. */
export interface SharedSession {
  /** What `program` is: an ELF, a raw image, or a Linux kernel (booted with `initrd` and `append`). */
  kind: 'elf' | 'raw' | 'linux';
  ramSize: number;
  append?: string;
  /** The machine has a screen (virtio GPU, keyboard, tablet). */
  screen?: boolean;
  /** Hex digests (the first 128 bits of SHA-256) of the parts. */
  hashes: Partial<Record<SharedPart, string>> & { program: string };
  /** The file names the parts had, to ask for a user's own file by name. */
  names: Partial<Record<SharedPart, string>>;
  /** The input events before `position`, along the lineage shared, in order. */
  events: InputEvent[];
  /** The point shared. */
  position: number;
}

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' });

/** The hex digest a link names a file by. */
export async function partHash(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return toHex(digest.subarray(0, HASH_BYTES));
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));

/** A payload's bytes, or null when it is not bytes (a device's other values travel as they are). */
function payloadBytes(p: InputEvent['payload']): Uint8Array | null {
  if (p instanceof Uint8Array) return p;
  if (Array.isArray(p) && p.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) return Uint8Array.from(p);
  return null;
}

/** The fragment (without `#`) that carries `session`. */
export function encodeShare(session: SharedSession): string {
  const devices: string[] = [];
  const dp: number[] = [];
  const dt: number[] = [];
  const di: number[] = [];
  const pl: number[] = [];
  const other: Record<number, InputEvent['payload']> = {};
  const bytes: number[] = [];
  let position = 0;
  let time = 0;
  session.events.forEach((e, i) => {
    let d = devices.indexOf(e.device);
    if (d < 0) d = devices.push(e.device) - 1;
    dp.push(e.position - position);
    dt.push(e.time - time);
    position = e.position;
    time = e.time;
    di.push(d);
    const b = payloadBytes(e.payload);
    if (b) {
      pl.push(b.length);
      for (const x of b) bytes.push(x);
    } else {
      pl.push(-1);
      other[i] = e.payload;
    }
  });
  const hashes: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(session.hashes)) if (v) hashes[k] = fromHex(v);
  const body = {
    v: VERSION,
    k: session.kind,
    r: session.ramSize,
    ...(session.append !== undefined ? { a: session.append } : {}),
    ...(session.screen ? { s: 1 } : {}),
    h: hashes,
    n: session.names,
    at: session.position,
    e: { dev: devices, dp, dt, di, pl, pb: Uint8Array.from(bytes), px: other },
  };
  return `${SHARE_KEY}=${base64url(deflateSync(packr.pack(body), { level: 9 }))}`;
}

const bad = (why: string): never => {
  throw new RewindError('bad-argument', `this share link is damaged or not one of Rewind's: ${why}`);
};

/** The session a fragment (with or without `#`) carries; null when it is not a share link; a damaged one throws a RewindError. */
export function decodeShare(fragment: string): SharedSession | null {
  const prefix = `${SHARE_KEY}=`;
  const text = fragment.replace(/^#/, '');
  if (!text.startsWith(prefix)) return null;
  const data = text.slice(prefix.length);
  if (data.length > MAX_FRAGMENT) bad(`it is ${data.length} characters long`);
  if (!/^[A-Za-z0-9_-]*$/.test(data)) bad('it has characters base64url does not');
  let body: Record<string, unknown>;
  try {
    body = packr.unpack(inflateCapped(fromBase64url(data))) as Record<string, unknown>;
  } catch (e) {
    return bad(e instanceof Error ? e.message : String(e));
  }
  if (!body || typeof body !== 'object') return bad('no session in it');
  if (body['v'] !== VERSION) bad(`version ${String(body['v'])} (this site reads version ${VERSION})`);
  const kind = body['k'];
  if (kind !== 'elf' && kind !== 'raw' && kind !== 'linux') return bad(`unknown program kind ${String(kind)}`);
  const ramSize = whole(body['r'], 'RAM size');
  const position = whole(body['at'], 'position');
  const append = body['a'];
  if (append !== undefined && typeof append !== 'string') bad('the kernel command line is not text');
  const hashes: Partial<Record<SharedPart, string>> = {};
  const h = (body['h'] ?? {}) as Record<string, unknown>;
  for (const part of ['program', 'initrd', 'disk'] as const) {
    const v = h[part];
    if (v === undefined) continue;
    if (!(v instanceof Uint8Array) || v.length !== HASH_BYTES) bad(`the ${part}'s hash is not ${HASH_BYTES} bytes`);
    hashes[part] = toHex(v as Uint8Array);
  }
  if (!hashes.program) return bad('it names no program');
  const names: Partial<Record<SharedPart, string>> = {};
  for (const [k, v] of Object.entries((body['n'] ?? {}) as Record<string, unknown>))
    if ((k === 'program' || k === 'initrd' || k === 'disk') && typeof v === 'string') names[k] = v;
  return {
    kind,
    ramSize,
    ...(append !== undefined ? { append: append as string } : {}),
    ...(body['s'] === 1 ? { screen: true } : {}),
    hashes: hashes as SharedSession['hashes'],
    names,
    events: decodeEvents(body['e'], position),
    position,
  };
}

function whole(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return bad(`the ${what} is not a whole number`);
  return v;
}

function decodeEvents(raw: unknown, end: number): InputEvent[] {
  const e = (raw ?? {}) as Record<string, unknown>;
  const columns = ['dp', 'dt', 'di', 'pl'].map((k) => e[k]);
  const devices = e['dev'];
  const bytes = e['pb'];
  const other = (e['px'] ?? {}) as Record<string, InputEvent['payload']>;
  if (!columns.every(Array.isArray) || !Array.isArray(devices) || !(bytes instanceof Uint8Array))
    return bad('its events are not in columns');
  const [dp, dt, di, pl] = columns as number[][];
  const n = dp!.length;
  if (dt!.length !== n || di!.length !== n || pl!.length !== n) bad('its event columns differ in length');
  const events: InputEvent[] = [];
  let position = 0;
  let time = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    position += dp![i]!;
    time += dt![i]!;
    const device = devices[di![i]!];
    if (!Number.isSafeInteger(position) || position < 0 || position > end || (i > 0 && dp![i]! < 0))
      bad(`event ${i} is at position ${position}`);
    if (typeof device !== 'string') bad(`event ${i} names no device`);
    const length = pl![i]!;
    let payload: InputEvent['payload'];
    if (length === -1) {
      if (!(String(i) in other)) bad(`event ${i} has no payload`);
      payload = other[String(i)]!;
    } else {
      if (!Number.isInteger(length) || length < 0 || at + length > bytes.length) bad(`event ${i}'s payload is cut`);
      payload = bytes.slice(at, at + length);
      at += length;
    }
    events.push({ position, time, device: device as string, payload });
  }
  return events;
}

function inflateCapped(data: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflate = new Inflate((chunk) => {
    total += chunk.length;
    if (total > MAX_INFLATED) throw new Error(`it inflates past ${MAX_INFLATED} bytes`);
    chunks.push(chunk);
  });
  inflate.push(data, true);
  return concatBytes(chunks, total);
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
