/** The app's keyboard shortcuts (listed in the help overlay, Help.svelte). */
export type ShortcutAction =
  | 'toggleRun'
  | 'step'
  | 'stepBack'
  | 'runBack'
  | 'help'
  | 'nextRegion'
  | 'previousRegion'
  | 'fork'
  | 'bookmark'
  | 'host';

/** The action a key press means, or null when it is not a shortcut (then it goes to the console or the focused control). */
export function shortcutFor(
  e: Pick<KeyboardEvent, 'key' | 'shiftKey' | 'ctrlKey' | 'altKey' | 'metaKey'>,
): ShortcutAction | null {
  if (e.ctrlKey || e.altKey || e.metaKey) return null;
  switch (e.key) {
    case 'F5':
      return e.shiftKey ? 'runBack' : 'toggleRun';
    case 'F10':
      return e.shiftKey ? 'stepBack' : 'step';
    case 'F1':
      return 'help';
    // The console takes Tab (the guest's), so F2 is the way out of it and around the page.
    case 'F2':
      return e.shiftKey ? 'previousRegion' : 'nextRegion';
    case 'F8':
      return e.shiftKey ? 'bookmark' : 'fork';
    case 'F9':
      return e.shiftKey ? null : 'host';
    default:
      return null;
  }
}
