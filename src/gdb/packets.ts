/**
 * Framing of the GDB remote serial protocol: `$data#cc` packets with a
 * modulo-256 checksum, `+`/`-` acknowledgements, and the out-of-band
 * interrupt byte 0x03 (GDB manual, "Overview" and "Interrupts" of the
 * remote protocol appendix).
 *
 * The reader is a byte-at-a-time state machine, so a packet split across
 * TCP segments, several packets in one segment, garbage between packets and
 * a client that disappears mid-packet are all just states. It never holds
 * more than `maxPacket` bytes of one packet: a longer one is dropped and
 * reported, not buffered.
 */

/** Largest packet we accept (and announce in qSupported as PacketSize). */
export const MAX_PACKET = 0x4000;

/** What the reader found in the byte stream. */
export type Incoming =
  /** A well-formed packet (its data, binary escapes still in place). */
  | { kind: 'packet'; data: string }
  /** A packet whose checksum did not match. */
  | { kind: 'bad-checksum' }
  /** A packet longer than the limit (its bytes were dropped). */
  | { kind: 'oversized' }
  /** The client asked to interrupt the running target (0x03). */
  | { kind: 'interrupt' }
  /** The client acknowledged our last packet. */
  | { kind: 'ack' }
  /** The client asked for our last packet again. */
  | { kind: 'nack' };

const State = { Idle: 0, Data: 1, Check1: 2, Check2: 3 } as const;

const HEX = '0123456789abcdef';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

export class PacketReader {
  private state: number = State.Idle;
  private data: number[] = [];
  private sum = 0;
  private check = 0;
  private overflow = false;

  constructor(private readonly maxPacket = MAX_PACKET) {}

  /** Whether the reader is inside a packet (a disconnect now is a disconnect mid-packet). */
  get inPacket(): boolean {
    return this.state !== State.Idle;
  }

  /** Forgets any partial packet (the connection was closed). */
  reset(): void {
    this.state = State.Idle;
    this.data = [];
    this.sum = 0;
    this.overflow = false;
  }

  /** Feeds received bytes; returns what they completed, in order. */
  feed(bytes: Uint8Array): Incoming[] {
    const out: Incoming[] = [];
    for (const b of bytes) {
      switch (this.state) {
        case State.Idle:
          if (b === 0x24) this.begin();
          else if (b === 0x03) out.push({ kind: 'interrupt' });
          else if (b === 0x2b) out.push({ kind: 'ack' });
          else if (b === 0x2d) out.push({ kind: 'nack' });
          // Anything else between packets is line noise: ignored.
          break;
        case State.Data:
          if (b === 0x23) this.state = State.Check1;
          else if (b === 0x24)
            this.begin(); // A new packet starts: the broken one is abandoned.
          else {
            this.sum = (this.sum + b) & 0xff;
            if (this.data.length < this.maxPacket) this.data.push(b);
            else this.overflow = true;
          }
          break;
        case State.Check1: {
          const v = hexValue(b);
          this.check = v < 0 ? -256 : v << 4;
          this.state = State.Check2;
          break;
        }
        case State.Check2: {
          const v = hexValue(b);
          const check = v < 0 ? -1 : this.check | v;
          if (this.overflow) out.push({ kind: 'oversized' });
          else if (check !== this.sum) out.push({ kind: 'bad-checksum' });
          else out.push({ kind: 'packet', data: latin1(this.data) });
          this.reset();
          break;
        }
      }
    }
    return out;
  }

  private begin(): void {
    this.state = State.Data;
    this.data = [];
    this.sum = 0;
    this.overflow = false;
  }
}

function latin1(bytes: readonly number[]): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.slice(i, i + 8192));
  return s;
}

/** Frames a reply: `$` data `#` checksum, with `$ # } *` escaped (the data is latin1: one char per byte). */
export function framePacket(data: string): Buffer {
  let body = '';
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x23 || c === 0x24 || c === 0x7d || c === 0x2a) body += '}' + String.fromCharCode(c ^ 0x20);
    else body += data[i];
  }
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body.charCodeAt(i)) & 0xff;
  return Buffer.from(`$${body}#${HEX[sum >> 4]}${HEX[sum & 15]}`, 'latin1');
}

/** Undoes the binary escape (`}` then the byte xor 0x20) of X packets; the result is bytes. */
export function unescapeBinary(data: string): Uint8Array | null {
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x7d) {
      if (i + 1 >= data.length) return null;
      out.push(data.charCodeAt(++i) ^ 0x20);
    } else {
      out.push(c & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Iterable<number>): string {
  let s = '';
  for (const b of bytes) s += HEX[(b >> 4) & 15]! + HEX[b & 15]!;
  return s;
}

/** Hex text as bytes, or null when it is not an even number of hex digits. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexValue(text.charCodeAt(2 * i));
    const lo = hexValue(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** A 32-bit value as 8 hex digits in target (little-endian) byte order. */
export function word32(value: number): string {
  const v = value >>> 0;
  return toHex([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
}

/** Parses a little-endian 32-bit register value from 8 hex digits, or null. */
export function parseWord32(text: string): number | null {
  const b = fromHex(text);
  if (!b || b.length !== 4) return null;
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** A big-endian hex number as the protocol writes addresses and lengths (at most 8 digits), or null. */
export function parseHexNumber(text: string, maxDigits = 8): number | null {
  if (text.length === 0 || text.length > 64 || !/^[0-9a-fA-F]+$/.test(text)) return null;
  const digits = text.replace(/^0+(?=.)/, '');
  if (digits.length > maxDigits) return null;
  return parseInt(digits, 16);
}
