/**
 * Crafting `.vmi` files that are wrong inside but whole outside: read with
 * readVmi, altered, written back with writeVmi, so every integrity hash is
 * valid and only the deeper checks can catch them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Checkpoint } from '../../storage/checkpoint.js';
import { packSorted, unpack } from '../../storage/codec.js';
import { readVmi, writeVmi, type Recording } from '../../storage/vmi.js';

/** Writes `to`: the recording at `from`, changed by `alter`. */
export function craftVmi(from: string, to: string, alter: (rec: Recording) => void): string {
  const rec = readVmi(new Uint8Array(readFileSync(from)));
  alter(rec);
  writeFileSync(to, writeVmi(rec));
  return to;
}

/** The checkpoint at `position` (the first, by default). */
export function checkpointAt(rec: Recording, position?: number): Checkpoint {
  const sorted = [...rec.checkpoints].sort((a, b) => a.position - b.position);
  const cp = position === undefined ? sorted[0] : sorted.find((c) => c.position === position);
  if (!cp) throw new Error(`no checkpoint at ${position}`);
  return cp;
}

/** Rewrites a checkpoint's decoded state (its recorded state hash stays as it was). */
export function alterState(cp: Checkpoint, alter: (state: Record<string, unknown>) => void): void {
  const state = unpack(cp.state) as Record<string, unknown>;
  alter(state);
  cp.state = packSorted(state);
}
