/**
 * Errors a user can act on. Each has a stable code and a one-line message;
 * the CLI prints the message, never the stack.
 */
export type ErrorCode =
  'bad-elf' | 'bad-image' | 'bad-argument' | 'bad-state' | 'bad-vmi' | 'io' | 'not-found' | 'quota';

export class RewindError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RewindError';
  }
}
