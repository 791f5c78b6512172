import { describe, expect, it } from 'vitest';
import { type PowerEvent, Syscon } from '../../core/devices/syscon.js';
import { expectStateRoundTrip } from './roundtrip.js';

function make() {
  const events: PowerEvent[] = [];
  return { syscon: new Syscon((e) => events.push(e)), events };
}

describe('Syscon', () => {
  it('reports pass, fail with its code, and reset', () => {
    const { syscon, events } = make();
    syscon.write(0, 0x5555, 4);
    syscon.write(0, 0x3333 | (42 << 16), 4);
    syscon.write(0, 0x7777, 4);
    expect(events).toEqual([{ kind: 'pass' }, { kind: 'fail', code: 42 }, { kind: 'reset' }]);
  });

  it('ignores other values and offsets, and reads 0', () => {
    const { syscon, events } = make();
    syscon.write(0, 0x1234, 4);
    syscon.write(4, 0x5555, 4);
    syscon.write(0, 0x55, 1);
    expect(events).toEqual([]);
    expect(syscon.read(0, 4)).toBe(0);
  });

  it('round-trips its (empty) state', () => {
    expectStateRoundTrip(make().syscon, make().syscon, ['name']);
  });
});
