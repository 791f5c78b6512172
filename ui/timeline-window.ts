/**
 * The part of the run a zoomed timeline shows: `span` steps from `from`,
 * following the current position. Pure; Timeline.svelte maps the slider
 * and the marks onto it.
 */

export interface TimelineWindow {
  from: number;
  span: number;
}

/** Zooming in stops at a window of about this many steps. */
export const MIN_SPAN = 100;

/** The window's length at `zoom` (1: the whole run, 2: half of it…). */
function spanAt(end: number, zoom: number): number {
  const total = Math.max(1, end);
  return Math.max(1, Math.min(total, Math.ceil(total / zoom)));
}

/**
 * The window at `zoom` that holds `position`: the one starting at
 * `previousFrom` while it still holds it (so the marks stand still as you
 * step), else one centred on the position; never past either end of the run.
 */
export function followWindow(end: number, zoom: number, position: number, previousFrom: number): TimelineWindow {
  const span = spanAt(end, zoom);
  const clamp = (from: number) => Math.max(0, Math.min(Math.max(1, end) - span, Math.round(from)));
  let from = clamp(previousFrom);
  if (position < from || position > from + span) from = clamp(position - span / 2);
  return { from, span };
}

/** The window at `zoom` centred on `position` (where a zoom in or out starts). */
export function centredWindow(end: number, zoom: number, position: number): TimelineWindow {
  return followWindow(end, zoom, position, position - spanAt(end, zoom) / 2);
}

/** The next zoom in (`direction` 1) or out (-1): powers of two, from the whole run down to MIN_SPAN steps. */
export function zoomStep(zoom: number, direction: 1 | -1, end: number): number {
  if (direction < 0) return Math.max(1, zoom / 2);
  return Math.max(1, end) / (zoom * 2) >= MIN_SPAN ? zoom * 2 : zoom;
}
