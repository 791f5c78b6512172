/** Small formatting helpers shared by the views. */

/** 0x-prefixed, zero-padded hex of an unsigned 32-bit value. */
export const hex32 = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** Two hex digits. */
export const hex8 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');

/** A whole number with thin grouping: 12 345 678. */
export const count = (n: number): string => Math.floor(n).toLocaleString('en-US').replace(/,/g, '\u2009');

/** Privilege mode letter and name. */
export const PRIV_NAMES: Record<number, string> = { 0: 'U', 1: 'S', 3: 'M' };
export const privName = (p: number): string => PRIV_NAMES[p] ?? String(p);

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

/** Printable ASCII or a dot. */
export const ascii = (b: number): string => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');

/** Counts set bits of a page bitmap in [from, to). */
export function bitsIn(bitmap: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (bitmap[i >>> 3]! & (1 << (i & 7))) n++;
  return n;
}
