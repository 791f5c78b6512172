/**
 * Moving the keyboard focus between the page's regions (elements marked
 * `data-region`): the console keeps Tab for the guest, so F2 / Shift+F2 are
 * how a keyboard user gets out of it and around the page.
 */

const FOCUSABLE =
  'button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea, [tabindex]:not([tabindex="-1"])';

/** Focuses the first control of the region after (or before) the one holding the focus; returns that region. */
export function focusRegion(root: ParentNode, step: 1 | -1): HTMLElement | null {
  const regions = [...root.querySelectorAll<HTMLElement>('[data-region]')];
  if (regions.length === 0) return null;
  const active = document.activeElement;
  // The innermost region holding the focus (regions may nest).
  let at = -1;
  regions.forEach((r, i) => {
    if (active && r.contains(active)) at = i;
  });
  for (let k = 1; k <= regions.length; k++) {
    const i = (((at + step * k) % regions.length) + regions.length) % regions.length;
    const region = regions[i]!;
    // Its own controls, not those of a region inside it (that one has its turn).
    const target = [...region.querySelectorAll<HTMLElement>(FOCUSABLE)].find(
      (el) => !el.closest('[hidden]') && el.closest('[data-region]') === region,
    );
    if (target) {
      target.focus();
      return region;
    }
  }
  return null;
}
