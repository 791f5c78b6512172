/**
 * xterm's screen-reader rows, without the layout thrash. For every row it
 * refreshes, xterm's AccessibilityManager writes the row's text, then reads
 * its width (`getBoundingClientRect`) to stretch it over the canvas: a forced
 * layout per row, 40–60 of them per frame while a guest prints, which made
 * the main thread stall for 100–300 ms at a time while Linux booted (issue
 * #15). Here the stretching waits for the next animation frame and is done
 * for all the rows at once: the texts are still written at once (a screen
 * reader and the tests read them), the widths are read in one layout.
 *
 * This reaches into xterm's internals (as `@xterm/addon-fit` does for the
 * cell size); when they are not there, the terminal is left as it is.
 */
import type { Terminal } from '@xterm/xterm';

/** The parts of xterm's AccessibilityManager used here. */
interface RowAligner {
  _alignRowWidth(row: HTMLElement): void;
  _rowColumns: WeakMap<HTMLElement, number[]> | Map<HTMLElement, number[]>;
  _renderService: { dimensions: { css: { cell: { width: number } } } };
}

function accessibilityManager(term: Terminal): RowAligner | null {
  const core = (term as unknown as { _core?: { _accessibilityManager?: { value?: unknown } } })._core;
  const manager = core?._accessibilityManager?.value as Partial<RowAligner> | undefined;
  if (!manager || typeof manager._alignRowWidth !== 'function' || !manager._rowColumns || !manager._renderService)
    return null;
  return manager as RowAligner;
}

/**
 * Makes `term`'s screen-reader rows stretch once a frame, all together. Returns what to call before the terminal
 * is disposed (it drops a frame still to come), or null when xterm's internals were not found.
 */
export function batchRowAlignment(term: Terminal): (() => void) | null {
  const manager = accessibilityManager(term);
  if (!manager) return null;
  const pending = new Set<HTMLElement>();
  let frame = 0;
  const align = () => {
    frame = 0;
    const rows = [...pending].filter((r) => r.isConnected);
    pending.clear();
    const cell = manager._renderService.dimensions.css.cell.width;
    // Writes, then reads (one layout), then writes.
    for (const row of rows) row.style.transform = '';
    const widths = rows.map((row) => row.getBoundingClientRect().width);
    rows.forEach((row, i) => {
      const columns = manager._rowColumns.get(row)?.at(-1);
      if (columns && widths[i]! > 0 && cell > 0) row.style.transform = `scaleX(${(columns * cell) / widths[i]!})`;
    });
  };
  manager._alignRowWidth = (row: HTMLElement) => {
    pending.add(row);
    if (frame === 0) frame = requestAnimationFrame(align);
  };
  return () => {
    cancelAnimationFrame(frame);
    frame = 0;
    pending.clear();
  };
}
