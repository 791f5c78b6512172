/**
 * Printing strings that come from a file (branch and bookmark names) without
 * letting them drive the terminal: a raw ESC or C1 control could set the
 * window title or the clipboard (OSC 0, OSC 52), or rewrite what was printed.
 */

/**
 * Control characters (C0, DEL, C1), line and paragraph separators, and the
 * bidirectional controls that reorder how the rest of a line is shown.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const code = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** `text` with every unsafe character as a visible escape (`\x1b`, `\u2028`), and `\` as `\\` so that escapes are unambiguous. */
export function printable(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(UNSAFE, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${code(c, 2)}` : `\\u${code(c, 4)}`));
}

/**
 * JSON.stringify with the unsafe characters it leaves raw (DEL, C1,
 * separators, bidi controls) as \u escapes: still the same JSON value.
 * They can only occur inside strings, where \u escapes are valid.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${code(c, 4)}`);
}
