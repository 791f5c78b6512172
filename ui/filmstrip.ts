/**
 * Which moments the filmstrip shows: the checkpoints, bookmarks, stops and
 * input marks along the branch and its end, thinned to evenly spread ones.
 */
import type { TimelineInfo } from '../src/web/protocol.js';

/** At most `max` positions of interest, ascending, spread over the run (its end always among them). */
export function filmstripPositions(timeline: TimelineInfo, end: number, max: number): number[] {
  const all = [
    ...timeline.checkpoints,
    ...timeline.inputs,
    ...timeline.bookmarks.map((b) => b.position),
    ...(timeline.stops ?? []).map((s) => s.position),
    end,
  ].filter((p) => p > 0 && p <= end);
  const sorted = [...new Set(all)].sort((a, b) => a - b);
  if (sorted.length <= max) return sorted;
  // Evenly by index keeps busy stretches (many inputs) as visible as quiet ones.
  const picked = new Set<number>();
  for (let i = 0; i < max; i++) picked.add(sorted[Math.round((i * (sorted.length - 1)) / (max - 1))]!);
  return [...picked];
}
