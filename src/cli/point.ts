/** Parsing `[branch:]position` arguments. */
import { RewindError } from '../../core/errors.js';
import type { Point } from '../../session/session.js';

export function parsePosition(text: string, what = 'position'): number {
  if (!/^[0-9]+$/.test(text))
    throw new RewindError('bad-argument', `${what} must be a whole number of instructions, not "${text}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RewindError('bad-argument', `${what} ${text} is too large`);
  return n;
}

export function parsePoint(text: string): Point {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { position: parsePosition(text) };
  const branch = text.slice(0, colon);
  if (!branch) throw new RewindError('bad-argument', `"${text}" names no branch before the colon`);
  return { branch, position: parsePosition(text.slice(colon + 1)) };
}
