import { pack, unpack } from 'msgpackr';
import { expect } from 'vitest';
import type { Device } from '../../core/device.js';

/** Own enumerable fields of a device, callbacks left out. */
function fields(device: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(device).filter(([, v]) => typeof v !== 'function'));
}

/**
 * Checks that saveState captures everything: `driven` must have been brought
 * into a non-trivial state; its state goes through msgpack (as checkpoints do)
 * into `fresh`, and then every field of the two must be deeply equal.
 *
 * So that a new field cannot slip through by staying at its default in the
 * test, every field must also differ between `driven` and `fresh` before the
 * load, except those listed in `unchanged` (constants such as `name`).
 */
export function expectStateRoundTrip(driven: Device, fresh: Device, unchanged: string[] = []): void {
  const before = fields(fresh);
  const after = fields(driven);
  const notDriven = Object.keys(after).filter((k) => !unchanged.includes(k) && isDeepEqual(before[k], after[k]));
  expect(notDriven, 'fields left at their initial value: drive them in the test').toEqual([]);

  const state = unpack(pack(driven.saveState())) as ReturnType<Device['saveState']>;
  fresh.loadState(state);
  // As a restore does, once RAM is back too.
  fresh.afterRestore?.();
  expect(fields(fresh)).toEqual(after);
  expect(fresh.saveState()).toEqual(driven.saveState());
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}
