import { RewindError } from '../errors.js';

/**
 * Checked reads of a saved device state (or of a record nested in one), so
 * that every device rejects a corrupt or foreign state with the same error.
 * `version`, when given, must match the state's `version` key.
 */
export class StateReader {
  constructor(
    private readonly device: string,
    private readonly state: Record<string, unknown>,
    version?: number,
  ) {
    if (version !== undefined && state.version !== version)
      this.fail(`unsupported state version ${String(state.version)}`);
  }

  number(key: string): number {
    const v = this.state[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${key} is not a number`);
    return v as number;
  }

  boolean(key: string): boolean {
    const v = this.state[key];
    if (typeof v !== 'boolean') this.fail(`${key} is not a boolean`);
    return v as boolean;
  }

  /** An array of exactly `length` numbers (any length when omitted, up to `max`). */
  numbers(key: string, length?: number, max = Infinity): number[] {
    const v = this.state[key];
    const ok =
      Array.isArray(v) &&
      (length === undefined ? v.length <= max : v.length === length) &&
      v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!ok) this.fail(`${key} is not a valid number array`);
    return [...(v as number[])];
  }

  /** Nested plain objects, for devices that save sub-records (virtqueues); read each with its own StateReader. */
  records(key: string, length: number): Record<string, unknown>[] {
    const v = this.state[key];
    if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'object' && x !== null)) {
      this.fail(`${key} is not an array of ${length} records`);
    }
    return v as Record<string, unknown>[];
  }

  fail(message: string): never {
    throw new RewindError('bad-state', `${this.device}: ${message}`);
  }
}
