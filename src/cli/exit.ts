/**
 * Exit statuses of the CLI. A guest that powers off sets the status itself:
 * 0 for pass, its code for fail (as QEMU's `-machine virt` does).
 */
export const Exit = {
  ok: 0,
  /** Bad input: unknown flag, missing or malformed file. One line on stderr. */
  usage: 2,
  /** An unexpected internal failure (a bug in Rewind), reported in one line. */
  internal: 70,
  /** --max-instructions ran out before the guest powered off. */
  limit: 124,
  /** The guest sleeps waiting for input, and its input has ended. */
  stuck: 125,
} as const;
