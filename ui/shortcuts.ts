/** The app's keyboard shortcuts (listed in the help overlay, Help.svelte). */
export type ShortcutAction = 'toggleRun' | 'step' | 'stepBack' | 'runBack' | 'help';

/** The action a key press means, or null when it is not a shortcut (then it goes to the console or the focused control). */
export function shortcutFor(e: Pick<KeyboardEvent, 'key' | 'shiftKey' | 'ctrlKey' | 'altKey' | 'metaKey'>): ShortcutAction | null {
  if (e.ctrlKey || e.altKey || e.metaKey) return null;
  switch (e.key) {
    case 'F5':
      return e.shiftKey ? 'runBack' : 'toggleRun';
    case 'F10':
      return e.shiftKey ? 'stepBack' : 'step';
    case 'F1':
      return 'help';
    default:
      return null;
  }
}
