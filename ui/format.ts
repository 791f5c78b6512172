/** Small formatting and parsing helpers shared by the views. */
import type { SymbolTable } from '../src/web/symbols.js';

/** 0x-prefixed, zero-padded hex of an unsigned 32-bit value. */
export const hex32 = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** Two hex digits. */
export const hex8 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');

/** A whole number with thin grouping: 12 345 678. (Not toLocaleString: it costs a formatter per call, and the views call this many times a second.) */
export const count = (n: number): string => String(Math.floor(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');

/** Privilege mode letter and name. */
export const PRIV_NAMES: Record<number, string> = { 0: 'U', 1: 'S', 3: 'M' };
export const privName = (p: number): string => PRIV_NAMES[p] ?? String(p);

/** A size in bytes as "1.5 GiB", "12.3 MiB", "40 KiB" or "512 B". */
export function byteSize(n: number): string {
  if (n >= 1 << 30) return `${Number((n / (1 << 30)).toFixed(1))} GiB`;
  if (n >= 1 << 20) return `${Number((n / (1 << 20)).toFixed(1))} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} B`;
}

/** Instructions per second as "123.4 MIPS" / "56.7 kIPS". */
export function rate(ips: number): string {
  if (ips >= 1e6) return `${(ips / 1e6).toFixed(1)} MIPS`;
  if (ips >= 1e3) return `${(ips / 1e3).toFixed(1)} kIPS`;
  return `${Math.round(ips)} IPS`;
}

/**
 * Parses an address typed by a user: hex with or without 0x (the default
 * for addresses), or decimal with a leading `#`. Returns null when invalid.
 */
export function parseAddress(text: string): number | null {
  const t = text.trim().replace(/_/g, '');
  if (/^#\d+$/.test(t)) return Number(t.slice(1)) >>> 0;
  const m = /^(?:0x)?([0-9a-f]{1,8})$/i.exec(t);
  return m ? parseInt(m[1]!, 16) >>> 0 : null;
}

/**
 * The address a user means: a symbol name, optionally with an offset
 * (`buf+16`, `main+0x1c`, `top-4`; the offset decimal unless 0x, as in gdb),
 * or an address as parseAddress reads it. A name wins over hex that spells
 * the same (`add`, `beef`). Null when it is neither.
 */
export function resolveAddress(text: string, symbols: SymbolTable): number | null {
  const t = text.trim();
  const m = /^(.+?)\s*([+-])\s*(0x[0-9a-f]+|\d+)$/i.exec(t);
  const base = m ? symbols.addressOf(m[1]!) : undefined;
  if (m && base !== undefined) {
    const n = Number(m[3]!);
    return (base + (m[2] === '+' ? n : -n)) >>> 0;
  }
  return symbols.addressOf(t) ?? parseAddress(t);
}

/** A whole-number position as typed: `12345`, `12 345`, `1_000`, `12k`, `1.5M` (k = 1000, M = 1 000 000). Null when invalid. */
export function parsePosition(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.replace(/[\s_,\u2009]/g, ''));
  if (!m) return null;
  const n = Number(m[1]) * { '': 1, k: 1e3, m: 1e6 }[m[2]!.toLowerCase() as '' | 'k' | 'm'];
  // 1.001k is 1001, not 1000.9999999999999.
  const whole = Math.round(n);
  return Math.abs(n - whole) < 1e-6 && Number.isSafeInteger(whole) ? whole : null;
}

/** Printable ASCII or a dot. */
export const ascii = (b: number): string => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');

/** Counts set bits of a page bitmap in [from, to). */
export function bitsIn(bitmap: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (bitmap[i >>> 3]! & (1 << (i & 7))) n++;
  return n;
}

/** What an error says, for a message to the user (anything thrown: an Error's message, else its text). */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
