import { describe, expect, it } from 'vitest';
import { Clint } from '../../core/devices/clint.js';
import { Plic } from '../../core/devices/plic.js';
import { StateReader } from '../../core/devices/state.js';
import { Syscon } from '../../core/devices/syscon.js';
import { RewindError } from '../../core/errors.js';

describe('StateReader', () => {
  it('reads well-typed values', () => {
    const r = new StateReader('dev', { version: 1, n: 3, b: false, a: [1, 2], q: [{ x: 1 }] }, 1);
    expect([r.number('n'), r.boolean('b'), r.numbers('a', 2), r.records('q', 1)]).toEqual([
      3,
      false,
      [1, 2],
      [{ x: 1 }],
    ]);
  });

  it('rejects a wrong version, missing or mistyped values with a bad-state RewindError naming the device', () => {
    const state = { version: 1, n: 'x', b: 0, a: [1, 'y'], big: [1, 2, 3], q: [null] };
    expect(() => new StateReader('dev', state, 2)).toThrow(/dev: unsupported state version 1/);
    const r = new StateReader('dev', state, 1);
    for (const read of [
      () => r.number('n'),
      () => r.number('missing'),
      () => r.boolean('b'),
      () => r.numbers('a'),
      () => r.numbers('big', 2),
      () => r.numbers('big', undefined, 2),
      () => r.records('q', 1),
    ]) {
      expect(read).toThrow(RewindError);
    }
    let error: unknown;
    try {
      r.number('n');
    } catch (e) {
      error = e;
    }
    expect((error as RewindError).code).toBe('bad-state');
  });

  it('guards every device: a foreign state is refused', () => {
    const clock = { now: () => 0, set: () => {} };
    for (const dev of [new Plic(() => {}), new Clint(clock, () => {}), new Syscon(() => {})]) {
      expect(() => dev.loadState({ version: 99 })).toThrow(RewindError);
    }
    const plic = new Plic(() => {});
    expect(() => plic.loadState({ ...plic.saveState(), priority: [1, 2] })).toThrow(/priority/);
  });
});
