// Shared helpers for the benchmarks: they use the built package (npm run build:cli).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const guestPath = (name) => `${root}guests/build/${name}.elf`;
export const guestBytes = (name) => new Uint8Array(readFileSync(guestPath(name)));
export const load = (path) => import(`${root}dist/${path}`);

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p99: at(0.99), min: s[0], max: s[s.length - 1] };
}

export const fmt = (n, digits = 1) => n.toFixed(digits);
