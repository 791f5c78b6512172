// Shared helpers for the benchmarks: they use the built package (npm run build:cli).
import { existsSync, readFileSync } from 'node:fs';
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

/**
 * The benchmark suite (guests/suite/): guest name and instructions per iteration (measured on
 * Rewind: the difference between two runs, so start-up is left out). Each guest reads its
 * iteration count as a line of input; `suiteInput(name, instructions)` is the line that runs
 * about that many instructions.
 */
export const SUITE = [
  ['recurse', 299_948],
  ['bytecode', 1_236_465],
  ['memops', 236_445],
  ['strings', 538_508],
  ['divmul', 231_346],
  ['rvc', 186_857],
  ['sv32user', 176_826],
  ['irq', 1_573_219],
  ['mix', 3_421_885],
  ['dirty', 1_376_277],
  ['stream', 1_237_050],
  ['alloc', 776_451],
];
export const suiteInput = (name, instructions) => {
  const per = SUITE.find(([n]) => n === name)?.[1];
  if (per === undefined) throw new Error(`${name} is not in the suite`);
  return `${Math.max(1, Math.round(instructions / per))}\n`;
};

/** CPU seconds of this thread (Linux): what the guest itself cost, without V8's compiler threads; null elsewhere. */
const statFile = `/proc/self/task/${process.pid}/stat`;
export function threadSeconds() {
  if (!existsSync(statFile)) return null;
  const fields = readFileSync(statFile, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
